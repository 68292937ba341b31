import { defineEphemeralResource } from "../../../src/provider/framework/ephemeral";
import { defineSchema } from "../../../src/provider/framework/schema";
import { UNKNOWN, type ClientCapabilities, type ObjectValue } from "../../../src/provider/protocol/types";

const schema = defineSchema({
  description: "A token for one run.",
  attributes: {
    audience: { type: "string", required: true, description: "Who it is for." },
    ttl: { type: "string", optional: true, computed: true, description: "How long it lives." },
    value: { type: "string", computed: true, sensitive: true, description: "The token." },
    note: { type: "string", computed: true, description: "Left null." },
  },
});

const calls: string[] = [];
const token = defineEphemeralResource<null, typeof schema.attributes, { id: string; n: number }>({
  name: "toy_token",
  schema,
  validate: (config) => (config.audience === "" ? [{ severity: "error", summary: "Empty Audience", path: ["audience"] }] : []),
  async open(_ctx, { config, clientCapabilities }) {
    calls.push(`open ${config.audience} ${clientCapabilities.writeOnlyAttributesAllowed}`);
    if (config.audience === "refused") return { diagnostics: [{ severity: "error", summary: "Refused" }] };
    if (config.audience === "half") return { result: { value: UNKNOWN } };
    return { result: { ttl: config.ttl ?? "15m", value: `secret-for-${config.audience}` }, private: { id: "t1", n: 1 }, renewAt: new Date(0) };
  },
  async renew(_ctx, { private: handle }) {
    calls.push(`renew ${handle.id} ${handle.n}`);
    return { private: { ...handle, n: handle.n + 1 } };
  },
  async close(_ctx, { private: handle }) {
    calls.push(`close ${handle.id} ${handle.n}`);
    return {};
  },
});

const caps: ClientCapabilities = { deferralAllowed: false, writeOnlyAttributesAllowed: true };
const config = (values: Partial<Record<keyof typeof schema.attributes, ObjectValue[string]>>): ObjectValue => ({ audience: "ci", ttl: null, value: null, note: null, ...values });
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

beforeEach(() => (calls.length = 0));

describe("defineEphemeralResource", () => {
  it("validates with the typed reader, unknown values included", () => {
    expect(token.validate!({ config: config({ audience: "" }) })).toEqual([{ severity: "error", summary: "Empty Audience", path: ["audience"] }]);
    expect(token.validate!({ config: config({ audience: UNKNOWN }) })).toEqual([]);
  });

  it("opens: the result is the configuration with the computed values, every attribute present; the handle travels as JSON", async () => {
    const opened = await token.open(null, { config: config({}), clientCapabilities: caps });
    expect(opened.result).toEqual({ audience: "ci", ttl: "15m", value: "secret-for-ci", note: null });
    expect(JSON.parse(Buffer.from(opened.private!).toString())).toEqual({ id: "t1", n: 1 });
    expect(opened.renewAt).toEqual(new Date(0));
    expect(calls).toEqual(["open ci true"]);
  });

  it("keeps a configured optional+computed value", async () => {
    expect((await token.open(null, { config: config({ ttl: "5m" }), clientCapabilities: caps })).result).toMatchObject({ ttl: "5m" });
  });

  it("returns no result with an error, and refuses a result that is not wholly known", async () => {
    expect(await token.open(null, { config: config({ audience: "refused" }), clientCapabilities: caps })).toEqual({
      result: null,
      private: undefined,
      renewAt: undefined,
      diagnostics: [{ severity: "error", summary: "Refused" }],
    });
    await expect(token.open(null, { config: config({ audience: "half" }), clientCapabilities: caps })).rejects.toThrow(/left value unknown/);
  });

  it("renews and closes with the typed handle; close without a handle does nothing", async () => {
    const renewed = await token.renew!(null, { private: bytes({ id: "t1", n: 1 }) });
    expect(JSON.parse(Buffer.from(renewed.private!).toString())).toEqual({ id: "t1", n: 2 });
    expect(await token.close!(null, { private: bytes({ id: "t1", n: 2 }) })).toEqual({});
    expect(await token.close!(null, { private: new Uint8Array() })).toEqual({});
    expect(calls).toEqual(["renew t1 1", "close t1 2"]);
  });

  it("never asks for renewal when the type cannot renew", async () => {
    const once = defineEphemeralResource<null, typeof schema.attributes, { id: string }>({
      name: "toy_once",
      schema,
      open: async () => ({ result: { value: "v" }, private: { id: "x" }, renewAt: new Date(0) }),
    });
    const opened = await once.open(null, { config: config({}), clientCapabilities: caps });
    expect(opened.renewAt).toBeUndefined();
    expect(once.renew).toBeUndefined();
    expect(once.close).toBeUndefined();
  });
});
