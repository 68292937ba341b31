#!/usr/bin/env node
/**
 * `npm run setup:engine [-- --with-terraform]`: makes the pinned engines
 * available as tools/bin/tofu (always) and tools/bin/terraform (with
 * `--with-terraform` or POSTSCALE_WITH_TERRAFORM=1).
 *
 * For each engine, in order:
 * 1. tools/bin/<engine> already reports the pinned version: nothing to do.
 * 2. An engine of that name on PATH reports the pinned or a supported
 *    version: tools/bin/<engine> becomes a symlink to it (not with
 *    `--pinned`, which the tests use).
 * 3. Otherwise build it with Go from tools/<engine> (the Go module that pins
 *    it). Only the Go module proxy is reached: `direct` VCS fallback is
 *    removed from GOPROXY and GOTOOLCHAIN is local.
 *
 * The pinned versions are read from tools/<engine>/go.mod, the one place
 * they are written.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** How each engine is pinned and built. `minimum` is the oldest version we support. */
const ENGINES = {
  tofu: {
    module: "github.com/opentofu/opentofu",
    mainPackage: "github.com/opentofu/opentofu/cmd/tofu",
    // Without it the binary calls itself "1.12.6-dev".
    ldflags: "-X github.com/opentofu/opentofu/version.dev=no",
    minimum: [1, 6, 0],
  },
  terraform: {
    module: "github.com/hashicorp/terraform",
    mainPackage: "github.com/hashicorp/terraform",
    ldflags: "",
    minimum: [1, 5, 0],
  },
};

function log(message) {
  process.stdout.write(`setup:engine: ${message}\n`);
}

function fail(message) {
  process.stderr.write(`setup:engine: ${message}\n`);
  process.exit(1);
}

function pinnedVersion(name) {
  const goMod = readFileSync(join(repoRoot, "tools", name, "go.mod"), "utf8");
  const escaped = ENGINES[name].module.replace(/[.\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+v(\\S+)`, "m").exec(goMod);
  if (!match) fail(`tools/${name}/go.mod does not require ${ENGINES[name].module}`);
  return match[1];
}

/** Environment for running an engine: none of the machine's TF_* settings (its CLI config may not exist). */
function engineEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TF_")));
  return { ...env, CHECKPOINT_DISABLE: "1" };
}

/** The version `binary version -json` reports, or undefined. */
function reportedVersion(binary) {
  try {
    const out = execFileSync(binary, ["version", "-json"], {
      encoding: "utf8",
      env: engineEnv(),
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 30_000,
    });
    return JSON.parse(out).terraform_version;
  } catch {
    return undefined;
  }
}

function isSupported(name, version) {
  const parts = /^(\d+)\.(\d+)\.(\d+)$/.exec(version ?? "");
  if (!parts) return false; // pre-releases and dev builds are not supported
  const [major, minor, patch] = parts.slice(1).map(Number);
  const [minMajor, minMinor, minPatch] = ENGINES[name].minimum;
  if (major !== minMajor) return major > minMajor;
  if (minor !== minMinor) return minor > minMinor;
  return patch >= minPatch;
}

/** An executable named `name` on PATH, skipping our own tools/bin. */
function onPath(name) {
  const ours = join(repoRoot, "tools", "bin");
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || dir === ours) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** GOPROXY without the `direct` fallback, so a build never fetches from version control. */
function proxyOnly() {
  let current = "";
  try {
    current = execFileSync("go", ["env", "GOPROXY"], { encoding: "utf8" }).trim();
  } catch {
    // go env failing is reported by the build itself
  }
  const proxies = current.split(/[,|]/).filter((p) => p && p !== "direct");
  return proxies.length > 0 ? proxies.join(",") : "https://proxy.golang.org";
}

function requireGo() {
  try {
    return execFileSync("go", ["version"], { encoding: "utf8" }).trim();
  } catch {
    fail(
      "Go is not installed (no `go` on PATH). The engines are built from the Go module proxy: " +
        "install Go 1.26.6 or newer, or put a supported `tofu` (>= 1.6) / `terraform` (>= 1.5) on PATH.",
    );
  }
}

/** Builds tools/bin/<name> with go, printing elapsed time every 10 s. */
function build(name, version) {
  const goVersion = requireGo();
  const engine = ENGINES[name];
  const output = join(repoRoot, "tools", "bin", name);
  const args = ["build", "-o", output];
  if (engine.ldflags) args.push("-ldflags", engine.ldflags);
  args.push(engine.mainPackage);
  const env = { ...process.env, GOPROXY: proxyOnly(), GOTOOLCHAIN: "local", GOFLAGS: [process.env.GOFLAGS, "-mod=mod"].filter(Boolean).join(" ") };
  log(`building ${name} v${version} with ${goVersion} (GOPROXY=${env.GOPROXY}); the first build takes minutes`);
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn("go", args, { cwd: join(repoRoot, "tools", name), env, stdio: ["ignore", "inherit", "inherit"] });
    const ticker = setInterval(() => log(`building ${name}... ${Math.round((Date.now() - started) / 1000)} s`), 10_000);
    child.on("error", (err) => {
      clearInterval(ticker);
      fail(`could not run go: ${err.message}`);
    });
    child.on("exit", (code, signal) => {
      clearInterval(ticker);
      const seconds = Math.round((Date.now() - started) / 1000);
      if (code !== 0) fail(`go build of ${name} failed (${signal ?? `exit ${code}`}) after ${seconds} s; see the output above`);
      resolvePromise(seconds);
    });
  });
}

/** With --pinned (the test suite's choice), only the exact pinned build counts: compatibility is tested on the versions we name. */
let pinnedOnly = false;

async function setUp(name) {
  const version = pinnedVersion(name);
  const target = join(repoRoot, "tools", "bin", name);
  const current = existsSync(target) ? reportedVersion(target) : undefined;
  if (current === version) {
    log(`${name}: tools/bin/${name} is v${version} (pinned); nothing to do`);
    return;
  }
  const found = pinnedOnly ? undefined : onPath(name);
  const foundVersion = found ? reportedVersion(found) : undefined;
  if (found && isSupported(name, foundVersion)) {
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target) || isSymlink(target)) rmSync(target);
    symlinkSync(found, target);
    const note = foundVersion === version ? "the pinned version" : `supported; pinned is v${version}`;
    log(`${name}: using ${found} v${foundVersion} from PATH (${note}); linked as tools/bin/${name}`);
    return;
  }
  if (found) log(`${name}: ignoring ${found} (reports ${foundVersion ?? "no version"}; not supported)`);
  if (isSymlink(target)) rmSync(target);
  const seconds = await build(name, version);
  const built = reportedVersion(target);
  if (built !== version) fail(`${name}: the build reports ${built ?? "no version"}, expected v${version}`);
  log(`${name}: built tools/bin/${name} v${built} in ${seconds} s`);
}

function isSymlink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

async function main() {
  const args = process.argv.slice(2);
  for (const arg of args) {
    if (arg !== "--with-terraform" && arg !== "--pinned") fail(`unknown option ${arg}; usage: setup-engine.mjs [--with-terraform] [--pinned]`);
  }
  pinnedOnly = args.includes("--pinned");
  const names = ["tofu"];
  if (args.includes("--with-terraform") || process.env.POSTSCALE_WITH_TERRAFORM === "1") names.push("terraform");
  for (const name of names) await setUp(name);
}

await main();
