/**
 * Ephemeral resources over the wire: schema and metadata list them, open
 * decodes the configuration and the client capabilities and returns the
 * result, private bytes and renew_at; renew and close get only the private
 * bytes. A provider without ephemeral resources answers as before.
 */
import * as grpc from "@grpc/grpc-js";
import { decodeObject, encodeDynamicValue } from "../../../src/provider/protocol/codec";
import { createRpcServer, type RpcServer } from "../../../src/provider/protocol/rpc-server";
import { setLogSink } from "../../../src/provider/protocol/log";
import type { EphemeralResourceType, ProviderDefinition, Schema } from "../../../src/provider/protocol/types";
import { connect, type Clients } from "./grpc-client";
import { toyProvider, type ToyCtx } from "./fixtures/toy-provider";

const tokenSchema: Schema = {
  version: 0,
  block: {
    description: "A token for one run.",
    attributes: {
      audience: { type: "string", description: "Who it is for.", required: true },
      value: { type: "string", description: "The token.", computed: true, sensitive: true },
    },
  },
};

const seen: { method: string; args: unknown }[] = [];
const RENEW_AT = new Date("2030-01-02T03:04:05.678Z");

const token: EphemeralResourceType<ToyCtx> = {
  name: "toy_token",
  schema: tokenSchema,
  validate: ({ config }) => (config.audience === "" ? [{ severity: "error", summary: "Empty Audience", detail: "Name an audience.", path: ["audience"] }] : []),
  async open(ctx, req) {
    seen.push({ method: "open", args: req });
    return { result: { ...req.config, value: `${ctx.prefix}-${String(req.config.audience)}` }, private: Buffer.from("handle-1"), renewAt: RENEW_AT };
  },
  async renew(_ctx, req) {
    seen.push({ method: "renew", args: Buffer.from(req.private).toString() });
    return { private: Buffer.from("handle-2") };
  },
  async close(_ctx, req) {
    seen.push({ method: "close", args: Buffer.from(req.private).toString() });
    return {};
  },
};

const withToken: ProviderDefinition<ToyCtx> = { ...toyProvider, ephemeralResources: [token] };
const dv = (audience: string) => encodeDynamicValue({ audience, value: null }, tokenSchema.block);

async function start(definition: ProviderDefinition<ToyCtx>): Promise<{ server: RpcServer; clients: Clients }> {
  const server = createRpcServer(definition);
  const port = await server.listen("127.0.0.1");
  const clients = connect(`127.0.0.1:${port}`);
  await clients.provider("ConfigureProvider", { terraform_version: "1.12.6", config: encodeDynamicValue({ prefix: "p" }, toyProvider.schema.block) });
  return { server, clients };
}

let restoreSink: ReturnType<typeof setLogSink>;
beforeAll(() => {
  restoreSink = setLogSink(() => undefined);
});
afterAll(() => setLogSink(restoreSink));

describe("a provider with an ephemeral resource", () => {
  let server: RpcServer;
  let c: Clients;
  beforeAll(async () => ({ server, clients: c } = await start(withToken)));
  afterAll(() => {
    c.close();
    server.destroy();
  });

  it("lists it in GetMetadata and GetProviderSchema", async () => {
    expect((await c.provider("GetMetadata")).ephemeral_resources).toEqual([{ type_name: "toy_token" }]);
    const schema = (await c.provider("GetProviderSchema")).ephemeral_resource_schemas.toy_token;
    expect(schema.block.attributes.map((a: { name: string }) => a.name)).toEqual(["audience", "value"]);
    expect(schema.block.attributes[1]).toMatchObject({ computed: true, sensitive: true });
  });

  it("validates the configuration", async () => {
    const res = await c.provider("ValidateEphemeralResourceConfig", { type_name: "toy_token", config: dv("") });
    expect(res.diagnostics).toEqual([expect.objectContaining({ severity: "ERROR", summary: "Empty Audience" })]);
    expect((await c.provider("ValidateEphemeralResourceConfig", { type_name: "toy_token", config: dv("ci") })).diagnostics).toEqual([]);
  });

  it("opens with the capabilities, and returns result, private and renew_at", async () => {
    seen.length = 0;
    const res = await c.provider("OpenEphemeralResource", {
      type_name: "toy_token",
      config: dv("ci"),
      client_capabilities: { deferral_allowed: false, write_only_attributes_allowed: true },
    });
    expect(res.diagnostics).toEqual([]);
    expect(decodeObject(res.result, tokenSchema.block)).toEqual({ audience: "ci", value: "p-ci" });
    expect(Buffer.from(res.private).toString()).toBe("handle-1");
    expect(new Date(res.renew_at.seconds * 1000 + res.renew_at.nanos / 1e6).toISOString()).toBe(RENEW_AT.toISOString());
    expect(seen[0].args).toMatchObject({ clientCapabilities: { deferralAllowed: false, writeOnlyAttributesAllowed: true } });
  });

  it("reads absent capabilities (engines before protocol 6.8) as all false", async () => {
    seen.length = 0;
    await c.provider("OpenEphemeralResource", { type_name: "toy_token", config: dv("ci") });
    expect(seen[0].args).toMatchObject({ clientCapabilities: { deferralAllowed: false, writeOnlyAttributesAllowed: false } });
  });

  it("renews and closes with the private bytes only", async () => {
    seen.length = 0;
    const renewed = await c.provider("RenewEphemeralResource", { type_name: "toy_token", private: Buffer.from("handle-1") });
    expect(Buffer.from(renewed.private).toString()).toBe("handle-2");
    expect(renewed.renew_at ?? null).toBeNull();
    expect((await c.provider("CloseEphemeralResource", { type_name: "toy_token", private: Buffer.from("handle-2") })).diagnostics).toEqual([]);
    expect(seen).toEqual([
      { method: "renew", args: "handle-1" },
      { method: "close", args: "handle-2" },
    ]);
  });

  it("names the known types for an unknown one", async () => {
    const res = await c.provider("OpenEphemeralResource", { type_name: "toy_nope", config: dv("ci") });
    expect(res.diagnostics).toEqual([expect.objectContaining({ summary: "Unknown Ephemeral Resource Type", detail: expect.stringContaining("toy_token") })]);
  });
});

describe("a provider without ephemeral resources", () => {
  let server: RpcServer;
  let c: Clients;
  beforeAll(async () => ({ server, clients: c } = await start(toyProvider)));
  afterAll(() => {
    c.close();
    server.destroy();
  });

  it("lists none and serves the rest unchanged", async () => {
    expect((await c.provider("GetMetadata")).ephemeral_resources).toEqual([]);
    const schema = await c.provider("GetProviderSchema");
    expect(schema.ephemeral_resource_schemas).toEqual({});
    expect(Object.keys(schema.resource_schemas)).toEqual(["toy_thing"]);
  });
});
