/**
 * Driving the real `cdktf` CLI on a copy of an example, and reading back
 * what a synthesized stack declares and what the server holds, in one shape
 * so the two compare with a plain `toEqual`.
 *
 * The copy lives under `<repo>/.gen/` (git-ignored) at the same depth as
 * `examples/<name>/`, so the example's own cdktf.json works unchanged: its
 * esbuild alias `../../src/index.ts` reaches this checkout's sources and
 * its bundle resolves `cdktf` and `constructs` from the repository's
 * node_modules. The state file, cdktf.out and the bundle stay in the copy.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, delimiter, dirname, join } from "node:path";
import type { PostscaleClient } from "../../src/api";
import { autoScope, defaultKeyReach, type Access, type Role } from "../../src/policy";
import { engineEnv, repositoryRoot } from "../../src/provider/engine";

const ROOT = repositoryRoot(__dirname);

/** One `cdktf` run. */
export interface CdktfRun {
  args: string[];
  code: number;
  /** stdout and stderr together, without terminal formatting sequences. */
  output: string;
  durationMs: number;
}

/** Options of {@link cdktfDeployEnv}. */
export interface CdktfDeployEnvOptions {
  /** The engine binary's folder; put first on PATH so `TERRAFORM_BINARY_NAME` finds it. */
  engineDir: string;
  /** The engine's executable name, e.g. "tofu". */
  engineName: string;
  /** Our CLI config (installs `postscale/postscale` from a local mirror). */
  cliConfigFile: string;
  endpoint: string;
  apiKey: string;
}

/**
 * The environment `cdktf deploy` needs to run offline against a local
 * server: the engine environment of src/provider/engine (no machine `TF_*`
 * settings, our CLI config, no checkpoint calls) plus what cdktf itself
 * reads. cdktf sets `TF_PLUGIN_CACHE_DIR=~/.terraform.d/plugin-cache`
 * unless told not to; a provider cached there under the same version would
 * then win over the fresh build in our mirror, and the cache outlives the
 * test, so it is switched off.
 */
export function cdktfDeployEnv(options: CdktfDeployEnvOptions): NodeJS.ProcessEnv {
  const env = engineEnv({ cliConfigFile: options.cliConfigFile, endpoint: options.endpoint, apiKey: options.apiKey });
  env.TERRAFORM_BINARY_NAME = options.engineName;
  env.PATH = [options.engineDir, env.PATH].filter((p) => p).join(delimiter);
  env.CDKTF_DISABLE_PLUGIN_CACHE_ENV = "1";
  env.CI = "1";
  return env;
}

/** Terminal colour and cursor sequences, which cdktf writes even with CI set. */
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** A copy of `examples/<name>` to run cdktf in; {@link remove} deletes it. */
export class CdktfProject {
  /** Every run so far, in order, for failure messages and timing. */
  readonly runs: CdktfRun[] = [];

  private constructor(readonly dir: string) {}

  /**
   * Copies the example's sources (not its cdktf.out, bundle or state) to a
   * fresh folder `<repo>/.gen/<prefix>XXXXXX`.
   */
  static copyExample(name: string, prefix = `cdktf-${name}-`): CdktfProject {
    const source = join(ROOT, "examples", name);
    const parent = join(ROOT, ".gen");
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, prefix));
    const skipped = new Set(["cdktf.out", ".gen", ".terraform", ".terraform.lock.hcl"]);
    cpSync(source, dir, {
      recursive: true,
      filter: (from) => {
        const base = basename(from);
        return from === source || (!skipped.has(base) && !/\.tfstate(\.backup)?$/.test(base));
      },
    });
    return new CdktfProject(dir);
  }

  /** Runs `npx cdktf <args>` in the copy; fails with the whole output unless it exits 0. */
  async run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CdktfRun> {
    const started = Date.now();
    const { code, output } = await runProcess("npx", ["cdktf", ...args], this.dir, env, timeoutMs);
    const run = { args, code, output: output.replace(ANSI, ""), durationMs: Date.now() - started };
    this.runs.push(run);
    if (code !== 0) {
      throw new Error(`cdktf ${args.join(" ")} exited ${code} after ${run.durationMs} ms in ${this.dir}:\n${run.output}`);
    }
    return run;
  }

  /** The synthesized Terraform JSON of `stack` (from the last synth or deploy). */
  stack(stack: string): StackJson {
    return JSON.parse(readFileSync(join(this.dir, "cdktf.out", "stacks", stack, "cdk.tf.json"), "utf8")) as StackJson;
  }

  /** Reads a file of the copy. */
  read(file: string): string {
    return readFileSync(join(this.dir, file), "utf8");
  }

  /** Writes a file of the copy. */
  write(file: string, text: string): void {
    const path = join(this.dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function runProcess(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout stops npx, cdktf, the engine and the provider together.
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString("utf8");
      resolve({ code: code ?? (signal ? 128 : 1), output: timedOut ? `${output}\n[killed after ${timeoutMs} ms]` : output });
    });
  });
}

