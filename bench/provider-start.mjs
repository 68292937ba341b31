#!/usr/bin/env node
/**
 * Start-up cost of the Postscale provider, the one cost the engine pays
 * several times per command (it starts a provider for validate, plan and
 * apply separately), against a real Go provider (hashicorp/time, built from
 * the module proxy) and bare Node:
 *
 *   (a) exec to the go-plugin handshake line: our launcher (sh exec node on
 *       the bundle), terraform-provider-time, and `node -e 0` (exec to exit,
 *       the floor of any Node program);
 *   (b) `tofu providers schema -json` with each provider (and with none);
 *   (c) a one-resource `tofu plan`: `time_static` vs an organization
 *       `postscale_api_key` against the local server (and `terraform_data`,
 *       no plugin at all), first with an empty state (plan to create), then
 *       after an apply (refresh, no changes);
 *   (d) the same plan to create with Terraform 1.5.7, when it is built
 *       (printed, not a target).
 *
 *   node bench/provider-start.mjs [--runs 9] [--keep-node-ca] [--compare <entry bundle>]
 *
 * --compare adds a "postscale (compare)" row to (a)-(c): another build of
 * the provider (e.g. `dist/provider/terraform-provider-postscale.js` of an
 * earlier commit, its server bundle beside it), installed the same way and
 * measured interleaved with this one.
 *
 * NODE_EXTRA_CA_CERTS is removed from the environment of everything run
 * unless --keep-node-ca: Node parses that bundle at every start (about
 * 80 ms of CPU here), a cost of this machine's set-up that every Node
 * program would pay; row (a) shows it separately when it is set.
 *
 * Needs `npm run build` (the provider bundle) and `npm run setup:engine`.
 * Not a test: prints a table for docs/benchmarks.md ("## Provider") and exits 2
 * when a target of issue 15 is missed (handshake ≤ 1.2x node, one-resource
 * plan ≤ 2.5x and providers schema ≤ 2x the Go provider).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { benchBaseEnv, requiredProviders, setUpEngine, TIME_PROVIDER } from "./lib/engine.mjs";
import { clientCertificate, pluginEnv, timeToExit, timeToHandshake } from "./lib/handshake.mjs";
import { fmtMs, fmtRatio, markdownTable, median, runTimed, verdict } from "./lib/measure.mjs";
import { loadParts } from "./lib/parts.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const RUNS = arg("runs", 9);
const KEEP_NODE_CA = process.argv.includes("--keep-node-ca");
const COMPARE = process.argv.includes("--compare") ? process.argv[process.argv.indexOf("--compare") + 1] : undefined;
const machineCa = process.env.NODE_EXTRA_CA_CERTS;
const baseEnv = KEEP_NODE_CA ? { ...process.env } : benchBaseEnv();
// Issue 15's targets; the bench exits 2 when one is missed.
const HANDSHAKE_TARGET = 1.2;
const PLAN_TARGET = 2.5;
const SCHEMA_TARGET = 2;

/** Runs every measurement of `subjects` RUNS times, interleaved so machine noise hits them alike; one unrecorded warm-up each. */
async function interleaved(subjects) {
  const times = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
  for (const measure of Object.values(subjects)) await measure();
  for (let r = 0; r < RUNS; r++) {
    for (const [name, measure] of Object.entries(subjects)) times[name].push(await measure());
  }
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }]));
}

const row = (label, t, ratio) => [label, fmtMs(t.median), fmtMs(t.min), fmtMs(t.max), ratio ?? ""];

