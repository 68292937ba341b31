/**
 * The gRPC server a provider process runs, on node:http2: tfplugin6.Provider
 * for the definition, plus what go-plugin's client expects of every plugin:
 * plugin.GRPCController (Shutdown), plugin.GRPCStdio and grpc.health.v1.
 *
 * Why not grpc-js: the engine starts a provider three times per plan, and
 * loading grpc-js, building its codecs from a descriptor and building
 * OpenSSL's root store for its client-certificate check cost more than the
 * rest of a start (docs/benchmarks.md, "Issue 15"). The protocol needs only
 * what is here: unary calls and two server streams that stay open and
 * silent, identity encoding, no deadlines to enforce. The engines' own
 * grpc-go clients and the tests' grpc-js clients check it from both sides.
 *
 * The engine's client certificate is pinned: the TLS handshake asks for a
 * certificate and the session is dropped unless it is byte for byte the one
 * in PLUGIN_CLIENT_CERT (go-plugin's AutoMTLS sends exactly that one), so no
 * trust store is built.
 */
import { X509Certificate } from "node:crypto";
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ServerCertificate } from "./certificate";
import { log as rootLogger, type Logger } from "./log";
import { protocolMethods, type MethodCodec } from "./messages";
import { createProviderService, type UnaryHandler } from "./provider-service";
import type { ProviderDefinition } from "./types";

/** Go providers allow 256 MiB messages. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** The service go-plugin's client asks the health service about. */
export const HEALTH_SERVICE_NAME = "plugin";

/** gRPC status codes used here (grpc/doc/statuscodes.md). */
export const STATUS = { OK: 0, CANCELLED: 1, INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

const SERVING_STATUS = { SERVING: 1, SERVICE_UNKNOWN: 3 } as const;

/** A response stream the server holds open (stdio, health watch) until Shutdown. */
type OpenStream = { write(message: object): void; end(): void };
type StreamHandler = (request: Record<string, any>, stream: OpenStream) => void;

export interface RpcServerOptions {
  logger?: Logger;
  /** go-plugin's AutoMTLS: the one client certificate (PEM) to accept, and the server's own. Plaintext (h2c) when absent. */
  tls?: { clientCertPem: string; certificate: ServerCertificate };
  /** Called after the reply to GRPCController/Shutdown has been sent. */
  onShutdown?: () => void;
}

export interface RpcServer {
  /** Serves a connection accepted elsewhere (serve() accepts them itself). */
  handleConnection(socket: Socket): void;
  /** Listens on a TCP port of `host` (tests); resolves with the port. */
  listen(host: string, port?: number): Promise<number>;
  /** Ends the open streams and closes every session gracefully; `done` once all are closed. */
  close(done?: () => void): void;
  /** Drops every session and stops listening. */
  destroy(): void;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Creates the server for `definition`; nothing listens until {@link RpcServer.listen} or a handed-over connection. */
export function createRpcServer<Ctx>(definition: ProviderDefinition<Ctx>, options: RpcServerOptions = {}): RpcServer {
  const logger = options.logger ?? rootLogger.child(definition.name);
  const methods = protocolMethods();
  const openStreams = new Set<OpenStream>();
  const sessions = new Set<http2.ServerHttp2Session>();

  const unary = new Map<string, UnaryHandler>();
  const provider = createProviderService(definition, logger);
  for (const [name, handler] of Object.entries(provider)) unary.set(`/tfplugin6.Provider/${name}`, handler);
  unary.set("/plugin.GRPCController/Shutdown", async () => {
    logger.debug("shutdown requested by the engine");
    // Let the reply leave before the process goes.
    if (options.onShutdown) setImmediate(options.onShutdown);
    return {};
  });
  const servingStatus = (name: string) => (name === "" || name === HEALTH_SERVICE_NAME ? SERVING_STATUS.SERVING : undefined);
  unary.set("/grpc.health.v1.Health/Check", async (req) => {
    const status = servingStatus(req.service);
    if (status === undefined) throw new RpcError(STATUS.NOT_FOUND, `unknown service ${req.service}`);
    return { status };
  });

  // Nothing is ever written to the plugin's stdout after the handshake, so
  // the stdio stream stays open and empty until the engine closes it.
  const streaming = new Map<string, StreamHandler>([
    ["/plugin.GRPCStdio/StreamStdio", () => undefined],
    ["/grpc.health.v1.Health/Watch", (req, stream) => stream.write({ status: servingStatus(req.service) ?? SERVING_STATUS.SERVICE_UNKNOWN })],
  ]);

  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", (err) => logger.debug(`gRPC stream error: ${err.message}`));
    const path = String(headers[":path"]);
    const method = methods.get(path);
    const contentType = String(headers["content-type"] ?? "");
    if (headers[":method"] !== "POST" || !contentType.startsWith("application/grpc")) {
      stream.respond({ ":status": 415, "content-type": "text/plain" }, { endStream: true });
      return;
    }
    const handler = unary.get(path);
    const streamer = streaming.get(path);
    if (!method || method.clientStreaming || (!handler && !streamer)) {
      endWithStatus(stream, STATUS.UNIMPLEMENTED, `method ${path} is not implemented by this provider`);
      return;
    }
    readRequest(stream, method, (err, request) => {
      if (err) return endWithStatus(stream, err.code, err.message);
      if (handler) answerUnary(stream, method, handler, request!);
      else openResponseStream(stream, method, streamer!, request!);
    });
  };

  const answerUnary = (stream: http2.ServerHttp2Stream, method: MethodCodec, handler: UnaryHandler, request: Record<string, any>) => {
    Promise.resolve()
      .then(() => handler(request))
      .then(
        (response) => {
          if (stream.destroyed || stream.closed) return;
          stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
          stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(STATUS.OK) }));
          stream.end(frame(method.response.encode(response).finish()));
        },
        (err: unknown) => {
          const code = err instanceof RpcError ? err.code : STATUS.INTERNAL;
          if (!(err instanceof RpcError)) logger.error(`${method.path} failed: ${(err as Error)?.message ?? String(err)}`);
          endWithStatus(stream, code, (err as Error)?.message ?? String(err));
        },
      );
  };

  const openResponseStream = (stream: http2.ServerHttp2Stream, method: MethodCodec, streamer: StreamHandler, request: Record<string, any>) => {
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(STATUS.OK) }));
    const open: OpenStream = {
      write: (message) => {
        if (!stream.destroyed && !stream.closed) stream.write(frame(method.response.encode(message).finish()));
      },
      end: () => {
        openStreams.delete(open);
        if (!stream.destroyed && !stream.closed) stream.end();
      },
    };
    openStreams.add(open);
    stream.once("close", () => openStreams.delete(open));
    streamer(request, open);
  };

  const onSession = (session: http2.ServerHttp2Session) => {
    if (options.tls && !presentsPinnedCertificate(session.socket as TLSSocket, pinned!)) {
      logger.warn("refused a connection that did not present the engine's client certificate");
      session.destroy();
      return;
    }
    sessions.add(session);
    session.on("error", (err) => logger.debug(`gRPC session error: ${err.message}`));
    session.once("close", () => sessions.delete(session));
  };

  const pinned = options.tls ? new X509Certificate(options.tls.clientCertPem).raw : undefined;
  const settings = { maxSessionMemory: 1024, settings: { maxHeaderListSize: 64 * 1024 } };
  const server = options.tls
    ? http2.createSecureServer({
        ...settings,
        key: options.tls.certificate.keyPem,
        cert: options.tls.certificate.certPem,
        // No trust store: the peer's certificate is compared to the pinned one.
        ca: [],
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: ["h2"],
      })
    : http2.createServer(settings);
  server.on("session", onSession);
  server.on("stream", onStream);

  return {
    handleConnection: (socket) => server.emit("connection", socket),
    listen: (host, port = 0) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      }),
    close: (done) => {
      for (const stream of [...openStreams]) stream.end();
      let left = sessions.size;
      if (server.listening) server.close();
      if (left === 0) return done?.();
      for (const session of sessions) session.close(() => --left === 0 && done?.());
    },
    destroy: () => {
      for (const session of sessions) session.destroy();
      if (server.listening) server.close();
    },
  };
}

