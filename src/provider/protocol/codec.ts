/**
 * The DynamicValue codec: cty values as msgpack (or JSON) bytes, decoded and
 * encoded by their schema type. The wire rules (PROTOCOL.md §4):
 * - lists, sets and tuples are arrays; maps and objects are maps;
 * - an object or block value carries every attribute and nested block,
 *   nil when null; missing or extra keys are rejected;
 * - list/set nested blocks are arrays, empty (never nil) when there are none;
 * - `dynamic` is a two-element array: the type's JSON (bin), then the value;
 * - numbers arrive as integers, float64 or decimal strings;
 * - unknown values are msgpack extensions of any code (12 carries refinements,
 *   which are ignored); unknowns are written as fixext1 code 0, payload 0.
 */
import { decode, encode, ExtData } from "@msgpack/msgpack";
import { inferType, parseType, typeToJson } from "./cty";
import { isUnknown, UNKNOWN, type Block, type CtyType, type ObjectValue, type Value } from "./types";

/** What a value is decoded or encoded against: an attribute type or a whole block. */
export type Shape = CtyType | Block;

/** The two encodings a DynamicValue may carry; msgpack wins when non-empty. */
export interface DynamicValueBytes {
  msgpack?: Uint8Array | null;
  json?: Uint8Array | null;
}

/** Thrown when bytes do not match the schema, or a value does not match its type; names the path. */
export class CodecError extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    readonly problem: string,
  ) {
    super(`${formatPath(path)}: ${problem}`);
    this.name = "CodecError";
  }
}

/** Bytes written for an unknown value: fixext1, extension code 0, payload 0x00. */
const UNKNOWN_EXT = new ExtData(0, Uint8Array.of(0));

const NUMBER_STRING = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/** Decodes a DynamicValue: msgpack if present, else JSON; null when both are empty. */
export function decodeDynamicValue(value: DynamicValueBytes | null | undefined, shape: Shape): Value {
  if (value?.msgpack && value.msgpack.length > 0) return decodeMsgpack(value.msgpack, shape);
  if (value?.json && value.json.length > 0) return decodeJson(value.json, shape);
  return null;
}

/** Decodes a block's value (an object with every attribute and block), or null. */
export function decodeObject(value: DynamicValueBytes | null | undefined, block: Block): ObjectValue | null {
  return decodeDynamicValue(value, block) as ObjectValue | null;
}

/** Decodes msgpack bytes against `shape`. */
export function decodeMsgpack(bytes: Uint8Array, shape: Shape): Value {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (err) {
    throw new CodecError([], `invalid msgpack: ${(err as Error).message}`);
  }
  return fromWire(raw, shape, [], "msgpack", false);
}

/**
 * Decodes JSON bytes against `shape`. `lenient` fills missing object
 * attributes with null and drops unknown ones: used for stored state written
 * by an older schema, never for values the engine sends in a plan.
 */
export function decodeJson(bytes: Uint8Array, shape: Shape, options: { lenient?: boolean } = {}): Value {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new CodecError([], `invalid JSON: ${(err as Error).message}`);
  }
  return fromWire(raw, shape, [], "json", options.lenient ?? false);
}

/** Encodes `value` as msgpack by `shape`. */
export function encodeMsgpack(value: Value, shape: Shape): Uint8Array {
  return encode(toWire(value, shape, []));
}

/** Encodes a value as a DynamicValue (always msgpack). */
export function encodeDynamicValue(value: Value, shape: Shape): { msgpack: Uint8Array } {
  return { msgpack: encodeMsgpack(value, shape) };
}

function isBlock(shape: Shape): shape is Block {
  return typeof shape === "object" && !Array.isArray(shape);
}

function isPlainObject(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === "object" && !Array.isArray(raw) && !(raw instanceof Uint8Array) && !(raw instanceof ExtData);
}

function describe(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "array";
  if (raw instanceof Uint8Array) return "binary";
  if (raw instanceof ExtData) return `extension ${raw.type}`;
  return typeof raw;
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "value";
  return path.map((step, i) => (typeof step === "number" ? `[${step}]` : i === 0 ? step : `.${step}`)).join("");
}

type Wire = "msgpack" | "json";

