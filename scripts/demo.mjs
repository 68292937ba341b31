#!/usr/bin/env node
/**
 * `npm run demo`: the whole flow on one machine, end to end.
 *
 * Builds or finds the pinned engine, starts the embedded Postscale API with
 * a bootstrap organization, installs our provider, reviews and deploys
 * examples/team-access with `cdktf`, prints the access matrix from the API,
 * walks an invited member through sign-up, then offboards a contractor by
 * deleting their lines from the code and proves their key stops working.
 * Everything it starts is stopped, and everything it writes is removed.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const dist = (p) => join(root, "dist", "src", p);

const STACK = "team-access";
const OFFBOARDED = "contractor@example.com";
const WALKTHROUGH = OFFBOARDED;
const DOMAINS = ["app.example.com", "staging.example.com", "prod.example.com", "news.example.com"];
const OWNER = { email: "owner@example.com", password: "demo-owner-password" };
const port = Number(process.env.POSTSCALE_DEMO_PORT ?? 4000);
const TOTAL_STEPS = 8;

const cleanups = [];
let step = 0;

function heading(title) {
  step += 1;
  process.stdout.write(`\n[${step}/${TOTAL_STEPS}] ${title}\n`);
}

function say(text = "") {
  process.stdout.write(`${text}\n`);
}

class DemoError extends Error {}

function fail(message) {
  throw new DemoError(message);
}

function requireBuilt() {
  for (const file of ["api/index.js", "provider/install.js", "provider/engine.js"]) {
    if (!existsSync(dist(file))) fail(`the package is not built (${dist(file)} is missing); run \`npm run build\` or use \`npm run demo\`.`);
  }
}

async function portIsFree(p) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(p, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Runs a command to completion, its output kept in a log file; the log's tail is shown on failure. */
function run(command, args, { cwd = root, env = process.env, log, allowFail = false } = {}) {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (log) writeFileSync(log, output, { flag: "a" });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0 && !allowFail) {
    const tail = output.trim().split("\n").slice(-30).join("\n");
    fail(`\`${command} ${args.join(" ")}\` failed (exit ${result.status}) in ${cwd}:\n${tail}`);
  }
  return { status: result.status, stdout: result.stdout ?? "", output };
}

function setUpEngine() {
  heading("Engine: the pinned OpenTofu (built from the Go module proxy on first use)");
  const result = spawnSync(process.execPath, [join(root, "scripts", "setup-engine.mjs")], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) fail("the engine is not available (see the messages above).");
}

