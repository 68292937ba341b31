/**
 * Issue 14, part 1, end to end: `postscale export` of an organization built
 * through the API (the owner; admins and members, joined and pending; one
 * expired invitation; grants; member and organization keys) as HCL and as
 * a cdktf app, then on each engine of e2eEngines(): init and plan show only
 * imports ("N to import, 0 to add, 0 to change, 0 to destroy"), applying
 * them changes nothing in Postscale and leaves an empty plan, and one grant
 * added to the exported code is exactly what the next plan shows.
 *
 * One organization serves every run: imports write only state, and the
 * change is planned, never applied. The cdktf app is synthesized as `cdktf
 * synth` runs it (bundled with this checkout's constructs), and the engine
 * runs on the synthesized stack with its state in the workspace.
 *
 * Needs `npm run build` (the CLI and the provider bundle) and tools/bin
 * engines (`npm run setup:engine -- --with-terraform`).
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { PostscaleClient } from "../../src/api";
import { engineEnv, repositoryRoot, requireEngine, writeCliConfig } from "../../src/provider/engine";
import { builtBundlePath, installProvider } from "../../src/provider/install";
import { startServer, type RunningServer } from "../../src/server";
import { PROVIDER_VERSION, Workspace, e2eEngines, organizationSnapshot, type OrganizationSnapshot } from "../e2e/harness";

jest.setTimeout(600_000);

const ROOT = repositoryRoot(__dirname);
const DOMAINS = ["acme.com", "acme.dev", "shop.acme.com"];
/** Members, grants and keys the exports declare (the owner and their key are not). */
const IMPORTS = 11;
const IMPORT_ONLY = `Plan: ${IMPORTS} to import, 0 to add, 0 to change, 0 to destroy.`;
/** The change made to the exported code: dev@acme.test gets read on shop.acme.com. */
const ADDED = "postscale_domain_access.access_dev_at_acme_test__shop_acme_com";

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

