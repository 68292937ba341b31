/**
 * The socket the engine dials, listening before the handshake line.
 *
 * `net.Server#listen` requires node:cluster on every call (to ask whether
 * this process is a cluster worker), and cluster brings child_process and
 * dgram with it: together with node:net itself, about 5 ms of every
 * provider start, all before the line the engine waits for. On a unix
 * socket the listening handle is therefore made with the binding net uses
 * underneath (`process.binding("pipe_wrap")`, on Node's list of bindings
 * kept for userland), synchronously, without net; accepted connections are
 * wrapped in `net.Socket`s, which is all net's own server does with them,
 * once the line is out. net.Server does the work instead when the binding
 * is missing or refuses, when Node warns about `process.binding` (run with
 * --pending-deprecation), or when POSTSCALE_PROVIDER_LISTENER=net.
 */
import type { Server as NetServer, Socket } from "node:net";

export interface Listener {
  /** What the handshake line carries: the socket path, or 127.0.0.1:port. */
  address: string;
  /** How it was made: "binding" (pipe_wrap directly) or "net" (net.Server). */
  via: "binding" | "net";
  /** Hands every accepted connection to `handle`. Call once. */
  accept(handle: (socket: Socket) => void): void;
}

/** Node's pipe_wrap binding, as far as this module uses it. */
interface PipeHandle {
  bind(path: string): number;
  listen(backlog: number): number;
  close(): void;
  onconnection: ((status: number, client: unknown) => void) | null;
}
interface PipeBinding {
  Pipe: new (type: number) => PipeHandle;
  constants: { SERVER: number };
}

/** What net.Server uses when no backlog is given. */
const BACKLOG = 511;

/** The env switch that makes the provider listen through net.Server only. */
export const LISTENER_ENV = "POSTSCALE_PROVIDER_LISTENER";

/** The pipe_wrap binding when it may be used quietly; undefined otherwise. */
function pipeBinding(env: NodeJS.ProcessEnv): PipeBinding | undefined {
  if (env[LISTENER_ENV] === "net") return undefined;
  // With --pending-deprecation, process.binding prints a DeprecationWarning.
  const nodeOptions = `${process.execArgv.join(" ")} ${env.NODE_OPTIONS ?? ""}`;
  if (nodeOptions.includes("--pending-deprecation")) return undefined;
  try {
    const binding = (process as unknown as { binding(name: string): Partial<PipeBinding> }).binding("pipe_wrap");
    if (typeof binding.Pipe !== "function" || typeof binding.constants?.SERVER !== "number") return undefined;
    return binding as PipeBinding;
  } catch {
    return undefined;
  }
}

/** "EADDRINUSE" and the like for a libuv status code; loads node:util only on this rare path. */
function errnoName(status: number): string {
  return (require("node:util") as typeof import("node:util")).getSystemErrorName(status);
}

/**
 * Listens on the unix socket `path`. With the binding this completes before
 * it returns (`onListening` is called synchronously); through net.Server,
 * on a later tick. `onError` receives a failure to listen either way.
 */
export function listenUnix(path: string, env: NodeJS.ProcessEnv, onListening: (listener: Listener) => void, onError: (err: Error) => void): void {
  const binding = pipeBinding(env);
  if (binding === undefined) {
    const { createServer } = require("node:net") as typeof import("node:net");
    const server = createServer();
    server.on("error", onError);
    server.listen(path, () => onListening(netListener(server, path)));
    return;
  }
  const handle = new binding.Pipe(binding.constants.SERVER);
  const failed = (call: string, status: number) => {
    handle.close();
    const code = errnoName(status);
    onError(Object.assign(new Error(`${call} ${path}: ${code}`), { code }));
  };
  let status = handle.bind(path);
  if (status !== 0) return failed("bind", status);
  status = handle.listen(BACKLOG);
  if (status !== 0) return failed("listen", status);
  onListening({
    address: path,
    via: "binding",
    accept(handleSocket) {
      const { Socket } = require("node:net") as typeof import("node:net");
      handle.onconnection = (acceptStatus, client) => {
        // A failed accept (e.g. out of file descriptors) is the engine's to retry.
        if (acceptStatus !== 0 || !client) return;
        handleSocket(new Socket({ handle: client, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]));
      };
    },
  });
}

/** A Listener over a listening net.Server. */
function netListener(server: NetServer, address: string): Listener {
  return { address, via: "net", accept: (handleSocket) => server.on("connection", handleSocket) };
}

/**
 * Listens on 127.0.0.1 at a port in minPort..maxPort (go-plugin's
 * PLUGIN_MIN_PORT/PLUGIN_MAX_PORT), starting at a random one and trying the
 * next while they are taken. Used where there are no unix sockets.
 */
export function listenTcp(minPort: number, maxPort: number, onListening: (listener: Listener) => void, onError: (err: Error) => void): void {
  const { createServer } = require("node:net") as typeof import("node:net");
  const server = createServer();
  const span = maxPort - minPort + 1;
  const first = Math.floor(Math.random() * span);
  let attempt = 0;
  const tryNext = () => {
    const port = minPort + ((first + attempt) % span);
    attempt++;
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE" && attempt < span) tryNext();
      else onError(err);
    });
    server.listen(port, "127.0.0.1", () => {
      server.removeAllListeners("error");
      server.on("error", onError);
      onListening(netListener(server, `127.0.0.1:${port}`));
    });
  };
  tryNext();
}
