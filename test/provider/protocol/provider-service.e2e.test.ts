import * as grpc from "@grpc/grpc-js";
import { decode, encode } from "@msgpack/msgpack";
import { decodeObject, encodeDynamicValue } from "../../../src/provider/protocol/codec";
import { createRpcServer, type RpcServer } from "../../../src/provider/protocol/rpc-server";
import { setLogSink } from "../../../src/provider/protocol/log";
import { UNKNOWN, type ObjectValue, type ProviderDefinition } from "../../../src/provider/protocol/types";
import { connect, type Clients } from "./grpc-client";
import { calls, thingSchema, toyProvider, type ToyCtx } from "./fixtures/toy-provider";

const NIL = { msgpack: Buffer.from("c0", "hex") };
const thing = (fields: Partial<Record<string, unknown>> = {}): ObjectValue =>
  ({ id: null, name: "one", size: null, tags: null, secret: null, meta: null, rule: [], ...fields }) as ObjectValue;
const dv = (value: ObjectValue | null) => encodeDynamicValue(value, thingSchema.block);
const rawOf = (value: { msgpack: Buffer }) => decode(value.msgpack);
const logLines: string[] = [];

async function start(definition: ProviderDefinition<ToyCtx>) {
  let shutdowns = 0;
  const server = createRpcServer(definition, { onShutdown: () => shutdowns++ });
  const port = await server.listen("127.0.0.1");
  return { server, clients: connect(`127.0.0.1:${port}`), shutdowns: () => shutdowns };
}

let server: RpcServer;
let c: Clients;
let shutdowns: () => number;
let restoreSink: ReturnType<typeof setLogSink>;

beforeAll(async () => {
  restoreSink = setLogSink((line) => logLines.push(line));
  ({ server, clients: c, shutdowns } = await start(toyProvider));
  await c.provider("ConfigureProvider", { terraform_version: "1.12.6", config: encodeDynamicValue({ prefix: "p" }, toyProvider.schema.block) });
});

afterAll(() => {
  c.close();
  server.destroy();
  setLogSink(restoreSink);
});

describe("metadata and schema", () => {
  it("GetMetadata lists types and capabilities", async () => {
    const res = await c.provider("GetMetadata");
    expect(res.server_capabilities).toMatchObject({ plan_destroy: true, get_provider_schema_optional: true });
    expect(res.resources).toEqual([{ type_name: "toy_thing" }]);
    expect(res.data_sources).toEqual([{ type_name: "toy_echo" }]);
  });

  it("GetProviderSchema converts attributes, types, flags and nested blocks", async () => {
    const res = await c.provider("GetProviderSchema");
    expect(res.server_capabilities).toMatchObject({ plan_destroy: true, get_provider_schema_optional: true });
    expect(res.provider.block.attributes.map((a: { name: string }) => a.name)).toEqual(["prefix"]);
    const schema = res.resource_schemas.toy_thing;
    expect(schema.version).toBe(1);
    const attrs = Object.fromEntries(schema.block.attributes.map((a: { name: string }) => [a.name, a]));
    expect(Object.keys(attrs)).toEqual(["id", "meta", "name", "secret", "size", "tags"]);
    expect(attrs.id).toMatchObject({ computed: true, required: false, optional: false, description: "Identifier.", description_kind: "PLAIN" });
    expect(attrs.name).toMatchObject({ required: true, computed: false });
    expect(attrs.secret).toMatchObject({ optional: true, sensitive: true });
    expect(JSON.parse(Buffer.from(attrs.tags.type).toString())).toEqual(["map", "string"]);
    expect(JSON.parse(Buffer.from(attrs.meta.type).toString())).toBe("dynamic");
    expect(schema.block.block_types).toEqual([
      expect.objectContaining({ type_name: "rule", nesting: "LIST", block: expect.objectContaining({ description: "A rule." }) }),
    ]);
    expect(Object.keys(res.data_source_schemas)).toEqual(["toy_echo"]);
    expect(res.diagnostics).toEqual([]);
  });

  it("GetResourceIdentitySchemas answers with none", async () => {
    expect(await c.provider("GetResourceIdentitySchemas")).toMatchObject({ identity_schemas: {}, diagnostics: [] });
  });
});

