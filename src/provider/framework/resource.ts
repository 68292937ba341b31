import {
  UNKNOWN,
  isUnknown,
  type ApplyResponse,
  type ClientCapabilities,
  type AttributePath,
  type DataSourceType,
  type Diagnostic,
  type ImportResponse,
  type ObjectValue,
  type PlanResponse,
  type ReadResponse,
  type ResourceType,
  type Value,
} from "../protocol/types";
import { attributeValue, type Attributes, type ConfigOf, type PlannedOf, type StateOf, type TypedSchema } from "./schema";

type S<A extends Attributes> = { attributes: A };

/** What a resource's plan step may add to the framework's plan. */
export interface PlanAdjustment<A extends Attributes> {
  /** Planned values the resource knows better (a value apply will produce, or UNKNOWN). */
  planned?: { readonly [K in keyof A]?: Value };
  diagnostics?: Diagnostic[];
}

/**
 * A managed resource: its schema and its API calls. The framework plans
 * (computed values unknown on create, prior values kept by
 * `useStateForUnknown`, `requiresReplace` paths) and dispatches apply to
 * create, update or delete.
 */
export interface ResourceDefinition<Ctx, A extends Attributes> {
  name: string;
  schema: TypedSchema<A>;
  /**
   * The configuration alone; `raw` for checks of the known elements of a
   * partly unknown collection. Write-only values on an engine that would
   * store them are refused by the framework before this runs.
   */
  validate?(config: ConfigOf<S<A>>, raw: ObjectValue, capabilities: ClientCapabilities): Diagnostic[];
  /** Adjusts the plan; `prior` is null on create. Not called for destroy. */
  plan?(ctx: Ctx, req: { config: ConfigOf<S<A>>; prior: StateOf<S<A>> | null }): PlanAdjustment<A> | Promise<PlanAdjustment<A>>;
  /** `config` is where write-only values arrive (the planned state holds null for them). */
  create(ctx: Ctx, req: { planned: PlannedOf<S<A>>; plannedState: ObjectValue; config: ConfigOf<S<A>> }): Promise<ApplyResponse>;
  read(ctx: Ctx, req: { state: StateOf<S<A>>; currentState: ObjectValue }): Promise<ReadResponse>;
  update(ctx: Ctx, req: { prior: StateOf<S<A>>; priorState: ObjectValue; planned: PlannedOf<S<A>>; plannedState: ObjectValue; config: ConfigOf<S<A>> }): Promise<ApplyResponse>;
  delete(ctx: Ctx, req: { prior: StateOf<S<A>>; priorState: ObjectValue }): Promise<ApplyResponse>;
  importState?(ctx: Ctx, id: string): Promise<ImportResponse>;
}

/** Engines that keep write-only attributes out of plan and state (protocol 6.8+), for diagnostics. */
export const WRITE_ONLY_ENGINES = "OpenTofu 1.11 or later, or Terraform 1.11 or later";

export function defineResource<Ctx, A extends Attributes>(definition: ResourceDefinition<Ctx, A>): ResourceType<Ctx> {
  const { schema } = definition;
  const writeOnly = Object.keys(schema.attributes).filter((name) => schema.attributes[name].writeOnly);
  // Every state the engine gets holds null for a write-only attribute (the engine refuses anything else).
  const scrub = <T extends ObjectValue | null>(obj: T): T => (obj === null || writeOnly.length === 0 ? obj : ({ ...obj, ...Object.fromEntries(writeOnly.map((n) => [n, null])) } as T));
  const scrubbed = <R extends { newState: ObjectValue | null }>(response: R): R => ({ ...response, newState: scrub(response.newState) });
  return {
    name: definition.name,
    schema: schema.schema,
    validate: ({ config, clientCapabilities }) => {
      const capabilities = clientCapabilities ?? { deferralAllowed: false, writeOnlyAttributesAllowed: false };
      const refused = capabilities.writeOnlyAttributesAllowed ? [] : writeOnly.filter((name) => (config[name] ?? null) !== null).map((name) => writeOnlyRefusal(definition.name, name));
      return [...refused, ...(definition.validate ? definition.validate(schema.config(config), config, capabilities) : [])];
    },

    async plan(ctx, { priorState, proposedNewState, config }) {
      if (proposedNewState === null || config === null) return { plannedState: null };
      const planned = basePlan(schema.attributes, priorState && scrub(priorState), scrub(proposedNewState), config);
      const adjusted = definition.plan ? await definition.plan(ctx, { config: schema.config(config), prior: priorState && schema.state(priorState) }) : {};
      const response: PlanResponse = { plannedState: scrub({ ...planned, ...(adjusted.planned as ObjectValue | undefined) }) };
      if (priorState !== null) response.requiresReplace = replacePaths(schema.attributes, priorState, config);
      if (adjusted.diagnostics) response.diagnostics = adjusted.diagnostics;
      return response;
    },

    async apply(ctx, { priorState, plannedState, config }) {
      if (plannedState === null) {
        if (priorState === null) throw new Error("apply with neither prior nor planned state");
        return scrubbed(await definition.delete(ctx, { prior: schema.state(priorState), priorState }));
      }
      const typedConfig = schema.config(config ?? plannedState);
      if (priorState === null) return scrubbed(await definition.create(ctx, { planned: schema.planned(plannedState), plannedState, config: typedConfig }));
      return scrubbed(await definition.update(ctx, { prior: schema.state(priorState), priorState, planned: schema.planned(plannedState), plannedState, config: typedConfig }));
    },

    read: async (ctx, { currentState }) => scrubbed(await definition.read(ctx, { state: schema.state(currentState), currentState })),
    importState:
      definition.importState &&
      (async (ctx, id) => {
        const result = await definition.importState!(ctx, id);
        return { ...result, imported: result.imported.map((item) => ({ ...item, state: scrub(item.state) })) };
      }),
  };
}

