/**
 * The gRPC server a provider process runs: tfplugin6.Provider for the
 * definition, plus what go-plugin's client expects of every plugin:
 * plugin.GRPCController (Shutdown), plugin.GRPCStdio and grpc.health.v1.
 * Loading this module loads grpc-js; serve() requires it only after the
 * handshake line is out (in the provider bundle it lives in the second
 * file, with the provider, so that V8 does not compile it before the line).
 */
import type { Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { ServerCertificate } from "./certificate";
import { loadGrpcPackage, type Descriptor } from "./descriptor";
import { log as rootLogger, type Logger } from "./log";
import { createProviderService } from "./provider-service";
import type { ProviderDefinition } from "./types";

/** Go providers allow 256 MiB messages; grpc-js' default receive limit is 4 MiB. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** The service go-plugin's client asks the health service about. */
export const HEALTH_SERVICE_NAME = "plugin";

export interface GrpcServerOptions {
  /** Defaults to the generated `.gen/tfplugin6.json`. */
  descriptor?: Descriptor;
  logger?: Logger;
  /** Called after the reply to GRPCController/Shutdown has been sent. */
  onShutdown?: () => void;
}

/** Looks up a service definition in the loaded package by its dotted name. */
function service(pkg: grpc.GrpcObject, dottedName: string): grpc.ServiceDefinition {
  let node: unknown = pkg;
  for (const part of dottedName.split(".")) node = (node as Record<string, unknown>)[part];
  const ctor = node as grpc.ServiceClientConstructor | undefined;
  if (!ctor?.service) throw new Error(`gRPC service ${dottedName} is missing from the descriptor; rebuild it with scripts/build-proto.mjs`);
  return ctor.service;
}

/** A grpc-js server with every service registered, not yet bound. */
export function createGrpcServer<Ctx>(definition: ProviderDefinition<Ctx>, options: GrpcServerOptions = {}): grpc.Server {
  const logger = options.logger ?? rootLogger.child(definition.name);
  const pkg = loadGrpcPackage(options.descriptor);
  const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  });

  server.addService(service(pkg, "tfplugin6.Provider"), createProviderService(definition, logger));

  // Streams that stay open (stdio, health watches) are ended on Shutdown so
  // that a graceful server shutdown does not wait for them.
  const openStreams = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  const holdOpen = (call: grpc.ServerWritableStream<unknown, unknown>) => {
    openStreams.add(call);
    call.on("cancelled", () => openStreams.delete(call));
  };

  server.addService(service(pkg, "plugin.GRPCController"), {
    Shutdown: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
      logger.debug("shutdown requested by the engine");
      for (const stream of openStreams) stream.end();
      openStreams.clear();
      callback(null, {});
      // Let the reply leave before the process goes.
      if (options.onShutdown) setImmediate(options.onShutdown);
    },
  });

  // Nothing is ever written to the plugin's stdout after the handshake, so
  // the stream stays open and empty until the engine closes it.
  server.addService(service(pkg, "plugin.GRPCStdio"), {
    StreamStdio: holdOpen,
  });

  const servingStatus = (name: string) => (name === "" || name === HEALTH_SERVICE_NAME ? "SERVING" : undefined);
  server.addService(service(pkg, "grpc.health.v1.Health"), {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, object>, callback: grpc.sendUnaryData<object>) => {
      const status = servingStatus(call.request.service);
      if (status) callback(null, { status });
      else callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, object>) => {
      call.write({ status: servingStatus(call.request.service) ?? "SERVICE_UNKNOWN" });
      holdOpen(call);
    },
  });

  return server;
}

/** What {@link createConnectionHandler} needs besides the definition. */
export interface ConnectionHandlerOptions {
  descriptor?: Descriptor;
  logger?: Logger;
  /** go-plugin's AutoMTLS: the one client certificate (PEM) to accept, and the server's own. Plaintext when absent. */
  tls?: { clientCertPem: string; certificate: ServerCertificate };
  /** Called once the server has stopped after Shutdown, or after `shutdownGraceMs` at the latest. */
  onStopped: () => void;
  shutdownGraceMs: number;
}

/**
 * Creates the gRPC server for `definition` and returns how to hand it a
 * socket accepted elsewhere (serve() accepts them itself, through grpc-js'
 * connection injector).
 */
export function createConnectionHandler<Ctx>(definition: ProviderDefinition<Ctx>, options: ConnectionHandlerOptions): (socket: Socket) => void {
  const logger = options.logger ?? rootLogger.child(definition.name);
  const server = createGrpcServer(definition, {
    descriptor: options.descriptor,
    logger,
    onShutdown: () => {
      setTimeout(options.onStopped, options.shutdownGraceMs).unref();
      server.tryShutdown(options.onStopped);
    },
  });
  const { tls } = options;
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(
        Buffer.from(tls.clientCertPem),
        [{ private_key: Buffer.from(tls.certificate.keyPem), cert_chain: Buffer.from(tls.certificate.certPem) }],
        true,
      )
    : grpc.ServerCredentials.createInsecure();
  const injector = server.createConnectionInjector(credentials);
  logger.debug("gRPC server ready", { tls: Boolean(tls) });
  return (socket) => injector.injectConnection(socket);
}
