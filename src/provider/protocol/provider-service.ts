/**
 * The tfplugin6.Provider service: each RPC decodes its DynamicValues by the
 * schema, calls the provider definition, and encodes the answer. Any
 * exception (from a resource, or a value that does not match its schema)
 * becomes an error diagnostic, never a crashed process.
 */
import { decodeJson, decodeObject, encodeDynamicValue, type DynamicValueBytes } from "./codec";
import type { Logger } from "./log";
import type { ClientCapabilities, DataSourceType, Diagnostic, EphemeralResourceType, ObjectValue, ProviderDefinition, ResourceType, Schema } from "./types";
import {
  attributePathToProto,
  diagnosticsToProto,
  errorDiagnostic,
  schemaToProto,
  type ProtoDiagnostic,
  type ProtoSchema,
} from "./wire-schema";

/** Capabilities this layer implements for every provider. */
export const SERVER_CAPABILITIES = {
  plan_destroy: true,
  get_provider_schema_optional: true,
  move_resource_state: false,
  generate_resource_config: false,
} as const;

type Request = Record<string, any>;
type Response = Record<string, unknown> & { diagnostics?: ProtoDiagnostic[] };

/** One RPC: the decoded request in, the response message out. */
export type UnaryHandler = (request: Request) => Promise<Record<string, unknown>>;

const EMPTY = new Uint8Array(0);

/** Summary of the diagnostic reporting an exception thrown while serving an RPC. */
export const UNEXPECTED_ERROR_SUMMARY = "Unexpected Provider Error";

