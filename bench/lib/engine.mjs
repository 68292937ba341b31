/**
 * One engine set-up for a benchmark: the pinned OpenTofu, a temporary local
 * mirror holding our provider (and, when asked, the Go time provider), and
 * a CLI config that installs only from that mirror, so nothing is fetched
 * from a registry while measuring.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchCacheDir, providerBundle } from "./parts.mjs";

/** The real Go provider the start-up benchmark compares with. */
export const TIME_PROVIDER = { module: "github.com/hashicorp/terraform-provider-time", version: "0.14.2", address: "registry.opentofu.org/hashicorp/time" };

/** Version our provider is installed as in the bench mirror. */
export const POSTSCALE_VERSION = "0.1.0";

/**
 * The terraform-provider-time binary, built once with `go install` from the
 * module proxy into .tools/bench/bin (git-ignored).
 */
export function timeProviderBinary() {
  const bin = join(benchCacheDir, "bin");
  const binary = join(bin, "terraform-provider-time");
  if (!existsSync(binary)) {
    process.stderr.write(`building ${TIME_PROVIDER.module}@v${TIME_PROVIDER.version} (about 15 s with a warm module cache)...\n`);
    mkdirSync(bin, { recursive: true });
    execFileSync("go", ["install", `${TIME_PROVIDER.module}@v${TIME_PROVIDER.version}`], { env: { ...process.env, GOBIN: bin }, stdio: "inherit" });
  }
  return binary;
}

/**
 * Installs the providers into `<work>/mirror`, writes `<work>/cli.tfrc` and
 * returns the engine with an `env(extra)` builder for its runs. `bundle`:
 * the provider's entry bundle (its server bundle beside it), by default
 * this checkout's build.
 */
export function setUpEngine(parts, work, { timeProvider = false, bundle = providerBundle(parts) } = {}) {
  const engine = parts.requireEngine("tofu");
  const mirror = join(work, "mirror");
  const install = parts.installProvider({ dir: mirror, version: POSTSCALE_VERSION, bundle });
  const includes = [...parts.PROVIDER_ADDRESSES];
  let timeBinary;
  if (timeProvider) {
    // Under both registry hosts: `hashicorp/time` means a different host to each engine.
    for (const address of [TIME_PROVIDER.address, TIME_PROVIDER.address.replace("registry.opentofu.org", "registry.terraform.io")]) {
      const dir = join(mirror, address, TIME_PROVIDER.version, parts.enginePlatform());
      mkdirSync(dir, { recursive: true });
      const binary = join(dir, `terraform-provider-time_v${TIME_PROVIDER.version}`);
      copyFileSync(timeProviderBinary(), binary);
      timeBinary ??= binary;
      includes.push(address);
    }
  }
  const cliConfigFile = join(work, "cli.tfrc");
  // No `direct` block: a provider missing from the mirror fails instead of being downloaded.
  writeFileSync(
    cliConfigFile,
    `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}\n    include = ${JSON.stringify(includes)}\n  }\n}\n`,
  );
  return {
    engine,
    /** Terraform (tools/bin), when `npm run setup:engine -- --with-terraform` built it. */
    terraform: parts.findEngine("terraform"),
    mirror,
    /** Our installed launcher (the file the engine executes). */
    launcher: install.launchers[0],
    timeBinary,
    /** The engine's environment: `extra.base` (default process.env) without TF_*, our CLI config, `endpoint`/`apiKey` for the provider, plus `extra.vars`. */
    env(extra = {}) {
      const env = parts.engineEnv({ cliConfigFile, endpoint: extra.endpoint, apiKey: extra.apiKey, base: extra.base });
      return { ...env, ...(extra.vars ?? {}) };
    },
  };
}

/**
 * `process.env` without NODE_EXTRA_CA_CERTS: Node parses that bundle at
 * every start (about 80 ms of CPU on the machines these numbers come
 * from), a cost of the machine's set-up that any Node program pays and
 * that would hide what the provider itself costs. The benchmarks say so
 * in their output.
 */
export function benchBaseEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** The `terraform {}` block requiring the given providers from the mirror. */
export function requiredProviders({ postscale = false, time = false }) {
  const lines = [];
  if (postscale) lines.push(`    postscale = {\n      source  = "postscale/postscale"\n      version = "${POSTSCALE_VERSION}"\n    }`);
  if (time) lines.push(`    time = {\n      source  = "hashicorp/time"\n      version = "${TIME_PROVIDER.version}"\n    }`);
  return lines.length === 0 ? "" : `terraform {\n  required_providers {\n${lines.join("\n")}\n  }\n}\n`;
}
