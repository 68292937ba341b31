import type { ApiKey, KeyOwner } from "../../api/types";
import { PostscaleError } from "../../errors";
import { checkOrganizationKeyMember, domainProblem, nameProblem, resolveKeyScope, type KeyHolder } from "../../policy";
import { defineResource } from "../framework/resource";
import { defineSchema, present, type ConfigOf } from "../framework/schema";
import { UNKNOWN, type Diagnostic, type ObjectValue, type Value } from "../protocol/types";
import { callerPrincipal, type ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, isNotFound, pointerToPath, problemRule, violationDiagnostic } from "./diagnostics";
import { configTimestamp, isKnown, sameInstant, sameSet, timestampProblem } from "./values";

const OWNERS: readonly KeyOwner[] = ["organization", "member"];

/** Refusals that a grant applied concurrently in the same apply can lift. */
const GRANT_DEPENDENT_RULES = new Set(["key_domain_not_writable", "no_writable_domains"]);

const schema = defineSchema({
  description:
    "A Postscale API key. Owned by the organization (a service key; only owners and admins create them) or by a member (limited to the domains that member can write, and revoked when the member leaves). A key never grants more than its owner's current access. It is not revoked when the person who created it leaves (see `created_by`). The secret is known only after creation. When a member key names a domain granted read_write in the same apply, the provider waits briefly for the grant; adding `depends_on` on the grant makes the order explicit.",
  attributes: {
    id: { type: "string", computed: true, useStateForUnknown: true, description: "The key's id. Import with it: the secret is not stored by Postscale, so an imported key has a null `secret`." },
    name: { type: "string", required: true, description: "A name for people (e.g. the application using it). Changes in place." },
    owner: {
      type: "string",
      required: true,
      requiresReplace: true,
      description: '"organization" (a service key that survives people leaving) or "member" (held by `member_id`, revoked when they leave). Changing it replaces the key.',
    },
    member_id: {
      type: "string",
      optional: true,
      requiresReplace: true,
      description: 'For owner "member": the member who holds the key (required, so the holder is explicit in review). Must be unset for owner "organization". Changing it replaces the key.',
    },
    domains: {
      type: ["set", "string"],
      optional: true,
      computed: true,
      useStateForUnknown: true,
      description:
        'Domains the key is limited to; each must be one its owner can write (read_write) when the key is written. Changes in place. When not set, Postscale decides and the result is stored here: a member key gets the member\'s read_write domains at creation, an organization key or a key of an admin is organization-wide (an empty set, with `scope` "organization"). Removing it from the configuration later keeps the key\'s current domains.',
    },
    expires_at: { type: "string", optional: true, requiresReplace: true, sameValue: sameInstant, description: "When the key stops working (RFC 3339, e.g. 2027-01-31T00:00:00Z); never when unset. Changing it replaces the key." },
    scope: { type: "string", computed: true, useStateForUnknown: true, description: '"organization" (every domain its owner reaches) or "domains" (only `domains`).' },
    prefix: { type: "string", computed: true, useStateForUnknown: true, description: "The first characters of the secret, to recognise the key in logs and the dashboard." },
    created_at: { type: "string", computed: true, useStateForUnknown: true, description: "When the key was created (RFC 3339)." },
    created_by: {
      type: "string",
      computed: true,
      useStateForUnknown: true,
      description:
        "The member id of the person whose credential created the key (null for keys made before Postscale recorded it). They may know the secret, and the key outlives them: it is not revoked when its creator leaves, so rotate it when that person leaves (replace the key, e.g. `tofu apply -replace=<address>`). `postscale review` lists such keys under offboarding.",
    },
    secret: {
      type: "string",
      computed: true,
      sensitive: true,
      useStateForUnknown: true,
      description:
        "The secret to authenticate with (`Authorization: Bearer ...`). Known only after creation, kept in state and never read again from Postscale (which stores only a hash); null for an imported key. Store it in a secret manager and protect the state.",
    },
  },

});
type Config = ConfigOf<typeof schema>;

/**
 * `postscale_api_key`: a key owned by the organization (a service
 * credential) or by a member (limited to the member's read/write domains,
 * revoked when they leave).
 *
 * Ordering: a member key naming a domain usually goes with a grant of
 * read_write on that domain in the same configuration. Both reference the
 * member's id, neither references the other, so the engine may apply the
 * key first and the server refuses it. Rather than fail a valid change, a
 * key write refused for a domain its owner cannot write is retried for a
 * while (ProviderContext.keyGrantWaitMs), waking as soon as this process
 * writes a grant for that member; only then does the refusal surface.
 */
