/**
 * Installing the provider where OpenTofu and Terraform look for it: the
 * unpacked local mirror layout
 * `<dir>/<host>/postscale/postscale/<version>/<os>_<arch>/`, for both
 * registry hosts (`postscale/postscale` means a different host to each
 * engine).
 *
 * What gets installed is a launcher script named
 * `terraform-provider-postscale_v<version>` that `exec`s the current node on
 * the bundled provider (dist/provider/terraform-provider-postscale.js from
 * `npm run build`, and postscale-provider-server.js which it loads after the
 * handshake), copied beside it so an install does not depend on the
 * checkout. `exec` matters: the engine stops a provider by killing its
 * direct child, which must be node itself.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { repositoryRoot } from "./engine";

/** The registry hosts the engines resolve `postscale/postscale` to. */
export const REGISTRY_HOSTS: readonly string[] = ["registry.opentofu.org", "registry.terraform.io"];

/**
 * Name of the bundle beside the launcher. It must not start with
 * `terraform-provider-postscale`: the engine runs the first file in the
 * package folder with that prefix.
 */
export const INSTALLED_BUNDLE_NAME = "postscale-provider.js";

/**
 * The bundle's second file, which the first requires by this name from
 * beside itself (scripts/build-provider.mjs); it keeps its name when
 * installed.
 */
export const SERVER_BUNDLE_NAME = "postscale-provider-server.js";

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
 * V8 flags the launcher passes to node. `--liftoff-only` keeps WebAssembly
 * on V8's baseline compiler (it does not touch JavaScript): undici's HTTP
 * parser is WebAssembly, and its optimizing recompilation runs on background
 * threads that an exiting process waits for, which made every exit after
 * Shutdown take 300-1000 ms instead of 10-70 ms. The engine waits for that
 * exit one to three times per command; the few HTTP responses a provider
 * parses do not need optimized code.
 */
export const NODE_FLAGS: readonly string[] = ["--liftoff-only"];

/** The launcher script's text. */
export function launcherScript(node: string, bundle: string): string {
  return `#!/bin/sh\nexec ${shellQuote(node)} ${NODE_FLAGS.join(" ")} ${shellQuote(bundle)} "$@"\n`;
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
  for (const host of REGISTRY_HOSTS) {
    const packageDir = join(dir, host, "postscale", "postscale", version, platform);
    mkdirSync(packageDir, { recursive: true });
    const installedBundle = join(packageDir, INSTALLED_BUNDLE_NAME);
    copyFileSync(bundle, installedBundle);
    chmodSync(installedBundle, 0o644);
    const installedServerBundle = join(packageDir, SERVER_BUNDLE_NAME);
    copyFileSync(serverBundle, installedServerBundle);
    chmodSync(installedServerBundle, 0o644);
    const launcher = join(packageDir, `terraform-provider-postscale_v${version}`);
    writeFileSync(launcher, launcherScript(node, installedBundle));
    chmodSync(launcher, 0o755);
    launchers.push(launcher);
  }
  return { dir, version, platform, launchers };
}
