import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "postscale-examples-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the real `cdktf synth` in `dir` (its cdktf.json) and returns the stack's Terraform JSON. */
function cdktfSynth(dir: string, stack: string, env: Record<string, string> = {}): any {
  const out = mkdtempSync(join(work, "out-"));
  writeFileSync(join(work, "cli.tfrc"), "");
  execFileSync("npx", ["cdktf", "synth", "--output", out], {
    cwd: dir,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: join(work, "cli.tfrc"), CI: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  return JSON.parse(readFileSync(join(out, "stacks", stack, "cdk.tf.json"), "utf8"));
}

jest.setTimeout(180_000);

describe("examples synth offline with cdktf synth", () => {
  it("team-access (the repository root cdktf.json points at it)", () => {
    const tf = cdktfSynth(root, "team-access");
    expect(Object.keys(tf.resource.postscale_team_member).sort()).toEqual([
      "member_contractor_at_example_com",
      "member_dev_at_example_com",
      "member_ops_at_example_com",
      "member_platform_at_example_com",
      "member_support_at_example_com",
    ]);
    expect(Object.keys(tf.resource.postscale_domain_access)).toHaveLength(7);
    expect(tf.resource.postscale_api_key.key_dev_at_example_com__ci.domains).toBeUndefined();
    expect(tf.resource.postscale_api_key.key_organization__mailer.domains).toEqual(["app.example.com", "prod.example.com"]);
    expect(tf.output.ci_key_secret.sensitive).toBe(true);
    // The example's own cdktf.json gives the same stack.
    const own = cdktfSynth(join(root, "examples/team-access"), "team-access");
    expect(own.resource).toEqual(tf.resource);
  });

  it("app-key-to-aws-secrets hands ephemeral key material to Postscale and Secrets Manager through write-only attributes only", () => {
    const tf = cdktfSynth(join(root, "examples/app-key-to-aws-secrets"), "app-key-to-aws-secrets");
    const material = "${ephemeral.random_password.checkout_key.result}";
    expect(tf.ephemeral.random_password.checkout_key).toEqual({ length: 48, special: false });
    expect(tf.resource.postscale_api_key["key_organization__checkout-service"]).toMatchObject({ owner: "organization", domains: ["app.example.com"], secret_wo: material, secret_wo_version: 1 });
    const version = tf.resource.aws_secretsmanager_secret_version.postscale_key_value;
    expect(version).toMatchObject({ secret_string_wo: material, secret_string_wo_version: 1 });
    expect(version.secret_string).toBeUndefined();
    expect(JSON.stringify(tf)).not.toContain("postscale_api_key.key_organization__checkout-service.secret}");
    expect(tf.terraform.required_providers).toMatchObject({ aws: { source: "aws" }, random: { source: "hashicorp/random" } });
  });

  it("ephemeral-deploy-key writes an ephemeral key block and configures an aliased provider with it", () => {
    const tf = cdktfSynth(join(root, "examples/ephemeral-deploy-key"), "ephemeral-deploy-key");
    expect(tf.ephemeral.postscale_api_key.ephemeral_key_organization__deploy).toEqual({ owner: "organization", domains: ["app.example.com"], ttl: "15m", name_prefix: "deploy-" });
    expect(tf.provider.postscale).toContainEqual({ alias: "deploy", api_key: "${ephemeral.postscale_api_key.ephemeral_key_organization__deploy.secret}" });
    expect(tf.data.postscale_domain.app_for_deploy.provider).toBe("postscale.deploy");
  });

  it("roster-offboarding: deleting a roster line removes that person only", () => {
    const dir = join(root, "examples/roster-offboarding");
    const before = cdktfSynth(dir, "roster-offboarding");
    const roster = readFileSync(join(dir, "roster.yaml"), "utf8");
    const offboarded = join(work, "roster.yaml");
    writeFileSync(offboarded, roster.replace(/- email: contractor@example.com[\s\S]*$/, ""));
    const after = cdktfSynth(dir, "roster-offboarding", { POSTSCALE_ROSTER: offboarded });
    const removed = (tf: any) =>
      Object.entries(tf.resource as Record<string, Record<string, unknown>>).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
    expect(removed(before).filter((a) => !removed(after).includes(a))).toEqual([
      "postscale_api_key.key_contractor_at_example_com__deploy",
      "postscale_domain_access.access_contractor_at_example_com__staging_example_com",
      "postscale_team_member.member_contractor_at_example_com",
    ]);
    expect(removed(after).every((a) => removed(before).includes(a))).toBe(true);
  });

  it("fails cdktf synth with the policy message", () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, "- email: ops@example.com\n  role: admin\n- email: a@example.com\n  role: admin\n- email: b@example.com\n  role: admin\n");
    let stderr = "";
    try {
      cdktfSynth(join(root, "examples/roster-offboarding"), "roster-offboarding", { POSTSCALE_ROSTER: bad });
    } catch (err) {
      stderr = String((err as { stderr?: Buffer }).stderr) + String((err as { stdout?: Buffer }).stdout);
    }
    expect(stderr).toContain('access rule "MaxAdmins": 3 admins (a@example.com, b@example.com, ops@example.com), more than 2');
  });
});
