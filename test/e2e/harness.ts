/**
 * End-to-end harness: the real Postscale server in-process, the bundled
 * provider installed into a temporary local mirror, and the real engine
 * binary (OpenTofu or Terraform) run on HCL fixtures in temporary folders.
 *
 * It builds nothing: `npm run build` (the provider bundle) and
 * `npm run setup:engine` (tools/bin/tofu, and tools/bin/terraform with
 * `--with-terraform`) must have run. A missing piece fails the suite with
 * the command that provides it; nothing is skipped silently.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostscaleClient } from "../../src/api";
import type { ApiKey, Member } from "../../src/api/types";
import { ENGINE_NAMES, engineBinaryPath, engineEnv, requireEngine, writeCliConfig, type Engine, type EngineName } from "../../src/provider/engine";
import { builtBundlePath, installProvider } from "../../src/provider/install";
import { startServer } from "../../src/server";

/** Messages of the engines' own consistency checks: a provider bug whenever one appears. */
export const CONSISTENCY_ERRORS: readonly string[] = [
  "inconsistent result after apply",
  "Provider produced invalid plan",
  "planned value does not match config",
  "Provider produced inconsistent final plan",
  "produced an unexpected new value",
  "Provider produced invalid object",
];

/** Version the provider is installed as in the test mirror. */
export const PROVIDER_VERSION = "0.1.0";

/** The organization's domains, created at bootstrap. */
export const DOMAINS: readonly string[] = ["acme.com", "acme.dev", "shop.acme.com"];

export const OWNER_EMAIL = "owner@acme.test";

/**
 * Engines to run the suite on: POSTSCALE_E2E_ENGINES (comma-separated) when
 * set, else OpenTofu, plus Terraform when tools/bin/terraform exists.
 */
export function e2eEngines(): EngineName[] {
  const requested = process.env.POSTSCALE_E2E_ENGINES;
  if (requested) {
    const names = requested.split(",").map((n) => n.trim()).filter((n) => n.length > 0);
    for (const name of names) {
      if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
        throw new Error(`POSTSCALE_E2E_ENGINES names "${name}"; known engines: ${ENGINE_NAMES.join(", ")}`);
      }
    }
    return names as EngineName[];
  }
  return existsSync(engineBinaryPath("terraform")) ? ["tofu", "terraform"] : ["tofu"];
}

/** One engine run. */
export interface RunResult {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertions on messages. */
  output: string;
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  /** Invitation lifetime of the server. @default the server's default (7 days) */
  invitationTtlSeconds?: number;
}

/** A running server, an installed provider and an engine to drive them. */
export interface Harness {
  engine: Engine;
  endpoint: string;
  /** The owner's organization-wide API key. */
  apiKey: string;
  /** A client with the owner's key, for arranging and checking server state. */
  client: PostscaleClient;
  /** The local mirror the provider is installed in (as {@link PROVIDER_VERSION}). */
  mirrorDir: string;
  /** A fresh working folder holding the files of `fixture` (test/e2e/fixtures/<fixture>). */
  workspace(fixture: string): Workspace;
  close(): Promise<void>;
}

