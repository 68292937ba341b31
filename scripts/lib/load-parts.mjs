/**
 * The repository's TypeScript parts that scripts and benchmarks drive
 * (server, API client, provider install, engine helpers), bundled from src
 * on the fly so they need no `tsc` build. node_modules stay external, so the
 * bundle is written under node_modules/.cache where `require` finds the
 * package's dependencies.
 */
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Bundles the parts and loads them; `name` keeps callers' bundles apart. */
export async function loadParts(name) {
  const outfile = join(repoRoot, "node_modules", ".cache", `postscale-${name}`, "parts.cjs");
  await build({
    stdin: {
      contents: [
        'export { startServer } from "./src/server";',
        'export { PostscaleClient } from "./src/api";',
        'export { installProvider, builtBundlePath, enginePlatform } from "./src/provider/install";',
        'export { findEngine, requireEngine, engineEnv, writeCliConfig, PROVIDER_ADDRESSES } from "./src/provider/engine";',
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
