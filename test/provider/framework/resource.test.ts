import { defineDataSource, defineResource } from "../../../src/provider/framework/resource";
import { defineSchema } from "../../../src/provider/framework/schema";
import { UNKNOWN, type ObjectValue } from "../../../src/provider/protocol/types";

const schema = defineSchema({
  description: "A thing.",
  attributes: {
    id: { type: "string", computed: true, useStateForUnknown: true, description: "Id." },
    name: { type: "string", required: true, requiresReplace: true, sameValue: (a: string, b: string) => a.toLowerCase() === b.toLowerCase(), description: "Name." },
    size: { type: "number", optional: true, description: "Size." },
    tags: { type: ["set", "string"], optional: true, computed: true, useStateForUnknown: true, description: "Tags." },
    etag: { type: "string", computed: true, description: "Changes on every write." },
  },
});

const calls: string[] = [];
const thing = defineResource<null, typeof schema.attributes>({
  name: "toy_thing",
  schema,
  plan: (_ctx, { prior }) => (prior === null ? { planned: { id: "fixed" } } : {}),
  create: async (_ctx, { planned }) => (calls.push(`create ${planned.name}`), { newState: null }),
  read: async (_ctx, { state }) => (calls.push(`read ${state.id}`), { newState: null }),
  update: async (_ctx, { prior, planned }) => (calls.push(`update ${prior.name}->${planned.name}`), { newState: null }),
  delete: async (_ctx, { prior }) => (calls.push(`delete ${prior.name}`), { newState: null }),
});

const prior: ObjectValue = { id: "fixed", name: "a", size: 1, tags: ["y", "x"], etag: "e1" };
const config = (values: Partial<Record<keyof typeof schema.attributes, ObjectValue[string]>>): ObjectValue => ({ id: null, name: "a", size: 1, tags: null, etag: null, ...values });
/** What the engine proposes: config, and prior values of computed attributes left null. */
const propose = (cfg: ObjectValue, from: ObjectValue | null): ObjectValue =>
  Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, v !== null ? v : thing.schema.block.attributes[k].computed ? (from?.[k] ?? null) : null]));
const plan = (from: ObjectValue | null, cfg: ObjectValue) => thing.plan(null, { priorState: from, proposedNewState: propose(cfg, from), config: cfg, priorPrivate: new Uint8Array() });

describe("defineResource", () => {
  it("serves the schema without the planner's flags", () => {
    expect(thing.schema.block.attributes.name).toEqual({ type: "string", required: true, description: "Name." });
  });

  it("plans computed values unknown on create, then applies the resource's own values", async () => {
    expect(await plan(null, config({}))).toEqual({ plannedState: { id: "fixed", name: "a", size: 1, tags: UNKNOWN, etag: UNKNOWN } });
  });

  it("keeps prior values of useStateForUnknown attributes; others are unknown only when something changes", async () => {
    expect(await plan(prior, config({}))).toEqual({ plannedState: prior, requiresReplace: [] });
    expect(await plan(prior, config({ size: 2 }))).toEqual({ plannedState: { ...prior, size: 2, etag: UNKNOWN }, requiresReplace: [] });
  });

  it("requires replacement when a requiresReplace value differs by sameValue, or is unknown", async () => {
    expect((await plan(prior, config({ name: "A" }))).requiresReplace).toEqual([]);
    expect((await plan(prior, config({ name: "b" }))).requiresReplace).toEqual([["name"]]);
    expect((await plan(prior, config({ name: UNKNOWN }))).requiresReplace).toEqual([["name"]]);
  });

  it("plans destroy as null", async () => {
    expect(await thing.plan(null, { priorState: prior, proposedNewState: null, config: null, priorPrivate: new Uint8Array() })).toEqual({ plannedState: null });
  });

  it("dispatches apply to create, update or delete, and read with typed state", async () => {
    calls.length = 0;
    const apply = (from: ObjectValue | null, to: ObjectValue | null) => thing.apply(null, { priorState: from, plannedState: to, config: to, plannedPrivate: new Uint8Array() });
    await apply(null, prior);
    await apply(prior, { ...prior, name: "b" });
    await apply(prior, null);
    await thing.read(null, { currentState: prior, private: new Uint8Array() });
    expect(calls).toEqual(["create a", "update a->b", "delete a", "read fixed"]);
  });
});

describe("typed readers", () => {
  it("decode by type: sets sorted, a partly unknown value unknown, another type null", () => {
    const values = schema.config({ id: null, name: "n", size: "big", tags: ["b", "a"], etag: UNKNOWN });
    expect({ ...values }).toEqual({ id: null, name: "n", size: null, tags: ["a", "b"], etag: UNKNOWN });
    expect(schema.config({ ...prior, tags: ["a", UNKNOWN] }).tags).toBe(UNKNOWN);
  });

  it("throw on reading a required value that is missing from state, and only when it is read", () => {
    const state = schema.state({ ...prior, name: null });
    expect(state.id).toBe("fixed");
    expect(() => state.name).toThrow('attribute "name" must be a known string here');
  });

  it("give data sources their configuration as known values", async () => {
    const lookup = defineDataSource<null, typeof schema.attributes>({ name: "toy_lookup", schema, read: async (_ctx, cfg) => ({ state: { ...prior, name: cfg.name } }) });
    expect((await lookup.read(null, { config: config({ name: "z" }) })).state).toMatchObject({ name: "z" });
  });
});
