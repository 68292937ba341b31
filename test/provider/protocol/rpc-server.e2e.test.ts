/**
 * The provider's gRPC server (node:http2) at the edges of gRPC over HTTP/2,
 * seen from two independent clients: grpc-js (reflection codecs from the
 * descriptor) and raw node:http2 frames written here by hand.
 */
import * as grpc from "@grpc/grpc-js";
import * as http2 from "node:http2";
import { protocolEnum } from "../../../src/provider/protocol/messages";
import { createRpcServer, encodeGrpcMessage, type RpcServer } from "../../../src/provider/protocol/rpc-server";
import { setLogSink } from "../../../src/provider/protocol/log";
import { NESTING_MODE, SEVERITY, STRING_KIND } from "../../../src/provider/protocol/wire-schema";
import { connect, type Clients } from "./grpc-client";
import { toyProvider } from "./fixtures/toy-provider";

let server: RpcServer;
let port: number;
let c: Clients;
let restoreSink: ReturnType<typeof setLogSink>;

beforeAll(async () => {
  restoreSink = setLogSink(() => undefined);
  server = createRpcServer(toyProvider);
  port = await server.listen("127.0.0.1");
  c = connect(`127.0.0.1:${port}`);
});

afterAll(() => {
  c.close();
  server.destroy();
  setLogSink(restoreSink);
});

/** One raw gRPC call over h2c: returns the HTTP status, gRPC status and message, and the response body. */
function rawCall(path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; grpcStatus?: string; grpcMessage?: string; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    let meta: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => {
      status = Number(h[":status"]);
      meta = h;
    });
    req.on("trailers", (t) => (meta = { ...meta, ...t }));
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      session.close();
      resolve({ status, grpcStatus: meta["grpc-status"] as string | undefined, grpcMessage: meta["grpc-message"] as string | undefined, data: Buffer.concat(chunks) });
    });
    req.end(body);
  });
}

const frame = (message: Buffer, compressed = false) => {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
};

describe("the enum numbers the responses are written with", () => {
  it("are the .proto's", () => {
    const severity = protocolEnum("tfplugin6.Diagnostic.Severity");
    expect(SEVERITY).toEqual({ ERROR: severity.ERROR, WARNING: severity.WARNING });
    expect(STRING_KIND.PLAIN).toBe(protocolEnum("tfplugin6.StringKind").PLAIN);
    const nesting = protocolEnum("tfplugin6.Schema.NestedBlock.NestingMode");
    expect(NESTING_MODE).toEqual({ SINGLE: nesting.SINGLE, LIST: nesting.LIST, SET: nesting.SET });
  });
});

describe("gRPC status", () => {
  it("answers a method of the protocol that the provider does not serve with UNIMPLEMENTED", async () => {
    await expect(c.provider("GetFunctions")).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED, details: expect.stringContaining("GetFunctions") });
  });

  it("answers a path outside the protocol with UNIMPLEMENTED", async () => {
    const res = await rawCall("/nope.Service/Method", frame(Buffer.alloc(0)));
    expect(res).toMatchObject({ status: 200, grpcStatus: String(grpc.status.UNIMPLEMENTED) });
  });

  it("percent-encodes the status message, and grpc-js reads it back", async () => {
    expect(encodeGrpcMessage("ü 100%")).toBe("%C3%BC 100%25");
    await expect(c.health("Check", { service: "dienst-ü 100%" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: "unknown service dienst-ü 100%",
    });
  });

  it("refuses a compressed message, which it never asked for", async () => {
    const res = await rawCall("/tfplugin6.Provider/GetMetadata", frame(Buffer.alloc(0), true));
    expect(res).toMatchObject({ status: 200, grpcStatus: String(grpc.status.UNIMPLEMENTED) });
  });

  it("refuses a unary request with two messages or a truncated one", async () => {
    const two = await rawCall("/tfplugin6.Provider/GetMetadata", Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.alloc(0))]));
    expect(two.grpcStatus).toBe(String(grpc.status.INTERNAL));
    const truncated = await rawCall("/tfplugin6.Provider/GetMetadata", frame(Buffer.from([0x0a, 0x05])).subarray(0, 6));
    expect(truncated.grpcStatus).toBe(String(grpc.status.INTERNAL));
  });

  it("refuses a request that is not gRPC", async () => {
    const res = await rawCall("/tfplugin6.Provider/GetMetadata", Buffer.alloc(0), { "content-type": "application/json" });
    expect(res.status).toBe(415);
  });

  it("answers a well-formed raw request with one framed message and status 0", async () => {
    const res = await rawCall("/tfplugin6.Provider/GetMetadata", frame(Buffer.alloc(0)));
    expect(res).toMatchObject({ status: 200, grpcStatus: "0" });
    expect(res.data[0]).toBe(0);
    expect(res.data.readUInt32BE(1)).toBe(res.data.length - 5);
  });
});

describe("streams", () => {
  it("serves the health watch as a stream that stays open until the server closes", async () => {
    const client = new (grpc.makeGenericClientConstructor({}, "x"))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const statuses: number[] = [];
    const call = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      (arg: Buffer) => arg,
      (bytes: Buffer) => bytes,
      Buffer.from([0x0a, 0x06, ...Buffer.from("plugin")]),
    );
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (bytes: Buffer) => statuses.push(bytes[1]));
      call.on("status", (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
      call.on("error", reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(statuses).toEqual([1]); // SERVING
    server.close();
    await ended;
    client.close();
  });
});
