import { randomBytes } from "node:crypto";
import type { KeyOwner } from "../../api/types";
import { parseDuration } from "../../duration";
import { nameProblem } from "../../policy";
import { defineEphemeralResource } from "../framework/ephemeral";
import { defineSchema } from "../framework/schema";
import type { Diagnostic, ObjectValue } from "../protocol/types";
import { apiKeyResource } from "./api-key.resource";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, isNotFound } from "./diagnostics";

/** Lifetime of a key when `ttl` is not set. */
export const DEFAULT_TTL = "15m";
/** The longest `ttl`: a key that outlives a killed run stays usable at most this long. */
export const MAX_TTL_SECONDS = 3_600;
/** The shortest `ttl`: shorter keys expire before a provider could be configured with them. */
export const MIN_TTL_SECONDS = 60;
export const DEFAULT_NAME_PREFIX = "ephemeral-";
/** Random characters after the prefix: names stay unique per holder across runs and phases. */
const SUFFIX_BYTES = 6;
const SUFFIX_LENGTH = SUFFIX_BYTES * 2;

const schema = defineSchema({
  description:
    "A Postscale API key for one run, never written to plan or state. Each phase (plan, apply) mints its own key with a server-side expiry of `ttl`, and the key is revoked when the phase ends; a run that is killed leaves a key that stops working at `expires_at`. Use it to configure an aliased provider for one run, or to feed a write-only attribute. Needs OpenTofu 1.11 or later, or Terraform 1.10 or later (older engines do not know ephemeral resources).",
  attributes: {
    owner: {
      type: "string",
      required: true,
      description: '"organization" (a service key; only owners and admins create them) or "member" (held by `member_id`, limited to the domains that member can write).',
    },
    member_id: { type: "string", optional: true, description: 'For owner "member": the member who holds the key (required). Must be unset for owner "organization".' },
    domains: {
      type: ["set", "string"],
      optional: true,
      computed: true,
      description:
        'Domains the key is limited to; each must be one its owner can write (read_write). When not set, Postscale decides as for `postscale_api_key`: a member key gets the member\'s read_write domains, an organization key or an admin\'s key is organization-wide (an empty set).',
    },
    ttl: {
      type: "string",
      optional: true,
      computed: true,
      description: `How long the key works, as a duration ("15m", "1h", "90s"); Postscale refuses it afterwards even if the run never revoked it. At least 1m, at most 1h. Defaults to "${DEFAULT_TTL}".`,
    },
    name_prefix: {
      type: "string",
      optional: true,
      computed: true,
      description: `The start of the key's name; a random suffix follows, so names stay unique per holder. Defaults to "${DEFAULT_NAME_PREFIX}".`,
    },
    name: { type: "string", computed: true, description: "The key's name: `name_prefix` and a random suffix." },
    id: { type: "string", computed: true, description: "The key's id, as Postscale lists it while the key lives." },
    expires_at: { type: "string", computed: true, description: "When Postscale stops accepting the key (RFC 3339): the time it was opened plus `ttl`." },
    secret: { type: "string", computed: true, sensitive: true, description: "The secret to authenticate with (`Authorization: Bearer ...`). Only in this run's memory: never in plan or state." },
  },
});

/** What the engine keeps between open and close: the key's id and expiry, never its secret. */
type Handle = { id: string; expires_at: string };

/**
 * `postscale_api_key` as an ephemeral resource: a key that dies with the
 * run. Renew is left out on purpose: the API cannot extend a key, and a
 * `ttl` of up to an hour covers a run, so the key's expiry is its only
 * lifetime limit besides close.
 */
