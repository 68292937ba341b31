/**
 * Installing the provider where OpenTofu and Terraform look for it: the
 * unpacked local mirror layout
 * `<dir>/<host>/postscale/postscale/<version>/<os>_<arch>/`, for both
 * registry hosts (`postscale/postscale` means a different host to each
 * engine).
 *
 * What gets installed is a launcher named
 * `terraform-provider-postscale_v<version>`: the provider's entry bundle
 * (dist/provider/terraform-provider-postscale.js from `npm run build`) with
 * this node as its `#!` interpreter, and beside it
 * postscale-provider-server.js, which the entry loads after the handshake,
 * so an install does not depend on the checkout. Where node cannot be an
 * interpreter line (see interpreterLine), the launcher is a shell script
 * that `exec`s node on a copy of the entry bundle. Either way the engine's
 * direct child is node itself, which is what the engine kills to stop a
 * provider.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { repositoryRoot } from "./engine";
import { CODE_CACHE_FILE, SERVER_BUNDLE_NAME, WRITE_CODE_CACHE_ARG } from "./server-bundle";

/** The registry hosts the engines resolve `postscale/postscale` to. */
export const REGISTRY_HOSTS: readonly string[] = ["registry.opentofu.org", "registry.terraform.io"];

/**
 * Name of the bundle beside the launcher. It must not start with
 * `terraform-provider-postscale`: the engine runs the first file in the
 * package folder with that prefix.
 */
export const INSTALLED_BUNDLE_NAME = "postscale-provider.js";

/**
 * The bundle's second file, which the first loads by this name from beside
 * itself (src/provider/server-bundle.ts); it keeps its name when installed.
 */
export { SERVER_BUNDLE_NAME };

/** Options of {@link installProvider}. */
export interface InstallOptions {
  /** @default ~/.terraform.d/plugins, the implied local mirror both engines search */
  dir?: string;
  /** @default the package version */
  version?: string;
  /** @default dist/provider/terraform-provider-postscale.js of this package; {@link SERVER_BUNDLE_NAME} must be beside it */
  bundle?: string;
  /** The node executable the launcher runs. @default process.execPath */
  node?: string;
}

/** What {@link installProvider} wrote. */
export interface InstallResult {
  /** The mirror root. */
  dir: string;
  version: string;
  /** `<os>_<arch>`, e.g. linux_amd64. */
  platform: string;
  /** One launcher per registry host, absolute paths. */
  launchers: string[];
}

/** The implied local mirror directory of both engines. */
export function defaultPluginDir(): string {
  return join(homedir(), ".terraform.d", "plugins");
}

/** The bundle `npm run build` writes. */
export function builtBundlePath(): string {
  return join(repositoryRoot(), "dist", "provider", "terraform-provider-postscale.js");
}

/** This package's version, the default provider version. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(repositoryRoot(), "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };

/** The engine's name for this machine's platform, e.g. linux_amd64. */
export function enginePlatform(platform: string = process.platform, arch: string = process.arch): string {
  const goArch = GO_ARCH[arch];
  if (!goArch) throw new Error(`unsupported CPU architecture ${arch}: the engines know amd64, arm64, 386 and arm`);
  return `${platform}_${goArch}`;
}

/** Quotes `value` for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Flags the launcher passes to node: none. Any V8 flag on the command line
 * makes V8 refuse Node's built-in code cache (about 10 ms of every start);
 * the provider sets the one it needs at run time (wasm-baseline.ts).
 */
export const NODE_FLAGS: readonly string[] = [];

/**
 * Writes the V8 code cache of the server bundle installed in `packageDir`
 * (src/provider/server-bundle.ts), by running the entry bundle with the node
 * the launcher runs. The provider works without it, only slower to start,
 * so a failure is a warning, not an error.
 */
