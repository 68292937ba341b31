/**
 * The repository's TypeScript parts the benchmarks drive (server, API
 * client, provider install, engine helpers) and the provider bundle the
 * engine runs.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadParts as loadSourceParts } from "../../scripts/lib/load-parts.mjs";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the benchmarks keep built helpers and the Go provider (git-ignored). */
export const benchCacheDir = join(repoRoot, ".tools", "bench");

/** The parts, bundled from src on the fly (see scripts/lib/load-parts.mjs). */
export function loadParts() {
  return loadSourceParts("bench");
}

/**
 * The provider bundle path; builds it (scripts/build-provider.mjs) when it
 * is missing. A stale bundle is not rebuilt: run `npm run build` to measure
 * current sources.
 */
export function providerBundle(parts) {
  const bundle = parts.builtBundlePath();
  if (!existsSync(bundle)) {
    process.stderr.write("building the provider bundle...\n");
    execFileSync(process.execPath, [join(repoRoot, "scripts", "build-provider.mjs")], { stdio: "inherit" });
  }
  return bundle;
}
