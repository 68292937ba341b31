import { decode, encode, ExtData } from "@msgpack/msgpack";
import {
  CodecError,
  decodeDynamicValue,
  decodeJson,
  decodeMsgpack,
  decodeObject,
  encodeDynamicValue,
  encodeMsgpack,
} from "../../../src/provider/protocol/codec";
import { blockType, inferType, parseType, typeToJson } from "../../../src/provider/protocol/cty";
import { UNKNOWN, type Block, type CtyType, type Value } from "../../../src/provider/protocol/types";

const mp = (raw: unknown) => encode(raw, { useBigInt64: true });
const json = (raw: unknown) => Buffer.from(JSON.stringify(raw));
const roundTrip = (value: Value, type: CtyType | Block) => decodeMsgpack(encodeMsgpack(value, type), type);

const block: Block = {
  description: "b",
  attributes: {
    name: { type: "string", description: "n", required: true },
    count: { type: "number", description: "c", optional: true },
  },
  blocks: {
    rule: { nesting: "list", block: { description: "r", attributes: { port: { type: "number", description: "p", required: true } } } },
    tag: { nesting: "set", block: { description: "t", attributes: { key: { type: "string", description: "k", required: true } } } },
    settings: { nesting: "single", block: { description: "s", attributes: { on: { type: "bool", description: "o", optional: true } } } },
  },
};

describe("primitive types", () => {
  it("decodes strings and booleans, and rejects the wrong kind naming the path", () => {
    expect(decodeMsgpack(mp("hello"), "string")).toBe("hello");
    expect(decodeMsgpack(mp(false), "bool")).toBe(false);
    expect(() => decodeMsgpack(mp(1), "string")).toThrow("value: expected string, got number");
    expect(() => decodeMsgpack(mp({ a: "x" }), ["object", { a: "bool" }])).toThrow('a: expected bool, got string');
  });

  it("accepts the three number forms: int64, float64, decimal string", () => {
    expect(decodeMsgpack(mp(42), "number")).toBe(42);
    expect(decodeMsgpack(mp(-7), "number")).toBe(-7);
    expect(decodeMsgpack(mp(BigInt("9007199254740993")), "number")).toBe(9007199254740992);
    expect(decodeMsgpack(Buffer.from("cb3ff8000000000000", "hex"), "number")).toBe(1.5);
    expect(decodeMsgpack(mp("12.25"), "number")).toBe(12.25);
    expect(decodeMsgpack(mp("-3e2"), "number")).toBe(-300);
    expect(() => decodeMsgpack(mp("twelve"), "number")).toThrow('expected number, got string "twelve"');
  });

  it("encodes integers as msgpack integers and other numbers as float64", () => {
    expect(Buffer.from(encodeMsgpack(5, "number")).toString("hex")).toBe("05");
    expect(Buffer.from(encodeMsgpack(-1, "number")).toString("hex")).toBe("ff");
    expect(Buffer.from(encodeMsgpack(70000, "number")).toString("hex")).toBe("ce00011170");
    expect(Buffer.from(encodeMsgpack(1.5, "number")).toString("hex")).toBe("cb3ff8000000000000");
  });

  it("rejects values of the wrong kind on encode", () => {
    expect(() => encodeMsgpack("5", "number")).toThrow(CodecError);
    expect(() => encodeMsgpack({ a: 1 }, ["object", { a: "string" }])).toThrow("a: expected string, got number");
  });
});

