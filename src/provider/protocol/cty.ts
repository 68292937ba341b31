/**
 * cty type helpers: the compact JSON form of types, block schemas seen as
 * object types, and the type of a plain value (for `dynamic`).
 */
import { isUnknown, type Block, type CtyType, type Value } from "./types";

/** The object type a block's values have: attributes plus nested blocks (list/set blocks as list/set of objects). */
export function blockType(block: Block): CtyType {
  const attributes: Record<string, CtyType> = {};
  for (const [name, attribute] of Object.entries(block.attributes)) attributes[name] = attribute.type;
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const element = blockType(nested.block);
    attributes[name] = nested.nesting === "single" ? element : [nested.nesting, element];
  }
  return ["object", attributes];
}

/** Compact JSON of a type with object attributes in sorted order, as the schema carries it. */
export function typeToJson(type: CtyType): string {
  return JSON.stringify(sortedType(type));
}

function sortedType(type: CtyType): unknown {
  if (typeof type === "string") return type;
  switch (type[0]) {
    case "object": {
      const sorted: Record<string, unknown> = {};
      for (const name of Object.keys(type[1]).sort()) sorted[name] = sortedType(type[1][name]);
      return ["object", sorted];
    }
    case "tuple":
      return ["tuple", type[1].map(sortedType)];
    default:
      return [type[0], sortedType(type[1])];
  }
}

/**
 * Parses a type from its JSON form, checking its shape.
 * @throws Error naming what is malformed.
 */
export function parseType(json: unknown): CtyType {
  if (json === "string" || json === "number" || json === "bool" || json === "dynamic") return json;
  if (Array.isArray(json) && json.length === 2) {
    const [kind, arg] = json as [unknown, unknown];
    if (kind === "list" || kind === "set" || kind === "map") return [kind, parseType(arg)];
    if (kind === "tuple" && Array.isArray(arg)) return ["tuple", arg.map(parseType)];
    if (kind === "object" && arg !== null && typeof arg === "object" && !Array.isArray(arg)) {
      const attributes: Record<string, CtyType> = {};
      for (const [name, t] of Object.entries(arg)) attributes[name] = parseType(t);
      return ["object", attributes];
    }
  }
  throw new Error(`invalid cty type ${JSON.stringify(json)}`);
}

/**
 * The type a known value of a `dynamic` attribute is sent with: strings,
 * numbers and booleans as themselves, arrays as tuples, plain objects as
 * objects. Null and unknown parts become `dynamic`.
 */
export function inferType(value: Value): CtyType {
  if (value === null || isUnknown(value)) return "dynamic";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "bool";
  }
  if (Array.isArray(value)) return ["tuple", value.map(inferType)];
  const attributes: Record<string, CtyType> = {};
  for (const [name, v] of Object.entries(value as { [key: string]: Value })) attributes[name] = inferType(v);
  return ["object", attributes];
}
