import { createHash } from "node:crypto";
import type { ApiKey, KeyOwner } from "../../api/types";
import { parseDuration } from "../../duration";
import { PostscaleError } from "../../errors";
import { checkOrganizationKeyMember, domainProblem, keyMaterialProblem, liftableByGrant, nameProblem, resolveKeyScope, type KeyHolder } from "../../policy";
import { defineResource } from "../framework/resource";
import { defineSchema, present, type ConfigOf, type StateOf } from "../framework/schema";
import { UNKNOWN, isUnknown, type Diagnostic, type ObjectValue, type Value } from "../protocol/types";
import { callerPrincipal, type ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, isNotFound, pointerToPath, problemRule, violationDiagnostic } from "./diagnostics";
import { configTimestamp, isKnown, sameInstant, sameSet, timestampProblem } from "./values";

const OWNERS: readonly KeyOwner[] = ["organization", "member"];

/** The longest rotation_overlap the server accepts (PUT /v1/api-keys/{id}/secret's overlap_seconds). */
const MAX_OVERLAP_SECONDS = 86_400;

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
      description:
        'For owner "member": the member who holds the key (required, so the holder is explicit in review). Must be unset for owner "organization". Changing it replaces the key. A member key works once its holder has joined: until they accept their invitation it answers 401 (rule key_holder_not_joined).',
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
    prefix: { type: "string", computed: true, useStateForUnknown: true, description: "The first characters of the secret, to recognise the key in logs and the dashboard; for material from `secret_wo`, `sha256:` and the first 8 hex digits of the material's SHA-256 instead (no character of the secret). Changes with each rotation." },
    created_at: { type: "string", computed: true, useStateForUnknown: true, description: "When the key was created (RFC 3339)." },
    created_by: {
      type: "string",
      computed: true,
      useStateForUnknown: true,
      description:
        "The member id of the person whose credential created the key (null for keys made before Postscale recorded it). They may know the secret, and the key outlives them: it is not revoked when its creator leaves, so rotate it when that person leaves (in place: change `rotation_trigger`, or bump `secret_wo_version` with new material). `postscale review` lists such keys under offboarding.",
    },
    secret: {
      type: "string",
      computed: true,
      sensitive: true,
      useStateForUnknown: true,
      description:
        "The secret to authenticate with (`Authorization: Bearer ...`). Known only after creation or a rotation, kept in state and never read again from Postscale (which stores only a hash); null for an imported key and for a key whose material comes from `secret_wo`. Store it in a secret manager and protect the state, or use `secret_wo` to keep it out of state.",
    },
    rotation_trigger: {
      type: "string",
      optional: true,
      description:
        "Any string; changing it rotates the secret in place (PUT /v1/api-keys/{id}/secret): the key keeps its id, name and scope, `secret` and `prefix` change, and the old secret works for `rotation_overlap`. Setting it for the first time does not rotate. Feed it from `time_rotating.<name>.id`, a date, or a ticket number.",
    },
    rotate_every: {
      type: "string",
      optional: true,
      description:
        'Rotate the secret in place once it is this old (a duration such as "90d", "720h" or "30d12h"): when `secret_rotated_at` + `rotate_every` has passed, the plan shows an in-place update that rotates. Plans only run when you run them: schedule a plan/apply (e.g. daily CI) for the rotation to happen.',
    },
    rotation_overlap: {
      type: "string",
      optional: true,
      description:
        'How long the replaced secret keeps working after a rotation, so clients can switch without downtime (a duration up to "24h", e.g. "10m"). Default "0s": the old secret stops at once. Changing it alone does not rotate.',
    },
    secret_rotated_at: {
      type: "string",
      computed: true,
      useStateForUnknown: true,
      description: "When the current secret was set (RFC 3339): the creation time until the first rotation. `rotate_every` counts from here.",
    },
    secret_wo: {
      type: "string",
      optional: true,
      sensitive: true,
      writeOnly: true,
      description:
        "Write-only key material (needs OpenTofu 1.11+ or Terraform 1.11+; older engines refuse it rather than store it): the secret comes from the configuration, typically an ephemeral value such as `ephemeral.random_password.<name>.result`, and only its hash goes to Postscale; it is never in plan or state, and `secret` stays null. 32 to 256 characters of letters, digits and !#$%&()*+,-./:;<=>?@[]^_{|}~ with at least 10 different characters, an estimated 110 bits of entropy and no repetition. Postscale reads it when the key is created and when `secret_wo_version` changes: bump the version to rotate to new material.",
    },
    secret_wo_version: {
      type: "number",
      optional: true,
      description: "Any number; changing it rotates the key in place to the material now in `secret_wo` (the engine cannot see a change of a write-only value, so this is how you say there is new material).",
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
    if (typeof config.rotate_every === "string") {
      const parsed = parseDuration(config.rotate_every);
      if ("problem" in parsed) diagnostics.push(attributeError(["rotate_every"], "Invalid Rotation Period", `rotate_every ${parsed.problem}.`));
      else if (parsed.seconds === 0) diagnostics.push(attributeError(["rotate_every"], "Invalid Rotation Period", 'rotate_every must be longer than zero, e.g. "90d".'));
    }
    if (typeof config.rotation_overlap === "string") {
      const parsed = parseDuration(config.rotation_overlap);
      const problem = "problem" in parsed ? parsed.problem : parsed.seconds > MAX_OVERLAP_SECONDS ? `must be at most 24h (${MAX_OVERLAP_SECONDS}s), got "${config.rotation_overlap}"` : undefined;
      if (problem) diagnostics.push(attributeError(["rotation_overlap"], "Invalid Rotation Overlap", `rotation_overlap ${problem}.`));
    }
    if (typeof config.secret_wo === "string") {
      // The rule's words never repeat the material, so the diagnostic cannot leak it.
      const problem = keyMaterialProblem(config.secret_wo);
      if (problem) diagnostics.push(attributeError(["secret_wo"], "Invalid Key Material", `secret_wo ${problem}.`));
    }
    return diagnostics;
  },

  async plan(ctx, { config, prior }) {
    const domains = config.domains;
    // Material from the configuration: Postscale never returns a secret, so it is known to be null.
    const secret = config.secret_wo === null ? UNKNOWN : null;
    if (prior === null) {
      // Only what the configuration decides is planned known; the rest depends on the holder's role and grants at apply.
      const scope = Array.isArray(domains) ? "domains" : domains === null && config.owner === "organization" ? "organization" : UNKNOWN;
      return { planned: { scope, secret }, diagnostics: await scopeWarnings(ctx, config) };
    }
    const rotation: { [name: string]: Value } = rotationPlanned(config, prior, Date.now()) ? { secret, prefix: UNKNOWN, secret_rotated_at: UNKNOWN } : {};
    const rescoped = !isKnown(domains) || (domains !== null && !sameSet(domains, prior.domains ?? []));
    if (!rescoped) return { planned: rotation };
    return { planned: { ...rotation, scope: isKnown(domains) ? "domains" : UNKNOWN }, diagnostics: await scopeWarnings(ctx, config) };
  },

  /** Waits for a grant applied concurrently (see the module comment). */
  async create(ctx, { planned, plannedState, config }) {
    const { name, owner, member_id: memberId, expires_at: expiresAt, domains } = planned;
    if (!isOwner(owner)) throw new Error(`owner "${owner}" reached apply although validation refuses it`);
    const request = { name, owner, member_id: memberId, domains: Array.isArray(domains) ? [...domains].sort() : null, expires_at: expiresAt };
    const material = knownMaterial(config);
    // The same in every run: a create whose reply was lost is replayed, secret included, by the next run (see create-keys.ts).
    const idempotencyKey = ctx.createKey("api_key", material === null ? request : { ...request, secret_sha256: sha256(material) });
    try {
      const created = await retryWhileGrantPending<ApiKey & { secret: string | null }>(ctx, memberId, () =>
        material === null ? ctx.client.createApiKey(request, { idempotencyKey }) : ctx.client.createApiKey({ ...request, secret: material }, { idempotencyKey }),
      );
      ctx.keysCreatedHere.add(created.id);
      ctx.snapshot.putKey(created);
      return { newState: keyState(created, created.secret, planned) };
    } catch (err) {
      const diagnostics = apiErrorDiagnostics(err, `Creating ${describe(plannedState)}`, schema.names, ["domains"]);
      if (err instanceof PostscaleError && problemRule(err) === "key_name_taken") {
        const existing = (await ctx.client.listApiKeys().catch(() => [])).find((k) => k.name === name && k.owner === owner && (owner === "organization" || k.member_id === memberId));
        const which = existing ? ` (id ${existing.id})` : "";
        diagnostics.forEach(
          (d) =>
            (d.detail += ` Key names are unique per holder, so no second key was made. If the existing key${which} is one an earlier run created and lost the reply of, beyond the server's replay window its secret cannot be recovered: revoke it and apply again${existing ? `, or adopt it with \`tofu import <address> ${existing.id}\` and give it a new secret in place by setting rotation_trigger, applying, then changing it` : ""}.`),
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
      return { newState: keyState(key, state.secret, { ...state, expires_at: sameInstant(expiresAt, key.expires_at) ? expiresAt : key.expires_at }) };
    } catch (err) {
      return { newState: currentState, diagnostics: await ctx.readFailures.report(err, describe(currentState), schema.names) };
    }
  },

  /** Rename, rescope and rotate in place (rotation when the plan left secret_rotated_at unknown). */
  async update(ctx, { prior, priorState, planned, plannedState, config }) {
    const { name, member_id: memberId, domains } = planned;
    const id = present(prior.id, "id");
    const patch: { name?: string; domains?: string[] } = {};
    if (name !== prior.name) patch.name = name;
    if (Array.isArray(domains) && !sameSet(domains, prior.domains ?? [])) patch.domains = domains;
    const rotate = isUnknown(planned.secret_rotated_at);
    if (patch.name === undefined && patch.domains === undefined && !rotate) return { newState: plannedState };
    let state = priorState;
    try {
      if (patch.name !== undefined || patch.domains !== undefined) {
        const updated = await retryWhileGrantPending(ctx, memberId, () => ctx.client.updateApiKey(id, patch));
        ctx.snapshot.putKey(updated);
        state = keyState(updated, prior.secret, planned);
      }
      if (rotate) {
        const material = knownMaterial(config);
        const overlap = { overlap_seconds: overlapSeconds(planned.rotation_overlap) };
        // The same in a rerun after a lost reply (same prior rotation, same request): the server replays the rotation instead of rotating twice.
        const idempotencyKey = ctx.createKey("api_key_rotation", {
          id,
          from: prior.secret_rotated_at ?? prior.created_at,
          ...overlap,
          secret_sha256: material === null ? null : sha256(material),
        });
        const rotated =
          material === null ? await ctx.client.rotateApiKeySecret(id, overlap, { idempotencyKey }) : await ctx.client.rotateApiKeySecret(id, { ...overlap, secret: material }, { idempotencyKey });
        ctx.snapshot.putKey(rotated);
        state = keyState(rotated, rotated.secret, planned);
      }
      // The creator never changes; the planned value (carried from prior state) stands, even a null from state written before the attribute existed.
      return { newState: keepKnown(state, plannedState, ["created_by", ...(rotate ? [] : ["secret_rotated_at"])]) };
    } catch (err) {
      const diagnostics = apiErrorDiagnostics(err, `${rotate ? "Rotating" : "Updating"} ${describe(priorState)}`, schema.names, ["domains"]);
      if (rotate && err instanceof PostscaleError && err.errors.some((e) => e.path === "/secret")) {
        diagnostics.forEach((d) => (d.detail += " With secret_wo, each rotation needs new material: bump secret_wo_version together with new material (an ephemeral random_password gives new material every run)."));
      }
      return { newState: state, diagnostics };
    }
  },

  /**
   * Revoke the key; except a key this process's create just returned: a
   * create-before-destroy replacement repeats the old key's create (same
   * name, owner and scope, so the same Idempotency-Key, and key names are
   * unique per holder), gets the old key back, and revoking the "deposed"
   * copy would revoke the only key.
   */
  async delete(ctx, { prior, priorState }) {
    const id = present(prior.id, "id");
    if (ctx.keysCreatedHere.has(id)) {
      return {
        newState: null,
        diagnostics: [
          {
            severity: "warning",
            summary: "API Key Kept: Its Replacement Is The Same Key",
            detail: `The replacement of ${describe(priorState)} came back as the same key (id ${id}): key names are unique per holder, so a create-before-destroy replacement cannot make a second key with this name, and Postscale answered the repeated create with the existing key. It was not revoked and keeps working. To get a new secret, rotate in place instead of replacing: change rotation_trigger (or set rotate_every), or bump secret_wo_version with new material.`,
          },
        ],
      };
    }
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
      return { imported: [{ state: keyState(key, null, { expires_at: key.expires_at === null ? null : configTimestamp(key.expires_at), rotation_trigger: null, rotate_every: null, rotation_overlap: null, secret_wo_version: null }) }] };
    } catch (err) {
      return { imported: [], diagnostics: apiErrorDiagnostics(err, `Importing API key "${id}"`, schema.names) };
    }
  },
});

function isOwner(value: string): value is KeyOwner {
  return (OWNERS as readonly string[]).includes(value);
}

/** What state keeps from the configuration rather than from Postscale. */
type Kept = Pick<Config, "expires_at" | "rotation_trigger" | "rotate_every" | "rotation_overlap" | "secret_wo_version">;

function keyState(key: ApiKey, secret: string | null, kept: Kept): ObjectValue {
  return {
    id: key.id,
    name: key.name,
    owner: key.owner,
    member_id: key.member_id,
    domains: [...key.domains].sort(),
    expires_at: kept.expires_at,
    scope: key.scope,
    prefix: key.prefix,
    created_at: key.created_at,
    created_by: key.created_by ?? null,
    secret,
    rotation_trigger: kept.rotation_trigger,
    rotate_every: kept.rotate_every,
    rotation_overlap: kept.rotation_overlap,
    secret_rotated_at: key.rotated_at ?? key.created_at,
    secret_wo: null,
    secret_wo_version: kept.secret_wo_version,
  };
}

/** `state` with the planned value of each named attribute the plan knew. */
function keepKnown(state: ObjectValue, plannedState: ObjectValue, names: readonly string[]): ObjectValue {
  const out: Record<string, Value> = { ...state };
  for (const name of names) if (isKnown(plannedState[name] ?? null)) out[name] = plannedState[name] ?? null;
  return out;
}

/**
 * Whether an update rotates the secret: `rotation_trigger` changed (not
 * when first set), `secret_wo_version` changed to a value (new material),
 * or `rotate_every` has passed since the current secret was set. An
 * unknown value counts as a change.
 */
function rotationPlanned(config: Config, prior: StateOf<typeof schema>, now: number): boolean {
  const trigger = config.rotation_trigger;
  if (prior.rotation_trigger !== null && (!isKnown(trigger) || trigger !== prior.rotation_trigger)) return true;
  const version = config.secret_wo_version;
  if (version !== null && (!isKnown(version) || version !== prior.secret_wo_version)) return true;
  if (typeof config.rotate_every !== "string") return false;
  const every = parseDuration(config.rotate_every);
  const since = Date.parse(prior.secret_rotated_at ?? prior.created_at ?? "");
  return "seconds" in every && every.seconds > 0 && !Number.isNaN(since) && since + every.seconds * 1000 <= now;
}

function overlapSeconds(overlap: string | null): number {
  if (overlap === null) return 0;
  const parsed = parseDuration(overlap);
  return "seconds" in parsed ? parsed.seconds : 0;
}

/** The write-only material of the configuration, when set. */
function knownMaterial(config: Config): string | null {
  return typeof config.secret_wo === "string" ? config.secret_wo : null;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
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
      if (memberId === null || rule === undefined || !liftableByGrant(rule) || remaining <= 0) throw err;
      await ctx.snapshot.grantChangeOrTimeout(memberId, Math.min(pause, remaining));
      pause = Math.min(pause * 2, 4000);
    }
  }
}

function describe(state: ObjectValue): string {
  const { name } = schema.config(state);
  return typeof name === "string" ? `API key "${name}"` : "API key";
}