/** Builds the handlers of tfplugin6.Provider for `definition`. */
export function createProviderService<Ctx>(definition: ProviderDefinition<Ctx>, logger: Logger): Record<string, UnaryHandler> {
  const resources = new Map<string, ResourceType<Ctx>>(definition.resources.map((r) => [r.name, r]));
  const dataSources = new Map<string, DataSourceType<Ctx>>(definition.dataSources.map((d) => [d.name, d]));
  const ephemerals = new Map<string, EphemeralResourceType<Ctx>>((definition.ephemeralResources ?? []).map((e) => [e.name, e]));
  let ctx: Ctx | undefined;
  let schemaResponse: Response | undefined;

  const unknownType = (kind: "resource" | "data source" | "ephemeral resource", name: string, known: Iterable<string>): Response => ({
    diagnostics: diagnosticsToProto([
      errorDiagnostic(
        UNKNOWN_TYPE_SUMMARIES[kind],
        `This provider has no ${kind} type "${name}". Known: ${[...known].sort().join(", ") || "none"}.`,
      ),
    ]),
  });

  /** Wraps an RPC body: logs it, and turns a thrown error into an error diagnostic. */
  const unary =
    (rpc: string, body: (req: Request) => Promise<Response> | Response): UnaryHandler =>
    (req) => {
      logger.trace(`${rpc} received`, req.type_name ? { tf_rpc: rpc, tf_resource_type: req.type_name } : { tf_rpc: rpc });
      return Promise.resolve()
        .then(() => body(req))
        .catch((err: unknown): Response => {
          const error = err instanceof Error ? err : new Error(String(err));
          logger.error(`${rpc} failed: ${error.message}`, { tf_rpc: rpc, stack: error.stack });
          return { diagnostics: diagnosticsToProto([errorDiagnostic(UNEXPECTED_ERROR_SUMMARY, error.message)]) };
        });
    };

  const diagnostics = (list: readonly Diagnostic[] | undefined) => diagnosticsToProto(list);
  const encode = (value: ObjectValue | null, type: { schema: Schema }) => encodeDynamicValue(value, type.schema.block);
  const decode = (value: DynamicValueBytes | null | undefined, type: { schema: Schema }) => decodeObject(value, type.schema.block);
  const bytes = (value: Uint8Array | undefined | null): Uint8Array => value ?? EMPTY;

  return {
    GetMetadata: unary("GetMetadata", () => ({
      server_capabilities: SERVER_CAPABILITIES,
      diagnostics: [],
      resources: [...resources.keys()].sort().map((type_name) => ({ type_name })),
      data_sources: [...dataSources.keys()].sort().map((type_name) => ({ type_name })),
      ephemeral_resources: [...ephemerals.keys()].sort().map((type_name) => ({ type_name })),
    })),

    GetProviderSchema: unary("GetProviderSchema", () => {
      schemaResponse ??= {
        provider: schemaToProto(definition.schema),
        resource_schemas: schemaMap(definition.resources),
        data_source_schemas: schemaMap(definition.dataSources),
        ephemeral_resource_schemas: schemaMap([...ephemerals.values()]),
        server_capabilities: SERVER_CAPABILITIES,
        diagnostics: [],
      };
      return schemaResponse;
    }),

    GetResourceIdentitySchemas: unary("GetResourceIdentitySchemas", () => ({ identity_schemas: {}, diagnostics: [] })),

    ValidateProviderConfig: unary("ValidateProviderConfig", (req) => {
      const config = decodeObject(req.config, definition.schema.block);
      return { diagnostics: diagnostics(config && definition.validateConfig ? definition.validateConfig({ config }) : []) };
    }),

    ConfigureProvider: unary("ConfigureProvider", async (req) => {
      const config = decodeObject(req.config, definition.schema.block);
      if (!config) return { diagnostics: diagnostics([errorDiagnostic("Missing Provider Configuration", "The engine sent no provider configuration.")]) };
      const result = await definition.configure(config, { terraformVersion: String(req.terraform_version ?? "") });
      if (!result.diagnostics?.some((d) => d.severity === "error")) ctx = result.ctx;
      return { diagnostics: diagnostics(result.diagnostics) };
    }),

    ValidateResourceConfig: unary("ValidateResourceConfig", (req) => {
      const resource = resources.get(req.type_name);
      if (!resource) return unknownType("resource", req.type_name, resources.keys());
      const config = decode(req.config, resource);
      return { diagnostics: diagnostics(config && resource.validate ? resource.validate({ config, clientCapabilities: clientCapabilities(req.client_capabilities) }) : []) };
    }),

    ValidateDataResourceConfig: unary("ValidateDataResourceConfig", (req) => {
      const dataSource = dataSources.get(req.type_name);
      if (!dataSource) return unknownType("data source", req.type_name, dataSources.keys());
      const config = decode(req.config, dataSource);
      return { diagnostics: diagnostics(config && dataSource.validate ? dataSource.validate({ config }) : []) };
    }),

    UpgradeResourceState: unary("UpgradeResourceState", (req) => {
      const resource = resources.get(req.type_name);
      if (!resource) return unknownType("resource", req.type_name, resources.keys());
      const json: Uint8Array | undefined = req.raw_state?.json;
      if (!json || json.length === 0) {
        return {
          diagnostics: diagnostics([
            errorDiagnostic("Unsupported State Format", `The stored state of ${req.type_name} is not JSON (legacy flatmap state is not supported).`),
          ]),
        };
      }
      const version = Number(req.version ?? 0);
      if (resource.upgrade) {
        const rawState = JSON.parse(Buffer.from(json).toString("utf8")) as Record<string, unknown>;
        const result = resource.upgrade({ version, rawState });
        return { upgraded_state: encode(result.state, resource), diagnostics: diagnostics(result.diagnostics) };
      }
      if (version > resource.schema.version) {
        return {
          diagnostics: diagnostics([
            errorDiagnostic(
              "Resource State From A Newer Provider",
              `The stored state of ${req.type_name} has schema version ${version}, newer than this provider's ${resource.schema.version}. Use a newer provider version.`,
            ),
          ]),
        };
      }
      // Same shape: attributes added since are null, removed ones are dropped.
      const state = decodeJson(json, resource.schema.block, { lenient: true }) as ObjectValue;
      return { upgraded_state: encode(state, resource), diagnostics: [] };
    }),

    ReadResource: unary("ReadResource", async (req) => {
      const resource = resources.get(req.type_name);
      if (!resource) return unknownType("resource", req.type_name, resources.keys());
      const currentState = decode(req.current_state, resource);
      if (!currentState) return { new_state: encode(null, resource), private: bytes(req.private), diagnostics: [] };
      const result = await resource.read(ctx as Ctx, { currentState, private: bytes(req.private) });
      return {
        new_state: encode(result.newState, resource),
        private: result.private ?? bytes(req.private),
        diagnostics: diagnostics(result.diagnostics),
      };
    }),

    PlanResourceChange: unary("PlanResourceChange", async (req) => {
      const resource = resources.get(req.type_name);
      if (!resource) return unknownType("resource", req.type_name, resources.keys());
      const result = await resource.plan(ctx as Ctx, {
        priorState: decode(req.prior_state, resource),
        proposedNewState: decode(req.proposed_new_state, resource),
        config: decode(req.config, resource),
        priorPrivate: bytes(req.prior_private),
      });
      return {
        planned_state: encode(result.plannedState, resource),
        requires_replace: (result.requiresReplace ?? []).map(attributePathToProto),
        planned_private: result.plannedPrivate ?? bytes(req.prior_private),
        diagnostics: diagnostics(result.diagnostics),
      };
    }),

    ApplyResourceChange: unary("ApplyResourceChange", async (req) => {
      const resource = resources.get(req.type_name);
      if (!resource) return unknownType("resource", req.type_name, resources.keys());
      const result = await resource.apply(ctx as Ctx, {
        priorState: decode(req.prior_state, resource),
        plannedState: decode(req.planned_state, resource),
        config: decode(req.config, resource),
        plannedPrivate: bytes(req.planned_private),
      });
      return {
        new_state: encode(result.newState, resource),
        private: result.private ?? bytes(req.planned_private),
        diagnostics: diagnostics(result.diagnostics),
      };
    }),

    ImportResourceState: unary("ImportResourceState", async (req) => {
      const resource = resources.get(req.type_name);
      if (!resource) return unknownType("resource", req.type_name, resources.keys());
      if (!resource.importState) {
        return { diagnostics: diagnostics([errorDiagnostic("Resource Import Not Supported", `${req.type_name} cannot be imported.`)]) };
      }
      const result = await resource.importState(ctx as Ctx, String(req.id ?? ""));
      return {
        imported_resources: result.imported.map((item) => ({
          type_name: req.type_name,
          state: encode(item.state, resource),
          private: item.private ?? EMPTY,
        })),
        diagnostics: diagnostics(result.diagnostics),
      };
    }),

    ReadDataSource: unary("ReadDataSource", async (req) => {
      const dataSource = dataSources.get(req.type_name);
      if (!dataSource) return unknownType("data source", req.type_name, dataSources.keys());
      const config = decode(req.config, dataSource);
      if (!config) return { diagnostics: diagnostics([errorDiagnostic("Missing Configuration", `The engine sent no configuration for ${req.type_name}.`)]) };
      const result = await dataSource.read(ctx as Ctx, { config });
      return { state: encode(result.state, dataSource), diagnostics: diagnostics(result.diagnostics) };
    }),

    ValidateEphemeralResourceConfig: unary("ValidateEphemeralResourceConfig", (req) => {
      const ephemeral = ephemerals.get(req.type_name);
      if (!ephemeral) return unknownType("ephemeral resource", req.type_name, ephemerals.keys());
      const config = decode(req.config, ephemeral);
      return { diagnostics: diagnostics(config && ephemeral.validate ? ephemeral.validate({ config }) : []) };
    }),

    OpenEphemeralResource: unary("OpenEphemeralResource", async (req) => {
      const ephemeral = ephemerals.get(req.type_name);
      if (!ephemeral) return unknownType("ephemeral resource", req.type_name, ephemerals.keys());
      const config = decode(req.config, ephemeral);
      if (!config) return { diagnostics: diagnostics([errorDiagnostic("Missing Configuration", `The engine sent no configuration for ${req.type_name}.`)]) };
      const result = await ephemeral.open(ctx as Ctx, { config, clientCapabilities: clientCapabilities(req.client_capabilities) });
      return {
        result: encode(result.result, ephemeral),
        ...optionalPrivate(result.private),
        ...renewAt(result.renewAt),
        diagnostics: diagnostics(result.diagnostics),
      };
    }),

    RenewEphemeralResource: unary("RenewEphemeralResource", async (req) => {
      const ephemeral = ephemerals.get(req.type_name);
      if (!ephemeral) return unknownType("ephemeral resource", req.type_name, ephemerals.keys());
      // Without renew the type never sets renewAt, so the engine does not call this; keep what it holds.
      if (!ephemeral.renew) return { ...optionalPrivate(req.private), diagnostics: [] };
      const result = await ephemeral.renew(ctx as Ctx, { private: bytes(req.private) });
      return { ...optionalPrivate(result.private ?? req.private), ...renewAt(result.renewAt), diagnostics: diagnostics(result.diagnostics) };
    }),

    CloseEphemeralResource: unary("CloseEphemeralResource", async (req) => {
      const ephemeral = ephemerals.get(req.type_name);
      if (!ephemeral) return unknownType("ephemeral resource", req.type_name, ephemerals.keys());
      const result = ephemeral.close ? await ephemeral.close(ctx as Ctx, { private: bytes(req.private) }) : {};
      return { diagnostics: diagnostics(result.diagnostics) };
    }),

    StopProvider: () => {
      logger.debug("StopProvider received");
      return Promise.resolve()
        .then(() => definition.stop?.())
        .then(
          () => ({ Error: "" }),
          (err: unknown) => ({ Error: err instanceof Error ? err.message : String(err) }),
        );
    },
  };
}

