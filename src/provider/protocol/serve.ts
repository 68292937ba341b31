/**
 * serve(): run a provider as a go-plugin plugin process.
 *
 * Order matters for start-up time, which every engine command pays once per
 * provider: the handshake line is printed as soon as a listening socket
 * exists, and only then is the RPC server (and with it the generated
 * codecs) loaded, in the same synchronous turn. Connections the engine
 * opens meanwhile wait in the kernel's accept queue; they are accepted only
 * once the event loop runs again, by which time the server is ready to take
 * them. This module itself imports only node built-ins and small modules of
 * this layer; `./rpc-server` is the one require that brings in the rest.
 */
import { mkdtempSync, rmSync, writeSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { generateServerCertificate } from "./certificate";
import { listenTcp, listenUnix, type Listener } from "./listener";
import { log as rootLogger, type Logger } from "./log";
import type { ProviderDefinition } from "./types";

/** go-plugin's handshake cookie for Terraform providers (both engines). */
export const MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE";
export const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/** go-plugin core protocol version, and the tfplugin protocol this layer speaks. */
const CORE_PROTOCOL_VERSION = 1;
const APP_PROTOCOL_VERSION = 6;

/** How often the parent is checked for: a provider must not outlive its engine. */
const PARENT_POLL_MS = 200;
/** After the engine's last connection closes, how long and how often to look for the engine's exit. */
const HANGUP_WATCH_MS = 500;
const HANGUP_POLL_MS = 10;
/** Upper bound on the graceful stop after Shutdown (normally a few ms). */
const SHUTDOWN_GRACE_MS = 1000;

export interface ServeOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** "unix" (default off Windows) or "tcp" on 127.0.0.1 within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT. */
  network?: "unix" | "tcp";
  logger?: Logger;
}

/** What the plugin prints when started by hand instead of by an engine. */
export const NOT_A_PLUGIN_MESSAGE =
  "This program is a Terraform/OpenTofu provider plugin: it is started by `tofu` or `terraform`, not directly.\n";

/**
 * The handshake line: `1|6|unix|<path>|grpc|<cert>` where cert is the
 * server certificate's DER in standard base64 without `=` padding (empty
 * when serving plaintext).
 */
export function handshakeLine(network: "unix" | "tcp", address: string, certificateDer: Buffer | null): string {
  const cert = certificateDer ? certificateDer.toString("base64").replace(/=+$/, "") : "";
  return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|${network}|${address}|grpc|${cert}\n`;
}

/**
 * Serves `definition` to the engine that started this process: checks the
 * magic cookie (exits 1 with a note on stderr when absent), listens, prints
 * the handshake line on stdout, then serves gRPC until the engine calls
 * Shutdown or the parent process disappears. SIGINT is ignored: Ctrl-C
 * reaches the whole process group and the engine stops providers itself.
 *
 * Resolves once the handshake line is printed and the gRPC server is ready.
 */
export function serve<Ctx>(definition: ProviderDefinition<Ctx>, options: ServeOptions = {}): Promise<void> {
  // Taken first: the engine may be gone before the handshake is out.
  const parent = process.ppid;
  const env = options.env ?? process.env;
  const logger = options.logger ?? rootLogger.child(definition.name);
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(NOT_A_PLUGIN_MESSAGE);
    process.exit(1);
  }
  const offered = (env.PLUGIN_PROTOCOL_VERSIONS ?? "").split(",").map((v) => v.trim());
  if (env.PLUGIN_PROTOCOL_VERSIONS && !offered.includes(String(APP_PROTOCOL_VERSION))) {
    logger.warn(`the engine offers protocol versions ${env.PLUGIN_PROTOCOL_VERSIONS}; this provider speaks only ${APP_PROTOCOL_VERSION}`);
  }
  process.on("SIGINT", () => logger.debug("SIGINT ignored; the engine stops providers with StopProvider"));
  // Exit through process.exit so that the socket directory is removed.
  process.on("SIGTERM", () => process.exit(0));

  const clientCa = env.PLUGIN_CLIENT_CERT;
  const certificate = clientCa ? generateServerCertificate() : null;
  const network = options.network ?? (process.platform === "win32" ? "tcp" : "unix");

  return new Promise((resolve, reject) => {
    const onListening = (listener: Listener) => {
      writeSync(1, handshakeLine(network, listener.address, certificate?.der ?? null));
      // Loads the RPC server in the same synchronous turn: no connection
      // can be accepted before it exists.
      const { createRpcServer } = require("./rpc-server") as typeof import("./rpc-server");
      const stopped = () => process.exit(0);
      const server = createRpcServer(definition, {
        logger,
        tls: clientCa && certificate ? { clientCertPem: clientCa, certificate } : undefined,
        onShutdown: () => {
          setTimeout(stopped, SHUTDOWN_GRACE_MS).unref();
          server.close(stopped);
        },
      });
      logger.debug("gRPC server ready", { tls: Boolean(clientCa), listener: listener.via });
      const handleConnection = (socket: Socket) => server.handleConnection(socket);
      const engineGone = () => {
        logger.info("the engine process is gone; exiting");
        process.exit(0);
      };
      listener.accept(watchConnections(handleConnection, parent, engineGone));
      watchParent(parent, engineGone);
      resolve();
    };

    if (network === "unix") {
      const dir = mkdtempSync(join(shortTempDir(env), "tfp-"));
      process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
      listenUnix(join(dir, "s"), env, onListening, reject);
    } else {
      listenTcp(Number(env.PLUGIN_MIN_PORT || 10000), Number(env.PLUGIN_MAX_PORT || 25000), onListening, reject);
    }
  });
}

/** Calls `gone` when the parent process (the engine) is gone, which shows as being re-parented. */
function watchParent(parent: number, gone: () => void): void {
  if (process.ppid !== parent) gone();
  setInterval(() => {
    if (process.ppid !== parent) gone();
  }, PARENT_POLL_MS).unref();
}

/**
 * A killed engine closes its connection to us first (the kernel closes its
 * sockets before it re-parents its children), so when the last connection
 * closes, look closely for the engine's exit for a moment: the provider
 * then stops within milliseconds instead of finishing requests whose
 * results nobody will record. A live engine may also close an idle
 * connection and dial again later; then the parent is still there and
 * nothing happens.
 */
function watchConnections(handle: (socket: Socket) => void, parent: number, gone: () => void): (socket: Socket) => void {
  let open = 0;
  return (socket) => {
    open++;
    socket.once("close", () => {
      if (--open > 0) return;
      const started = Date.now();
      const timer = setInterval(() => {
        if (process.ppid !== parent) gone();
        else if (open > 0 || Date.now() - started > HANGUP_WATCH_MS) clearInterval(timer);
      }, HANGUP_POLL_MS);
    });
    handle(socket);
  };
}

/**
 * Where the socket's directory goes: os.tmpdir()'s choice on POSIX
 * (TMPDIR, TMP, TEMP, else /tmp), read here because loading node:os costs
 * a quarter of a millisecond before the handshake. Unix socket paths are
 * limited to about 100 bytes, so a long one falls back to /tmp.
 */
export function shortTempDir(env: NodeJS.ProcessEnv = process.env): string {
  let dir = env.TMPDIR || env.TMP || env.TEMP || "/tmp";
  if (dir.length > 1 && dir.endsWith("/")) dir = dir.slice(0, -1);
  return dir.length <= 60 ? dir : "/tmp";
}