function postscale(args: string[], env: Record<string, string | undefined>): Promise<Cli> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, "bin", "postscale.js"), ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the exported app as `cdktf synth` does; returns the stack JSON. */
function synth(project: string): Record<string, any> {
  buildSync({
    entryPoints: [join(project, "main.ts")],
    bundle: true,
    platform: "node",
    packages: "external",
    alias: { "@postscale/cdktf": join(ROOT, "src", "index.ts") },
    outfile: join(project, ".gen", "main.js"),
    logLevel: "warning",
  });
  rmSync(join(project, "cdktf.out"), { recursive: true, force: true });
  const result = require("node:child_process").spawnSync(process.execPath, [join(project, ".gen", "main.js")], { cwd: project, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`synth of ${project} failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(readFileSync(join(project, "cdktf.out", "stacks", "access", "cdk.tf.json"), "utf8"));
}

/** The stack as cdktf would run it, with its state in `dir` rather than in the project. */
function writeStack(dir: string, stack: Record<string, any>): void {
  const copy = JSON.parse(JSON.stringify(stack));
  delete copy.terraform.backend;
  writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(copy, null, 2));
}

async function signUp(client: PostscaleClient, email: string): Promise<void> {
  const invitation = (await client.devMail()).filter((m) => m.to === email && m.kind === "invitation").pop()!;
  await client.acceptInvitation(invitation.token, { name: email.split("@")[0], password: `pw-${email}-123456` });
  const verify = (await client.devMail()).filter((m) => m.to === email && m.kind === "verify_email").pop()!;
  await client.verifyEmail(verify.token);
}

describe("postscale export", () => {
  let root: string;
  let project: string;
  let hclDir: string;
  let server: RunningServer;
  let client: PostscaleClient;
  let ownerKey: string;
  let memberKey: string;
  let serviceKey: string;
  let before: OrganizationSnapshot;
  let cdktfStack: Record<string, any>;
  let changedStack: Record<string, any>;
  let hclExport: Cli;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dist", "src", "cli", "main.js")) || !existsSync(builtBundlePath())) {
      throw new Error("dist/ is missing: run `npm run build` before the end-to-end tests");
    }
    root = mkdtempSync(join(tmpdir(), "postscale-export-e2e-"));
    const dataDir = join(root, "data");
    // Invitations expire after 2 s on this first start: one expires, then the server restarts with the default lifetime.
    const short = await startServer({
      port: 0,
      dataDir,
      dev: true,
      invitationTtlSeconds: 2,
      bootstrap: { organization: "Acme", ownerEmail: "owner@acme.test", ownerPassword: "correct horse battery staple", domains: DOMAINS },
    });
    ownerKey = short.bootstrapKey!;
    const first = new PostscaleClient({ endpoint: short.url, apiKey: ownerKey, retries: 0 });
    await first.inviteMember({ email: "late@acme.test", role: "member", domain_access: [{ domain: "acme.com", access: "read" }] });
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await short.close();

    server = await startServer({ port: 0, dataDir, dev: true, rateLimit: false });
    client = new PostscaleClient({ endpoint: server.url, apiKey: ownerKey, retries: 0 });
    const ops = await client.inviteMember({ email: "ops@acme.test", role: "admin" });
    await client.inviteMember({ email: "lead@acme.test", role: "admin" });
    const dev = await client.inviteMember({
      email: "dev@acme.test",
      role: "member",
      domain_access: [
        { domain: "acme.com", access: "read_write" },
        { domain: "acme.dev", access: "read" },
      ],
    });
    await client.inviteMember({ email: "new@acme.test", role: "member", domain_access: [{ domain: "shop.acme.com", access: "read" }] });
    await signUp(client, "ops@acme.test");
    await signUp(client, "dev@acme.test");
    await client.createApiKey({ name: "deploy", owner: "member", member_id: ops.id });
    memberKey = (await client.createApiKey({ name: "ci", owner: "member", member_id: dev.id, domains: ["acme.com"], expires_at: "2030-01-31T00:00:00Z" })).secret;
    serviceKey = (await client.createApiKey({ name: "mailer", owner: "organization", domains: ["acme.com", "shop.acme.com"] })).secret;
    await client.createApiKey({ name: "monitoring", owner: "organization" });
    before = await organizationSnapshot(client);
    expect(before.members.map((m) => `${m.email} ${m.role} ${m.status}`)).toEqual([
      "dev@acme.test member active",
      "late@acme.test member expired",
      "lead@acme.test admin invited",
      "new@acme.test member invited",
      "ops@acme.test admin active",
      "owner@acme.test owner active",
    ]);

    const env = { POSTSCALE_ENDPOINT: server.url, POSTSCALE_API_KEY: ownerKey };
    hclDir = join(root, "hcl");
    hclExport = await postscale(["export", "--format", "hcl", "--out", hclDir], env);
    expect(hclExport).toMatchObject({ code: 0 });
    // Under the repository, so the bundled app resolves cdktf from its node_modules.
    mkdirSync(join(ROOT, ".gen"), { recursive: true });
    project = mkdtempSync(join(ROOT, ".gen", "export-e2e-"));
    expect(await postscale(["export", "--out", project], env)).toMatchObject({ code: 0 });
    cdktfStack = synth(project);
    const main = readFileSync(join(project, "main.ts"), "utf8");
    const changed = main.replace('"acme.dev": "read" } });', '"acme.dev": "read", "shop.acme.com": "read" } });');
    expect(changed).not.toBe(main);
    writeFileSync(join(project, "main.ts"), changed);
    changedStack = synth(project);
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
    if (project) rmSync(project, { recursive: true, force: true });
  });

  test("says what it read, what is not managed and which keys will have no secret in state", () => {
    expect(hclExport.stderr).toContain("read 6 members");
    expect(hclExport.stderr).toContain("read 5 keys");
    expect(hclExport.stdout).toContain("4 people (2 with an invitation pending), 4 keys: 11 to import.");
    expect(hclExport.stdout).toContain("The owner owner@acme.test is recorded, never managed.");
    expect(hclExport.stdout).toContain("1 expired invitation(s) written commented out: late@acme.test.");
    expect(hclExport.stdout).toMatch(/Not managed: key of owner@acme\.test "bootstrap" .*held by the owner/);
    for (const address of ["key_ops_at_acme_test__deploy", "key_dev_at_acme_test__ci", "key_organization__mailer", "key_organization__monitoring"]) {
      expect(hclExport.stdout).toContain(`postscale_api_key.${address}`);
    }
    expect(readFileSync(join(hclDir, "README.md"), "utf8")).toContain("rotation_trigger");
    expect(readFileSync(join(project, "README.md"), "utf8")).toContain(IMPORT_ONLY);
  });

  test("refuses without a key, and names the rule for a member's key and an organization key", async () => {
    const endpoint = server.url;
    const missing = await postscale(["export", "--out", join(root, "x")], { POSTSCALE_ENDPOINT: endpoint, POSTSCALE_API_KEY: "" });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("POSTSCALE_API_KEY is not set");
    const member = await postscale(["export", "--out", join(root, "x")], { POSTSCALE_ENDPOINT: endpoint, POSTSCALE_API_KEY: memberKey });
    expect(member.code).toBe(1);
    expect(member.stderr).toContain("dev@acme.test, a member");
    expect(member.stderr).toContain("rule role_not_allowed");
    const organization = await postscale(["export", "--out", join(root, "x")], { POSTSCALE_ENDPOINT: endpoint, POSTSCALE_API_KEY: serviceKey });
    expect(organization.stderr).toContain("rule organization_key_not_allowed");
    expect(existsSync(join(root, "x"))).toBe(false);
  });

  describe.each(e2eEngines())("on %s", (engineName) => {
    let dir: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(() => {
      dir = join(root, engineName);
      installProvider({ dir: join(dir, "mirror"), version: PROVIDER_VERSION, bundle: builtBundlePath() });
      writeCliConfig(join(dir, "cli.tfrc"), join(dir, "mirror"));
      env = engineEnv({ cliConfigFile: join(dir, "cli.tfrc"), endpoint: server.url, apiKey: ownerKey });
    });

    async function importOnlyThenChange(ws: Workspace, change: () => void): Promise<void> {
      await ws.init();
      const first = await ws.planChanges();
      expect(first.changes).toEqual([]);
      expect(first.result.stdout).toContain(IMPORT_ONLY);
      const applied = await ws.applyPlan();
      expect(applied.stdout).toContain(`Resources: ${IMPORTS} imported, 0 added, 0 changed, 0 destroyed.`);
      expect(Object.keys(await ws.stateValues())).toHaveLength(IMPORTS);
      expect(await organizationSnapshot(client)).toEqual(before);
      expect((await ws.planExitCode()).code).toBe(0);

      change();
      const next = await ws.planChanges();
      expect(next.changes.map((c) => [c.address, c.change.actions])).toEqual([[ADDED, ["create"]]]);
      expect(next.changes[0].change.after).toMatchObject({ domain: "shop.acme.com", access: "read" });
    }

    test("HCL: the first plan only imports; after the imports a grant added to team.tf is the only change", async () => {
      const wsDir = join(dir, "hcl");
      cpSync(hclDir, wsDir, { recursive: true });
      const ws = new Workspace(requireEngine(engineName), wsDir, env);
      await importOnlyThenChange(ws, () => {
        const grant = [
          `resource "postscale_domain_access" "${ADDED.split(".")[1]}" {`,
          "  member_id = postscale_team_member.member_dev_at_acme_test.id",
          '  domain    = "shop.acme.com"',
          '  access    = "read"',
          "}",
        ].join("\n");
        ws.writeFile("team.tf", `${readFileSync(join(wsDir, "team.tf"), "utf8")}\n${grant}\n`);
      });
    });

    test("cdktf: the first plan only imports; after the imports a grant added in main.ts is the only change", async () => {
      const wsDir = join(dir, "cdktf");
      mkdirSync(wsDir);
      writeStack(wsDir, cdktfStack);
      const ws = new Workspace(requireEngine(engineName), wsDir, env);
      await importOnlyThenChange(ws, () => writeStack(wsDir, changedStack));
    });
  });
});