export const apiKeyEphemeral = defineEphemeralResource<ProviderContext, typeof schema.attributes, Handle>({
  name: "postscale_api_key",
  schema,

  validate(config, raw) {
    const diagnostics = apiKeyResource.validate!({ config: asManagedKeyConfig(raw) });
    const { ttl, name_prefix: prefix } = config;
    if (typeof ttl === "string") diagnostics.push(...ttlProblems(ttl));
    if (typeof prefix === "string") {
      const problem = nameProblem(`${prefix}${"x".repeat(SUFFIX_LENGTH)}`);
      if (problem) diagnostics.push(attributeError(["name_prefix"], "Invalid API Key Name", `name_prefix followed by ${SUFFIX_LENGTH} random characters ${problem}.`));
    }
    return diagnostics;
  },

  async open(ctx, { config }) {
    const ttl = config.ttl ?? DEFAULT_TTL;
    const seconds = ttlSeconds(ttl);
    const name = `${config.name_prefix ?? DEFAULT_NAME_PREFIX}${randomBytes(SUFFIX_BYTES).toString("hex")}`;
    const expiresAt = new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const request = {
      name,
      owner: config.owner as KeyOwner,
      member_id: config.member_id,
      domains: config.domains === null ? null : [...config.domains].sort(),
      expires_at: expiresAt,
    };
    try {
      // No fixed Idempotency-Key: every open mints a new key (the client's own key still covers its retries).
      const created = await ctx.client.createApiKey(request);
      if (typeof created.secret !== "string") {
        await ctx.client.deleteApiKey(created.id).catch(() => undefined);
        throw new Error(`Postscale returned no secret for the new key ${created.id} (revoked it)`);
      }
      return {
        result: { ttl, name_prefix: config.name_prefix ?? DEFAULT_NAME_PREFIX, name, id: created.id, expires_at: created.expires_at ?? expiresAt, domains: [...created.domains].sort(), secret: created.secret },
        private: { id: created.id, expires_at: created.expires_at ?? expiresAt },
      };
    } catch (err) {
      return { diagnostics: apiErrorDiagnostics(err, `Opening an ephemeral API key (owner ${request.owner})`, schema.names, ["domains"]) };
    }
  },

  /** Revoke the key; one already gone (revoked, or its holder removed) is done. */
  async close(ctx, { private: handle }) {
    try {
      await ctx.client.deleteApiKey(handle.id);
    } catch (err) {
      if (!isNotFound(err)) {
        const diagnostics = apiErrorDiagnostics(err, `Revoking the ephemeral API key ${handle.id}`, schema.names);
        for (const d of diagnostics) d.detail += ` The key stops working at ${handle.expires_at} regardless.`;
        return { diagnostics };
      }
    }
    return {};
  },
});

/**
 * The ephemeral key's owner, holder and domains as a configuration of the
 * managed `postscale_api_key`, so both are validated by the same rules.
 */
function asManagedKeyConfig(raw: ObjectValue): ObjectValue {
  const managed: Record<string, ObjectValue[string]> = Object.fromEntries(Object.keys(apiKeyResource.schema.block.attributes).map((name) => [name, null]));
  for (const name of ["owner", "member_id", "domains"]) managed[name] = raw[name] ?? null;
  return managed;
}

function ttlProblems(ttl: string): Diagnostic[] {
  const parsed = parseDuration(ttl);
  if ("problem" in parsed) return [attributeError(["ttl"], "Invalid Duration", `ttl ${parsed.problem}.`)];
  if (parsed.seconds > MAX_TTL_SECONDS) {
    return [
      attributeError(
        ["ttl"],
        "Ephemeral Key Lifetime Too Long",
        `ttl is at most "1h", got "${ttl}": an ephemeral key must not outlive a killed run by long. For a key that lasts, declare a managed postscale_api_key (resource block) with expires_at, and keep its secret out of state with secret_wo.`,
      ),
    ];
  }
  if (parsed.seconds < MIN_TTL_SECONDS) {
    return [attributeError(["ttl"], "Ephemeral Key Lifetime Too Short", `ttl is at least "1m", got "${ttl}": a shorter key could expire before the run has used it.`)];
  }
  return [];
}

/** Seconds of a ttl that validation accepted. */
function ttlSeconds(ttl: string): number {
  const parsed = parseDuration(ttl);
  if ("problem" in parsed) throw new Error(`ttl "${ttl}" reached open although validation refuses it`);
  return parsed.seconds;
}
