/**
 * Finding the Terraform engine (OpenTofu or Terraform) this repository pins,
 * and preparing what every run of it needs: a CLI config that installs
 * `postscale/postscale` from a local mirror, and an environment free of the
 * machine's own engine settings.
 *
 * Used by the end-to-end tests, the demo and the benchmarks. The engines are
 * built by `npm run setup:engine` into `tools/bin/` (see tools/<engine>/go.mod
 * for the pinned versions); nothing here builds or downloads anything.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The engines the provider is tested with. */
export type EngineName = "tofu" | "terraform";

/** Every engine name, in the order the tests run them. */
export const ENGINE_NAMES: readonly EngineName[] = ["tofu", "terraform"];

/** The provider's source address under each registry host the engines use. */
export const PROVIDER_ADDRESSES: readonly string[] = [
  "registry.opentofu.org/postscale/postscale",
  "registry.terraform.io/postscale/postscale",
];

/** An engine binary ready to run. */
export interface Engine {
  name: EngineName;
  /** Absolute path of the executable. */
  binary: string;
  /** Version it reports, e.g. "1.12.6". */
  version: string;
}

/** The Go module (and its module path) that pins each engine under tools/. */
const PINNED_MODULE: Record<EngineName, string> = {
  tofu: "github.com/opentofu/opentofu",
  terraform: "github.com/hashicorp/terraform",
};

/** The repository root: the nearest folder above this module holding package.json. */
export function repositoryRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/**
 * The version of `name` pinned by tools/<name>/go.mod (without the "v"), read
 * from the go.mod so the pin lives in exactly one place.
 */
export function pinnedVersion(name: EngineName, root: string = repositoryRoot()): string {
  const goMod = readFileSync(join(root, "tools", name, "go.mod"), "utf8");
  const escaped = PINNED_MODULE[name].replace(/[.\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+v(\\S+)`, "m").exec(goMod);
  if (!match) throw new Error(`tools/${name}/go.mod does not require ${PINNED_MODULE[name]}`);
  return match[1];
}

/** Path where `npm run setup:engine` puts the engine binary. */
export function engineBinaryPath(name: EngineName, root: string = repositoryRoot()): string {
  return join(root, "tools", "bin", name);
}

/**
 * The version an engine binary reports through `version -json` (both engines
 * name the field `terraform_version`), or undefined if it cannot run.
 */
export function reportedVersion(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ["version", "-json"], {
      encoding: "utf8",
      env: engineBaseEnv(),
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 30_000,
    });
    const version = (JSON.parse(out) as { terraform_version?: unknown }).terraform_version;
    return typeof version === "string" ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The engine in tools/bin, or undefined when it has not been set up. */
export function findEngine(name: EngineName, root: string = repositoryRoot()): Engine | undefined {
  const binary = engineBinaryPath(name, root);
  if (!existsSync(binary)) return undefined;
  const version = reportedVersion(binary);
  return version === undefined ? undefined : { name, binary, version };
}

/** Like {@link findEngine}, but an error that says how to set the engine up. */
export function requireEngine(name: EngineName, root: string = repositoryRoot()): Engine {
  const engine = findEngine(name, root);
  if (engine) return engine;
  const flag = name === "terraform" ? " -- --with-terraform" : "";
  throw new Error(
    `${engineBinaryPath(name, root)} is missing or does not run: build it with \`npm run setup:engine${flag}\``,
  );
}

/**
 * The text of a CLI config that installs `postscale/postscale` (under both
 * registry hosts) from `mirrorDir` and every other provider directly. A
 * hostname alone cannot be wildcarded in `include`, so both addresses are
 * listed.
 */
export function cliConfigText(mirrorDir: string): string {
  const list = PROVIDER_ADDRESSES.map((a) => JSON.stringify(a)).join(", ");
  return [
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${JSON.stringify(mirrorDir)}`,
    `    include = [${list}]`,
    "  }",
    "  direct {",
    `    exclude = [${list}]`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Writes {@link cliConfigText} to `file`. */
export function writeCliConfig(file: string, mirrorDir: string): void {
  writeFileSync(file, cliConfigText(mirrorDir));
}

/**
 * The calling process's environment without any `TF_*` variable: the
 * machine's engine settings (a CLI config that does not exist, a plugin
 * cache, log levels, extra CLI arguments) must not leak into our runs.
 */
export function engineBaseEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (!key.startsWith("TF_") && value !== undefined) env[key] = value;
  }
  env.CHECKPOINT_DISABLE = "1";
  return env;
}

/** Options of {@link engineEnv}. */
export interface EngineEnvOptions {
  /** The CLI config file (see {@link writeCliConfig}). */
  cliConfigFile: string;
  /** Postscale API base URL, passed to the provider as POSTSCALE_ENDPOINT. */
  endpoint?: string;
  /** Postscale API key, passed to the provider as POSTSCALE_API_KEY. */
  apiKey?: string;
  /** Sets TF_LOG (e.g. "debug"); no engine logging when unset. */
  log?: string;
  /** Sets TF_LOG_PATH; only with `log`. */
  logPath?: string;
  /** @default process.env */
  base?: NodeJS.ProcessEnv;
}

/** The environment to run an engine with: our CLI config, no telemetry, automation mode. */
export function engineEnv(options: EngineEnvOptions): NodeJS.ProcessEnv {
  const env = engineBaseEnv(options.base);
  env.TF_CLI_CONFIG_FILE = options.cliConfigFile;
  env.TF_IN_AUTOMATION = "1";
  delete env.POSTSCALE_ENDPOINT;
  delete env.POSTSCALE_API_KEY;
  if (options.endpoint !== undefined) env.POSTSCALE_ENDPOINT = options.endpoint;
  if (options.apiKey !== undefined) env.POSTSCALE_API_KEY = options.apiKey;
  if (options.log !== undefined) {
    env.TF_LOG = options.log;
    if (options.logPath !== undefined) env.TF_LOG_PATH = options.logPath;
  }
  return env;
}

/**
 * Removes the `postscale/postscale` entries from `<workDir>/.terraform.lock.hcl`.
 *
 * The lock file records `h1:` hashes of the installed provider directory, so
 * a provider rebuilt at the same version no longer matches and `init` fails.
 * Dropping our entries lets the next `init` record the current build; other
 * providers' entries are kept. Returns whether anything was removed.
 */
export function dropProviderLock(workDir: string): boolean {
  const file = join(workDir, ".terraform.lock.hcl");
  if (!existsSync(file)) return false;
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const kept: string[] = [];
  let removed = false;
  for (let i = 0; i < lines.length; i++) {
    const header = /^provider\s+"([^"]+)"\s*\{\s*$/.exec(lines[i]);
    if (header && PROVIDER_ADDRESSES.includes(header[1])) {
      while (i < lines.length && lines[i] !== "}") i++;
      if (lines[i + 1] === "") i++;
      removed = true;
      continue;
    }
    kept.push(lines[i]);
  }
  if (removed) writeFileSync(file, kept.join("\n"));
  return removed;
}
