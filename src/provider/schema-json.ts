/**
 * A provider definition's schema in the JSON format of
 * `tofu providers schema -json` (and `terraform providers schema -json`),
 * computed from the definition alone: no engine, no provider process.
 * Docs and the CDKTF bindings are generated from this output.
 *
 * Field names, omissions (false and empty values are left out) and key
 * order (sorted, as Go marshals maps) follow the engines' output.
 */
import type { Attribute, Block, CtyType, NestedBlock, ProviderDefinition, Schema } from "./protocol/types";

/** The whole document, with one provider. */
export interface ProviderSchemasJson {
  format_version: "1.0";
  provider_schemas: Record<string, ProviderSchemaJson>;
}

export interface ProviderSchemaJson {
  provider: SchemaJson;
  resource_schemas?: Record<string, SchemaJson>;
  data_source_schemas?: Record<string, SchemaJson>;
  ephemeral_resource_schemas?: Record<string, SchemaJson>;
}

export interface SchemaJson {
  version: number;
  block: BlockJson;
}

export interface BlockJson {
  attributes?: Record<string, AttributeJson>;
  block_types?: Record<string, BlockTypeJson>;
  description?: string;
  description_kind: "plain";
  deprecated?: true;
}

export interface AttributeJson {
  type: CtyType;
  description?: string;
  description_kind: "plain";
  deprecated?: true;
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
  write_only?: true;
}

export interface BlockTypeJson {
  nesting_mode: NestedBlock["nesting"];
  block: BlockJson;
  min_items?: number;
  max_items?: number;
}

/** Object keys sorted, recursively (cty object types included). */
function sortedType(type: CtyType): CtyType {
  if (typeof type === "string") return type;
  if (type[0] === "object") {
    const attrs = type[1];
    return ["object", Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, sortedType(attrs[k])]))];
  }
  if (type[0] === "tuple") return ["tuple", type[1].map(sortedType)];
  return [type[0], sortedType(type[1])];
}

/** Go sorts map keys bytewise; for the ASCII names of a schema that is the default sort. */
function sortedRecord<T, U>(record: Readonly<Record<string, T>>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, map(record[key])]));
}

function attributeJson(attribute: Attribute, writeOnly: boolean): AttributeJson {
  const json: AttributeJson = { type: sortedType(attribute.type), description_kind: "plain" };
  if (attribute.description) json.description = attribute.description;
  if (attribute.deprecated) json.deprecated = true;
  if (attribute.required) json.required = true;
  if (attribute.optional) json.optional = true;
  if (attribute.computed) json.computed = true;
  if (attribute.sensitive) json.sensitive = true;
  if (attribute.writeOnly && writeOnly) json.write_only = true;
  return ordered(json, ["type", "description", "description_kind", "deprecated", "required", "optional", "computed", "sensitive", "write_only"]);
}

function blockJson(block: Block, writeOnly: boolean): BlockJson {
  const json: BlockJson = { description_kind: "plain" };
  if (Object.keys(block.attributes).length > 0) json.attributes = sortedRecord(block.attributes, (attribute) => attributeJson(attribute, writeOnly));
  if (block.blocks && Object.keys(block.blocks).length > 0) {
    json.block_types = sortedRecord(block.blocks, (nested) => {
      const type: BlockTypeJson = { nesting_mode: nested.nesting, block: blockJson(nested.block, writeOnly) };
      if (nested.minItems) type.min_items = nested.minItems;
      if (nested.maxItems) type.max_items = nested.maxItems;
      return type;
    });
  }
  if (block.description) json.description = block.description;
  if (block.deprecated) json.deprecated = true;
  return ordered(json, ["attributes", "block_types", "description", "description_kind", "deprecated"]);
}

/** `value` with its keys in `order` (the engines' field order), so printed output reads the same. */
function ordered<T extends object>(value: T, order: readonly (keyof T)[]): T {
  const out = {} as T;
  for (const key of order) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

function schemaJson(schema: Schema, writeOnly: boolean): SchemaJson {
  return { version: schema.version, block: blockJson(schema.block, writeOnly) };
}

interface Named {
  name: string;
  schema: Schema;
}

/** The parts of a {@link ProviderDefinition} that make up its schema. */
export type SchemaSource = Named & { resources: readonly Named[]; dataSources: readonly Named[]; ephemeralResources?: readonly Named[] };

/**
 * The schema document for `definition`, under the source address
 * `<host>/postscale/<name>`.
 * @param host registry host of the address. @default "registry.opentofu.org"
 * @param options.ephemeral include ephemeral resources, as engines that know them do (OpenTofu >= 1.11, Terraform >= 1.10). @default true
 * @param options.writeOnly mark write-only attributes, as engines that know them do (OpenTofu >= 1.11, Terraform >= 1.11). @default true
 */
export function providerSchemasJson(definition: SchemaSource, host = "registry.opentofu.org", options: { ephemeral?: boolean; writeOnly?: boolean } = {}): ProviderSchemasJson {
  const writeOnly = options.writeOnly !== false;
  const provider: ProviderSchemaJson = { provider: schemaJson(definition.schema, writeOnly) };
  const byName = (types: readonly Named[]): Record<string, SchemaJson> =>
    sortedRecord(Object.fromEntries(types.map((t) => [t.name, t.schema])), (schema) => schemaJson(schema, writeOnly));
  if (definition.resources.length > 0) provider.resource_schemas = byName(definition.resources);
  if (definition.dataSources.length > 0) provider.data_source_schemas = byName(definition.dataSources);
  const ephemeral = options.ephemeral === false ? [] : (definition.ephemeralResources ?? []);
  if (ephemeral.length > 0) provider.ephemeral_resource_schemas = byName(ephemeral);
  return {
    format_version: "1.0",
    provider_schemas: { [`${host}/${definition.name}/${definition.name}`]: provider },
  };
}
