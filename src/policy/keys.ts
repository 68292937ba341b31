import { ALLOW, Decision, Violation, deny } from "./decision";
import { decideOrganizationAction } from "./actions";
import { Principal, effectiveAccess, isDomainScopedKey, isOrganizationKey, personAccess } from "./principal";
import { Access, Role, isManager, outranks } from "./roles";

/** The person who will own a member key. */
export interface KeyHolder {
  id: string;
  email: string;
  role: Role;
  grants: Readonly<Record<string, Access>>;
}

export interface KeyRequest {
  owner: "organization" | "member";
  /** For owner "member": the holder; defaults to the caller. */
  memberId?: string | null;
  /** Explicit domains; absent or null means "not chosen". */
  domains?: readonly string[] | null;
}

/** What a new or rescoped key will reach. */
export interface ResolvedScope {
  allowed: true;
  scope: "organization" | "domains";
  domains: string[];
}

export type ScopeDecision = ResolvedScope | Violation;

/**
 * Every domain a member-held key names must be one the holder can write
 * today. Returns one violation per offending domain, naming both.
 */
export function checkHolderDomains(holder: Pick<KeyHolder, "email" | "role" | "grants">, domains: readonly string[]): Violation[] {
  const out: Violation[] = [];
  domains.forEach((domain, i) => {
    const access = personAccess(holder.role, holder.grants, domain);
    if (access === "read_write") return;
    const has = access === "read" ? "has read-only access to" : "has no access to";
    out.push(
      deny(
        403,
        "key_domain_not_writable",
        `${holder.email} ${has} ${domain}; an API key can only include domains its owner can write (read_write). Grant ${holder.email} read_write on ${domain}, or remove ${domain} from the key.`,
        `/domains/${i}`,
      ),
    );
  });
  return out;
}

/**
 * An organization-owned key belongs to no member. The request alone decides
 * this, so tools can check it before asking the server anything.
 */
export function checkOrganizationKeyMember(request: Pick<KeyRequest, "owner" | "memberId">): Decision {
  if (request.owner === "organization" && request.memberId != null) {
    return deny(422, "organization_key_has_no_member", "An organization-owned key has no member; drop member_id or set owner to \"member\".", "/member_id");
  }
  return ALLOW;
}

/** The read/write domains of a holder, sorted: the auto-scope of a key created without domains. */
export function autoScope(holder: Pick<KeyHolder, "role" | "grants">): string[] {
  return Object.entries(holder.grants)
    .filter(([, a]) => a === "read_write")
    .map(([d]) => d)
    .sort();
}

/**
 * What a key created without explicit domains reaches: organization-wide for
 * organization-owned keys and for owners' and admins' keys; otherwise the
 * holder's read_write domains at that moment (auto-scope).
 */
export function defaultKeyReach(owner: "organization" | "member", holderRole: Role): "organization" | "holder_read_write_domains" {
  return owner === "organization" || isManager(holderRole) ? "organization" : "holder_read_write_domains";
}

/**
 * Decide the scope of a key being created (or rescoped, with `holder` the
 * existing owner). `knownDomains` are the organization's domain names.
 */
