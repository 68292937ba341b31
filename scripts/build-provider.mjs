#!/usr/bin/env node
/**
 * Bundles the provider (src/provider/main.ts and everything it imports,
 * node_modules included) into one file,
 * dist/provider/terraform-provider-postscale.js, which the installed
 * launcher runs with node. One file means one read and no module resolution
 * at start-up, and the protocol descriptor (.gen/tfplugin6.json, generated
 * by scripts/build-proto.mjs when missing) is inlined by esbuild because the
 * protocol layer requires it by a literal path.
 *
 * Run: `node scripts/build-provider.mjs` (the second half of `npm run build`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(repoRoot, "src", "provider", "main.ts");
const DESCRIPTOR = join(repoRoot, ".gen", "tfplugin6.json");
/** src/provider/install.ts (builtBundlePath) installs this file. */
const OUTFILE = join(repoRoot, "dist", "provider", "terraform-provider-postscale.js");

if (!existsSync(DESCRIPTOR)) {
  execFileSync(process.execPath, [join(repoRoot, "scripts", "build-proto.mjs")], { stdio: "inherit" });
}

const started = Date.now();
const result = await build({
  entryPoints: [ENTRY],
  outfile: OUTFILE,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Whitespace only: names stay readable in stack traces the engine logs.
  minifyWhitespace: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
});

const inputs = result.metafile.inputs;
if (!Object.keys(inputs).some((file) => file.endsWith(".gen/tfplugin6.json"))) {
  throw new Error("build-provider: the protocol descriptor .gen/tfplugin6.json was not inlined into the bundle");
}
const size = statSync(OUTFILE).size;
process.stdout.write(
  `build-provider: wrote ${relative(repoRoot, OUTFILE)} (${(size / 1024).toFixed(0)} KiB, ` +
    `${Object.keys(inputs).length} modules) in ${Date.now() - started} ms\n`,
);
