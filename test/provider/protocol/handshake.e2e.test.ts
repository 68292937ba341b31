/**
 * The provider as a real plugin process: the toy provider bundled with
 * esbuild (as the real provider is, so the descriptor must be inlined),
 * started the way the engine starts it.
 */
import * as grpc from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { generateServerCertificate } from "../../../src/provider/protocol/certificate";
import { LISTENER_ENV } from "../../../src/provider/protocol/listener";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, NOT_A_PLUGIN_MESSAGE } from "../../../src/provider/protocol/serve";
import { connect } from "./grpc-client";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
let outDir: string;
let bundle: string;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "handshake-test-"));
  bundle = join(outDir, "serve-toy.js");
  const esbuild = require("esbuild") as typeof import("esbuild");
  esbuild.buildSync({
    entryPoints: [join(__dirname, "fixtures", "serve-toy.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: bundle,
    logLevel: "error",
  });
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

interface Plugin {
  child: ChildProcess;
  line: Promise<string>;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startPlugin(env: NodeJS.ProcessEnv, command = process.execPath, args = [bundle]): Plugin {
  const { [MAGIC_COOKIE_KEY]: _cookie, PLUGIN_CLIENT_CERT: _cert, ...base } = process.env;
  const child = spawn(command, args, { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const line = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.on("exit", () => reject(new Error(`plugin exited before the handshake; stderr: ${err}`)));
  });
  line.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, line, stdout: () => out, stderr: () => err, exit };
}

const pluginEnv = (extra: NodeJS.ProcessEnv = {}) => ({ [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: "5,6", ...extra });

function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = () => (condition() ? resolve(true) : Date.now() > until ? resolve(false) : setTimeout(tick, 50));
    tick();
  });
}