describe("validation and configuration", () => {
  it("ValidateProviderConfig returns the provider's warning with its attribute path", async () => {
    const res = await c.provider("ValidateProviderConfig", { config: encodeDynamicValue({ prefix: "" }, toyProvider.schema.block) });
    expect(res.diagnostics).toEqual([
      expect.objectContaining({
        severity: "WARNING",
        summary: "Empty Prefix",
        detail: "prefix is empty",
        attribute: { steps: [expect.objectContaining({ selector: "attribute_name", attribute_name: "prefix" })] },
      }),
    ]);
  });

  it("ValidateResourceConfig maps path names and indexes to attribute steps", async () => {
    const res = await c.provider("ValidateResourceConfig", { type_name: "toy_thing", config: dv(thing({ name: "bad", id: UNKNOWN })) });
    expect(res.diagnostics).toHaveLength(1);
    expect(res.diagnostics[0]).toMatchObject({ severity: "ERROR", summary: "Invalid Name" });
    expect(res.diagnostics[0].attribute.steps).toEqual([
      expect.objectContaining({ selector: "attribute_name", attribute_name: "rule" }),
      expect.objectContaining({ selector: "element_key_int", element_key_int: 0 }),
      expect.objectContaining({ selector: "attribute_name", attribute_name: "port" }),
    ]);
    const ok = await c.provider("ValidateResourceConfig", { type_name: "toy_thing", config: dv(thing()) });
    expect(ok.diagnostics).toEqual([]);
  });

  it("reports unknown resource and data source types as error diagnostics", async () => {
    const res = await c.provider("ValidateResourceConfig", { type_name: "toy_nope", config: dv(thing()) });
    expect(res.diagnostics).toEqual([expect.objectContaining({ severity: "ERROR", summary: "Unknown Resource Type" })]);
    expect(res.diagnostics[0].detail).toContain('"toy_nope"');
    expect(res.diagnostics[0].detail).toContain("toy_thing");
    const data = await c.provider("ValidateDataResourceConfig", { type_name: "toy_nope", config: NIL });
    expect(data.diagnostics).toEqual([expect.objectContaining({ severity: "ERROR", summary: "Unknown Data Source Type" })]);
  });

  it("ValidateDataResourceConfig accepts a valid config", async () => {
    const config = encodeDynamicValue({ input: "x", output: null }, toyProvider.dataSources[0].schema.block);
    expect((await c.provider("ValidateDataResourceConfig", { type_name: "toy_echo", config })).diagnostics).toEqual([]);
  });

  it("ConfigureProvider passes the decoded config and engine version", () => {
    expect(calls.find((x) => x.method === "configure")?.args).toEqual({ config: { prefix: "p" }, meta: { terraformVersion: "1.12.6" } });
  });
});

