import { isUnknown, type ClientCapabilities, type Diagnostic, type EphemeralResourceType, type ObjectValue, type Value } from "../protocol/types";
import type { Attributes, ConfigOf, StateOf, TypedSchema } from "./schema";

type S<A extends Attributes> = { attributes: A };

/** What an ephemeral resource keeps between open, renew and close: plain JSON, never a secret (the engine holds and may log it). */
export type EphemeralHandle = { readonly [key: string]: string | number | boolean | null };

/** The result of open: values of the computed attributes, and the handle renew and close get. */
export interface OpenResult<A extends Attributes, P extends EphemeralHandle> {
  /** Values for the computed attributes (and defaults of optional+computed ones); the rest is the configuration. */
  result?: { readonly [K in keyof A]?: Value };
  private?: P;
  /** When the engine should call renew; never when unset (or without `renew`). */
  renewAt?: Date;
  diagnostics?: Diagnostic[];
}

/**
 * An ephemeral resource: opened in each phase of a run, its values never
 * reach plan or state, closed when the phase ends (also on cancellation).
 * The framework fills the result from the configuration, checks that it is
 * wholly known, and carries `private` as JSON so each step reads a typed
 * handle.
 */
export interface EphemeralDefinition<Ctx, A extends Attributes, P extends EphemeralHandle> {
  name: string;
  schema: TypedSchema<A>;
  /** The configuration alone (may hold unknown values); `raw` for checks of the known elements of a partly unknown collection. */
  validate?(config: ConfigOf<S<A>>, raw: ObjectValue): Diagnostic[];
  /**
   * The configuration is wholly known: the engine defers opening until it is.
   * An open that fails must release what it made itself: after an error
   * diagnostic the engine never calls close.
   */
  open(ctx: Ctx, req: { config: StateOf<S<A>>; clientCapabilities: ClientCapabilities }): Promise<OpenResult<A, P>>;
  /** Extends what open made; called at the `renewAt` it (or the previous renew) asked for. */
  renew?(ctx: Ctx, req: { private: P }): Promise<{ private?: P; renewAt?: Date; diagnostics?: Diagnostic[] }>;
  /** Releases what open made. Not called when open returned no handle. */
  close?(ctx: Ctx, req: { private: P }): Promise<{ diagnostics?: Diagnostic[] }>;
}

export function defineEphemeralResource<Ctx, A extends Attributes, P extends EphemeralHandle>(definition: EphemeralDefinition<Ctx, A, P>): EphemeralResourceType<Ctx> {
  const { schema } = definition;
  const handle = (bytes: Uint8Array): P | undefined => (bytes.length === 0 ? undefined : (JSON.parse(Buffer.from(bytes).toString("utf8")) as P));
  const bytesOf = (value: P | undefined): Uint8Array | undefined => (value === undefined ? undefined : Buffer.from(JSON.stringify(value), "utf8"));

  return {
    name: definition.name,
    schema: schema.schema,
    validate: definition.validate && (({ config }) => definition.validate!(schema.config(config), config)),

    async open(ctx, { config, clientCapabilities }) {
      const opened = await definition.open(ctx, { config: schema.state(config), clientCapabilities });
      const diagnostics = opened.diagnostics ?? [];
      const result: Record<string, Value> = { ...config, ...(opened.result as ObjectValue | undefined) };
      const unknown = schema.names.filter((name) => isUnknown(result[name] ?? null));
      if (unknown.length > 0 && !diagnostics.some((d) => d.severity === "error")) {
        throw new Error(`${definition.name}: open left ${unknown.join(", ")} unknown; an ephemeral result must be wholly known`);
      }
      const failed = diagnostics.some((d) => d.severity === "error");
      return {
        result: failed ? null : Object.fromEntries(schema.names.map((name) => [name, result[name] ?? null])),
        private: bytesOf(opened.private),
        renewAt: definition.renew ? opened.renewAt : undefined,
        diagnostics,
      };
    },

    renew:
      definition.renew &&
      (async (ctx, req) => {
        const current = handle(req.private);
        if (current === undefined) return {};
        const renewed = await definition.renew!(ctx, { private: current });
        return { private: bytesOf(renewed.private ?? current), renewAt: renewed.renewAt, diagnostics: renewed.diagnostics };
      }),

    close:
      definition.close &&
      (async (ctx, req) => {
        const current = handle(req.private);
        return current === undefined ? {} : definition.close!(ctx, { private: current });
      }),
  };
}
