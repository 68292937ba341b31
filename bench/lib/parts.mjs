/**
 * The repository's TypeScript parts the benchmarks drive (server, API
 * client, provider install, engine helpers), bundled from src on the fly so
 * a benchmark needs no `tsc` build, and the provider bundle the engine runs.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the benchmarks keep built helpers and the Go provider (git-ignored). */
export const benchCacheDir = join(repoRoot, ".tools", "bench");

/**
 * Bundles the parts into node_modules/.cache (node_modules stay external,
 * so `require` resolves them from the repository) and loads them.
 */
export async function loadParts() {
  const outfile = join(repoRoot, "node_modules", ".cache", "postscale-bench", "parts.cjs");
  await build({
    stdin: {
      contents: [
        'export { startServer } from "./src/server";',
        'export { PostscaleClient } from "./src/api";',
        'export { installProvider, builtBundlePath, enginePlatform } from "./src/provider/install";',
        'export { requireEngine, engineEnv, PROVIDER_ADDRESSES } from "./src/provider/engine";',
      ].join("\n"),
      resolveDir: repoRoot,
      loader: "ts",
    },
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    packages: "external",
    logLevel: "warning",
  });
  return createRequire(join(repoRoot, "package.json"))(outfile);
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
