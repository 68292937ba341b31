/**
 * The protocol's messages and methods, as generated at build time by
 * scripts/build-proto.mjs: `.gen/tfplugin6-codecs.js` (protobufjs static
 * encoders and decoders) and `.gen/tfplugin6-methods.json` (each method's
 * path and message names). Nothing is built from a descriptor at start-up.
 *
 * Both are loaded by literal relative paths, which esbuild inlines into the
 * provider bundle; the second path serves tsc's `dist/` layout.
 *
 * Decoded messages keep the .proto's field names; absent scalars read as
 * their defaults (from the message's prototype), absent messages as null,
 * int64 as numbers, enums as numbers. Responses are plain objects with the
 * same field names and numeric enums (see wire-schema.ts).
 */
import * as protobuf from "protobufjs/minimal";

/** A generated message type. */
export interface MessageCodec {
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Record<string, any>;
}

/** One method: its message codecs and whether the server streams its answer. */
export interface MethodCodec {
  path: string;
  request: MessageCodec;
  response: MessageCodec;
  serverStreaming: boolean;
  clientStreaming: boolean;
}

type MethodTable = Record<string, { request: string; response: string; serverStreaming: boolean; clientStreaming: boolean }>;

const MISSING = "The generated protocol codecs (.gen/tfplugin6-codecs.js) are missing: run `npm run build` first.";

function loadGenerated(): { codecs: Record<string, unknown>; methods: MethodTable } {
  try {
    return { codecs: require("../../../.gen/tfplugin6-codecs.js"), methods: require("../../../.gen/tfplugin6-methods.json") };
  } catch {
    // The layout of the tsc output; see the module comment.
  }
  try {
    return { codecs: require("../../../../.gen/tfplugin6-codecs.js"), methods: require("../../../../.gen/tfplugin6-methods.json") };
  } catch {
    throw new Error(MISSING);
  }
}

let loaded: Map<string, MethodCodec> | undefined;

/** Every method of the protocol's services, by path (`/tfplugin6.Provider/GetMetadata`). */
export function protocolMethods(): Map<string, MethodCodec> {
  if (loaded) return loaded;
  // int64 as plain numbers whether or not the `long` package can be found
  // (the bundle leaves it out): versions and timestamps fit in 2^53.
  protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
  protobuf.configure();
  const { codecs, methods } = loadGenerated();
  const lookup = (name: string): MessageCodec => {
    let node: unknown = codecs;
    for (const part of name.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
    if (typeof (node as MessageCodec | undefined)?.decode !== "function") throw new Error(`${MISSING} (no message ${name})`);
    return node as MessageCodec;
  };
  loaded = new Map(
    Object.entries(methods).map(([path, m]) => [
      path,
      { path, request: lookup(m.request), response: lookup(m.response), serverStreaming: m.serverStreaming, clientStreaming: m.clientStreaming },
    ]),
  );
  return loaded;
}

/** The generated enum values by name, e.g. `protocolEnum("tfplugin6.Diagnostic.Severity")`. */
export function protocolEnum(name: string): Readonly<Record<string, number>> {
  protocolMethods();
  let node: unknown = loadGenerated().codecs;
  for (const part of name.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  if (!node || typeof node !== "object") throw new Error(`${MISSING} (no enum ${name})`);
  return node as Record<string, number>;
}