export function resolveKeyScope(
  actor: Principal,
  request: KeyRequest,
  holder: KeyHolder | null,
  knownDomains: readonly string[],
): ScopeDecision {
  const requested = request.domains ?? null;
  const domains = requested === null ? null : [...new Set(requested)].sort();
  const base = decideOrganizationAction(actor, "api_key.create");
  if (!base.allowed) return base;

  // A caller's own key limits what it can mint: never beyond its reach.
  if (requested !== null) {
    for (const [i, d] of requested.entries()) {
      if (!knownDomains.includes(d) || effectiveAccess(actor, d) === undefined) {
        return deny(422, "key_domain_unknown", `domain "${d}" was not found.`, `/domains/${i}`);
      }
    }
  }

  if (request.owner === "organization") {
    if (!isManager(actor.role) || actor.key?.scope === "domains") {
      return deny(403, "organization_key_requires_admin", "Only owners and admins (with an unscoped credential) can create organization-owned keys.", "/owner");
    }
    const shape = checkOrganizationKeyMember(request);
    if (!shape.allowed) return shape;
    return domains === null ? { allowed: true, scope: "organization", domains: [] } : { allowed: true, scope: "domains", domains };
  }

  // To someone who may not see other people's keys, another person's id
  // reads exactly like an unknown one (no existence oracle).
  if (holder === null || (holder.id !== actor.memberId && !decideOrganizationAction(actor, "api_key.read_any").allowed)) {
    return deny(422, "key_for_other_member", "member_id does not name a member of this organization.", "/member_id");
  }
  const reach = decideActForHolder(actor, holder);
  if (!reach.allowed) return { ...reach, path: "/member_id" };

  if (defaultKeyReach("member", holder.role) === "organization") {
    if (domains === null) {
      if (actor.key?.scope === "domains") {
        return deny(403, "organization_key_requires_admin", "A domain-scoped key cannot create an organization-wide key.", "/domains");
      }
      return { allowed: true, scope: "organization", domains: [] };
    }
    return { allowed: true, scope: "domains", domains };
  }

  if (domains === null) {
    const scoped = autoScope(holder).filter((d) => actor.key?.scope !== "domains" || effectiveAccess(actor, d) === "read_write");
    if (scoped.length === 0) {
      return deny(422, "no_writable_domains", `${holder.email} has no read_write domains, so a key without explicit domains would reach nothing. Grant read_write on a domain first.`, "/domains");
    }
    return { allowed: true, scope: "domains", domains: scoped };
  }
  const problems = checkHolderDomains(holder, requested ?? []);
  if (problems.length > 0) return problems[0];
  if (actor.key?.scope === "domains") {
    const beyond = domains.find((d) => effectiveAccess(actor, d) !== "read_write");
    if (beyond !== undefined) return deny(403, "key_domain_not_writable", `The calling key cannot write ${beyond}, so it cannot mint a key for it.`, "/domains");
  }
  return { allowed: true, scope: "domains", domains };
}

/**
 * No escalation through keys: a credential acts for a key's holder (creates,
 * renames, rescopes or revokes a key they hold) only when the holder's reach
 * is inside its own: the holder themselves, or someone of a lower role (the
 * owner for anyone, an admin for members). A domain-scoped key acts only for
 * its own holder.
 */
export function decideActForHolder(actor: Principal, holder: Pick<KeyHolder, "id" | "email" | "role">): Decision {
  if (actor.memberId !== null && actor.memberId === holder.id) return ALLOW;
  if (outranks(actor.role, holder.role) && !isDomainScopedKey(actor) && !isOrganizationKey(actor)) return ALLOW;
  return deny(
    403,
    "key_holder_outranks_caller",
    `${holder.email} is ${holder.role === "owner" ? "the owner" : `an ${holder.role}`}; only they${holder.role === "owner" ? "" : " or someone above them (the owner)"} can create, rename, rescope or revoke their keys.`,
  );
}

/** Which keys a list shows the principal: all of the organization's, or only those it holds. */
export function keysVisibleTo(actor: Principal): { all: true } | { all: false; heldBy: string | null } {
  return decideOrganizationAction(actor, "api_key.list").allowed && decideOrganizationAction(actor, "api_key.read_any").allowed
    ? { all: true }
    : { all: false, heldBy: actor.memberId };
}

/** Seeing a key: those who may read any key see all; others only their own (the rest are invisible: 404). */
export function decideKeyRead(actor: Principal, key: { owner: "organization" | "member"; memberId: string | null }): Decision {
  const visible = keysVisibleTo(actor);
  if (visible.all) return ALLOW;
  if (key.owner === "member" && key.memberId !== null && key.memberId === visible.heldBy) return ALLOW;
  return deny(404, "key_not_visible", "API key not found.");
}

/**
 * Renaming, rescoping or revoking a key. Invisible keys are 404; organization
 * keys are managed by the owner and admins with an unscoped credential; a
 * person's key by whoever may act for that person (`decideActForHolder`).
 */
export function decideKeyChange(
  actor: Principal,
  key: { owner: "organization" | "member"; memberId: string | null },
  holder: Pick<KeyHolder, "id" | "email" | "role"> | null,
): Decision {
  const read = decideKeyRead(actor, key);
  if (!read.allowed) return read;
  const base = decideOrganizationAction(actor, "api_key.manage");
  if (!base.allowed) return base;
  if (key.owner === "organization" || holder === null) {
    if (!isManager(actor.role) || isDomainScopedKey(actor)) {
      return deny(403, "organization_key_requires_admin", "Only owners and admins (with an unscoped credential) can manage organization-owned keys.");
    }
    return ALLOW;
  }
  return decideActForHolder(actor, holder);
}

/**
 * Offboarding revokes the keys a person holds; organization-owned keys
 * survive whoever created them.
 */
export function revokedWithMember(key: { owner: "organization" | "member"; memberId: string | null }, memberId: string): boolean {
  return key.owner === "member" && key.memberId === memberId;
}
