// Server benchmark (not a test): member-authenticated reads against the floor.
// Usage: npm run build && node bench/server.mjs [seconds=5] [connections=50]
// Runs the built server as a child process (PGlite in a temp dir, rate limit
// off), signs up a member with grants through the API, then measures
// GET /healthz, GET /v1/domains and GET /v1/domains/{d}/stats with autocannon.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const autocannon = require("autocannon");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), "postscale-bench-"));
const domains = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, "0")}.bench.test`);

const child = spawn(process.execPath, [join(root, "bin/postscale.js"), "server", "--port", "0", "--data-dir", join(dir, "data"), "--dev", "--rate-limit", "off", "--no-log"], {
  env: {
    ...process.env,
    POSTSCALE_BOOTSTRAP_ORG: "Bench",
    POSTSCALE_BOOTSTRAP_OWNER_EMAIL: "owner@bench.test",
    POSTSCALE_BOOTSTRAP_OWNER_PASSWORD: "bench-password",
    POSTSCALE_BOOTSTRAP_DOMAINS: domains.join(","),
    POSTSCALE_BOOTSTRAP_KEY_FILE: join(dir, "key"),
  },
  stdio: ["ignore", "pipe", "inherit"],
});

const url = await new Promise((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (b) => {
    out += b;
    const m = /listening on (\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
});

async function api(method, path, body, token) {
  const res = await fetch(url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const ownerKey = readFileSync(join(dir, "key"), "utf8").trim();
const grants = domains.slice(0, 10).map((domain, i) => ({ domain, access: i % 2 ? "read" : "read_write" }));
await api("POST", "/v1/team/members", { email: "dev@bench.test", role: "member", domain_access: grants }, ownerKey);
const invitation = (await api("GET", "/_dev/mail")).find((m) => m.kind === "invitation");
await api("POST", `/v1/invitations/${invitation.token}/accept`, { name: "Dev", password: "dev-password" });
const verify = (await api("GET", "/_dev/mail")).find((m) => m.kind === "verify_email");
await api("POST", "/v1/auth/verify-email", { token: verify.token });
const { token } = await api("POST", "/v1/auth/login", { email: "dev@bench.test", password: "dev-password" });
const visible = (await api("GET", "/v1/domains", undefined, token)).data.length;

function run(path, auth) {
  return new Promise((resolve, reject) => {
    autocannon({ url: url + path, connections, duration: seconds, headers: auth ? { authorization: `Bearer ${token}` } : {} }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// The floor is measured before and after the authorized routes and the
// better run kept, so load from other processes cannot flatter the ratio.
const routes = [
  ["GET /healthz", "/healthz", false],
  ["GET /v1/domains (member session)", "/v1/domains", true],
  [`GET /v1/domains/{d}/stats (member session)`, `/v1/domains/${domains[0]}/stats`, true],
  ["GET /healthz (again)", "/healthz", false],
];
const rows = [];
for (const [name, path, auth] of routes) {
  await run(path, auth); // warm-up pass at the same load, discarded
  const r = await run(path, auth);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx responses, ${r.errors} errors`);
  rows.push({ name, rps: r.requests.average, p99: r.latency.p99 });
}
const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
child.kill("SIGTERM");
await new Promise((r) => child.on("exit", r));
rmSync(dir, { recursive: true, force: true });

const floor = Math.max(rows[0].rps, rows[3].rps);
console.log(`Postscale server, PGlite, ${connections} connections, ${seconds}s per route (after a warm-up run), member sees ${visible} of ${domains.length} domains`);
console.log("| route | req/s | p99 ms | % of floor |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p99} | ${Math.round((r.rps / floor) * 100)}% |`);
console.log(`\nserver peak RSS (VmHWM): ${peakRss.toFixed(0)} MiB`);
const failing = rows.slice(1, 3).filter((r) => r.rps < 0.4 * floor);
if (failing.length) {
  console.log(`below the 40% target: ${failing.map((r) => r.name).join(", ")}`);
  process.exitCode = 1;
}