/** The parts of a synthesized stack (cdk.tf.json) read here. */
export interface StackJson {
  terraform?: { required_providers?: Record<string, { source?: string; version?: string }> };
  data?: Record<string, Record<string, Record<string, unknown>>>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value?: unknown; sensitive?: boolean }>;
}

/** A member as both sides describe it: grants sorted by domain. */
export interface AccessMember {
  email: string;
  role: string;
  grants: { domain: string; access: string }[];
}

/** An API key as both sides describe it: `owner` is "organization" or the holder's email. */
export interface AccessKey {
  name: string;
  owner: string;
  scope: "organization" | "domains";
  domains: string[];
}

/** Members and keys, sorted (members by email, keys by owner then name). */
export interface TeamAccess {
  members: AccessMember[];
  keys: AccessKey[];
}

/** What the server holds, with ids, in the shape of {@link declaredAccess}. */
export interface ServerAccess {
  members: (AccessMember & { id: string })[];
  keys: (AccessKey & { id: string })[];
}

/** Every `<type>.<name>` of managed resources in a stack, sorted. */
export function resourceAddresses(stack: StackJson): string[] {
  return Object.entries(stack.resource ?? {})
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

/** `"${<type>.<name>.<attribute>}"` → name, or a failure naming what was expected. */
function referencedName(value: unknown, type: string, attribute: string, where: string): string {
  const match = typeof value === "string" ? new RegExp(`^\\$\\{${type}\\.([^.}]+)\\.${attribute}\\}$`).exec(value) : null;
  if (!match) throw new Error(`${where}: expected a reference "\${${type}.<name>.${attribute}}", got ${JSON.stringify(value)}`);
  return match[1];
}

/** A domain given literally or as `${data.postscale_domain.<name>.name}`. */
function domainName(value: unknown, stack: StackJson, where: string): string {
  if (typeof value === "string" && !value.includes("${")) return value;
  const lookup = referencedName(value, "data\\.postscale_domain", "name", where);
  const name = stack.data?.postscale_domain?.[lookup]?.name;
  if (typeof name !== "string") throw new Error(`${where}: data.postscale_domain.${lookup} has no literal name`);
  return name;
}

const KNOWN_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  postscale_team_member: ["email", "role"],
  postscale_domain_access: ["member_id", "domain", "access"],
  postscale_api_key: ["name", "owner", "member_id", "domains"],
};

/**
 * The members, grants and keys a synthesized stack declares, resolved the
 * way the server will hold them: references become emails and domain
 * names, and a key without `domains` gets the reach src/policy gives it
 * (`defaultKeyReach`, and `autoScope` of the holder's declared grants). Fails on any
 * attribute it does not know how to compare, so a new attribute cannot be
 * silently ignored.
 */
export function declaredAccess(stack: StackJson): TeamAccess {
  const { members, keysByResource } = resolveStack(stack);
  return sortAccess({ members, keys: Object.values(keysByResource) });
}

function resolveStack(stack: StackJson): { members: AccessMember[]; keysByResource: Record<string, AccessKey> } {
  const resources = stack.resource ?? {};
  for (const [type, byName] of Object.entries(resources)) {
    const known = KNOWN_ATTRIBUTES[type];
    if (!known) continue;
    for (const [name, config] of Object.entries(byName)) {
      const unknown = Object.keys(config).filter((k) => !known.includes(k) && k !== "//" && k !== "depends_on");
      if (unknown.length > 0) throw new Error(`${type}.${name}: attributes ${unknown.join(", ")} are not compared by declaredAccess`);
    }
  }
  const memberResources = resources.postscale_team_member ?? {};
  const emailOf = (memberId: unknown, where: string): string => {
    const name = referencedName(memberId, "postscale_team_member", "id", where);
    const email = memberResources[name]?.email;
    if (typeof email !== "string") throw new Error(`${where}: postscale_team_member.${name} is not declared with a literal email`);
    return email;
  };

  const grants = new Map<string, Record<string, Access>>();
  for (const [name, g] of Object.entries(resources.postscale_domain_access ?? {})) {
    const where = `postscale_domain_access.${name}`;
    const email = emailOf(g.member_id, where);
    const byDomain = grants.get(email) ?? {};
    byDomain[domainName(g.domain, stack, where)] = g.access as Access;
    grants.set(email, byDomain);
  }

  const members: AccessMember[] = Object.values(memberResources).map((m) => ({
    email: m.email as string,
    role: m.role as string,
    grants: Object.entries(grants.get(m.email as string) ?? {})
      .map(([domain, access]) => ({ domain, access }))
      .sort((a, b) => a.domain.localeCompare(b.domain)),
  }));

  const keysByResource: Record<string, AccessKey> = {};
  for (const [name, k] of Object.entries(resources.postscale_api_key ?? {})) {
    const where = `postscale_api_key.${name}`;
    const owner = k.owner === "organization" ? "organization" : emailOf(k.member_id, where);
    const keyName = k.name as string;
    if (Array.isArray(k.domains)) {
      keysByResource[name] = { name: keyName, owner, scope: "domains", domains: k.domains.map((d) => domainName(d, stack, where)).sort() };
      continue;
    }
    // An organization key has no holder; defaultKeyReach does not look at the role then.
    const holderRole = (members.find((m) => m.email === owner)?.role ?? "member") as Role;
    keysByResource[name] =
      defaultKeyReach(k.owner as "organization" | "member", holderRole) === "organization"
        ? { name: keyName, owner, scope: "organization", domains: [] }
        : { name: keyName, owner, scope: "domains", domains: autoScope({ role: holderRole, grants: grants.get(owner) ?? {} }) };
  }
  return { members, keysByResource };
}