// The socket is listened on through Node's pipe binding where it can be
// (src/provider/protocol/listener.ts), else through net.Server: both serve alike.
describe.each([
  ["binding", {}],
  ["net", { [LISTENER_ENV]: "net" }],
])("go-plugin handshake with AutoMTLS, listening through %s", (listener, listenerEnv) => {
  const client = generateServerCertificate();
  let plugin: Plugin;
  let fields: string[];

  beforeAll(async () => {
    // At debug: the stderr check below sees debug lines and no trace lines.
    plugin = startPlugin(pluginEnv({ PLUGIN_CLIENT_CERT: client.certPem, TF_LOG_PROVIDER: "debug", ...listenerEnv }));
    fields = (await plugin.line).split("|");
  });

  afterAll(() => plugin.child.kill("SIGTERM"));

  it("prints one line of six fields: core version 1, protocol 6, unix socket, grpc, certificate", () => {
    expect(plugin.stdout().startsWith(fields.join("|") + "\n")).toBe(true);
    expect(fields).toHaveLength(6);
    expect(fields.slice(0, 3)).toEqual(["1", "6", "unix"]);
    expect(existsSync(fields[3])).toBe(true);
    expect(fields[3].length).toBeLessThan(100);
    expect(fields[4]).toBe("grpc");
  });

  it("carries the certificate as unpadded standard base64 DER of a self-signed ECDSA cert for localhost", () => {
    const cert = fields[5];
    expect(cert).toMatch(/^[A-Za-z0-9+/]+$/);
    const x509 = new X509Certificate(Buffer.from(cert, "base64"));
    expect(x509.subjectAltName).toBe("DNS:localhost");
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.keyUsage).toContain(SERVER_AUTH);
    expect(x509.publicKey.asymmetricKeyType).toBe("ec");
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(x509.verify(x509.publicKey)).toBe(true);
    const now = Date.now();
    expect(new Date(x509.validFrom).getTime()).toBeLessThanOrEqual(now);
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(now);
  });

  it("serves tfplugin6 over mutual TLS, pinned to the printed certificate", async () => {
    const serverPem = new X509Certificate(Buffer.from(fields[5], "base64")).toString();
    const creds = grpc.credentials.createSsl(Buffer.from(serverPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
    const clients = connect(`unix:${fields[3]}`, creds, { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" });
    try {
      const schema = await clients.provider("GetProviderSchema");
      expect(Object.keys(schema.resource_schemas)).toEqual(["toy_thing"]);
      expect(await clients.health("Check", { service: "plugin" })).toEqual({ status: "SERVING" });
    } finally {
      clients.close();
    }
  });

  it("refuses a client without the engine's certificate", async () => {
    const serverPem = new X509Certificate(Buffer.from(fields[5], "base64")).toString();
    const stranger = generateServerCertificate();
    const creds = grpc.credentials.createSsl(Buffer.from(serverPem), Buffer.from(stranger.keyPem), Buffer.from(stranger.certPem));
    const clients = connect(`unix:${fields[3]}`, creds, { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" });
    try {
      await expect(clients.provider("GetMetadata")).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      clients.close();
    }
  });

  it("ignores SIGINT, then exits after Shutdown and removes its socket", async () => {
    plugin.child.kill("SIGINT");
    const serverPem = new X509Certificate(Buffer.from(fields[5], "base64")).toString();
    const creds = grpc.credentials.createSsl(Buffer.from(serverPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
    const clients = connect(`unix:${fields[3]}`, creds, { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" });
    try {
      expect((await clients.provider("GetMetadata")).resources).toEqual([{ type_name: "toy_thing" }]);
      const asked = Date.now();
      expect(await clients.controller("Shutdown")).toEqual({});
      expect(await plugin.exit).toBe(0);
      expect(Date.now() - asked).toBeLessThan(1500);
    } finally {
      clients.close();
    }
    expect(existsSync(dirname(fields[3]))).toBe(false);
    expect(plugin.stdout()).toBe(fields.join("|") + "\n");
    const records = plugin.stderr().trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      expect(record).toEqual(expect.objectContaining({ "@level": expect.any(String), "@message": expect.any(String), "@module": "provider.toy" }));
      expect(record).not.toHaveProperty("@timestamp");
    }
    expect(records).toContainEqual(expect.objectContaining({ "@level": "debug", "@message": "shutdown requested by the engine" }));
    expect(records).toContainEqual(expect.objectContaining({ "@message": "gRPC server ready", listener }));
    expect(records.filter((record) => record["@level"] === "trace")).toEqual([]);
  });
});

describe("other starts", () => {
  it("serves plaintext with an empty certificate field when PLUGIN_CLIENT_CERT is absent", async () => {
    const plugin = startPlugin(pluginEnv());
    try {
      const fields = (await plugin.line).split("|");
      expect(fields).toHaveLength(6);
      expect(fields[5]).toBe("");
      const clients = connect(`unix:${fields[3]}`);
      try {
        expect((await clients.provider("GetMetadata")).data_sources).toEqual([{ type_name: "toy_echo" }]);
      } finally {
        clients.close();
      }
    } finally {
      plugin.child.kill("SIGTERM");
    }
  });

  it("with Node's --pending-deprecation: listens through net.Server and prints no deprecation warning", async () => {
    const plugin = startPlugin(pluginEnv({ NODE_OPTIONS: "--pending-deprecation", TF_LOG_PROVIDER: "debug" }));
    try {
      const fields = (await plugin.line).split("|");
      const clients = connect(`unix:${fields[3]}`);
      try {
        expect((await clients.provider("GetMetadata")).data_sources).toEqual([{ type_name: "toy_echo" }]);
      } finally {
        clients.close();
      }
      expect(plugin.stderr()).not.toMatch(/Deprecation/);
      expect(plugin.stderr()).toMatch(/"@message":"gRPC server ready".*"listener":"net"/);
    } finally {
      plugin.child.kill("SIGTERM");
    }
  });

  it("without the magic cookie: exits 1 with a note on stderr and nothing on stdout", async () => {
    const plugin = startPlugin({ PLUGIN_PROTOCOL_VERSIONS: "6" });
    expect(await plugin.exit).toBe(1);
    expect(plugin.stdout()).toBe("");
    expect(plugin.stderr()).toBe(NOT_A_PLUGIN_MESSAGE);
  });

  it("exits when the engine that started it is gone", async () => {
    // A shell stands in for the engine: it starts the plugin and prints its pid;
    // once the handshake is out, the shell is killed.
    const shell = startPlugin(pluginEnv(), "/bin/sh", ["-c", `"${process.execPath}" "${bundle}" & echo "pid=$!"; wait`]);
    await waitFor(() => /\|grpc\|/.test(shell.stdout()), 20000);
    const pid = Number(/pid=(\d+)/.exec(shell.stdout())?.[1]);
    expect(pid).toBeGreaterThan(0);
    shell.child.kill("SIGKILL");
    await shell.exit;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const exited = await waitFor(() => !alive(), 8000);
    if (!exited) process.kill(pid, "SIGKILL");
    expect(exited).toBe(true);
  });
});