async function main() {
  const work = mkdtempSync(join(tmpdir(), "postscale-bench-start-"));
  let server;
  try {
    const parts = await loadParts();
    const setup = setUpEngine(parts, work, { timeProvider: true });
    const tofu = setup.engine.binary;
    if (COMPARE && !existsSync(COMPARE)) throw new Error(`--compare: no file ${COMPARE}`);
    const other = COMPARE ? setUpEngine(parts, join(work, "compare"), { bundle: COMPARE }) : undefined;

    // (a) exec to handshake line
    const cert = clientCertificate();
    const env = pluginEnv(baseEnv, cert);
    const withCa = !KEEP_NODE_CA && machineCa ? { nodeWithCa: () => timeToExit(process.execPath, ["-e", "0"], { ...env, NODE_EXTRA_CA_CERTS: machineCa }) } : {};
    const handshake = await interleaved({
      node: () => timeToExit(process.execPath, ["-e", "0"], env),
      ...withCa,
      postscale: async () => (await timeToHandshake(setup.launcher, [], env)).ms,
      ...(other ? { compare: async () => (await timeToHandshake(other.launcher, [], env)).ms } : {}),
      time: async () => (await timeToHandshake(setup.timeBinary, [], env)).ms,
    });

    // Workspaces: one per provider; "none" is the engine alone.
    const keyFile = join(work, "owner.key");
    server = await parts.startServer({
      port: 0, dataDir: join(work, "data"), dev: true, rateLimit: false,
      bootstrap: { organization: "Bench", ownerEmail: "owner@bench.test", ownerPassword: "correct horse battery staple", domains: ["app.bench.test"], keyFile },
    });
    const apiKey = server.bootstrapKey ?? readFileSync(keyFile, "utf8").trim();
    const engineEnv = setup.env({ endpoint: server.url, apiKey, base: baseEnv });
    const envOf = { none: engineEnv, time: engineEnv, postscale: engineEnv, ...(other ? { compare: other.env({ endpoint: server.url, apiKey, base: baseEnv }) } : {}) };
    const configs = {
      none: `resource "terraform_data" "one" {\n  input = "bench"\n}\n`,
      time: `${requiredProviders({ time: true })}\nresource "time_static" "one" {}\n`,
      postscale: `${requiredProviders({ postscale: true })}\nprovider "postscale" {}\n\nresource "postscale_api_key" "one" {\n  name  = "bench"\n  owner = "organization"\n}\n`,
    };
    // Key names are unique in an organization.
    if (other) configs.compare = configs.postscale.replace('name  = "bench"', 'name  = "bench-compare"');
    const ws = {};
    for (const [name, hcl] of Object.entries(configs)) {
      ws[name] = join(work, `ws-${name}`);
      mkdirSync(ws[name]);
      writeFileSync(join(ws[name], "main.tf"), hcl);
      await runTimed(tofu, ["init", "-input=false", "-no-color"], { cwd: ws[name], env: envOf[name] });
    }
    const tofuIn = (name, args) => async () => (await runTimed(tofu, args, { cwd: ws[name], env: envOf[name] })).ms;

    // (b) providers schema
    const schema = await interleaved(Object.fromEntries(Object.keys(ws).map((n) => [n, tofuIn(n, ["providers", "schema", "-json"])])));

    // (c) one-resource plan: to create, then after apply (refresh, no changes)
    const planArgs = ["plan", "-input=false", "-no-color", "-lock=false"];
    const planCreate = await interleaved(Object.fromEntries(Object.keys(ws).map((n) => [n, tofuIn(n, planArgs)])));
    for (const name of Object.keys(ws)) await runTimed(tofu, ["apply", "-input=false", "-no-color", "-auto-approve"], { cwd: ws[name], env: envOf[name] });
    const planRefresh = await interleaved(Object.fromEntries(Object.keys(ws).map((n) => [n, tofuIn(n, [...planArgs, "-detailed-exitcode"])])));

    // (d) Terraform: the same plan to create, in its own workspaces (its .terraform differs).
    let terraformPlan;
    if (setup.terraform) {
      const tfWs = {};
      for (const name of ["postscale", "time"]) {
        tfWs[name] = join(work, `ws-terraform-${name}`);
        mkdirSync(tfWs[name]);
        writeFileSync(join(tfWs[name], "main.tf"), configs[name]);
        await runTimed(setup.terraform.binary, ["init", "-input=false", "-no-color"], { cwd: tfWs[name], env: engineEnv });
      }
      terraformPlan = await interleaved(
        Object.fromEntries(Object.keys(tfWs).map((n) => [n, async () => (await runTimed(setup.terraform.binary, planArgs, { cwd: tfWs[n], env: engineEnv })).ms])),
      );
    }

    const handshakeRatio = handshake.postscale.median / handshake.node.median;
    const planRatio = planCreate.postscale.median / planCreate.time.median;
    const refreshRatio = planRefresh.postscale.median / planRefresh.time.median;
    const schemaRatio = schema.postscale.median / schema.time.median;
    const header = ["", "median ms", "min ms", "max ms", "ratio"];
    const out = [];
    out.push(`NODE_EXTRA_CA_CERTS ${KEEP_NODE_CA ? "kept" : "removed"} for every run.`);
    out.push(`Provider start-up, median of ${RUNS} runs (interleaved, after one warm-up each); node ${process.version}, ${setup.engine.name} ${setup.engine.version}, ${cpus().length} CPU cores, ${new Date().toISOString().slice(0, 10)}`);
    out.push("", "(a) exec to handshake line", "");
    out.push(markdownTable(header, [
      row("`node -e 0` (exec to exit)", handshake.node, "1.00x"),
      ...(handshake.nodeWithCa ? [row("`node -e 0` with this machine's NODE_EXTRA_CA_CERTS", handshake.nodeWithCa, `${fmtRatio(handshake.nodeWithCa.median / handshake.node.median)} node`)] : []),
      row("terraform-provider-postscale (launcher)", handshake.postscale, `${fmtRatio(handshakeRatio)} node`),
      ...(other ? [row("postscale (compare)", handshake.compare, `${fmtRatio(handshake.compare.median / handshake.node.median)} node`)] : []),
      row(`terraform-provider-time v${TIME_PROVIDER.version} (Go)`, handshake.time, `${fmtRatio(handshake.time.median / handshake.node.median)} node`),
    ]));
    out.push("", "(b) `tofu providers schema -json`", "");
    out.push(markdownTable(header, [
      row("no provider", schema.none),
      row("postscale", schema.postscale, `${fmtRatio(schemaRatio)} Go`),
      ...(other ? [row("postscale (compare)", schema.compare, `${fmtRatio(schema.compare.median / schema.time.median)} Go`)] : []),
      row("time (Go)", schema.time, "1.00x"),
    ]));
    out.push("", "(c) one-resource `tofu plan`", "");
    out.push(markdownTable(header, [
      row("terraform_data, to create (no plugin)", planCreate.none),
      row("postscale_api_key, to create", planCreate.postscale, `${fmtRatio(planRatio)} Go`),
      ...(other ? [row("postscale_api_key, to create (compare)", planCreate.compare, `${fmtRatio(planCreate.compare.median / planCreate.time.median)} Go`)] : []),
      row("time_static, to create", planCreate.time, "1.00x"),
      row("terraform_data, refresh (no changes)", planRefresh.none),
      row("postscale_api_key, refresh (no changes)", planRefresh.postscale, `${fmtRatio(refreshRatio)} Go`),
      ...(other ? [row("postscale_api_key, refresh (compare)", planRefresh.compare, `${fmtRatio(planRefresh.compare.median / planRefresh.time.median)} Go`)] : []),
      row("time_static, refresh (no changes)", planRefresh.time, "1.00x"),
    ]));
    if (terraformPlan) {
      out.push("", `(d) one-resource plan to create, Terraform ${setup.terraform.version}`, "");
      out.push(markdownTable(header, [
        row("postscale_api_key", terraformPlan.postscale, `${fmtRatio(terraformPlan.postscale.median / terraformPlan.time.median)} Go`),
        row("time_static", terraformPlan.time, "1.00x"),
      ]));
    }
    out.push("");
    out.push(`Handshake vs bare node: ${fmtRatio(handshakeRatio)} (target ≤ ${HANDSHAKE_TARGET}x: ${verdict(handshakeRatio, HANDSHAKE_TARGET)}).`);
    out.push(`One-resource plan vs Go: ${fmtRatio(planRatio)} to create, ${fmtRatio(refreshRatio)} refresh (target ≤ ${PLAN_TARGET}x: ${verdict(Math.max(planRatio, refreshRatio), PLAN_TARGET)}).`);
    out.push(`providers schema vs Go: ${fmtRatio(schemaRatio)} (target ≤ ${SCHEMA_TARGET}x: ${verdict(schemaRatio, SCHEMA_TARGET)}).`);
    console.log(out.join("\n"));
    const missed = handshakeRatio > HANDSHAKE_TARGET || Math.max(planRatio, refreshRatio) > PLAN_TARGET || schemaRatio > SCHEMA_TARGET;
    if (missed) process.exitCode = 2;
  } finally {
    if (server) await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`provider-start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
