#!/usr/bin/env node
/**
 * Refresh at scale: `tofu plan` (refresh on, default parallelism) of an
 * organization of 1,000 members, 5,000 domain grants and 500 API keys, all
 * in the state, against `tofu plan` of the same number of `terraform_data`
 * resources with the same dependency shape (no plugin: the engine's own
 * floor), in the same run. With WITH_GO_PLUGIN=1, for context, also the
 * same shape as `time_static` of the Go provider hashicorp/time (a plugin
 * that makes no network calls; its set-up apply adds about 4 minutes).
 *
 * Prints wall time, the ratio, the HTTP requests the provider made (from
 * POSTSCALE_PROVIDER_STATS, summed over the provider processes of the
 * plan) and the provider's peak RSS (VmHWM of its node processes, sampled
 * from /proc while the plan runs).
 *
 * NODE_EXTRA_CA_CERTS is removed from the engine's environment (see
 * benchBaseEnv in lib/engine.mjs).
 *
 * Set-up, not timed: the organization is seeded through the API client
 * (members created with their grants, then the keys), and a `tofu apply`
 * of the configuration with `import` blocks brings all of it into the state
 * (the import blocks are then removed).
 *
 *   node bench/plan-scale.mjs            # full scale
 *   SCALE=0.1 node bench/plan-scale.mjs  # 100 members, 500 grants, 50 keys
 *   RUNS=3 ...                           # timed plans per subject (default 1)
 *   WITH_GO_PLUGIN=1 ...                 # add the time_static subject
 *   COMPARE_BUNDLE=/path/dist/provider/terraform-provider-postscale.js ...
 *       # add "postscale (compare)": another build of the provider (e.g. of an
 *       # earlier commit), planned on a copy of the same state, interleaved
 *
 * Needs `npm run build` (the provider bundle) and `npm run setup:engine`.
 * Not a test: prints a table for docs/benchmarks.md ("## Provider").
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { benchBaseEnv, requiredProviders, setUpEngine } from "./lib/engine.mjs";
import { fmtMs, fmtRatio, markdownTable, median, runTimed, verdict } from "./lib/measure.mjs";
import { loadParts } from "./lib/parts.mjs";
import { sampleByCommandLine, sampleProcess } from "./lib/peak-rss.mjs";

const SCALE = Number(process.env.SCALE ?? 1);
const RUNS = Number(process.env.RUNS ?? 1);
const MEMBERS = Math.round(1000 * SCALE);
const DOMAINS = ["app.bench.test", "api.bench.test", "news.bench.test", "shop.bench.test", "mail.bench.test"];
const KEYS = Math.round(MEMBERS / 2);
const SEED_CONCURRENCY = 8;
const WITH_GO_PLUGIN = process.env.WITH_GO_PLUGIN === "1";
const COMPARE_BUNDLE = process.env.COMPARE_BUNDLE;
const TARGETS = { ratio: 1.5, requestShare: 0.01, rssMb: 300 };

const email = (i) => `person${String(i).padStart(5, "0")}@bench.test`;
/** Two read/write grants and three read grants per member. */
const access = (d) => (d < 2 ? "read_write" : "read");
/** Even keys belong to member k (scoped to a domain they write), odd keys to the organization. */
const memberKey = (k) => k % 2 === 0;