const UNKNOWN_TYPE_SUMMARIES = {
  resource: "Unknown Resource Type",
  "data source": "Unknown Data Source Type",
  "ephemeral resource": "Unknown Ephemeral Resource Type",
} as const;

/** The engine's capabilities; engines before protocol 6.8 send none. */
function clientCapabilities(proto: Request | null | undefined): ClientCapabilities {
  return { deferralAllowed: proto?.deferral_allowed === true, writeOnlyAttributesAllowed: proto?.write_only_attributes_allowed === true };
}

/** A proto3 optional bytes field: absent unless there are bytes. */
function optionalPrivate(value: Uint8Array | null | undefined): { private?: Uint8Array } {
  return value && value.length > 0 ? { private: value } : {};
}

/** A proto3 optional google.protobuf.Timestamp: absent unless set. */
function renewAt(at: Date | undefined): { renew_at?: { seconds: number; nanos: number } } {
  if (at === undefined) return {};
  const ms = at.getTime();
  return { renew_at: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 } };
}

function schemaMap(types: readonly { name: string; schema: Schema }[]): Record<string, ProtoSchema> {
  const out: Record<string, ProtoSchema> = {};
  for (const t of [...types].sort((a, b) => a.name.localeCompare(b.name))) out[t.name] = schemaToProto(t.schema);
  return out;
}
