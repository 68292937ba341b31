/**
 * examples/postgres-state: `cdktf deploy` with the state in PostgreSQL (the
 * engine's pg backend), on OpenTofu against the local server. The state
 * lands in the database and not on disk, the connection string (with its
 * password) is not written into the synthesized stack, and a second run
 * cannot take the state while an apply holds its lock.
 *
 * Needs a PostgreSQL server (POSTSCALE_TEST_DATABASE_URL, which `.ci/run`
 * sets); the state goes to a database made for this file and dropped after.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "pg";
import { PostscaleClient } from "../../src/api";
import { requireEngine, writeCliConfig } from "../../src/provider/engine";
import { builtBundlePath, installProvider } from "../../src/provider/install";
import { PROVIDER_VERSION } from "../e2e/harness";
import { CdktfProject, cdktfDeployEnv } from "../helpers/cdktf-deploy";
import { createTestDatabase, dropTestDatabase } from "../helpers/databases";
import { TestServer } from "../helpers/server";

const ADMIN_URL = process.env.POSTSCALE_TEST_DATABASE_URL;
const SCHEMA = "postscale_access";
const CDKTF_TIMEOUT_MS = 300_000;
const DEPLOY = ["deploy", "--auto-approve", "--skip-provider-lock", "--no-color"];
jest.setTimeout(CDKTF_TIMEOUT_MS + 120_000);

/** Without a PostgreSQL server there is nothing to store state in; CI always has one. */
const describeWithPostgres = ADMIN_URL ? describe : describe.skip;
if (!ADMIN_URL) process.stderr.write("pg-state.e2e: POSTSCALE_TEST_DATABASE_URL is not set; the PostgreSQL state test does not run\n");

describeWithPostgres("examples/postgres-state: state in PostgreSQL with locking", () => {
  let work: string;
  let server: TestServer;
  let project: CdktfProject;
  let env: NodeJS.ProcessEnv;
  let stateUrl: string;

  beforeAll(async () => {
    const engine = requireEngine("tofu");
    const bundle = builtBundlePath();
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` before the end-to-end tests`);
    work = mkdtempSync(join(tmpdir(), "postscale-pg-state-"));
    const mirror = join(work, "mirror");
    installProvider({ dir: mirror, version: PROVIDER_VERSION, bundle });
    const cliConfigFile = join(work, "cli.tfrc");
    writeCliConfig(cliConfigFile, mirror);
    stateUrl = await createTestDatabase(ADMIN_URL!);
    server = await TestServer.start("pglite");
    project = CdktfProject.copyExample("postgres-state");
    env = cdktfDeployEnv({ engineDir: dirname(engine.binary), engineName: engine.name, cliConfigFile, endpoint: server.url, apiKey: server.ownerKey });
    env.PG_CONN_STR = withSslDisabled(stateUrl);
  });

  afterAll(async () => {
    await server?.stop();
    project?.remove();
    if (stateUrl) await dropTestDatabase(ADMIN_URL!, stateUrl);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("deploy keeps the state in the database, not on disk, and no password in the synthesized stack", async () => {
    await project.run(DEPLOY, env, CDKTF_TIMEOUT_MS);

    const synthesized = project.read("cdktf.out/stacks/access/cdk.tf.json");
    expect(JSON.parse(synthesized).terraform.backend.pg).toEqual({ schema_name: SCHEMA });
    expect(synthesized).not.toMatch(/postgres(ql)?:\/\//);
    expect(readdirSync(project.dir).filter((f) => f.endsWith(".tfstate"))).toEqual([]);

    const state = await stateRow(stateUrl);
    expect(state.name).toBe("default");
    const resources = (JSON.parse(state.data).resources as { type: string; mode: string }[]).filter((r) => r.mode === "managed").map((r) => r.type).sort();
    expect(resources).toEqual(["postscale_domain_access", "postscale_team_member", "postscale_team_member"]);

    const client = new PostscaleClient({ endpoint: server.url, apiKey: server.ownerKey, retries: 0 });
    const emails = (await client.listMembers()).map((m) => m.email).sort();
    await client.close();
    expect(emails).toEqual(expect.arrayContaining(["dev@example.com", "ops@example.com"]));
  });

  test("while an apply holds the lock, a second plan fails to acquire it, and succeeds once it is released", async () => {
    const stackDir = join(project.dir, "cdktf.out", "stacks", "access");
    const tofu = requireEngine("tofu").binary;
    // An apply without -auto-approve takes the lock and then waits for "yes".
    const holder = spawn(tofu, ["apply", "-no-color", "-replace=postscale_team_member.member_dev_at_example_com"], { cwd: stackDir, env, stdio: ["pipe", "pipe", "pipe"] });
    let held = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the first apply never asked for approval:\n${held}`)), CDKTF_TIMEOUT_MS);
      const seen = (chunk: Buffer) => {
        held += chunk;
        if (held.includes("Enter a value")) {
          clearTimeout(timer);
          resolve();
        }
      };
      holder.stdout.on("data", seen);
      holder.stderr.on("data", seen);
    });
    try {
      const blocked = await runTofu(tofu, ["plan", "-no-color", "-input=false", "-lock-timeout=0s"], stackDir, env);
      expect(blocked.code).not.toBe(0);
      expect(blocked.output).toMatch(/Error acquiring the state lock/);
    } finally {
      holder.stdin.end("no\n");
      await new Promise((resolve) => holder.on("close", resolve));
    }
    const after = await runTofu(tofu, ["plan", "-no-color", "-input=false", "-lock-timeout=0s", "-detailed-exitcode"], stackDir, env);
    expect({ code: after.code, output: after.code === 0 ? "" : after.output }).toEqual({ code: 0, output: "" });
  });
});

function withSslDisabled(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("sslmode", "disable");
  return parsed.toString();
}

async function stateRow(url: string): Promise<{ name: string; data: string }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT name, data FROM ${SCHEMA}.states`);
    expect(rows).toHaveLength(1);
    return rows[0] as { name: string; data: string };
  } finally {
    await client.end();
  }
}

function runTofu(binary: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolve({ code, output }));
  });
}