function fromWire(raw: unknown, shape: Shape, path: (string | number)[], wire: Wire, lenient: boolean): Value {
  // Any extension is an unknown (code 12 adds refinements we do not need);
  // the library turns extension -1 into a Date on its own.
  if (raw instanceof ExtData || raw instanceof Date) return UNKNOWN;
  if (raw === null || raw === undefined) return null;
  if (isBlock(shape)) return blockFromWire(raw, shape, path, wire, lenient);
  const mismatch = (expected: string) => new CodecError(path, `expected ${expected}, got ${describe(raw)}`);
  if (typeof shape === "string") {
    switch (shape) {
      case "string":
        if (typeof raw !== "string") throw mismatch("string");
        return raw;
      case "bool":
        if (typeof raw !== "boolean") throw mismatch("bool");
        return raw;
      case "number":
        return numberFromWire(raw, path);
      case "dynamic":
        return dynamicFromWire(raw, path, wire, lenient);
    }
  }
  switch (shape[0]) {
    case "list":
    case "set": {
      if (!Array.isArray(raw)) throw mismatch(shape[0]);
      const element = shape[1];
      return raw.map((item, i) => fromWire(item, element, [...path, i], wire, lenient));
    }
    case "tuple": {
      if (!Array.isArray(raw)) throw mismatch("tuple");
      const elements = shape[1];
      if (raw.length !== elements.length) throw new CodecError(path, `expected a tuple of ${elements.length} elements, got ${raw.length}`);
      return raw.map((item, i) => fromWire(item, elements[i], [...path, i], wire, lenient));
    }
    case "map": {
      if (!isPlainObject(raw)) throw mismatch("map");
      const out: Record<string, Value> = {};
      for (const key of Object.keys(raw)) out[key] = fromWire(raw[key], shape[1], [...path, key], wire, lenient);
      return out;
    }
    case "object": {
      if (!isPlainObject(raw)) throw mismatch("object");
      return objectFromWire(raw, shape[1], {}, path, wire, lenient);
    }
  }
}

function numberFromWire(raw: unknown, path: (string | number)[]): number {
  if (typeof raw === "number") return raw;
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw === "string" && NUMBER_STRING.test(raw)) return Number(raw);
  throw new CodecError(path, `expected number, got ${typeof raw === "string" ? `string ${JSON.stringify(raw)}` : describe(raw)}`);
}

function dynamicFromWire(raw: unknown, path: (string | number)[], wire: Wire, lenient: boolean): Value {
  let typeJson: unknown;
  let inner: unknown;
  if (wire === "msgpack") {
    if (!Array.isArray(raw) || raw.length !== 2) throw new CodecError(path, `expected dynamic value [type, value], got ${describe(raw)}`);
    const [typeBytes, value] = raw as [unknown, unknown];
    const text = typeBytes instanceof Uint8Array ? Buffer.from(typeBytes).toString("utf8") : typeBytes;
    if (typeof text !== "string") throw new CodecError(path, `expected the dynamic value's type as bytes, got ${describe(typeBytes)}`);
    typeJson = parseJsonText(text, path);
    inner = value;
  } else {
    if (!isPlainObject(raw) || !Object.hasOwn(raw, "type") || !Object.hasOwn(raw, "value")) {
      throw new CodecError(path, `expected dynamic value {"type","value"}, got ${describe(raw)}`);
    }
    typeJson = raw.type;
    inner = raw.value;
  }
  let type: CtyType;
  try {
    type = parseType(typeJson);
  } catch (err) {
    throw new CodecError(path, (err as Error).message);
  }
  return fromWire(inner, type, path, wire, lenient);
}

function parseJsonText(text: string, path: (string | number)[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CodecError(path, `invalid type JSON ${JSON.stringify(text)}`);
  }
}

function objectFromWire(
  raw: Record<string, unknown>,
  attributes: { readonly [name: string]: Shape },
  blocks: Block["blocks"],
  path: (string | number)[],
  wire: Wire,
  lenient: boolean,
): ObjectValue {
  const out: Record<string, Value> = {};
  for (const [name, shape] of Object.entries(attributes)) {
    if (!Object.hasOwn(raw, name) && !lenient) throw new CodecError(path, `attribute "${name}" is missing`);
    out[name] = fromWire(raw[name], shape, [...path, name], wire, lenient);
  }
  for (const [name, nested] of Object.entries(blocks ?? {})) {
    if (!Object.hasOwn(raw, name) && !lenient) throw new CodecError(path, `block "${name}" is missing`);
    const value = raw[name];
    if (nested.nesting === "single") {
      out[name] = fromWire(value, nested.block, [...path, name], wire, lenient);
    } else if (value === null || value === undefined) {
      out[name] = [];
    } else if (value instanceof ExtData) {
      out[name] = UNKNOWN;
    } else if (!Array.isArray(value)) {
      throw new CodecError([...path, name], `expected ${nested.nesting} of blocks, got ${describe(value)}`);
    } else {
      out[name] = value.map((item, i) => fromWire(item, nested.block, [...path, name, i], wire, lenient));
    }
  }
  if (!lenient) {
    const extra = Object.keys(raw).find((key) => !Object.hasOwn(out, key));
    if (extra !== undefined) throw new CodecError(path, `unexpected attribute "${extra}"`);
  }
  return out;
}