/** The organization's members with their grants and its keys, as the API lists them. */
export async function serverAccess(client: PostscaleClient): Promise<ServerAccess> {
  const members = await client.listMembers({ includeDomainAccess: true });
  const emailById = new Map(members.map((m) => [m.id, m.email]));
  const keys = await client.listApiKeys();
  return sortAccess({
    members: members.map((m) => ({
      id: m.id,
      email: m.email,
      role: m.role,
      grants: [...(m.domain_access ?? [])].map((g) => ({ domain: g.domain, access: g.access })).sort((a, b) => a.domain.localeCompare(b.domain)),
    })),
    keys: keys.map((k) => ({
      id: k.id,
      name: k.name,
      owner: k.owner === "organization" ? "organization" : (emailById.get(k.member_id ?? "") ?? `unknown member ${k.member_id}`),
      scope: k.scope,
      domains: [...k.domains].sort(),
    })),
  });
}

/** Drops the ids: what {@link declaredAccess} can be compared with. */
export function withoutIds(access: ServerAccess): TeamAccess {
  return {
    members: access.members.map(({ id: _id, ...m }) => m),
    keys: access.keys.map(({ id: _id, ...k }) => k),
  };
}

/** Both lists of `a` and `b` together (no duplicates), sorted. */
export function unionAccess(a: TeamAccess, b: TeamAccess): TeamAccess {
  const members = [...a.members, ...b.members.filter((m) => !a.members.some((n) => n.email === m.email))];
  const keys = [...a.keys, ...b.keys.filter((k) => !a.keys.some((l) => l.owner === k.owner && l.name === k.name))];
  return sortAccess({ members, keys });
}

function sortAccess<T extends TeamAccess>(access: T): T {
  access.members.sort((a, b) => a.email.localeCompare(b.email));
  access.keys.sort((a, b) => a.owner.localeCompare(b.owner) || a.name.localeCompare(b.name));
  return access;
}

/**
 * The stack's outputs that carry an API key's secret (value
 * `${postscale_api_key.<name>.secret}`), by output name, with that key.
 */
export function secretOutputs(stack: StackJson): Record<string, AccessKey> {
  const { keysByResource } = resolveStack(stack);
  const result: Record<string, AccessKey> = {};
  for (const [output, { value }] of Object.entries(stack.output ?? {})) {
    const match = typeof value === "string" ? /^\$\{postscale_api_key\.([^.}]+)\.secret\}$/.exec(value) : null;
    if (match) result[output] = keysByResource[match[1]];
  }
  return result;
}

/**
 * The example without one person: deletes the line declaring the member
 * `email` (`const <v> = team.addXxx("<email>"...)`), every line using a
 * variable declared on a deleted line (their grants, keys and outputs,
 * transitively), and the comment right above the first deleted line.
 * Offboarding in code is deleting lines, and this deletes exactly those.
 */
export function removePerson(source: string, email: string): string {
  const lines = source.split("\n");
  // Identifiers are looked for in code only, not in strings or comments.
  const code = lines.map((l) => l.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\/\/.*$/, ""));
  const literal = JSON.stringify(email);
  const declaration = lines.findIndex((l) => /^\s*const \w+ = \w+\.add(Member|Admin)\(/.test(l) && l.includes(literal));
  if (declaration < 0) throw new Error(`no line declares ${email} as "const <name> = team.addMember(...)" or addAdmin`);
  const removed = new Set<number>([declaration]);
  const variables = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const i of removed) {
      const declared = /^\s*const (\w+)\s*=/.exec(code[i]);
      if (declared) variables.add(declared[1]);
    }
    code.forEach((line, i) => {
      if (!removed.has(i) && [...variables].some((v) => new RegExp(`\\b${v}\\b`).test(line))) {
        removed.add(i);
        grew = true;
      }
    });
  }
  let first = Math.min(...removed);
  while (first > 0 && /^\s*\/\//.test(lines[first - 1])) removed.add(--first);
  return lines.filter((_, i) => !removed.has(i)).join("\n");
}
