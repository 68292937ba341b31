/**
 * The gRPC descriptor generated at build time by scripts/build-proto.mjs
 * into `.gen/tfplugin6.json` (tfplugin6 from the pinned OpenTofu module,
 * plus go-plugin's controller/stdio services and grpc.health.v1).
 *
 * It is loaded with a plain `require` of a literal path so that esbuild
 * inlines the JSON into a provider bundle: from `src/provider/protocol/` the
 * first path reaches the repository root; the second serves the tsc output
 * in `dist/src/provider/protocol/`. Inside `try`, esbuild leaves an
 * unresolvable path alone instead of failing the bundle. Callers may also
 * pass a descriptor they loaded themselves.
 */
import type { GrpcObject } from "@grpc/grpc-js";

/** protobufjs JSON descriptor (`Root#toJSON()`). */
export type Descriptor = { nested: Record<string, unknown> };

/** proto-loader options used on both sides (server and tests' clients). */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/** Loads the generated descriptor, with a clear error when the build step has not run. */
export function loadDescriptor(): Descriptor {
  try {
    return require("../../../.gen/tfplugin6.json") as Descriptor;
  } catch {
    // The layout of the tsc output; see the module comment.
  }
  try {
    return require("../../../../.gen/tfplugin6.json") as Descriptor;
  } catch {
    throw new Error(
      "The gRPC descriptor .gen/tfplugin6.json is missing: run `node scripts/build-proto.mjs` (part of `npm run build`) first.",
    );
  }
}

/** The gRPC package object (services and message types) for `descriptor`. */
export function loadGrpcPackage(descriptor: Descriptor = loadDescriptor()): GrpcObject {
  const protoLoader = require("@grpc/proto-loader") as typeof import("@grpc/proto-loader");
  const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
  return grpc.loadPackageDefinition(protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], LOADER_OPTIONS));
}
