import { UNKNOWN, isUnknown, type Attribute, type CtyType, type ObjectValue, type Schema, type Unknown, type Value } from "../protocol/types";

/** An attribute: what the engine sees (type, required/optional/computed, description) plus how the planner treats it. */
export interface AttributeSpec extends Attribute {
  /** A change of the configured value replaces the object (its path goes into the plan's requires_replace). */
  requiresReplace?: true;
  /**
   * For requiresReplace: whether two known, non-null values are the same
   * (one instant written two ways, an email in another case).
   * @default equality of the decoded values
   */
  sameValue?: (config: never, prior: never) => boolean;
  /** Computed: an update keeps the prior value when the configuration leaves it null, instead of planning it unknown. */
  useStateForUnknown?: true;
}

export type Attributes = { readonly [name: string]: AttributeSpec };

/** The TypeScript type of a known, non-null value of cty type `T`. */
export type Decoded<T> = T extends "string"
  ? string
  : T extends "number"
    ? number
    : T extends "bool"
      ? boolean
      : T extends readonly ["list" | "set", infer E]
        ? Decoded<E>[]
        : Value;

type Of<S extends { attributes: Attributes }, K extends keyof S["attributes"]> = Decoded<S["attributes"][K]["type"]>;

/** A configuration being validated or planned: any value may be null or not known yet. */
export type ConfigOf<S extends { attributes: Attributes }> = { readonly [K in keyof S["attributes"]]: Of<S, K> | null | Unknown };

/** Known values (state, a configuration at read): required attributes are never null. */
export type StateOf<S extends { attributes: Attributes }> = {
  readonly [K in keyof S["attributes"]]: S["attributes"][K] extends { required: true } ? Of<S, K> : Of<S, K> | null;
};

/** A planned state at apply: what the configuration set is known, computed values may still be unknown. */
export type PlannedOf<S extends { attributes: Attributes }> = {
  readonly [K in keyof S["attributes"]]: S["attributes"][K] extends { computed: true } ? Of<S, K> | null | Unknown : StateOf<S>[K];
};

/** A resource's or data source's schema, with typed readers of objects of that schema. */
export interface TypedSchema<A extends Attributes> {
  readonly attributes: A;
  /** The attribute names, for mapping a problem's JSON pointer onto an attribute. */
  readonly names: readonly string[];
  /** The schema as the protocol layer serves it. */
  readonly schema: Schema;
  config(obj: ObjectValue): ConfigOf<{ attributes: A }>;
  state(obj: ObjectValue): StateOf<{ attributes: A }>;
  planned(obj: ObjectValue): PlannedOf<{ attributes: A }>;
}

/** Declares a schema; `const` keeps the literal types the readers are derived from. */
export function defineSchema<const A extends Attributes>(spec: { description: string; attributes: A; version?: number }): TypedSchema<A> {
  const attributes = Object.fromEntries(
    Object.entries(spec.attributes).map(([name, { requiresReplace: _r, sameValue: _s, useStateForUnknown: _u, ...attribute }]) => [name, attribute]),
  );
  const view = <T>(obj: ObjectValue, known: (spec: AttributeSpec) => "any" | "set" | "known") => {
    const out = {};
    for (const [name, attribute] of Object.entries(spec.attributes)) {
      // Lazy, like a checked read: an attribute nobody reads never throws.
      Object.defineProperty(out, name, { enumerable: true, get: () => checked(name, attribute, attributeValue(attribute, obj, name), known(attribute)) });
    }
    return out as T;
  };
  return {
    attributes: spec.attributes,
    names: Object.keys(spec.attributes),
    schema: { version: spec.version ?? 0, block: { description: spec.description, attributes } },
    config: (obj) => view(obj, () => "any"),
    state: (obj) => view(obj, (a) => (a.required ? "set" : "known")),
    planned: (obj) => view(obj, (a) => (a.computed ? "any" : a.required ? "set" : "known")),
  };
}

/** The decoded value of `name`: UNKNOWN when any part of it is not known, null when unset or of another type; sets sorted. */
export function attributeValue(attribute: Attribute, obj: ObjectValue, name: string): Value {
  return decode(attribute.type, obj[name] ?? null);
}

function decode(type: CtyType, v: Value): Value {
  if (isUnknown(v) || v === null) return v;
  if (type === "string" || type === "number" || type === "bool") return typeof v === (type === "bool" ? "boolean" : type) ? v : null;
  if (type[0] === "list" || type[0] === "set") {
    if (!Array.isArray(v)) return null;
    const items = (v as readonly Value[]).map((item) => decode(type[1] as CtyType, item));
    if (items.some(isUnknown)) return UNKNOWN;
    return type[0] === "set" ? items.filter((item) => item !== null).sort() : items;
  }
  return hasUnknown(v) ? UNKNOWN : v;
}

function hasUnknown(v: Value): boolean {
  if (isUnknown(v)) return true;
  if (v === null || typeof v !== "object") return false;
  return (Array.isArray(v) ? (v as readonly Value[]) : Object.values(v)).some(hasUnknown);
}

function checked(name: string, attribute: Attribute, value: Value, need: "any" | "set" | "known"): Value {
  if (need === "any" || (!isUnknown(value) && (value !== null || need === "known"))) return value;
  throw new Error(`attribute "${name}" must be a known ${typeof attribute.type === "string" ? attribute.type : attribute.type[0]} here`);
}

/** A string that state written by this provider always holds (ids): the value, or an error when it is missing. */
export function present(value: string | null, name: string): string {
  if (value === null) throw new Error(`attribute "${name}" must be a known string here`);
  return value;
}
