#!/usr/bin/env node
/**
 * Runs the fault runs of test/faults (see test/faults/cli.ts for the
 * options): bundles test/faults/cli.ts from source with esbuild (its
 * packages stay external, so the bundle lives under node_modules/.cache
 * where `require` finds them) and calls its main. The server and provider
 * it drives are the built ones (dist/): `npm run faults` builds first.
 *
 *   npm run faults -- --runs 30
 *   npm run faults -- --runs 4 --mode all --seed 7
 */
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(repoRoot, "node_modules", ".cache", "postscale-faults", "cli.cjs");
await build({
  entryPoints: [join(repoRoot, "test", "faults", "cli.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: "inline",
  logLevel: "warning",
});
const { main } = createRequire(join(repoRoot, "package.json"))(outfile);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`faults: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
