/**
 * A provider never outlives its engine: when the engine is SIGKILLed, the
 * plugin process exits within moments (its connection closes and it is
 * re-parented), instead of finishing requests nobody will record.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../../../src/provider/protocol/serve";

let outDir: string;
let bundle: string;
let engine: string;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "engine-gone-test-"));
  bundle = join(outDir, "serve-toy.js");
  const esbuild = require("esbuild") as typeof import("esbuild");
  esbuild.buildSync({ entryPoints: [join(__dirname, "fixtures", "serve-toy.ts")], bundle: true, platform: "node", target: "node20", outfile: bundle, logLevel: "error" });
  // A stand-in engine: starts the plugin, reads its handshake, dials its socket, reports the plugin's pid, and waits to be killed.
  engine = join(outDir, "engine.js");
  writeFileSync(
    engine,
    `const { spawn } = require("node:child_process");
const net = require("node:net");
const plugin = spawn(process.execPath, [${JSON.stringify(bundle)}], { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
plugin.stdout.on("data", (d) => {
  out += d;
  if (!out.includes("\\n")) return;
  const [, , network, address] = out.split("\\n")[0].split("|");
  const socket = network === "unix" ? net.connect(address) : net.connect(Number(address.split(":")[1]), "127.0.0.1");
  socket.on("connect", () => process.stdout.write(String(plugin.pid) + "\\n"));
  socket.on("error", () => undefined);
});
setInterval(() => undefined, 1000);
`,
  );
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Running (a zombie waiting for whoever adopted it to reap it has exited). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

test("the plugin exits promptly after its engine is SIGKILLed", async () => {
  const { [MAGIC_COOKIE_KEY]: _cookie, PLUGIN_CLIENT_CERT: _cert, ...base } = process.env;
  const parent = spawn(process.execPath, [engine], { env: { ...base, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: "6" }, stdio: ["ignore", "pipe", "inherit"] });
  const pid = await new Promise<number>((resolve, reject) => {
    let out = "";
    parent.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    parent.on("exit", () => reject(new Error("the stand-in engine exited early")));
  });
  expect(alive(pid)).toBe(true);
  parent.removeAllListeners("exit");
  const killedAt = Date.now();
  parent.kill("SIGKILL");
  while (alive(pid) && Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 5));
  const lived = Date.now() - killedAt;
  expect(alive(pid)).toBe(false);
  // Generous for a loaded CI machine; on a quiet one it is tens of milliseconds.
  expect(lived).toBeLessThan(1000);
});