describe("managed resource lifecycle", () => {
  it("plans a create with computed attributes unknown and the provider's private state", async () => {
    const proposed = thing({ tags: { a: "b" }, meta: { deep: [1, "x"] }, rule: [{ port: 80 }] });
    const res = await c.provider("PlanResourceChange", {
      type_name: "toy_thing",
      prior_state: NIL,
      proposed_new_state: dv(proposed),
      config: dv(proposed),
    });
    expect(res.diagnostics).toEqual([]);
    expect(Buffer.from(res.planned_state.msgpack).includes(Buffer.from("a26964d40000", "hex"))).toBe(true);
    expect(decodeObject(res.planned_state, thingSchema.block)).toEqual({ ...proposed, id: UNKNOWN });
    expect(Buffer.from(res.planned_private).toString()).toBe("planned-by-p");
    expect(res.requires_replace).toEqual([]);
  });

  it("plans an update that requires replacement by attribute path", async () => {
    const prior = thing({ id: "p-one" });
    const proposed = thing({ id: "p-one", name: "two" });
    const res = await c.provider("PlanResourceChange", {
      type_name: "toy_thing",
      prior_state: dv(prior),
      proposed_new_state: dv(proposed),
      config: dv(thing({ name: "two" })),
      prior_private: Buffer.from("etag-1"),
    });
    expect(res.requires_replace).toEqual([{ steps: [expect.objectContaining({ attribute_name: "name" })] }]);
    expect(decodeObject(res.planned_state, thingSchema.block)).toEqual(proposed);
  });

  it("passes a destroy plan through with null config and proposed state, and returns null", async () => {
    calls.length = 0;
    const res = await c.provider("PlanResourceChange", {
      type_name: "toy_thing",
      prior_state: dv(thing({ id: "p-one" })),
      proposed_new_state: NIL,
      config: NIL,
      prior_private: Buffer.from("etag-2"),
    });
    expect(Buffer.from(res.planned_state.msgpack).toString("hex")).toBe("c0");
    expect(Buffer.from(res.planned_private).toString()).toBe("etag-2");
    expect(calls[0]).toMatchObject({ method: "plan", args: { proposedNewState: null, config: null, priorState: { id: "p-one" } } });
  });

  it("applies a create: the new state and the private state", async () => {
    const planned = thing({ id: UNKNOWN, size: 2.5 });
    const res = await c.provider("ApplyResourceChange", {
      type_name: "toy_thing",
      prior_state: NIL,
      planned_state: dv(planned),
      config: dv(thing({ size: 2.5 })),
      planned_private: Buffer.from("planned-by-p"),
    });
    expect(res.diagnostics).toEqual([]);
    expect(decodeObject(res.new_state, thingSchema.block)).toEqual({ ...planned, id: "p-one" });
    expect(Buffer.from(res.private).toString()).toBe("planned-by-p+applied");
  });

  it("applies a destroy as a null new state", async () => {
    const res = await c.provider("ApplyResourceChange", { type_name: "toy_thing", prior_state: dv(thing({ id: "x" })), planned_state: NIL, config: NIL });
    expect(Buffer.from(res.new_state.msgpack).toString("hex")).toBe("c0");
  });

  it("reads a resource, passing the private state through unchanged", async () => {
    const current = thing({ id: "p-one", tags: { k: "v" } });
    const res = await c.provider("ReadResource", { type_name: "toy_thing", current_state: dv(current), private: Buffer.from("etag-3") });
    expect(decodeObject(res.new_state, thingSchema.block)).toEqual(current);
    expect(Buffer.from(res.private).toString()).toBe("etag-3");
    const gone = await c.provider("ReadResource", { type_name: "toy_thing", current_state: dv(thing({ name: "gone" })) });
    expect(Buffer.from(gone.new_state.msgpack).toString("hex")).toBe("c0");
  });

  it("imports one complete object with its private state", async () => {
    const res = await c.provider("ImportResourceState", { type_name: "toy_thing", id: "abc" });
    expect(res.imported_resources).toHaveLength(1);
    expect(res.imported_resources[0].type_name).toBe("toy_thing");
    expect(decodeObject(res.imported_resources[0].state, thingSchema.block)).toEqual(thing({ id: "abc", name: "imported-abc" }));
    expect(Buffer.from(res.imported_resources[0].private).toString()).toBe("import-p");
  });

  it("turns an exception in a resource into an error diagnostic", async () => {
    const config = dv(thing({ name: "explode" }));
    const res = await c.provider("PlanResourceChange", { type_name: "toy_thing", prior_state: NIL, proposed_new_state: config, config });
    expect(res.diagnostics).toEqual([
      expect.objectContaining({ severity: "ERROR", summary: "Unexpected Provider Error", detail: "the toy exploded" }),
    ]);
    expect(logLines.some((l) => JSON.parse(l)["@level"] === "error" && l.includes("the toy exploded"))).toBe(true);
  });

  it("turns a value that does not match the schema into an error diagnostic naming the attribute", async () => {
    const bad = { msgpack: Buffer.from(encode({ ...thing(), extra: 1 })) };
    const res = await c.provider("ReadResource", { type_name: "toy_thing", current_state: bad });
    expect(res.diagnostics[0]).toMatchObject({ severity: "ERROR", summary: "Unexpected Provider Error" });
    expect(res.diagnostics[0].detail).toContain('unexpected attribute "extra"');
  });

  it("accepts and returns messages larger than grpc-js' 4 MiB default", async () => {
    const current = thing({ id: "big", meta: "x".repeat(5 * 1024 * 1024) });
    const res = await c.provider("ReadResource", { type_name: "toy_thing", current_state: dv(current) });
    expect(decodeObject(res.new_state, thingSchema.block)).toEqual(current);
  });
});

