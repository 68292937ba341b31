/**
 * The engine's side of plan and apply, as OpenTofu does it, for driving
 * resources directly: the proposed new state it sends, and the consistency
 * checks it runs on what comes back ("planned value does not match config",
 * "inconsistent result after apply"). Tests go through these so a resource
 * that would trip the real engine fails here first.
 */
import { isUnknown, type ObjectValue, type ResourceType, type Schema, type Value } from "../../../src/provider/protocol/types";
import type { ProviderContext } from "../../../src/provider/resources/context";

/** The engine's proposed new state: config where set, prior state for computed attributes left null; write-only attributes null. */
export function propose(schema: Schema, prior: ObjectValue | null, config: ObjectValue): ObjectValue {
  const out: Record<string, Value> = {};
  for (const [name, attr] of Object.entries(schema.block.attributes)) {
    const configured = attr.writeOnly ? null : (config[name] ?? null);
    out[name] = configured !== null ? configured : attr.computed ? (prior?.[name] ?? null) : null;
  }
  return out;
}

/** A full config object: every attribute present, null unless given. */
export function configOf(schema: Schema, values: Record<string, Value>): ObjectValue {
  const out: Record<string, Value> = {};
  for (const name of Object.keys(schema.block.attributes)) out[name] = values[name] ?? null;
  return out;
}

function normalize(v: Value, type: unknown): unknown {
  if (Array.isArray(v) && Array.isArray(type) && type[0] === "set") return [...(v as Value[])].map(String).sort();
  return v;
}

function equal(a: Value, b: Value, type: unknown): boolean {
  return JSON.stringify(normalize(a, type)) === JSON.stringify(normalize(b, type));
}

/** The plan-time rules: config values planned exactly, non-computed nulls stay null, known prior values of the first plan kept. */
export function checkPlan(schema: Schema, config: ObjectValue, planned: ObjectValue): void {
  for (const [name, attr] of Object.entries(schema.block.attributes)) {
    const c = config[name] ?? null;
    const p = planned[name];
    if (p === undefined) throw new Error(`planned state lacks attribute ${name}`);
    if (attr.writeOnly) {
      if (p !== null) throw new Error(`planned an actual value for the write-only attribute ${name}`);
      continue;
    }
    if (c !== null && !isUnknown(c) && !equal(c, p, attr.type)) throw new Error(`planned value for ${name} (${String(p)}) does not match config (${String(c)})`);
    if (c === null && !attr.computed && p !== null) throw new Error(`planned value for non-computed ${name} must stay null`);
  }
}

/** The apply-time rule: every known planned value comes back identical, nothing unknown. */
export function checkApply(schema: Schema, planned: ObjectValue, newState: ObjectValue): void {
  for (const [name, attr] of Object.entries(schema.block.attributes)) {
    const n = newState[name];
    if (n === undefined) throw new Error(`new state lacks attribute ${name}`);
    if (isUnknown(n) || (Array.isArray(n) && n.some(isUnknown))) throw new Error(`new state has unknown ${name}`);
    if (attr.writeOnly && n !== null) throw new Error(`returned an actual value for the write-only attribute ${name}`);
    const p = planned[name];
    if (!isUnknown(p) && !equal(p, n, attr.type)) throw new Error(`inconsistent result after apply: ${name} planned ${JSON.stringify(p)}, got ${JSON.stringify(n)}`);
  }
}

export interface Step {
  planned: ObjectValue | null;
  requiresReplace: readonly (readonly (string | number)[])[];
  diagnostics: NonNullable<Awaited<ReturnType<ResourceType["plan"]>>["diagnostics"]>;
}

/** Plans like the engine (twice, as plan and apply phases do) and checks the rules; returns the plan. */
export async function plan(resource: ResourceType<ProviderContext>, ctx: ProviderContext, prior: ObjectValue | null, config: ObjectValue | null): Promise<Step> {
  const request = { priorState: prior, proposedNewState: config && propose(resource.schema, prior, config), config, priorPrivate: new Uint8Array() };
  const first = await resource.plan(ctx, request);
  const second = await resource.plan(ctx, request);
  if (config !== null && first.plannedState !== null) {
    checkPlan(resource.schema, config, first.plannedState);
    for (const [name, v] of Object.entries(first.plannedState)) {
      if (!isUnknown(v) && JSON.stringify(v) !== JSON.stringify(second.plannedState?.[name])) throw new Error(`second plan changed known ${name}`);
    }
  }
  return { planned: first.plannedState, requiresReplace: first.requiresReplace ?? [], diagnostics: first.diagnostics ?? [] };
}

/** Applies a planned change and checks the result like the engine; returns the new state. */
export async function apply(resource: ResourceType<ProviderContext>, ctx: ProviderContext, prior: ObjectValue | null, planned: ObjectValue | null, config: ObjectValue | null) {
  const response = await resource.apply(ctx, { priorState: prior, plannedState: planned, config, plannedPrivate: new Uint8Array() });
  const errors = (response.diagnostics ?? []).filter((d) => d.severity === "error");
  if (errors.length === 0 && planned !== null) {
    if (response.newState === null) throw new Error("apply returned no state");
    checkApply(resource.schema, planned, response.newState);
  }
  return response;
}

/** Plan then apply; throws on error diagnostics. Returns the new state. */
export async function converge(resource: ResourceType<ProviderContext>, ctx: ProviderContext, prior: ObjectValue | null, config: ObjectValue | null): Promise<ObjectValue | null> {
  const step = await plan(resource, ctx, prior, config);
  const planErrors = step.diagnostics.filter((d) => d.severity === "error");
  if (planErrors.length > 0) throw new Error(`plan failed: ${JSON.stringify(planErrors)}`);
  const response = await apply(resource, ctx, prior, step.planned, config);
  const errors = (response.diagnostics ?? []).filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`apply failed: ${JSON.stringify(errors)}`);
  return response.newState;
}

/** True when a plan would show no change: planned equals prior and nothing is replaced. */
export function isNoOp(schema: Schema, prior: ObjectValue, step: Step): boolean {
  if (step.planned === null || step.requiresReplace.length > 0) return false;
  return Object.entries(schema.block.attributes).every(([name, attr]) => !isUnknown(step.planned![name]) && equal(prior[name], step.planned![name], attr.type));
}
