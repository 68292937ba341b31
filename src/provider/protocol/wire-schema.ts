/**
 * Conversions from the provider contract (types.ts) to tfplugin6 protobuf
 * messages: schemas, diagnostics and attribute paths. Field names are the
 * .proto's own; enums are their numbers (the generated encoders write
 * numbers; test/provider/protocol checks these against the .proto).
 */
import { typeToJson } from "./cty";
import type { AttributePath, Block, Diagnostic, Schema } from "./types";

/** tfplugin6.Diagnostic.Severity. */
export const SEVERITY = { ERROR: 1, WARNING: 2 } as const;
/** tfplugin6.StringKind. */
export const STRING_KIND = { PLAIN: 0 } as const;
/** tfplugin6.Schema.NestedBlock.NestingMode. */
export const NESTING_MODE = { SINGLE: 1, LIST: 2, SET: 3 } as const;

/** tfplugin6.AttributePath. */
export interface ProtoAttributePath {
  steps: ({ attribute_name: string } | { element_key_int: number })[];
}

/** tfplugin6.Diagnostic. */
export interface ProtoDiagnostic {
  severity: (typeof SEVERITY)[keyof typeof SEVERITY];
  summary: string;
  detail: string;
  attribute?: ProtoAttributePath;
}

/** tfplugin6.Schema.Block. */
export interface ProtoBlock {
  version: number;
  attributes: {
    name: string;
    type: Buffer;
    description: string;
    description_kind: typeof STRING_KIND.PLAIN;
    required: boolean;
    optional: boolean;
    computed: boolean;
    sensitive: boolean;
    deprecated: boolean;
    write_only: boolean;
  }[];
  block_types: {
    type_name: string;
    block: ProtoBlock;
    nesting: (typeof NESTING_MODE)[keyof typeof NESTING_MODE];
    min_items: number;
    max_items: number;
  }[];
  description: string;
  description_kind: typeof STRING_KIND.PLAIN;
  deprecated: boolean;
}

/** tfplugin6.Schema. */
export interface ProtoSchema {
  version: number;
  block: ProtoBlock;
}

const NESTING = { single: NESTING_MODE.SINGLE, list: NESTING_MODE.LIST, set: NESTING_MODE.SET } as const;

/** A schema as GetProviderSchema sends it; attributes and blocks in name order. */
export function schemaToProto(schema: Schema): ProtoSchema {
  return { version: schema.version, block: blockToProto(schema.block, schema.version) };
}

function blockToProto(block: Block, version: number): ProtoBlock {
  return {
    version,
    attributes: Object.keys(block.attributes)
      .sort()
      .map((name) => {
        const a = block.attributes[name];
        return {
          name,
          type: Buffer.from(typeToJson(a.type), "utf8"),
          description: a.description,
          description_kind: STRING_KIND.PLAIN,
          required: a.required ?? false,
          optional: a.optional ?? false,
          computed: a.computed ?? false,
          sensitive: a.sensitive ?? false,
          deprecated: a.deprecated ?? false,
          write_only: a.writeOnly ?? false,
        };
      }),
    block_types: Object.keys(block.blocks ?? {})
      .sort()
      .map((name) => {
        const nested = block.blocks![name];
        return {
          type_name: name,
          block: blockToProto(nested.block, version),
          nesting: NESTING[nested.nesting],
          min_items: nested.minItems ?? 0,
          max_items: nested.maxItems ?? 0,
        };
      }),
    description: block.description,
    description_kind: STRING_KIND.PLAIN,
    deprecated: block.deprecated ?? false,
  };
}

/** Attribute path steps: names as attribute_name, indexes as element_key_int. */
export function attributePathToProto(path: AttributePath): ProtoAttributePath {
  return { steps: path.map((step) => (typeof step === "number" ? { element_key_int: step } : { attribute_name: step })) };
}

export function diagnosticToProto(diagnostic: Diagnostic): ProtoDiagnostic {
  const out: ProtoDiagnostic = {
    severity: diagnostic.severity === "error" ? SEVERITY.ERROR : SEVERITY.WARNING,
    summary: diagnostic.summary,
    detail: diagnostic.detail ?? "",
  };
  if (diagnostic.path && diagnostic.path.length > 0) out.attribute = attributePathToProto(diagnostic.path);
  return out;
}

export function diagnosticsToProto(diagnostics: readonly Diagnostic[] | undefined): ProtoDiagnostic[] {
  return (diagnostics ?? []).map(diagnosticToProto);
}

/** An error diagnostic, for failures the protocol layer itself reports. */
export function errorDiagnostic(summary: string, detail: string, path?: AttributePath): Diagnostic {
  return path ? { severity: "error", summary, detail, path } : { severity: "error", summary, detail };
}
