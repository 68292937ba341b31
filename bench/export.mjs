#!/usr/bin/env node
/**
 * `postscale export` of a large organization against the local server:
 * builds one with N members (each with grants, every fifth with a key) and
 * some organization keys through the API, then times the real CLI, both
 * formats, a few runs each. The server runs in this process; the CLI in a
 * child process, as a person runs it.
 *
 *   npm run build && node bench/export.mjs [--members 1000] [--runs 3]
 *
 * Not a test: prints a table for docs/benchmarks.md ("## Export").
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fmtMs, markdownTable, median, numberOption, runTimed } from "./lib/measure.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const MEMBERS = numberOption("members", 1000);
const RUNS = numberOption("runs", 3);
const SERVICE_KEYS = 20;
const DOMAINS = Array.from({ length: 10 }, (_, i) => `d${i}.bench.test`);

const { startServer } = require(join(root, "dist/src/server/index.js"));
const { PostscaleClient } = require(join(root, "dist/src/api/index.js"));

const work = mkdtempSync(join(tmpdir(), "postscale-bench-export-"));
const server = await startServer({
  port: 0,
  dataDir: join(work, "data"),
  rateLimit: false,
  bootstrap: { organization: "Bench", ownerEmail: "owner@bench.test", ownerPassword: "bench-password-1234", domains: DOMAINS, keyFile: join(work, "owner.key") },
});
const apiKey = server.bootstrapKey ?? readFileSync(join(work, "owner.key"), "utf8").trim();
const client = new PostscaleClient({ endpoint: server.url, apiKey });

/** Runs `task(i)` for i in [0, n) with `limit` in flight. */
async function each(n, limit, task) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await task(next++);
  }));
}

const setupStarted = Date.now();
let keys = 0;
let grants = 0;
await each(MEMBERS, 8, async (i) => {
  const admin = i % 50 === 0;
  const domainAccess = admin ? [] : [0, 1, 2].map((d) => ({ domain: DOMAINS[(i + d) % DOMAINS.length], access: d === 0 ? "read_write" : "read" }));
  grants += domainAccess.length;
  const member = await client.inviteMember({ email: `person${String(i).padStart(5, "0")}@bench.test`, role: admin ? "admin" : "member", domain_access: domainAccess });
  if (i % 5 === 0) {
    await client.createApiKey({ name: "ci", owner: "member", member_id: member.id, domains: admin ? undefined : [domainAccess[0].domain] });
    keys++;
  }
});
for (let k = 0; k < SERVICE_KEYS; k++) await client.createApiKey({ name: `service-${k}`, owner: "organization", domains: [DOMAINS[k % DOMAINS.length]] });
keys += SERVICE_KEYS;
const setupMs = Date.now() - setupStarted;

const env = { ...process.env, POSTSCALE_ENDPOINT: server.url, POSTSCALE_API_KEY: apiKey };
const rows = [];
for (const format of ["hcl", "cdktf"]) {
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const out = join(work, `${format}-${r}`);
    const { ms, stdout } = await runTimed(process.execPath, [join(root, "bin/postscale.js"), "export", "--format", format, "--out", out], { env });
    if (!stdout.includes("to import")) throw new Error(`export printed no summary:\n${stdout}`);
    times.push(ms);
  }
  rows.push([format, String(MEMBERS + 1), String(grants), String(keys + 1), fmtMs(median(times)), fmtMs(Math.min(...times)), fmtMs(Math.max(...times))]);
}

await client.close();
await server.close();
rmSync(work, { recursive: true, force: true });

console.log(`postscale export against the local server (PGlite, in process), median of ${RUNS} runs, node ${process.version}; building the organization took ${fmtMs(setupMs)} ms`);
console.log("");
console.log(markdownTable(["format", "members", "grants", "keys", "median ms", "min ms", "max ms"], rows));
