/**
 * The contract between the protocol layer (gRPC, msgpack, handshake) and
 * whatever provider it serves. Nothing here knows about Postscale, and
 * nothing a provider implements sees gRPC or msgpack: values arrive decoded
 * with the schema's type and leave the same way.
 */

/** cty type, in the compact JSON form the protocol uses. */
export type CtyType =
  | "string"
  | "number"
  | "bool"
  | "dynamic"
  | readonly ["list", CtyType]
  | readonly ["set", CtyType]
  | readonly ["map", CtyType]
  | readonly ["object", { readonly [name: string]: CtyType }]
  | readonly ["tuple", readonly CtyType[]];

/** A value not known until apply. One shared instance; compare with `isUnknown`. */
export const UNKNOWN: unique symbol = Symbol.for("postscale.unknown");
export type Unknown = typeof UNKNOWN;

export function isUnknown(v: unknown): v is Unknown {
  return v === UNKNOWN;
}

/**
 * A decoded value: null, primitives, arrays (list/set/tuple), plain objects
 * (map/object) or UNKNOWN, nested freely. Numbers are JS numbers.
 */
export type Value = null | Unknown | string | number | boolean | readonly Value[] | { readonly [key: string]: Value };

/** An object value: every attribute and block of its schema is present (null when unset). */
export type ObjectValue = { readonly [attribute: string]: Value };

/** A path to an attribute: names for attributes and object keys, numbers for list indexes. */
export type AttributePath = readonly (string | number)[];

export interface Attribute {
  type: CtyType;
  description: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  /**
   * Write-only (protocol 6.8+; optional or required attributes of managed
   * resources): the value arrives in the configuration only, and every
   * state the provider returns must hold null for it.
   */
  writeOnly?: boolean;
}

export interface NestedBlock {
  nesting: "single" | "list" | "set";
  block: Block;
  minItems?: number;
  maxItems?: number;
}

export interface Block {
  description: string;
  attributes: { readonly [name: string]: Attribute };
  blocks?: { readonly [name: string]: NestedBlock };
  deprecated?: boolean;
}

export interface Schema {
  version: number;
  block: Block;
}

export interface Diagnostic {
  severity: "error" | "warning";
  /** Short, Title Case. */
  summary: string;
  /** What happened and how to fix it. */
  detail?: string;
  /** The attribute at fault. */
  path?: AttributePath;
}

export interface ValidateRequest {
  /** May contain UNKNOWN values (references not yet known). */
  config: ObjectValue;
  /** Sent by engines of protocol 6.8+ on resource validation; every flag false otherwise. */
  clientCapabilities?: ClientCapabilities;
}

export interface PlanRequest {
  /** null on create. */
  priorState: ObjectValue | null;
  /** null on destroy. */
  proposedNewState: ObjectValue | null;
  /** null on destroy. */
  config: ObjectValue | null;
  priorPrivate: Uint8Array;
}

export interface PlanResponse {
  /** null on destroy. */
  plannedState: ObjectValue | null;
  requiresReplace?: AttributePath[];
  plannedPrivate?: Uint8Array;
  diagnostics?: Diagnostic[];
}

export interface ApplyRequest {
  /** null on create. */
  priorState: ObjectValue | null;
  /** null on destroy. */
  plannedState: ObjectValue | null;
  config: ObjectValue | null;
  plannedPrivate: Uint8Array;
}

export interface ApplyResponse {
  /** null after destroy. On failure: the prior or partial state, with an error diagnostic. */
  newState: ObjectValue | null;
  private?: Uint8Array;
  diagnostics?: Diagnostic[];
}

export interface ReadRequest {
  currentState: ObjectValue;
  private: Uint8Array;
}

export interface ReadResponse {
  /** null means the object is gone. */
  newState: ObjectValue | null;
  private?: Uint8Array;
  diagnostics?: Diagnostic[];
}

export interface ImportResponse {
  /** Complete objects, every attribute present (null where unknown). */
  imported: { state: ObjectValue; private?: Uint8Array }[];
  diagnostics?: Diagnostic[];
}