/** Starts the server, installs the provider and finds the engine. */
export async function startHarness(engineName: EngineName, options: HarnessOptions = {}): Promise<Harness> {
  const engine = requireEngine(engineName);
  const bundle = builtBundlePath();
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` before the end-to-end tests`);

  const root = mkdtempSync(join(tmpdir(), `postscale-e2e-${engineName}-`));
  const mirror = join(root, "mirror");
  installProvider({ dir: mirror, version: PROVIDER_VERSION, bundle });
  const cliConfigFile = join(root, "cli.tfrc");
  writeCliConfig(cliConfigFile, mirror);

  const keyFile = join(root, "owner.key");
  const server = await startServer({
    port: 0,
    dataDir: join(root, "data"),
    dev: true,
    invitationTtlSeconds: options.invitationTtlSeconds,
    bootstrap: { organization: "Acme", ownerEmail: OWNER_EMAIL, ownerPassword: "correct horse battery staple", domains: [...DOMAINS], keyFile },
  });
  const apiKey = server.bootstrapKey ?? readFileSync(keyFile, "utf8").trim();
  const client = new PostscaleClient({ endpoint: server.url, apiKey, retries: 0 });
  // POSTSCALE_E2E_TF_LOG_PATH sends the engine and provider logs to a file instead of the run output.
  const env = engineEnv({ cliConfigFile, endpoint: server.url, apiKey, log: process.env.POSTSCALE_E2E_TF_LOG, logPath: process.env.POSTSCALE_E2E_TF_LOG_PATH });
  let workspaces = 0;

  return {
    engine,
    endpoint: server.url,
    apiKey,
    client,
    mirrorDir: mirror,
    workspace(fixture) {
      const dir = join(root, `ws${++workspaces}-${fixture}`);
      cpSync(join(__dirname, "fixtures", fixture), dir, { recursive: true });
      return new Workspace(engine, dir, env);
    },
    async close() {
      await client.close();
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The resource changes of a plan, from `show -json <planfile>`. */
export interface PlannedChange {
  address: string;
  type: string;
  change: { actions: string[]; before: Record<string, unknown> | null; after: Record<string, unknown> | null; replace_paths?: unknown[] };
}

/** A folder with HCL and state, and the engine commands on it. */
export class Workspace {
  /** Every run so far, in order, for failure messages. */
  readonly runs: RunResult[] = [];

  constructor(
    readonly engine: Engine,
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Writes terraform.tfvars.json: the input variables every later command sees. */
  setVars(vars: Record<string, unknown>): void {
    writeFileSync(join(this.dir, "terraform.tfvars.json"), JSON.stringify(vars, null, 2));
  }

  /** Writes (or replaces) a file in the workspace. */
  writeFile(name: string, text: string): void {
    writeFileSync(join(this.dir, name), text);
  }

  /**
   * Runs the engine with `args` (plus -no-color; -input=false where the
   * command takes it). Fails when an engine consistency check fired, and
   * unless the exit code is one of `expect` (default: 0).
   */
  async run(args: string[], expect: readonly number[] = [0]): Promise<RunResult> {
    // Options go between the command words and the positional arguments.
    const commandWords = args[0] === "providers" ? 2 : 1;
    const options = ["show", "providers", "validate"].includes(args[0]) ? ["-no-color"] : ["-input=false", "-no-color"];
    const full = [...args.slice(0, commandWords), ...options, ...args.slice(commandWords)];
    const result = await runProcess(this.engine.binary, full, this.dir, this.env);
    this.runs.push(result);
    const fired = CONSISTENCY_ERRORS.find((message) => result.output.includes(message));
    if (fired) throw new Error(`${describeRun(this.engine, result)}\nThe engine's consistency check fired ("${fired}").`);
    if (!expect.includes(result.code)) throw new Error(`${describeRun(this.engine, result)}\nExpected exit code ${expect.join(" or ")}.`);
    return result;
  }

  init(): Promise<RunResult> {
    return this.run(["init"]);
  }

  /** `plan -detailed-exitcode`: 0 no changes, 2 changes (1 fails the test unless expected). */
  async planExitCode(expect: readonly number[] = [0, 2]): Promise<{ code: number; result: RunResult }> {
    const result = await this.run(["plan", "-detailed-exitcode"], expect);
    return { code: result.code, result };
  }

  /** Plans into a plan file and returns its resource changes (without no-ops), as `show -json` reports them. */
  async planChanges(): Promise<{ changes: PlannedChange[]; drift: PlannedChange[]; result: RunResult }> {
    const result = await this.run(["plan", "-out=tfplan"]);
    const json = await this.showJson("tfplan");
    const changes = ((json.resource_changes ?? []) as PlannedChange[]).filter((c) => !c.change.actions.every((a) => a === "no-op" || a === "read"));
    return { changes, drift: (json.resource_drift ?? []) as PlannedChange[], result };
  }

  /** Applies the saved plan file (from {@link planChanges}). */
  applyPlan(): Promise<RunResult> {
    return this.run(["apply", "tfplan"]);
  }

  apply(): Promise<RunResult> {
    return this.run(["apply", "-auto-approve"]);
  }

  destroy(): Promise<RunResult> {
    return this.run(["destroy", "-auto-approve"]);
  }

  import(address: string, id: string): Promise<RunResult> {
    return this.run(["import", address, id]);
  }

  /** `show -json [file]`, parsed. */
  async showJson(planFile?: string): Promise<Record<string, unknown> & { resource_changes?: unknown; resource_drift?: unknown }> {
    const result = await this.run(planFile ? ["show", "-json", planFile] : ["show", "-json"]);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  /** The managed resources in state, by address, with their attribute values. */
  async stateValues(): Promise<Record<string, Record<string, unknown>>> {
    const json = (await this.showJson()) as { values?: { root_module?: { resources?: { address: string; mode: string; values: Record<string, unknown> }[] } } };
    const resources = json.values?.root_module?.resources ?? [];
    return Object.fromEntries(resources.filter((r) => r.mode === "managed").map((r) => [r.address, r.values]));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function describeRun(engine: Engine, result: RunResult): string {
  return `${engine.name} ${result.args.join(" ")} exited ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

function runProcess(binary: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      resolve({ args, code: code ?? (signal ? 128 : 1), stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** What destroy must leave as it found: members with their grants, and keys. */
export interface OrganizationSnapshot {
  members: { email: string; role: string; status: string; domainAccess: { domain: string; access: string }[] }[];
  keys: { id: string; name: string; owner: string; domains: string[] }[];
}

/** The organization's members, grants and keys, sorted. */
export async function organizationSnapshot(client: PostscaleClient): Promise<OrganizationSnapshot> {
  const members: Member[] = await client.listMembers({ includeDomainAccess: true });
  const keys: ApiKey[] = await client.listApiKeys();
  return {
    members: members
      .map((m) => ({
        email: m.email,
        role: m.role,
        status: m.status,
        domainAccess: [...(m.domain_access ?? [])].map((g) => ({ domain: g.domain, access: g.access })).sort((a, b) => a.domain.localeCompare(b.domain)),
      }))
      .sort((a, b) => a.email.localeCompare(b.email)),
    keys: keys.map((k) => ({ id: k.id, name: k.name, owner: k.owner, domains: [...k.domains].sort() })).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** The member with `email`, or a failure naming who is there. */
export async function memberByEmail(client: PostscaleClient, email: string): Promise<Member> {
  const members = await client.listMembers({ includeDomainAccess: true });
  const found = members.find((m) => m.email === email);
  if (!found) throw new Error(`no member ${email}; members: ${members.map((m) => m.email).join(", ")}`);
  return found;
}
