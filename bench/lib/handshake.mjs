/**
 * Starting a plugin the way the engine does (go-plugin handshake
 * environment with AutoMTLS) and timing exec to the handshake line.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The magic cookie of Terraform plugins (go-plugin HandshakeConfig of tfplugin5/6). */
const MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/**
 * A client certificate as the engine sends one (ECDSA P-256, self-signed),
 * made once with the openssl CLI: only the plugin's own certificate work
 * is part of what is measured.
 */
export function clientCertificate() {
  const dir = mkdtempSync(join(tmpdir(), "postscale-bench-cert-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/O=HashiCorp/CN=localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return readFileSync(join(dir, "cert.pem"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The environment the engine gives a plugin: `base` without TF_* plus the handshake variables. */
export function pluginEnv(base, clientCert) {
  const env = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith("TF_")));
  return {
    ...env,
    TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE,
    PLUGIN_PROTOCOL_VERSIONS: "5,6",
    PLUGIN_CLIENT_CERT: clientCert,
    PLUGIN_MIN_PORT: "10000",
    PLUGIN_MAX_PORT: "25000",
  };
}

/**
 * Executes `binary args` and resolves with the ms from spawn to the first
 * complete stdout line (the handshake) and the line itself; then stops the
 * plugin with SIGTERM and waits for it to exit, so runs never overlap.
 */
export function timeToHandshake(binary, args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let result;
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      if (result) return;
      out += d;
      const newline = out.indexOf("\n");
      if (newline === -1) return;
      result = { ms: Number(process.hrtime.bigint() - started) / 1e6, line: out.slice(0, newline) };
      child.kill("SIGTERM");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (result) resolve(result);
      else reject(new Error(`${binary} exited ${code} before a handshake line\n${out}\n${err}`));
    });
  });
}

/** ms from spawn to exit of `binary args` (for the bare `node -e 0` floor). */
export function timeToExit(binary, args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(binary, args, { env, stdio: "ignore" });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Number(process.hrtime.bigint() - started) / 1e6);
      else reject(new Error(`${binary} ${args.join(" ")} exited ${code}`));
    });
  });
}