describe("collections and structural types", () => {
  it("decodes list, set and tuple from arrays", () => {
    expect(decodeMsgpack(mp(["a", "b"]), ["list", "string"])).toEqual(["a", "b"]);
    expect(decodeMsgpack(mp([1, 2]), ["set", "number"])).toEqual([1, 2]);
    expect(decodeMsgpack(mp(["a", 1, true]), ["tuple", ["string", "number", "bool"]])).toEqual(["a", 1, true]);
    expect(() => decodeMsgpack(mp(["a"]), ["tuple", ["string", "number"]])).toThrow("expected a tuple of 2 elements, got 1");
    expect(() => decodeMsgpack(mp([1, "x"]), ["list", "number"])).toThrow("[1]: expected number");
  });

  it("decodes maps and objects from msgpack maps", () => {
    expect(decodeMsgpack(mp({ x: "1", y: "2" }), ["map", "string"])).toEqual({ x: "1", y: "2" });
    expect(decodeMsgpack(mp({ a: 1, b: null }), ["object", { a: "number", b: "string" }])).toEqual({ a: 1, b: null });
  });

  it("rejects objects with missing or extra attributes", () => {
    expect(() => decodeMsgpack(mp({ a: 1 }), ["object", { a: "number", b: "string" }])).toThrow('attribute "b" is missing');
    expect(() => decodeMsgpack(mp({ a: 1, c: 2 }), ["object", { a: "number" }])).toThrow('unexpected attribute "c"');
    expect(() => encodeMsgpack({ a: 1 }, ["object", { a: "number", b: "string" }])).toThrow('attribute "b" is missing');
    expect(() => encodeMsgpack({ a: 1, c: 2 }, ["object", { a: "number" }])).toThrow('unexpected attribute "c"');
  });

  it("keeps null at every level", () => {
    const type: CtyType = ["object", { l: ["list", "string"], m: ["map", "number"], o: ["object", { x: "bool" }] }];
    expect(decodeMsgpack(mp(null), type)).toBeNull();
    expect(decodeMsgpack(mp({ l: null, m: { k: null }, o: { x: null } }), type)).toEqual({ l: null, m: { k: null }, o: { x: null } });
    expect(roundTrip({ l: ["a", null], m: null, o: null }, type)).toEqual({ l: ["a", null], m: null, o: null });
  });

  it("encodes maps and objects with sorted keys, so output is deterministic", () => {
    const type: CtyType = ["object", { b: "string", a: ["map", "number"] }];
    const one = encodeMsgpack({ b: "x", a: { z: 1, y: 2 } }, type);
    const two = encodeMsgpack({ a: { y: 2, z: 1 }, b: "x" }, type);
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
    expect(Object.keys(decode(one) as object)).toEqual(["a", "b"]);
  });
});

describe("unknown values", () => {
  it("decodes any extension as unknown, including refined unknowns (code 12 with a payload)", () => {
    expect(decodeMsgpack(Buffer.from("d40000", "hex"), "string")).toBe(UNKNOWN);
    // ext8, 3 bytes, code 12: refinement payload {1: true} ("not null").
    expect(decodeMsgpack(Buffer.from("c7030c81 01c3".replace(/ /g, ""), "hex"), "string")).toBe(UNKNOWN);
    const refined = mp({ a: new ExtData(12, Uint8Array.of(0x81, 0x01, 0xc3)), b: "known" });
    expect(decodeMsgpack(refined, ["object", { a: "number", b: "string" }])).toEqual({ a: UNKNOWN, b: "known" });
    expect(decodeMsgpack(mp([new ExtData(7, Uint8Array.of())]), ["list", "bool"])).toEqual([UNKNOWN]);
  });

  it("encodes unknown as fixext1 code 0 with payload 0 (d4 00 00), wherever it sits", () => {
    expect(Buffer.from(encodeMsgpack(UNKNOWN, "string")).toString("hex")).toBe("d40000");
    expect(Buffer.from(encodeMsgpack({ id: UNKNOWN }, ["object", { id: "string" }])).toString("hex")).toBe("81a26964d40000");
    expect(roundTrip(["x", UNKNOWN], ["list", "string"])).toEqual(["x", UNKNOWN]);
  });
});

describe("dynamic", () => {
  it("decodes [type JSON bytes, value] by the embedded type", () => {
    expect(decodeMsgpack(mp([Buffer.from('"string"'), "hi"]), "dynamic")).toBe("hi");
    expect(decodeMsgpack(mp([Buffer.from('["list","number"]'), [1, "2"]]), "dynamic")).toEqual([1, 2]);
    expect(decodeMsgpack(mp([Buffer.from('["object",{"a":"bool"}]'), { a: true }]), "dynamic")).toEqual({ a: true });
    expect(decodeMsgpack(mp(null), "dynamic")).toBeNull();
    expect(() => decodeMsgpack(mp("bare"), "dynamic")).toThrow("expected dynamic value [type, value]");
    expect(() => decodeMsgpack(mp([Buffer.from('"nonsense"'), 1]), "dynamic")).toThrow("invalid cty type");
  });

  it("encodes with the value's own type: primitives, tuples for arrays, objects for maps", () => {
    const raw = decode(encodeMsgpack({ n: 1, s: ["a", true] }, "dynamic")) as [Uint8Array, unknown];
    expect(JSON.parse(Buffer.from(raw[0]).toString())).toEqual(["object", { n: "number", s: ["tuple", ["string", "bool"]] }]);
    expect(raw[1]).toEqual({ n: 1, s: ["a", true] });
    expect(roundTrip("x", "dynamic")).toBe("x");
    expect(Buffer.from(encodeMsgpack(null, "dynamic")).toString("hex")).toBe("c0");
    expect(Buffer.from(encodeMsgpack(UNKNOWN, "dynamic")).toString("hex")).toBe("d40000");
  });
});