describe("state upgrade", () => {
  it("calls the resource's upgrade with the raw JSON and re-encodes msgpack", async () => {
    const res = await c.provider("UpgradeResourceState", {
      type_name: "toy_thing",
      version: 0,
      raw_state: { json: Buffer.from(JSON.stringify({ id: "x", title: "old" })) },
    });
    expect(res.diagnostics).toEqual([]);
    expect(rawOf(res.upgraded_state)).toEqual({ id: "x", meta: null, name: "old", rule: [], secret: null, size: null, tags: null });
  });

  describe("without an upgrade function", () => {
    let plain: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      plain = await start({ ...toyProvider, resources: [{ ...toyProvider.resources[0], upgrade: undefined }] });
    });
    afterAll(() => {
      plain.clients.close();
      plain.server.destroy();
    });

    it("keeps the stored state, adding attributes as null and dropping removed ones", async () => {
      const stored = { id: "x", name: "n", size: 3, dropped: true, rule: [{ port: 22 }], meta: { value: "v", type: "string" } };
      const res = await plain.clients.provider("UpgradeResourceState", {
        type_name: "toy_thing",
        version: 1,
        raw_state: { json: Buffer.from(JSON.stringify(stored)) },
      });
      expect(res.diagnostics).toEqual([]);
      expect(decodeObject(res.upgraded_state, thingSchema.block)).toEqual(
        thing({ id: "x", name: "n", size: 3, rule: [{ port: 22 }], meta: "v" }),
      );
    });

    it("refuses state from a newer schema version and legacy flatmap state", async () => {
      const newer = await plain.clients.provider("UpgradeResourceState", {
        type_name: "toy_thing",
        version: 2,
        raw_state: { json: Buffer.from("{}") },
      });
      expect(newer.diagnostics).toEqual([expect.objectContaining({ severity: "ERROR", summary: "Resource State From A Newer Provider" })]);
      const flat = await plain.clients.provider("UpgradeResourceState", { type_name: "toy_thing", version: 1, raw_state: { flatmap: { id: "x" } } });
      expect(flat.diagnostics).toEqual([expect.objectContaining({ severity: "ERROR", summary: "Unsupported State Format" })]);
    });
  });
});

describe("data sources, stop, health, shutdown", () => {
  it("reads a data source", async () => {
    const block = toyProvider.dataSources[0].schema.block;
    const res = await c.provider("ReadDataSource", { type_name: "toy_echo", config: encodeDynamicValue({ input: "in", output: null }, block) });
    expect(decodeObject(res.state, block)).toEqual({ input: "in", output: "p:in" });
  });

  it("StopProvider calls the definition's stop and keeps serving", async () => {
    calls.length = 0;
    expect(await c.provider("StopProvider")).toEqual({ Error: "" });
    expect(calls.map((x) => x.method)).toEqual(["stop"]);
    expect((await c.provider("GetMetadata")).resources).toHaveLength(1);
  });

  it("answers the go-plugin health check for service plugin", async () => {
    expect(await c.health("Check", { service: "plugin" })).toEqual({ status: "SERVING" });
    await expect(c.health("Check", { service: "other" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("replies to GRPCController/Shutdown, then signals shutdown", async () => {
    expect(await c.controller("Shutdown")).toEqual({});
    await new Promise((r) => setImmediate(r));
    expect(shutdowns()).toBe(1);
  });
});