export const apiKeyResource = defineResource<ProviderContext, typeof schema.attributes>({
  name: "postscale_api_key",
  schema,

  validate(config, raw) {
    const diagnostics: Diagnostic[] = [];
    const { name, owner, member_id: memberId, expires_at: expiresAt } = config;
    if (typeof name === "string") {
      const problem = nameProblem(name);
      if (problem) diagnostics.push(attributeError(["name"], "Invalid API Key Name", `name ${problem}.`));
    }
    if (typeof owner === "string" && !isOwner(owner)) {
      diagnostics.push(attributeError(["owner"], "Invalid Key Owner", `owner must be one of ${OWNERS.map((o) => `"${o}"`).join(", ")}, got "${owner}".`));
    }
    if (owner === "organization" && typeof memberId === "string") {
      const decision = checkOrganizationKeyMember({ owner, memberId });
      if (!decision.allowed) diagnostics.push(violationDiagnostic("error", decision, ["member_id"]));
    }
    if (owner === "member" && memberId === null) {
      diagnostics.push(
        attributeError(["member_id"], "Missing Key Holder", 'member_id is required when owner is "member": name the member who holds the key, e.g. member_id = postscale_team_member.dev.id. For a key that belongs to nobody, set owner = "organization".'),
      );
    }
    // Raw: the known elements of a set that is partly unknown are checked too.
    const domains = raw.domains;
    if (Array.isArray(domains)) {
      for (const d of domains as readonly Value[]) {
        const problem = typeof d === "string" ? domainProblem(d) : undefined;
        if (problem) diagnostics.push(attributeError(["domains"], "Invalid Domain Name", `domains: each domain ${problem}.`));
      }
    }
    if (typeof expiresAt === "string") {
      const problem = timestampProblem(expiresAt);
      if (problem) diagnostics.push(attributeError(["expires_at"], "Invalid Expiry Time", `expires_at ${problem}.`));
    }
    return diagnostics;
  },

  async plan(ctx, { config, prior }) {
    const domains = config.domains;
    if (prior === null) {
      // Only what the configuration decides is planned known; the rest depends on the holder's role and grants at apply.
      const scope = Array.isArray(domains) ? "domains" : domains === null && config.owner === "organization" ? "organization" : UNKNOWN;
      return { planned: { scope }, diagnostics: await scopeWarnings(ctx, config) };
    }
    const rescoped = !isKnown(domains) || (domains !== null && !sameSet(domains, prior.domains ?? []));
    if (!rescoped) return {};
    return { planned: { scope: isKnown(domains) ? "domains" : UNKNOWN }, diagnostics: await scopeWarnings(ctx, config) };
  },

  /** Waits for a grant applied concurrently (see the module comment). */
  async create(ctx, { planned, plannedState }) {
    const { name, owner, member_id: memberId, expires_at: expiresAt, domains } = planned;
    if (!isOwner(owner)) throw new Error(`owner "${owner}" reached apply although validation refuses it`);
    const request = { name, owner, member_id: memberId, domains: Array.isArray(domains) ? [...domains].sort() : null, expires_at: expiresAt };
    // The same in every run: a create whose reply was lost is replayed, secret included, by the next run (see create-keys.ts).
    const idempotencyKey = ctx.createKey("api_key", request);
    try {
      const created = await retryWhileGrantPending(ctx, memberId, () => ctx.client.createApiKey(request, { idempotencyKey }));
      ctx.snapshot.putKey(created);
      return { newState: keyState(created, created.secret, expiresAt) };
    } catch (err) {
      const diagnostics = apiErrorDiagnostics(err, `Creating ${describe(plannedState)}`, schema.names, ["domains"]);
      if (err instanceof PostscaleError && problemRule(err) === "key_name_taken") {
        const existing = (await ctx.client.listApiKeys().catch(() => [])).find((k) => k.name === name && k.owner === owner && (owner === "organization" || k.member_id === memberId));
        const which = existing ? ` (id ${existing.id})` : "";
        diagnostics.forEach(
          (d) =>
            (d.detail += ` Key names are unique per holder, so no second key was made. If the existing key${which} is one an earlier run created and lost the reply of, beyond the server's replay window its secret cannot be recovered: revoke it and apply again${existing ? `, or adopt it with \`tofu import <address> ${existing.id}\` and rotate it with \`tofu apply -replace=<address>\`` : ""}.`),
        );
      }
      return { newState: null, diagnostics };
    }
  },

  async read(ctx, { state, currentState }) {
    try {
      const key = await ctx.snapshot.key(present(state.id, "id"));
      if (key === undefined) return { newState: null };
      const expiresAt = state.expires_at;
      return { newState: keyState(key, state.secret, sameInstant(expiresAt, key.expires_at) ? expiresAt : key.expires_at) };
    } catch (err) {
      return { newState: currentState, diagnostics: await ctx.readFailures.report(err, describe(currentState), schema.names) };
    }
  },

  /** Rename and rescope in place. */
  async update(ctx, { prior, priorState, planned, plannedState }) {
    const { name, member_id: memberId, expires_at: expiresAt, domains } = planned;
    const id = present(prior.id, "id");
    const patch: { name?: string; domains?: string[] } = {};
    if (name !== prior.name) patch.name = name;
    if (Array.isArray(domains) && !sameSet(domains, prior.domains ?? [])) patch.domains = domains;
    if (patch.name === undefined && patch.domains === undefined) return { newState: plannedState };
    try {
      const updated = await retryWhileGrantPending(ctx, memberId, () => ctx.client.updateApiKey(id, patch));
      ctx.snapshot.putKey(updated);
      const state = keyState(updated, prior.secret, expiresAt);
      // The creator never changes; the planned value (carried from prior state) stands, even a null from state written before the attribute existed.
      return { newState: isKnown(planned.created_by) ? { ...state, created_by: planned.created_by } : state };
    } catch (err) {
      return { newState: priorState, diagnostics: apiErrorDiagnostics(err, `Updating ${describe(priorState)}`, schema.names, ["domains"]) };
    }
  },

  /** Revoke the key. */
  async delete(ctx, { prior, priorState }) {
    const id = present(prior.id, "id");
    try {
      await ctx.client.deleteApiKey(id);
    } catch (err) {
      if (!isNotFound(err)) return { newState: priorState, diagnostics: apiErrorDiagnostics(err, `Deleting ${describe(priorState)}`, schema.names) };
    }
    ctx.snapshot.dropKey(id);
    return { newState: null };
  },

  async importState(ctx, id) {
    try {
      const key = await ctx.snapshot.key(id);
      if (key === undefined) {
        return { imported: [], diagnostics: [{ severity: "error", summary: "API Key Not Found", detail: `No API key with id "${id}" is visible to the provider's credential. Import by the key's id (see GET /v1/api-keys).` }] };
      }
      // Imported state has no configuration to keep the spelling of; the usual one makes the first plan after an import empty.
      return { imported: [{ state: keyState(key, null, key.expires_at === null ? null : configTimestamp(key.expires_at)) }] };
    } catch (err) {
      return { imported: [], diagnostics: apiErrorDiagnostics(err, `Importing API key "${id}"`, schema.names) };
    }
  },
});

function isOwner(value: string): value is KeyOwner {
  return (OWNERS as readonly string[]).includes(value);
}

function keyState(key: ApiKey, secret: string | null, expiresAt: string | null): ObjectValue {
  return {
    id: key.id,
    name: key.name,
    owner: key.owner,
    member_id: key.member_id,
    domains: [...key.domains].sort(),
    expires_at: expiresAt,
    scope: key.scope,
    prefix: key.prefix,
    created_at: key.created_at,
    created_by: key.created_by ?? null,
    secret,
  };
}

/**
 * What the server would say about this key today, as warnings: the
 * holder's role and grants are server state that other resources in the
 * same plan may change (a grant widened to read_write), so nothing here
 * blocks the plan. The server's refusal at apply is the error.
 */
async function scopeWarnings(ctx: ProviderContext, config: Config): Promise<Diagnostic[]> {
  const { owner, member_id: memberId, domains } = config;
  if (!isKnown(domains) || (owner !== "organization" && owner !== "member") || !isKnown(memberId)) return [];
  let holder: KeyHolder | null = null;
  let knownDomains: string[];
  try {
    if (owner === "member" && memberId !== null) {
      const member = await ctx.snapshot.member(memberId);
      if (member) holder = { id: member.id, email: member.email, role: member.role, grants: Object.fromEntries((member.domain_access ?? []).map((g) => [g.domain, g.access])) };
    }
    knownDomains = (await ctx.snapshot.allDomains()).map((d) => d.name);
  } catch {
    // Advisory only: the refresh or the apply reports an unreachable or refusing server with its cause.
    return [];
  }
  const decision = resolveKeyScope(callerPrincipal(ctx.caller), { owner, memberId, domains }, holder, knownDomains);
  if (decision.allowed || decision.rule === "organization_key_has_no_member") return [];
  return [
    violationDiagnostic("warning", decision, pointerToPath(decision.path ?? "", schema.names) ?? ["domains"], {
      before: "The Postscale server says today: ",
      after: "If this plan changes that (for example a postscale_domain_access granting read_write in the same apply), the key is written once it has; otherwise the apply is refused and nothing is created.",
    }),
  ];
}

/**
 * Runs a key write, retrying while the server refuses it for a domain the
 * holder cannot write yet: a grant in the same apply may land concurrently
 * (see the module comment). Wakes early when this process writes a grant
 * for the holder; gives up after ctx.keyGrantWaitMs with the last refusal.
 */
async function retryWhileGrantPending<T>(ctx: ProviderContext, memberId: string | null, write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ctx.keyGrantWaitMs;
  let pause = 250;
  for (;;) {
    try {
      return await write();
    } catch (err) {
      const rule = problemRule(err);
      const remaining = deadline - Date.now();
      if (memberId === null || rule === undefined || !GRANT_DEPENDENT_RULES.has(rule) || remaining <= 0) throw err;
      await ctx.snapshot.grantChangeOrTimeout(memberId, Math.min(pause, remaining));
      pause = Math.min(pause * 2, 4000);
    }
  }
}

function describe(state: ObjectValue): string {
  const { name } = schema.config(state);
  return typeof name === "string" ? `API key "${name}"` : "API key";
}