function writeCodeCache(node: string, entryBundle: string, packageDir: string): boolean {
  try {
    execFileSync(node, [entryBundle, WRITE_CODE_CACHE_ARG, packageDir], {
      stdio: ["ignore", "ignore", "pipe"],
      // The bundle's top level reads no configuration; keep the user's out of it anyway.
      env: { PATH: process.env.PATH ?? "" },
      timeout: 60_000,
    });
    return true;
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    process.stderr.write(`provider install: no V8 code cache written (the provider starts about 15 ms slower): ${detail}\n`);
    return false;
  }
}

/** The launcher script's text, for when node cannot be the launcher's own interpreter (see {@link launcherFile}). */
export function launcherScript(node: string, bundle: string): string {
  return `#!/bin/sh\nexec ${[shellQuote(node), ...NODE_FLAGS, shellQuote(bundle)].join(" ")} "$@"\n`;
}

/** The longest `#!` line every Linux passes on whole (before 5.1 the kernel read 128 bytes). */
const SHEBANG_MAX = 127;

/**
 * The launcher's first line when node can run it directly: the entry
 * bundle itself with `#!<node> <flags>` on top (node skips that line). That
 * saves exec'ing a shell on every provider start. Not possible when the
 * node path has white space, the line would be too long for the kernel, or
 * there is more than one flag (the kernel passes everything after the
 * interpreter as one argument); then null, and the launcher is a script.
 */
export function interpreterLine(node: string): string | null {
  const line = `#!${[node, ...NODE_FLAGS].join(" ")}`;
  if (/\s/.test(node) || NODE_FLAGS.length > 1 || Buffer.byteLength(line) > SHEBANG_MAX) return null;
  return `${line}\n`;
}

/**
 * Writes the launcher and the bundle into the mirror layout under every
 * registry host. Re-installing the same version overwrites it (the engines'
 * lock files then need their `postscale/postscale` entry dropped; see
 * `dropProviderLock`).
 */
export function installProvider(options: InstallOptions = {}): InstallResult {
  if (process.platform === "win32") {
    throw new Error("provider install: Windows is not supported (the launcher is a POSIX shell script)");
  }
  const dir = resolve(options.dir ?? defaultPluginDir());
  const version = options.version ?? packageVersion();
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Error(`provider install: --version must be a semantic version like 1.2.3, got "${version}"`);
  }
  const bundle = options.bundle ?? builtBundlePath();
  const serverBundle = join(dirname(bundle), SERVER_BUNDLE_NAME);
  for (const file of [bundle, serverBundle]) {
    if (!existsSync(file)) {
      throw new Error(`provider install: the provider bundle file ${file} is missing; run \`npm run build\` first`);
    }
  }
  const node = options.node ?? process.execPath;
  const platform = enginePlatform();
  const launchers: string[] = [];
  const packageDirs: string[] = [];
  for (const host of REGISTRY_HOSTS) {
    const packageDir = join(dir, host, "postscale", "postscale", version, platform);
    mkdirSync(packageDir, { recursive: true });
    const installedServerBundle = join(packageDir, SERVER_BUNDLE_NAME);
    copyFileSync(serverBundle, installedServerBundle);
    chmodSync(installedServerBundle, 0o644);
    const launcher = join(packageDir, `terraform-provider-postscale_v${version}`);
    const installedBundle = join(packageDir, INSTALLED_BUNDLE_NAME);
    rmSync(installedBundle, { force: true });
    const shebang = interpreterLine(node);
    if (shebang) {
      writeFileSync(launcher, shebang + readFileSync(bundle, "utf8"));
    } else {
      copyFileSync(bundle, installedBundle);
      chmodSync(installedBundle, 0o644);
      writeFileSync(launcher, launcherScript(node, installedBundle));
    }
    chmodSync(launcher, 0o755);
    launchers.push(launcher);
    packageDirs.push(packageDir);
  }
  // Made once (kept when the one already there fits), then copied: every host gets the same bytes.
  const [first, ...others] = packageDirs;
  const cached = writeCodeCache(node, bundle, first);
  for (const packageDir of others) {
    if (cached) copyFileSync(join(first, CODE_CACHE_FILE), join(packageDir, CODE_CACHE_FILE));
  }
  return { dir, version, platform, launchers };
}
