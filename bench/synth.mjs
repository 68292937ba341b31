#!/usr/bin/env node
/**
 * Synth cost of the L2 constructs (policy checks, logical ids, lookups)
 * against the same number of plain L1 resources, in the same run.
 *
 *   node bench/synth.mjs [--members 1000] [--runs 5]
 *
 * Not a test: prints a table for docs/benchmarks.md ("## Synth").
 */
import { buildSync } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const MEMBERS = arg("members", 1000);
const RUNS = arg("runs", 5);
const DOMAINS = ["app.example.com", "staging.example.com", "prod.example.com"];

// Bundle the package from src so the benchmark needs no build; cdktf stays external (one instance).
// The bundle lives under the repository (.gen/, ignored) so it resolves cdktf from node_modules.
const bundle = join(root, ".gen/bench/postscale.js");
buildSync({ entryPoints: [join(root, "src/index.ts")], bundle: true, platform: "node", packages: "external", outfile: bundle, logLevel: "warning" });
const { Team, PostscaleProvider, l1 } = require(bundle);
const work = mkdtempSync(join(tmpdir(), "postscale-bench-synth-"));
const { App, TerraformStack } = require("cdktf");

const email = (i) => `person${String(i).padStart(5, "0")}@example.com`;

function l2(stack) {
  new PostscaleProvider(stack, "postscale");
  const team = new Team(stack, "team");
  for (let i = 0; i < MEMBERS; i++) {
    team.addMember(email(i), { domains: { [DOMAINS[0]]: "read_write", [DOMAINS[1]]: "read_write", [DOMAINS[2]]: "read" } });
  }
}

function plain(stack) {
  new l1.provider.PostscaleProvider(stack, "postscale");
  for (let i = 0; i < MEMBERS; i++) {
    const member = new l1.teamMember.TeamMember(stack, `m${i}`, { email: email(i), role: "member" });
    DOMAINS.forEach((domain, d) => new l1.domainAccess.DomainAccess(stack, `a${i}_${d}`, { memberId: member.id, domain, access: d === 2 ? "read" : "read_write" }));
  }
}

function timeSynth(build) {
  const outdir = mkdtempSync(join(work, "out-"));
  const start = process.hrtime.bigint();
  const app = new App({ outdir });
  build(new TerraformStack(app, "bench"));
  app.synth();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  rmSync(outdir, { recursive: true, force: true });
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
timeSynth(plain); // warm up the JIT and module caches for both
timeSynth(l2);
const results = { plain: [], l2: [] };
for (let r = 0; r < RUNS; r++) {
  results.plain.push(timeSynth(plain));
  results.l2.push(timeSynth(l2));
}
rmSync(work, { recursive: true, force: true });

const resources = MEMBERS * (1 + DOMAINS.length);
const p = median(results.plain);
const t = median(results.l2);
console.log(`Synth of ${MEMBERS} members x ${DOMAINS.length} grants (${resources} resources), median of ${RUNS} runs, node ${process.version}`);
console.log("");
console.log("| app | resources | median ms | min ms | max ms |");
console.log("|---|---|---|---|---|");
console.log(`| plain L1 resources (no validation) | ${resources} | ${p.toFixed(0)} | ${Math.min(...results.plain).toFixed(0)} | ${Math.max(...results.plain).toFixed(0)} |`);
console.log(`| L2 Team (policy checks, ${DOMAINS.length} domain lookups) | ${resources + DOMAINS.length} | ${t.toFixed(0)} | ${Math.min(...results.l2).toFixed(0)} | ${Math.max(...results.l2).toFixed(0)} |`);
console.log("");
console.log(`L2 / plain: ${(t / p).toFixed(2)}x (target <= 2x)`);