/**
 * A write-only value on an engine that does not know write-only attributes
 * (Terraform 1.5 and other engines before protocol 6.8) would be stored in
 * plan and state like any other: refuse it instead, saying which engines
 * keep it out.
 */
function writeOnlyRefusal(type: string, name: string): Diagnostic {
  return {
    severity: "error",
    summary: "Write-Only Attribute Not Supported By This Engine",
    detail: `${type}.${name} is write-only: its value must never be stored in plan or state, and this engine does not support write-only attributes, so it would store it. Use ${WRITE_ONLY_ENGINES}, or remove ${name} (and its *_version) and let Postscale generate the secret.`,
    path: [name],
  };
}

/**
 * The plan before the resource's own step: a computed attribute the
 * configuration leaves null is unknown on create; on update it keeps its
 * prior value with `useStateForUnknown`, else it is unknown when anything
 * else changes.
 */
function basePlan(attributes: Attributes, prior: ObjectValue | null, proposed: ObjectValue, config: ObjectValue): ObjectValue {
  const planned: Record<string, Value> = { ...proposed };
  // Write-only values are in the configuration only: they neither change a plan nor stay in it.
  config = Object.fromEntries(Object.entries(config).map(([name, v]) => [name, attributes[name]?.writeOnly ? null : v]));
  const derived = Object.entries(attributes).filter(([name, a]) => a.computed && (config[name] ?? null) === null);
  if (prior === null) {
    for (const [name] of derived) planned[name] = UNKNOWN;
    return planned;
  }
  for (const [name, a] of derived) if (a.useStateForUnknown) planned[name] = prior[name] ?? null;
  const changes = Object.entries(attributes).some(([name, a]) => !equal(attributeValue(a, planned, name), attributeValue(a, prior, name)));
  if (changes) for (const [name, a] of derived) if (!a.useStateForUnknown) planned[name] = UNKNOWN;
  return planned;
}

/** The `requiresReplace` attributes whose configured value is not the prior one (by `sameValue` when both are set). */
function replacePaths(attributes: Attributes, prior: ObjectValue, config: ObjectValue): AttributePath[] {
  return Object.entries(attributes)
    .filter(([name, a]) => {
      if (!a.requiresReplace) return false;
      const c = attributeValue(a, config, name);
      const p = attributeValue(a, prior, name);
      if (a.sameValue && !isUnknown(c) && c !== null && p !== null) return !a.sameValue(c as never, p as never);
      return !equal(c, p);
    })
    .map(([name]) => [name]);
}

/** Two decoded values are equal; an unknown one never is. */
function equal(a: Value, b: Value): boolean {
  return !isUnknown(a) && !isUnknown(b) && JSON.stringify(a) === JSON.stringify(b);
}

/** A data source: its schema and its read. */
export interface DataSourceDefinition<Ctx, A extends Attributes> {
  name: string;
  schema: TypedSchema<A>;
  validate?(config: ConfigOf<S<A>>): Diagnostic[];
  /** The configuration is known at read (the engine defers the read otherwise). */
  read(ctx: Ctx, config: StateOf<S<A>>): Promise<{ state: ObjectValue | null; diagnostics?: Diagnostic[] }>;
}

export function defineDataSource<Ctx, A extends Attributes>(definition: DataSourceDefinition<Ctx, A>): DataSourceType<Ctx> {
  const { schema } = definition;
  return {
    name: definition.name,
    schema: schema.schema,
    validate: definition.validate && (({ config }) => definition.validate!(schema.config(config))),
    read: (ctx, { config }) => definition.read(ctx, schema.state(config)),
  };
}