async function startServer(work) {
  heading(`Postscale API: embedded server with a bootstrap organization on port ${port}`);
  if (!(await portIsFree(port))) {
    fail(`port ${port} is already in use on 127.0.0.1. Stop what listens there, or run with POSTSCALE_DEMO_PORT=<free port>.`);
  }
  const keyFile = join(work, "owner.key");
  const child = spawn(
    process.execPath,
    [join(root, "bin", "postscale.js"), "server", "--dev", "--port", String(port), "--data-dir", join(work, "data")],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        DATABASE_URL: "",
        POSTSCALE_BOOTSTRAP_ORG: "Acme Mail",
        POSTSCALE_BOOTSTRAP_OWNER_EMAIL: OWNER.email,
        POSTSCALE_BOOTSTRAP_OWNER_PASSWORD: OWNER.password,
        POSTSCALE_BOOTSTRAP_DOMAINS: DOMAINS.join(","),
        POSTSCALE_BOOTSTRAP_KEY_FILE: keyFile,
      },
    },
  );
  cleanups.push(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new DemoError(`the server did not start within 60 s:\n${stderr}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new DemoError(`the server exited (code ${code}) before it was ready:\n${stderr.trim()}`));
    });
  });
  const apiKey = readFileSync(keyFile, "utf8").trim();
  say(`  ${url}  organization "Acme Mail", owner ${OWNER.email}, domains ${DOMAINS.join(", ")}`);
  say(`  the owner's organization-wide key was written to a 0600 file (prefix ${apiKey.slice(0, 12)}…)`);
  return { url, apiKey };
}

function installProvider(work, server) {
  heading("Provider: install terraform-provider-postscale into a local mirror");
  const { installProvider: install } = require(dist("provider/install.js"));
  const { writeCliConfig, engineEnv, engineBinaryPath } = require(dist("provider/engine.js"));
  const mirror = join(work, "plugins");
  const result = install({ dir: mirror });
  const cliConfig = join(work, "cli.tfrc");
  writeCliConfig(cliConfig, mirror);
  for (const launcher of result.launchers) say(`  ${launcher.slice(mirror.length + 1)}`);
  const env = engineEnv({ cliConfigFile: cliConfig, endpoint: server.url, apiKey: server.apiKey });
  env.TERRAFORM_BINARY_NAME = "tofu";
  // cdktf would otherwise point the engine at a plugin cache in the home folder, outliving the demo.
  env.CDKTF_DISABLE_PLUGIN_CACHE_ENV = "1";
  env.PATH = [dirname(engineBinaryPath("tofu")), env.PATH].join(delimiter);
  env.CI = "1";
  env.FORCE_COLOR = "0";
  return env;
}

/** A working copy of the example, inside the repository so it resolves the package's sources. */
function copyExample() {
  const dir = join(root, ".demo", STACK);
  rmSync(join(root, ".demo"), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of ["main.ts", "cdktf.json"]) cpSync(join(root, "examples", STACK, file), join(dir, file));
  cleanups.push(() => rmSync(join(root, ".demo"), { recursive: true, force: true }));
  return dir;
}

const cdktf = join(root, "node_modules", ".bin", "cdktf");

/** `cdktf diff`, then the access review of the plan it wrote. */
function reviewChanges(dir, env, log) {
  run(cdktf, ["diff", STACK, "--skip-provider-lock", "--no-color"], { cwd: dir, env, log });
  const stackDir = join(dir, "cdktf.out", "stacks", STACK);
  const shown = run("tofu", ["show", "-json", "-no-color", "plan"], { cwd: stackDir, env });
  const planFile = join(dir, "plan.json");
  writeFileSync(planFile, shown.stdout);
  const review = run(process.execPath, [join(root, "bin", "postscale.js"), "review", planFile], { cwd: root });
  say(review.stdout.trimEnd().replace(/^/gm, "  "));
}

function deploy(dir, env, log) {
  const outputs = join(dir, "outputs.json");
  const started = Date.now();
  run(cdktf, ["deploy", STACK, "--auto-approve", "--skip-provider-lock", "--no-color", "--outputs-file", outputs, "--outputs-file-include-sensitive-outputs"], {
    cwd: dir,
    env,
    log,
  });
  say(`  deployed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return JSON.parse(readFileSync(outputs, "utf8"))[STACK] ?? {};
}

/** People × domains, from the API. */
async function accessMatrix(client, title) {
  const Table = require("cli-table3");
  const [members, domains] = await Promise.all([client.listMembers({ includeDomainAccess: true }), client.listDomains()]);
  const names = domains.map((d) => d.name).sort();
  const table = new Table({ head: ["person", "role", "status", ...names], style: { head: [], border: [] } });
  const order = { owner: 0, admin: 1, member: 2 };
  for (const m of [...members].sort((a, b) => order[a.role] - order[b.role] || a.email.localeCompare(b.email))) {
    const grants = new Map((m.domain_access ?? []).map((g) => [g.domain, g.access]));
    const cell = (d) => (m.role === "member" ? ({ read: "read", read_write: "read/write" }[grants.get(d)] ?? "·") : "read/write (all)");
    table.push([m.email, m.role, m.status, ...names.map(cell)]);
  }
  say(`  ${title}`);
  say(table.toString().replace(/^/gm, "  "));
  return members;
}

async function walkThrough(client) {
  heading(`Sign-up: ${WALKTHROUGH} accepts the invitation and verifies their email`);
  const mail = await client.devMail();
  const invitation = [...mail].reverse().find((m) => m.to === WALKTHROUGH && m.kind === "invitation");
  if (!invitation) fail(`no invitation mail for ${WALKTHROUGH} in the dev outbox`);
  say(`  mail to ${invitation.to}: "${invitation.subject}"`);
  const anonymous = client.withToken("");
  await anonymous.acceptInvitation(invitation.token, { name: "Casey Contractor", password: "a long demo password" });
  const verify = [...(await client.devMail())].reverse().find((m) => m.to === WALKTHROUGH && m.kind === "verify_email");
  if (!verify) fail(`no verification mail for ${WALKTHROUGH}`);
  const verified = await anonymous.verifyEmail(verify.token);
  say(`  verified: status ${verified.member.status}, lands on ${verified.redirect_to} (no onboarding, no plan selection)`);
  const member = client.withToken(verified.token);
  const visible = (await member.listDomains()).map((d) => d.name).sort();
  say(`  ${WALKTHROUGH} sees ${visible.length} of ${DOMAINS.length} domains: ${visible.join(", ")}`);
  const hidden = DOMAINS.filter((d) => !visible.includes(d));
  for (const d of hidden) {
    const status = await member.getDomain(d).then(
      () => 200,
      (e) => e.status,
    );
    say(`  GET /v1/domains/${d} as ${WALKTHROUGH} → ${status} (unassigned domains are not found)`);
  }
  const grants = new Map((await member.me()).domain_access.map((g) => [g.domain, g.access]));
  for (const d of visible) {
    const status = await member.request("POST", `/v1/domains/${d}/verify`).then(
      () => 200,
      (e) => e.status,
    );
    say(`  POST /v1/domains/${d}/verify with ${grants.get(d) ?? "granted"} access → ${status}`);
  }
}

async function keyStatus(client, secret) {
  return client
    .withToken(secret)
    .listDomains()
    .then(
      () => 200,
      (e) => e.status,
    );
}

async function main() {
  const started = Date.now();
  say("Postscale access as code: the demo");
  if (Number(process.versions.node.split(".")[0]) < 20) fail(`Node.js 20 or newer is needed; this is ${process.version}.`);
  requireBuilt();
  setUpEngine();

  const work = mkdtempSync(join(tmpdir(), "postscale-demo-"));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const log = join(work, "cdktf.log");
  const server = await startServer(work);
  const env = installProvider(work, server);
  const { PostscaleClient } = require(dist("api/index.js"));
  const client = new PostscaleClient({ endpoint: server.url, apiKey: server.apiKey });
  cleanups.push(() => client.close());

  heading(`Review: cdktf diff of examples/${STACK}, then postscale review of its plan`);
  const dir = copyExample();
  reviewChanges(dir, env, log);

  heading(`Deploy: cdktf deploy of examples/${STACK} through the provider`);
  const outputs = deploy(dir, env, log);
  await accessMatrix(client, "Access matrix (from the API), after the first deploy:");

  await walkThrough(client);

  heading(`Offboarding: delete ${OFFBOARDED}'s lines from main.ts, review, deploy`);
  const secret = outputs.contractor_key_secret ?? outputs.contractorKeySecret;
  if (typeof secret !== "string") fail(`the deploy did not output contractor_key_secret (outputs: ${Object.keys(outputs).join(", ")})`);
  const before = await keyStatus(client, secret);
  const mainTs = join(dir, "main.ts");
  const lines = readFileSync(mainTs, "utf8").split("\n");
  const kept = lines.filter((l) => !/contractor/i.test(l));
  writeFileSync(mainTs, kept.join("\n"));
  say(`  removed ${lines.length - kept.length} lines mentioning the contractor from main.ts`);
  reviewChanges(dir, env, log);
  deploy(dir, env, log);
  const after = await keyStatus(client, secret);
  const members = await accessMatrix(client, "Access matrix (from the API), after offboarding:");
  const gone = !members.some((m) => m.email === OFFBOARDED);
  say(`  Offboarding proof: ${OFFBOARDED} ${gone ? "is no longer a member" : "IS STILL A MEMBER"}; their key ${secret.slice(0, 12)}… answered ${before} before and ${after} after.`);
  if (!gone || before !== 200 || after !== 401) fail("offboarding did not remove the contractor and revoke their key");

  heading("Clean up: stop the server, remove the demo's files");
  say(`  done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function cleanUp() {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // best effort: keep cleaning the rest
    }
  }
}

process.on("SIGINT", () => {
  cleanUp().finally(() => process.exit(130));
});

main()
  .then(cleanUp)
  .catch(async (err) => {
    await cleanUp();
    process.stderr.write(`\ndemo failed: ${err instanceof DemoError ? err.message : err?.stack ?? err}\n`);
    process.exit(1);
  });
