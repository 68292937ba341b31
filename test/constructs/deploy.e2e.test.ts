/**
 * Issue 5 acceptance, end to end: the real `cdktf deploy` of
 * examples/team-access with the real OpenTofu (tools/bin/tofu) against the
 * real local server, through the provider installed in a local mirror.
 *
 * Three deploys share one server and one copy of the example, in order:
 * the first creates exactly what the synthesized stack declares; then one
 * person's lines are deleted from main.ts and the second deploy removes that
 * member, their grants and their keys and nothing else; the third, with no
 * code change, changes nothing. Expectations come from the synthesized
 * stacks (cdktf.out), never from lists written here.
 *
 * Needs `npm run build` (the provider bundle) and `npm run setup:engine`
 * (tools/bin/tofu); either missing fails the suite with the command to run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PostscaleClient } from "../../src/api";
import { requireEngine, writeCliConfig } from "../../src/provider/engine";
import { builtBundlePath, installProvider } from "../../src/provider/install";
import { CONSISTENCY_ERRORS, PROVIDER_VERSION } from "../e2e/harness";
import {
  CdktfProject,
  cdktfDeployEnv,
  declaredAccess,
  removePerson,
  resourceAddresses,
  secretOutputs,
  serverAccess,
  unionAccess,
  withoutIds,
  type CdktfRun,
  type ServerAccess,
  type StackJson,
} from "../helpers/cdktf-deploy";
import { TestServer } from "../helpers/server";

const EXAMPLE = "team-access";
const STACK = "team-access";
/** The person the example marks for offboarding ("Offboarding is deleting these lines"). */
const OFFBOARDED = "contractor@example.com";
const DEPLOY = ["deploy", "--auto-approve", "--skip-provider-lock", "--no-color"];
/** One cdktf run: bundling, synth, engine init, plan and apply on a loaded 2-core machine. */
const CDKTF_TIMEOUT_MS = 300_000;

jest.setTimeout(CDKTF_TIMEOUT_MS + 60_000);

/** Fails when an engine consistency check fired: always a provider bug. */
function expectNoConsistencyErrors(run: CdktfRun): void {
  const fired = CONSISTENCY_ERRORS.find((message) => run.output.includes(message));
  if (fired) throw new Error(`cdktf ${run.args.join(" ")}: the engine's consistency check fired ("${fired}"):\n${run.output}`);
}

/** The engine's apply summary line, e.g. "Resources: 3 added, 0 changed, 0 destroyed.". */
function applySummary(run: CdktfRun): string {
  const match = /Apply complete! (Resources: \d+ added, \d+ changed, \d+ destroyed\.)/.exec(run.output);
  if (!match) throw new Error(`cdktf ${run.args.join(" ")} printed no "Apply complete!" line:\n${run.output}`);
  return match[1];
}