export interface UpgradeRequest {
  version: number;
  /** Prior state as raw JSON (already parsed), in the shape of `version`. */
  rawState: Record<string, unknown>;
}

/** A managed resource type. `Ctx` is what the provider's configure returned. */
export interface ResourceType<Ctx = unknown> {
  name: string;
  schema: Schema;
  validate?(req: ValidateRequest): Diagnostic[];
  plan(ctx: Ctx, req: PlanRequest): Promise<PlanResponse>;
  apply(ctx: Ctx, req: ApplyRequest): Promise<ApplyResponse>;
  read(ctx: Ctx, req: ReadRequest): Promise<ReadResponse>;
  importState?(ctx: Ctx, id: string): Promise<ImportResponse>;
  /** Defaults to returning the raw state unchanged (same schema version). */
  upgrade?(req: UpgradeRequest): { state: ObjectValue; diagnostics?: Diagnostic[] };
}

export interface DataSourceType<Ctx = unknown> {
  name: string;
  schema: Schema;
  validate?(req: ValidateRequest): Diagnostic[];
  read(ctx: Ctx, req: { config: ObjectValue }): Promise<{ state: ObjectValue | null; diagnostics?: Diagnostic[] }>;
}

/**
 * What the engine says it supports, on the requests that carry it. Engines
 * before protocol 6.8 (Terraform 1.5) send none: every flag is false.
 */
export interface ClientCapabilities {
  /** The engine can defer an action to a later run. */
  deferralAllowed: boolean;
  /** The engine keeps write-only attributes out of plan and state. */
  writeOnlyAttributesAllowed: boolean;
}

export interface OpenEphemeralRequest {
  /** Wholly known: the engine defers opening until it is. */
  config: ObjectValue;
  clientCapabilities: ClientCapabilities;
}

export interface OpenEphemeralResponse {
  /** The configuration with every computed attribute known; null only with an error diagnostic. */
  result: ObjectValue | null;
  /** Opaque bytes the engine hands back to renew and close. Never put a secret here: the engine may log it. */
  private?: Uint8Array;
  /** When the engine should call renew; never when unset. */
  renewAt?: Date;
  diagnostics?: Diagnostic[];
}

export interface RenewEphemeralResponse {
  private?: Uint8Array;
  renewAt?: Date;
  diagnostics?: Diagnostic[];
}

/**
 * An ephemeral resource type: opened in each phase of a run (plan, apply),
 * its result is never written to plan or state; closed when the phase ends.
 */
export interface EphemeralResourceType<Ctx = unknown> {
  name: string;
  schema: Schema;
  validate?(req: ValidateRequest): Diagnostic[];
  open(ctx: Ctx, req: OpenEphemeralRequest): Promise<OpenEphemeralResponse>;
  /** Called at the `renewAt` of open or of the previous renew; no configuration, only `private`. */
  renew?(ctx: Ctx, req: { private: Uint8Array }): Promise<RenewEphemeralResponse>;
  close?(ctx: Ctx, req: { private: Uint8Array }): Promise<{ diagnostics?: Diagnostic[] }>;
}

export interface ConfigureResponse<Ctx> {
  ctx?: Ctx;
  diagnostics?: Diagnostic[];
}

/** Everything the protocol layer needs to serve a provider. */
export interface ProviderDefinition<Ctx = unknown> {
  /** Type name prefix, e.g. "postscale". */
  name: string;
  version: string;
  schema: Schema;
  validateConfig?(req: ValidateRequest): Diagnostic[];
  configure(config: ObjectValue, meta: { terraformVersion: string }): Promise<ConfigureResponse<Ctx>>;
  resources: readonly ResourceType<Ctx>[];
  dataSources: readonly DataSourceType<Ctx>[];
  /** Engines before OpenTofu 1.11 / Terraform 1.10 never ask for these. */
  ephemeralResources?: readonly EphemeralResourceType<Ctx>[];
  /** Called by StopProvider: cancel in-flight work, don't exit. */
  stop?(): Promise<void> | void;
}