const RESPONSE_HEADERS = { ":status": 200, "content-type": "application/grpc+proto", "grpc-accept-encoding": "identity" };

/** A gRPC message frame: uncompressed flag, 4-byte big-endian length, the message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Collects a unary request's one message and decodes it. */
function readRequest(stream: http2.ServerHttp2Stream, method: MethodCodec, done: (err: RpcError | null, request?: Record<string, any>) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  stream.on("data", (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > MAX_MESSAGE_BYTES + 5) {
      failed = true;
      done(new RpcError(STATUS.RESOURCE_EXHAUSTED, `request larger than ${MAX_MESSAGE_BYTES} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  stream.once("end", () => {
    if (failed) return;
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
    if (body.length < 5) return done(new RpcError(STATUS.INTERNAL, "the request carries no gRPC message"));
    if (body[0] !== 0) return done(new RpcError(STATUS.UNIMPLEMENTED, "compressed messages are not supported (grpc-accept-encoding: identity)"));
    const length = body.readUInt32BE(1);
    if (body.length !== 5 + length) return done(new RpcError(STATUS.INTERNAL, "a unary request must carry exactly one gRPC message"));
    try {
      done(null, method.request.decode(body.subarray(5)));
    } catch (err) {
      done(new RpcError(STATUS.INTERNAL, `cannot decode ${method.path} request: ${(err as Error).message}`));
    }
  });
}

/** Ends a stream with a status: trailers-only when nothing was sent yet. */
function endWithStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.closed) return;
  const status = { "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) };
  if (!stream.headersSent) stream.respond({ ":status": 200, "content-type": "application/grpc+proto", ...status }, { endStream: true });
  else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
}

/** grpc-message is percent-encoded UTF-8 (bytes outside 0x20..0x7E, and `%`). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function presentsPinnedCertificate(socket: TLSSocket, pinned: Buffer): boolean {
  const raw = socket.getPeerCertificate?.()?.raw;
  return Buffer.isBuffer(raw) && raw.equals(pinned);
}