describe("cdktf deploy of examples/team-access on OpenTofu against the local server", () => {
  let work: string;
  let server: TestServer;
  let client: PostscaleClient;
  let project: CdktfProject;
  let env: NodeJS.ProcessEnv;
  /** The organization as bootstrapped: the owner and the owner's key. */
  let bootstrap: ServerAccess;
  let firstStack: StackJson;
  let afterFirstDeploy: ServerAccess;
  let afterOffboarding: ServerAccess;
  /** The first deploy's outputs, sensitive ones included. */
  let firstOutputs: Record<string, string>;

  beforeAll(async () => {
    const engine = requireEngine("tofu");
    const bundle = builtBundlePath();
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` before the end-to-end tests`);

    work = mkdtempSync(join(tmpdir(), "postscale-cdktf-deploy-"));
    const mirror = join(work, "mirror");
    installProvider({ dir: mirror, version: PROVIDER_VERSION, bundle });
    const cliConfigFile = join(work, "cli.tfrc");
    writeCliConfig(cliConfigFile, mirror);

    server = await TestServer.start("pglite");
    client = new PostscaleClient({ endpoint: server.url, apiKey: server.ownerKey, retries: 0 });
    project = CdktfProject.copyExample(EXAMPLE);
    env = cdktfDeployEnv({ engineDir: dirname(engine.binary), engineName: engine.name, cliConfigFile, endpoint: server.url, apiKey: server.ownerKey });
    bootstrap = await serverAccess(client);
  });

  afterAll(async () => {
    if (project) {
      const timings = project.runs.map((r) => `cdktf ${r.args[0]}: ${(r.durationMs / 1000).toFixed(1)} s`).join(", ");
      process.stderr.write(`deploy.e2e timings: ${timings}\n`);
    }
    await client?.close();
    await server?.stop();
    project?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the synthesized stack pins the provider version cdktf deploy requires and uses the server's domains", async () => {
    await project.run(["synth"], env, CDKTF_TIMEOUT_MS);
    firstStack = project.stack(STACK);
    // cdktf deploy parses the stack with a schema that requires a string
    // `version` on every required provider; synth does not check it.
    const providers = firstStack.terraform?.required_providers ?? {};
    expect(Object.keys(providers)).toContain("postscale");
    for (const [name, requirement] of Object.entries(providers)) {
      if (typeof requirement.version !== "string") {
        throw new Error(
          `terraform.required_providers.${name} has no version (${JSON.stringify(requirement)}): \`cdktf deploy\` rejects the stack ` +
            `("terraform.required_providers.${name}.version: Required"). The L1 provider binding must carry a version constraint.`,
        );
      }
    }
    const used = Object.values(firstStack.data?.postscale_domain ?? {}).map((d) => d.name);
    const known = (await client.listDomains()).map((d) => d.name);
    expect(used.filter((d) => !known.includes(d as string))).toEqual([]);
    expect(declaredAccess(firstStack).members.map((m) => m.email)).toContain(OFFBOARDED);
  });

  test("the first deploy creates exactly the declared members, grants and keys", async () => {
    const outputsFile = join(work, "outputs.json");
    const run = await project.run([...DEPLOY, "--outputs-file", outputsFile, "--outputs-file-include-sensitive-outputs"], env, CDKTF_TIMEOUT_MS);
    expectNoConsistencyErrors(run);
    expect(project.stack(STACK)).toEqual(firstStack);
    expect(applySummary(run)).toBe(`Resources: ${resourceAddresses(firstStack).length} added, 0 changed, 0 destroyed.`);

    afterFirstDeploy = await serverAccess(client);
    expect(withoutIds(afterFirstDeploy)).toEqual(unionAccess(withoutIds(bootstrap), declaredAccess(firstStack)));
    // The bootstrap owner and key are the same records as before.
    expect(afterFirstDeploy.members.filter((m) => bootstrap.members.some((b) => b.id === m.id))).toEqual(bootstrap.members);
    expect(afterFirstDeploy.keys.filter((k) => bootstrap.keys.some((b) => b.id === k.id))).toEqual(bootstrap.keys);

    // A member's key authenticates once its holder has joined: everyone
    // declared accepts the invitation (the dev outbox has it), which also
    // changes their status outside the engine before the next deploys.
    for (const member of declaredAccess(firstStack).members) await server.signUp(member.email);
    // Every secret the stack outputs is the working secret of the key it names.
    firstOutputs = (JSON.parse(readFileSync(outputsFile, "utf8")) as Record<string, Record<string, string>>)[STACK];
    rmSync(outputsFile);
    const keyOutputs = Object.entries(secretOutputs(firstStack));
    expect(keyOutputs.length).toBeGreaterThan(0);
    for (const [output, key] of keyOutputs) {
      const onServer = afterFirstDeploy.keys.find((k) => k.owner === key.owner && k.name === key.name);
      const me = await client.withToken(firstOutputs[output]).me();
      expect({ output, key: me.key?.id }).toEqual({ output, key: onServer?.id });
    }
  });

  test("deleting a person's lines and deploying removes that member, their grants and keys, and nothing else", async () => {
    const offboardedSecrets = Object.entries(secretOutputs(firstStack))
      .filter(([, key]) => key.owner === OFFBOARDED)
      .map(([output]) => firstOutputs[output]);
    expect(offboardedSecrets.length).toBeGreaterThan(0);

    project.write("main.ts", removePerson(project.read("main.ts"), OFFBOARDED));
    const run = await project.run(DEPLOY, env, CDKTF_TIMEOUT_MS);
    expectNoConsistencyErrors(run);

    // The code change removes only that person's resources.
    const stack = project.stack(STACK);
    const declared = declaredAccess(firstStack);
    expect(declaredAccess(stack)).toEqual({
      members: declared.members.filter((m) => m.email !== OFFBOARDED),
      keys: declared.keys.filter((k) => k.owner !== OFFBOARDED),
    });
    const before = resourceAddresses(firstStack);
    const after = resourceAddresses(stack);
    expect(after.filter((a) => !before.includes(a))).toEqual([]);
    const removed = before.filter((a) => !after.includes(a));
    expect(applySummary(run)).toBe(`Resources: 0 added, 0 changed, ${removed.length} destroyed.`);

    // On the server: they are gone, and every other member, grant and key is the same record.
    afterOffboarding = await serverAccess(client);
    expect(afterOffboarding).toEqual({
      members: afterFirstDeploy.members.filter((m) => m.email !== OFFBOARDED),
      keys: afterFirstDeploy.keys.filter((k) => k.owner !== OFFBOARDED),
    });
    expect(withoutIds(afterOffboarding)).toEqual(unionAccess(withoutIds(bootstrap), declaredAccess(stack)));

    // Their keys stop working.
    for (const secret of offboardedSecrets) {
      await expect(client.withToken(secret).me()).rejects.toMatchObject({ status: 401 });
    }
  });

  test("a deploy with no code change changes nothing", async () => {
    const run = await project.run(DEPLOY, env, CDKTF_TIMEOUT_MS);
    expectNoConsistencyErrors(run);
    expect(run.output).toContain("No changes. Your infrastructure matches the configuration.");
    expect(applySummary(run)).toBe("Resources: 0 added, 0 changed, 0 destroyed.");
    expect(await serverAccess(client)).toEqual(afterOffboarding);
  });
});