function blockFromWire(raw: unknown, block: Block, path: (string | number)[], wire: Wire, lenient: boolean): ObjectValue {
  if (!isPlainObject(raw)) throw new CodecError(path, `expected object, got ${describe(raw)}`);
  const attributes: Record<string, CtyType> = {};
  for (const [name, attribute] of Object.entries(block.attributes)) attributes[name] = attribute.type;
  return objectFromWire(raw, attributes, block.blocks, path, wire, lenient);
}

function toWire(value: Value, shape: Shape, path: (string | number)[]): unknown {
  if (isUnknown(value)) return UNKNOWN_EXT;
  if (value === null) return null;
  if (isBlock(shape)) return blockToWire(value, shape, path);
  const mismatch = (expected: string) => new CodecError(path, `expected ${expected}, got ${describe(value)}`);
  if (typeof shape === "string") {
    switch (shape) {
      case "string":
        if (typeof value !== "string") throw mismatch("string");
        return value;
      case "bool":
        if (typeof value !== "boolean") throw mismatch("bool");
        return value;
      case "number":
        if (typeof value !== "number") throw mismatch("number");
        return value;
      case "dynamic": {
        const type = inferType(value);
        return [Buffer.from(typeToJson(type), "utf8"), toWire(value, type, path)];
      }
    }
  }
  switch (shape[0]) {
    case "list":
    case "set": {
      if (!Array.isArray(value)) throw mismatch(shape[0]);
      const element = shape[1];
      return (value as readonly Value[]).map((item, i) => toWire(item, element, [...path, i]));
    }
    case "tuple": {
      if (!Array.isArray(value)) throw mismatch("tuple");
      const elements = shape[1];
      if (value.length !== elements.length) throw new CodecError(path, `expected a tuple of ${elements.length} elements, got ${value.length}`);
      return (value as readonly Value[]).map((item, i) => toWire(item, elements[i], [...path, i]));
    }
    case "map": {
      if (!isPlainObject(value)) throw mismatch("map");
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) out[key] = toWire((value as ObjectValue)[key], shape[1], [...path, key]);
      return out;
    }
    case "object": {
      if (!isPlainObject(value)) throw mismatch("object");
      return objectToWire(value as ObjectValue, shape[1], {}, path);
    }
  }
}

function objectToWire(
  value: ObjectValue,
  attributes: { readonly [name: string]: Shape },
  blocks: Block["blocks"],
  path: (string | number)[],
): Record<string, unknown> {
  const names = [...Object.keys(attributes), ...Object.keys(blocks ?? {})].sort();
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (!Object.hasOwn(value, name)) throw new CodecError(path, `attribute "${name}" is missing`);
    const nested = blocks?.[name];
    const item = value[name];
    if (!nested) {
      out[name] = toWire(item, attributes[name], [...path, name]);
    } else if (nested.nesting === "single") {
      out[name] = toWire(item, nested.block, [...path, name]);
    } else if (item === null) {
      out[name] = [];
    } else if (isUnknown(item)) {
      out[name] = UNKNOWN_EXT;
    } else if (!Array.isArray(item)) {
      throw new CodecError([...path, name], `expected ${nested.nesting} of blocks, got ${describe(item)}`);
    } else {
      out[name] = (item as readonly Value[]).map((element, i) => toWire(element, nested.block, [...path, name, i]));
    }
  }
  const extra = Object.keys(value).find((key) => !Object.hasOwn(out, key));
  if (extra !== undefined) throw new CodecError(path, `unexpected attribute "${extra}"`);
  return out;
}

function blockToWire(value: Value, block: Block, path: (string | number)[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw new CodecError(path, `expected object, got ${describe(value)}`);
  const attributes: Record<string, CtyType> = {};
  for (const [name, attribute] of Object.entries(block.attributes)) attributes[name] = attribute.type;
  return objectToWire(value as ObjectValue, attributes, block.blocks, path);
}
