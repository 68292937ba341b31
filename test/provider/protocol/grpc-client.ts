/**
 * A grpc-js client for the protocol tests, made from the same generated
 * descriptor the server uses. Calls return promises.
 */
import * as grpc from "@grpc/grpc-js";
import { loadGrpcPackage } from "../../../src/provider/protocol/descriptor";
import { MAX_MESSAGE_BYTES } from "../../../src/provider/protocol/grpc-server";

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