/** Runs `task(i)` for i < count, `limit` at a time. */
async function pool(count, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

async function seed(client) {
  const members = new Array(MEMBERS);
  await pool(MEMBERS, SEED_CONCURRENCY, async (i) => {
    members[i] = await client.inviteMember({ email: email(i), role: "member", domain_access: DOMAINS.map((domain, d) => ({ domain, access: access(d) })) });
  });
  const keys = new Array(KEYS);
  await pool(KEYS, SEED_CONCURRENCY, async (k) => {
    keys[k] = memberKey(k)
      ? await client.createApiKey({ name: `key-${k}`, owner: "member", member_id: members[k].id, domains: [DOMAINS[0]] })
      : await client.createApiKey({ name: `key-${k}`, owner: "organization", domains: [DOMAINS[k % DOMAINS.length]] });
  });
  return keys.map((key) => key.id);
}

/** The team as HCL; with `keyIds`, plus one import block per resource. */
function postscaleConfig(keyIds) {
  const out = [requiredProviders({ postscale: true }), 'provider "postscale" {}\n'];
  const imp = (to, id) => (keyIds ? `import {\n  to = ${to}\n  id = ${JSON.stringify(id)}\n}\n` : "");
  for (let i = 0; i < MEMBERS; i++) {
    out.push(`resource "postscale_team_member" "m${i}" {\n  email = "${email(i)}"\n  role  = "member"\n}\n`, imp(`postscale_team_member.m${i}`, email(i)));
    DOMAINS.forEach((domain, d) => {
      out.push(`resource "postscale_domain_access" "g${i}_${d}" {\n  member_id = postscale_team_member.m${i}.id\n  domain    = "${domain}"\n  access    = "${access(d)}"\n}\n`);
      out.push(imp(`postscale_domain_access.g${i}_${d}`, `${email(i)}/${domain}`));
    });
  }
  for (let k = 0; k < KEYS; k++) {
    out.push(
      memberKey(k)
        ? `resource "postscale_api_key" "k${k}" {\n  name      = "key-${k}"\n  owner     = "member"\n  member_id = postscale_team_member.m${k}.id\n  domains   = ["${DOMAINS[0]}"]\n}\n`
        : `resource "postscale_api_key" "k${k}" {\n  name    = "key-${k}"\n  owner   = "organization"\n  domains = ["${DOMAINS[k % DOMAINS.length]}"]\n}\n`,
    );
    if (keyIds) out.push(imp(`postscale_api_key.k${k}`, keyIds[k]));
  }
  return out.join("");
}

/** The same resources and references as terraform_data. */
function floorConfig() {
  const out = [];
  for (let i = 0; i < MEMBERS; i++) {
    out.push(`resource "terraform_data" "m${i}" {\n  input = { email = "${email(i)}", role = "member" }\n}\n`);
    DOMAINS.forEach((domain, d) => {
      out.push(`resource "terraform_data" "g${i}_${d}" {\n  input = { member_id = terraform_data.m${i}.id, domain = "${domain}", access = "${access(d)}" }\n}\n`);
    });
  }
  for (let k = 0; k < KEYS; k++) {
    const holder = memberKey(k) ? `terraform_data.m${k}.id` : "null";
    out.push(`resource "terraform_data" "k${k}" {\n  input = { name = "key-${k}", member_id = ${holder}, domains = ["${DOMAINS[memberKey(k) ? 0 : k % DOMAINS.length]}"] }\n}\n`);
  }
  return out.join("");
}

/** The same shape as time_static resources of the Go provider (references through `triggers`). */
function goPluginConfig() {
  const out = [requiredProviders({ time: true })];
  for (let i = 0; i < MEMBERS; i++) {
    out.push(`resource "time_static" "m${i}" {\n  triggers = { email = "${email(i)}", role = "member" }\n}\n`);
    DOMAINS.forEach((domain, d) => {
      out.push(`resource "time_static" "g${i}_${d}" {\n  triggers = { member_id = time_static.m${i}.id, domain = "${domain}", access = "${access(d)}" }\n}\n`);
    });
  }
  for (let k = 0; k < KEYS; k++) {
    const holder = memberKey(k) ? `time_static.m${k}.id` : `""`;
    out.push(`resource "time_static" "k${k}" {\n  triggers = { name = "key-${k}", member_id = ${holder}, domain = "${DOMAINS[memberKey(k) ? 0 : k % DOMAINS.length]}" }\n}\n`);
  }
  return out.join("");
}

/** Sums the provider processes' stats lines (one JSON line per configured provider). */
function readStats(file) {
  const routes = {};
  let requests = 0;
  if (!existsSync(file)) return { requests, routes };
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const entry = JSON.parse(line);
    requests += entry.requests;
    for (const [route, n] of Object.entries(entry.routes ?? {})) routes[route] = (routes[route] ?? 0) + n;
  }
  return { requests, routes };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "postscale-bench-scale-"));
  let server;
  try {
    const parts = await loadParts();
    const setup = setUpEngine(parts, work, { timeProvider: WITH_GO_PLUGIN });
    const tofu = setup.engine.binary;
    const keyFile = join(work, "owner.key");
    server = await parts.startServer({
      port: 0, dataDir: join(work, "data"), dev: true, rateLimit: false,
      bootstrap: { organization: "Bench", ownerEmail: "owner@bench.test", ownerPassword: "correct horse battery staple", domains: DOMAINS, keyFile },
    });
    const apiKey = server.bootstrapKey ?? readFileSync(keyFile, "utf8").trim();
    const statsFile = join(work, "provider-stats.jsonl");
    const env = setup.env({ endpoint: server.url, apiKey, base: benchBaseEnv(), vars: { POSTSCALE_PROVIDER_STATS: statsFile } });
    const resources = MEMBERS * (1 + DOMAINS.length) + KEYS;
    const log = (msg) => process.stderr.write(`plan-scale: ${msg}\n`);

    let t = Date.now();
    const client = new parts.PostscaleClient({ endpoint: server.url, apiKey });
    const keyIds = await seed(client);
    await client.close();
    log(`seeded ${MEMBERS} members, ${MEMBERS * DOMAINS.length} grants, ${KEYS} keys through the API in ${Date.now() - t} ms`);

    const ws = { postscale: join(work, "ws-postscale"), floor: join(work, "ws-floor"), ...(WITH_GO_PLUGIN ? { time: join(work, "ws-time") } : {}) };
    for (const dir of Object.values(ws)) mkdirSync(dir);
    writeFileSync(join(ws.postscale, "main.tf"), postscaleConfig(keyIds));
    writeFileSync(join(ws.floor, "main.tf"), floorConfig());
    if (WITH_GO_PLUGIN) writeFileSync(join(ws.time, "main.tf"), goPluginConfig());
    const apply = ["apply", "-input=false", "-no-color", "-auto-approve"];
    for (const [name, dir] of Object.entries(ws)) {
      await runTimed(tofu, ["init", "-input=false", "-no-color"], { cwd: dir, env });
      t = Date.now();
      await runTimed(tofu, apply, { cwd: dir, env });
      log(`set-up apply of ${resources} ${name} resources${name === "postscale" ? " (import blocks)" : ""}: ${Date.now() - t} ms`);
    }
    writeFileSync(join(ws.postscale, "main.tf"), postscaleConfig(null));
    const envOf = { postscale: env, floor: env, time: env };
    if (COMPARE_BUNDLE) {
      if (!existsSync(COMPARE_BUNDLE)) throw new Error(`COMPARE_BUNDLE: no file ${COMPARE_BUNDLE}`);
      // Its own mirror and CLI config; the same configuration and state as ws-postscale.
      const other = setUpEngine(parts, join(work, "compare"), { bundle: COMPARE_BUNDLE });
      envOf.compare = other.env({ endpoint: server.url, apiKey, base: benchBaseEnv(), vars: { POSTSCALE_PROVIDER_STATS: statsFile } });
      ws.compare = join(work, "ws-compare");
      mkdirSync(ws.compare);
      for (const file of ["main.tf", "terraform.tfstate"]) copyFileSync(join(ws.postscale, file), join(ws.compare, file));
      await runTimed(tofu, ["init", "-input=false", "-no-color"], { cwd: ws.compare, env: envOf.compare });
    }

    const plan = ["plan", "-refresh=true", "-input=false", "-no-color", "-lock=false"];
    const subjects = ["floor", ...(WITH_GO_PLUGIN ? ["time"] : []), "postscale", ...(COMPARE_BUNDLE ? ["compare"] : [])];
    const results = Object.fromEntries(subjects.map((name) => [name, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const name of subjects) {
        rmSync(statsFile, { force: true });
        // Both run from .terraform/providers under their plugin file name (ours is the
        // entry bundle, exec'd by node through its interpreter line).
        const providers = sampleByCommandLine(name === "time" ? "terraform-provider-time_v" : "terraform-provider-postscale_v", [tofu]);
        let engine;
        const run = await runTimed(tofu, plan, { cwd: ws[name], env: envOf[name], onSpawn: (child) => (engine = sampleProcess(child.pid)) });
        const provider = providers.stop();
        const noChanges = run.stdout.includes("No changes.");
        results[name].push({ ms: run.ms, engineKb: engine.stop(), provider, stats: readStats(statsFile), noChanges });
        log(`${name} plan: ${Math.round(run.ms)} ms${noChanges ? "" : " (the plan is NOT empty)"}`);
      }
    }

    const summary = (name) => {
      const xs = results[name];
      const last = xs[xs.length - 1];
      return {
        ms: median(xs.map((x) => x.ms)),
        engineMb: Math.max(...xs.map((x) => x.engineKb)) / 1024,
        providerMb: Math.max(...xs.map((x) => x.provider.peakKb)) / 1024,
        processes: last.provider.processes,
        stats: last.stats,
        noChanges: xs.every((x) => x.noChanges),
      };
    };
    const p = summary("postscale");
    const f = summary("floor");
    const g = WITH_GO_PLUGIN ? summary("time") : undefined;
    const c = COMPARE_BUNDLE ? summary("compare") : undefined;
    const ratio = p.ms / f.ms;
    const share = p.stats.requests / resources;
    const mb = (x) => x.toFixed(0);
    console.log(`Plan with refresh of ${MEMBERS} members + ${MEMBERS * DOMAINS.length} grants + ${KEYS} keys = ${resources} resources (SCALE=${SCALE}), median of ${RUNS} run(s); ${setup.engine.name} ${setup.engine.version}, node ${process.version}, ${cpus().length} CPU cores, ${new Date().toISOString().slice(0, 10)}`);
    console.log("");
    console.log(markdownTable(
      ["plan -refresh=true", "resources", "wall ms", "engine peak RSS MB", "HTTP requests", "provider processes", "provider peak RSS MB", "empty plan"],
      [
        ["terraform_data (engine floor)", resources, fmtMs(f.ms), mb(f.engineMb), "-", "-", "-", f.noChanges ? "yes" : "**no**"],
        ...(g ? [["time_static (Go plugin, no network)", resources, fmtMs(g.ms), mb(g.engineMb), "-", g.processes, mb(g.providerMb), g.noChanges ? "yes" : "**no**"]] : []),
        ["postscale", resources, fmtMs(p.ms), mb(p.engineMb), p.stats.requests, p.processes, mb(p.providerMb), p.noChanges ? "yes" : "**no**"],
        ...(c ? [["postscale (COMPARE_BUNDLE)", resources, fmtMs(c.ms), mb(c.engineMb), c.stats.requests, c.processes, mb(c.providerMb), c.noChanges ? "yes" : "**no**"]] : []),
      ],
    ));
    console.log("");
    console.log("NODE_EXTRA_CA_CERTS removed from the engine's environment.");
    console.log(`Requests by route: ${Object.entries(p.stats.routes).map(([r, n]) => `${r} ×${n}`).join(", ") || "none"}`);
    console.log(`Ratio postscale / floor: ${fmtRatio(ratio)} (target ≤ ${TARGETS.ratio}x: ${verdict(ratio, TARGETS.ratio)}).`);
    if (c) console.log(`COMPARE_BUNDLE / floor: ${fmtRatio(c.ms / f.ms)}; this build / COMPARE_BUNDLE: ${fmtRatio(p.ms / c.ms)}; per run: ${results.postscale.map((x, i) => fmtRatio(x.ms / results.compare[i].ms)).join(", ")}.`);
    if (g) console.log(`For context: Go plugin / floor ${fmtRatio(g.ms / f.ms)}, postscale / Go plugin ${fmtRatio(p.ms / g.ms)}.`);
    console.log(`HTTP requests: ${p.stats.requests} = ${(share * 100).toFixed(2)}% of resources (target ≤ ${TARGETS.requestShare * 100}% = ${Math.floor(resources * TARGETS.requestShare)}: ${verdict(share, TARGETS.requestShare)}).`);
    console.log(`Provider peak RSS: ${mb(p.providerMb)} MB (target ≤ ${TARGETS.rssMb} MB: ${verdict(p.providerMb, TARGETS.rssMb)}).`);
  } finally {
    if (server) await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`plan-scale: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
