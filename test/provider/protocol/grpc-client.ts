/**
 * A grpc-js client for the protocol tests: an independent gRPC
 * implementation, with codecs built by reflection (proto-loader) from the
 * descriptor .gen/tfplugin6.json, where the provider's server uses node:http2
 * and the static codecs generated from the same protocol. Calls return
 * promises.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { MAX_MESSAGE_BYTES } from "../../../src/provider/protocol/rpc-server";

export type Call = (method: string, request?: object) => Promise<any>;

export interface Clients {
  provider: Call;
  controller: Call;
  health: Call;
  close(): void;
}

function lookup(pkg: grpc.GrpcObject, dotted: string): grpc.ServiceClientConstructor {
  let node: unknown = pkg;
  for (const part of dotted.split(".")) node = (node as Record<string, unknown>)[part];
  return node as grpc.ServiceClientConstructor;
}

function promisify(client: grpc.Client): Call {
  return (method, request = {}) =>
    new Promise((resolve, reject) => {
      (client as unknown as Record<string, Function>)[method](request, (err: grpc.ServiceError | null, res: unknown) =>
        err ? reject(err) : resolve(res),
      );
    });
}

/** proto-loader's reading of the descriptor: the .proto's names, enums as strings, int64 as numbers, defaults filled. */
function loadGrpcPackage(): grpc.GrpcObject {
  const descriptor = require("../../../.gen/tfplugin6.json") as Parameters<typeof protoLoader.fromJSON>[0];
  return grpc.loadPackageDefinition(protoLoader.fromJSON(descriptor, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true }));
}

/** Connects to `target` with `credentials` (insecure by default). */
export function connect(target: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): Clients {
  const pkg = loadGrpcPackage();
  const channelOptions = { "grpc.max_send_message_length": MAX_MESSAGE_BYTES, "grpc.max_receive_message_length": MAX_MESSAGE_BYTES, ...options };
  const clients = ["tfplugin6.Provider", "plugin.GRPCController", "grpc.health.v1.Health"].map(
    (name) => new (lookup(pkg, name))(target, credentials, channelOptions),
  );
  return {
    provider: promisify(clients[0]),
    controller: promisify(clients[1]),
    health: promisify(clients[2]),
    close: () => clients.forEach((c) => c.close()),
  };
}