describe("blocks", () => {
  const full = { name: "a", count: 2, rule: [{ port: 80 }], tag: [{ key: "k" }], settings: { on: true } };

  it("decodes a block value with every attribute and nested block", () => {
    expect(decodeMsgpack(mp(full), block)).toEqual(full);
  });

  it("turns nil list/set blocks into empty arrays, keeps a nil single block null", () => {
    const decoded = decodeMsgpack(mp({ name: "a", count: null, rule: null, tag: [], settings: null }), block);
    expect(decoded).toEqual({ name: "a", count: null, rule: [], tag: [], settings: null });
  });

  it("encodes list/set blocks as arrays, empty (not nil) when null", () => {
    const raw = decode(encodeMsgpack({ name: "a", count: null, rule: null, tag: null, settings: null }, block));
    expect(raw).toEqual({ count: null, name: "a", rule: [], settings: null, tag: [] });
  });

  it("rejects a block value missing a nested block or carrying an extra key", () => {
    const { rule: _rule, ...withoutRule } = full;
    expect(() => decodeMsgpack(mp(withoutRule), block)).toThrow('block "rule" is missing');
    expect(() => decodeMsgpack(mp({ ...full, extra: 1 }), block)).toThrow('unexpected attribute "extra"');
    expect(() => decodeMsgpack(mp({ ...full, rule: [{ port: 1, x: 2 }] }), block)).toThrow('rule[0]: unexpected attribute "x"');
    expect(() => encodeMsgpack(withoutRule, block)).toThrow('attribute "rule" is missing');
  });

  it("converts a block schema to its object type", () => {
    expect(blockType(block)).toEqual([
      "object",
      {
        name: "string",
        count: "number",
        rule: ["list", ["object", { port: "number" }]],
        tag: ["set", ["object", { key: "string" }]],
        settings: ["object", { on: "bool" }],
      },
    ]);
  });
});

describe("DynamicValue envelope", () => {
  it("prefers msgpack, falls back to JSON when msgpack is empty, and is null when both are", () => {
    expect(decodeDynamicValue({ msgpack: mp("m"), json: json("j") }, "string")).toBe("m");
    expect(decodeDynamicValue({ msgpack: new Uint8Array(0), json: json("j") }, "string")).toBe("j");
    expect(decodeDynamicValue({ msgpack: Buffer.alloc(0), json: Buffer.alloc(0) }, "string")).toBeNull();
    expect(decodeObject({ json: json({ name: "a", count: "3", rule: [], tag: null, settings: null }) }, block)).toEqual({
      name: "a",
      count: 3,
      rule: [],
      tag: [],
      settings: null,
    });
    expect(decodeDynamicValue(null, block)).toBeNull();
  });

  it("reads JSON dynamic values as {value, type}", () => {
    expect(decodeJson(json({ value: [1, 2], type: ["list", "number"] }), "dynamic")).toEqual([1, 2]);
  });

  it("is strict on JSON objects unless lenient, which fills missing attributes and drops unknown ones", () => {
    const stored = json({ name: "a", removed_later: true });
    expect(() => decodeJson(stored, block)).toThrow('attribute "count" is missing');
    expect(decodeJson(stored, block, { lenient: true })).toEqual({ name: "a", count: null, rule: [], tag: [], settings: null });
  });

  it("always encodes msgpack", () => {
    const dv = encodeDynamicValue({ name: "a", count: 1, rule: [], tag: [], settings: null }, block);
    expect(Object.keys(dv)).toEqual(["msgpack"]);
    expect(decodeObject(dv, block)).toEqual({ name: "a", count: 1, rule: [], tag: [], settings: null });
  });

  it("reports malformed bytes as a CodecError", () => {
    expect(() => decodeMsgpack(Buffer.from("c1", "hex"), "string")).toThrow(CodecError);
    expect(() => decodeJson(Buffer.from("{"), "string")).toThrow("invalid JSON");
  });
});

describe("cty type JSON", () => {
  it("writes compact JSON with sorted object attributes and parses it back", () => {
    const type: CtyType = ["object", { z: ["set", "string"], a: ["tuple", ["number", "dynamic"]], m: ["map", "bool"] }];
    const text = typeToJson(type);
    expect(text).toBe('["object",{"a":["tuple",["number","dynamic"]],"m":["map","bool"],"z":["set","string"]}]');
    expect(parseType(JSON.parse(text))).toEqual(type);
    expect(() => parseType(["list"])).toThrow("invalid cty type");
  });

  it("infers the type of a plain value", () => {
    expect(inferType({ a: [1, "x"], b: null })).toEqual(["object", { a: ["tuple", ["number", "string"]], b: "dynamic" }]);
  });
});
