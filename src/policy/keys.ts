import { ALLOW, Decision, Violation, deny } from "./decision";
import { decideOrganizationAction } from "./actions";
import { KEY_OWNER, KEY_SCOPE, KeyOwner, KeyScopeKind, Principal, effectiveAccess, isDomainScopedKey, isOrganizationKey, personAccess } from "./principal";
import { ACCESS, Access, ROLE, Role, isManager, outranks } from "./roles";

/** The person who will own a member key. */
export interface KeyHolder {
  id: string;
  email: string;
  role: Role;
  grants: Readonly<Record<string, Access>>;
}

export interface KeyRequest {
  owner: KeyOwner;
  /** For owner "member": the holder; defaults to the caller. */
  memberId?: string | null;
  /** Explicit domains; absent or null means "not chosen". */
  domains?: readonly string[] | null;
}

/** What a new or rescoped key will reach. */
export interface ResolvedScope {
  allowed: true;
  scope: KeyScopeKind;
  domains: string[];
}

export type ScopeDecision = ResolvedScope | Violation;

/**
 * Every domain a member-held key names must be one the holder can write
 * today. Returns one violation per offending domain, naming both.
 */
/**
 * Whether a key refusal with this rule is one a grant can lift: the holder
 * lacks read_write on a domain (or on every domain) now, and a grant being
 * applied at the same time would give it.
 */
export function liftableByGrant(rule: string): boolean {
  return rule === "key_domain_not_writable" || rule === "no_writable_domains";
}

export function checkHolderDomains(holder: Pick<KeyHolder, "email" | "role" | "grants">, domains: readonly string[]): Violation[] {
  const out: Violation[] = [];
  domains.forEach((domain, i) => {
    const access = personAccess(holder.role, holder.grants, domain);
    if (access === ACCESS.read_write) return;
    const has = access === ACCESS.read ? "has read-only access to" : "has no access to";
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
  if (request.owner === KEY_OWNER.organization && request.memberId != null) {
    return deny(422, "organization_key_has_no_member", "An organization-owned key has no member; drop member_id or set owner to \"member\".", "/member_id");
  }
  return ALLOW;
}

/** The read/write domains of a holder, sorted: the auto-scope of a key created without domains. */
export function autoScope(holder: Pick<KeyHolder, "role" | "grants">): string[] {
  return Object.entries(holder.grants)
    .filter(([, a]) => a === ACCESS.read_write)
    .map(([d]) => d)
    .sort();
}

/**
 * What a key created without explicit domains reaches: organization-wide for
 * organization-owned keys and for owners' and admins' keys; otherwise the
 * holder's read_write domains at that moment (auto-scope). A member key
 * whose holder's role is not known (undefined) reads as auto-scoped, the
 * narrower of the two.
 */
export function defaultKeyReach(owner: KeyOwner, holderRole: Role | undefined): typeof KEY_SCOPE.organization | "holder_read_write_domains" {
  return owner === KEY_OWNER.organization || (holderRole !== undefined && isManager(holderRole)) ? KEY_SCOPE.organization : "holder_read_write_domains";
}

/**
 * What a key will reach: the whole organization, the domains it names, or
 * (a member's key without domains) the holder's read_write domains, which
 * the server resolves when the key is created (`autoScope`).
 */
export type KeyReach =
  | { kind: typeof KEY_SCOPE.organization }
  | { kind: typeof KEY_SCOPE.domains; domains: string[] }
  | { kind: "holder_read_write_domains" };

/**
 * What a key will reach, from what it asks for and its holder's role: the
 * domains it names (each once, sorted), or else `defaultKeyReach`. Whether
 * the key may be created is `resolveKeyScope`'s question; this is the one
 * answer to "what will it reach" for the server, tools and reviews.
 * `holderRole` is not looked at for an organization-owned key (pass
 * undefined).
 */
export function keyReach(owner: KeyOwner, domains: readonly string[] | null | undefined, holderRole: Role | undefined): KeyReach {
  if (domains != null) return { kind: KEY_SCOPE.domains, domains: [...new Set(domains)].sort() };
  return defaultKeyReach(owner, holderRole) === KEY_SCOPE.organization ? { kind: KEY_SCOPE.organization } : { kind: "holder_read_write_domains" };
}

function organizationScope(): ResolvedScope {
  return { allowed: true, scope: KEY_SCOPE.organization, domains: [] };
}

function domainsScope(domains: string[]): ResolvedScope {
  return { allowed: true, scope: KEY_SCOPE.domains, domains };
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

  if (request.owner === KEY_OWNER.organization) {
    if (!isManager(actor.role) || isDomainScopedKey(actor)) {
      return deny(403, "organization_key_requires_admin", "Only owners and admins (with an unscoped credential) can create organization-owned keys.", "/owner");
    }
    const shape = checkOrganizationKeyMember(request);
    if (!shape.allowed) return shape;
    const reach = keyReach(KEY_OWNER.organization, requested, actor.role);
    return reach.kind === KEY_SCOPE.domains ? domainsScope(reach.domains) : organizationScope();
  }

  // To someone who may not see other people's keys, another person's id
  // reads exactly like an unknown one (no existence oracle).
  if (holder === null || (holder.id !== actor.memberId && !decideOrganizationAction(actor, "api_key.read_any").allowed)) {
    return deny(422, "key_for_other_member", "member_id does not name a member of this organization.", "/member_id");
  }
  const acting = decideActForHolder(actor, holder);
  if (!acting.allowed) return { ...acting, path: "/member_id" };

  const reach = keyReach(KEY_OWNER.member, requested, holder.role);
  switch (reach.kind) {
    case KEY_SCOPE.organization:
      if (isDomainScopedKey(actor)) {
        return deny(403, "organization_key_requires_admin", "A domain-scoped key cannot create an organization-wide key.", "/domains");
      }
      return organizationScope();
    case "holder_read_write_domains": {
      const scoped = autoScope(holder).filter((d) => !isDomainScopedKey(actor) || effectiveAccess(actor, d) === ACCESS.read_write);
      if (scoped.length === 0) {
        return deny(422, "no_writable_domains", `${holder.email} has no read_write domains, so a key without explicit domains would reach nothing. Grant read_write on a domain first.`, "/domains");
      }
      return domainsScope(scoped);
    }
    case KEY_SCOPE.domains: {
      // Owners and admins write every domain: naming any the caller reaches (checked above) is enough.
      if (isManager(holder.role)) return domainsScope(reach.domains);
      // Paths point into the request as sent, duplicates included.
      const problems = checkHolderDomains(holder, requested ?? []);
      if (problems.length > 0) return problems[0];
      if (isDomainScopedKey(actor)) {
        const beyond = reach.domains.find((d) => effectiveAccess(actor, d) !== ACCESS.read_write);
        if (beyond !== undefined) return deny(403, "key_domain_not_writable", `The calling key cannot write ${beyond}, so it cannot mint a key for it.`, "/domains");
      }
      return domainsScope(reach.domains);
    }
  }
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
    `${holder.email} is ${holder.role === ROLE.owner ? "the owner" : `an ${holder.role}`}; only they${holder.role === ROLE.owner ? "" : " or someone above them (the owner)"} can create, rename, rescope or revoke their keys.`,
  );
}

/** An existing key, as far as deciding who sees and manages it goes. */
export interface KeyRef {
  owner: KeyOwner;
  /** The holder of a member-owned key; null for an organization-owned one. */
  memberId: string | null;
}

/** Which keys a list shows the principal: all of the organization's, or only those it holds. */
export function keysVisibleTo(actor: Principal): { all: true } | { all: false; heldBy: string | null } {
  // Whoever may read any key may also list keys (api_key.read_any is the narrower rule).
  return decideOrganizationAction(actor, "api_key.read_any").allowed ? { all: true } : { all: false, heldBy: actor.memberId };
}

/** Seeing a key: those who may read any key see all; others only their own (the rest are invisible: 404). */
export function decideKeyRead(actor: Principal, key: KeyRef): Decision {
  const visible = keysVisibleTo(actor);
  if (visible.all) return ALLOW;
  if (key.owner === KEY_OWNER.member && key.memberId !== null && key.memberId === visible.heldBy) return ALLOW;
  return deny(404, "key_not_visible", "API key not found.");
}

/**
 * Renaming, rescoping or revoking a key. Invisible keys are 404; organization
 * keys are managed by the owner and admins with an unscoped credential; a
 * person's key by whoever may act for that person (`decideActForHolder`).
 */
export function decideKeyChange(
  actor: Principal,
  key: KeyRef,
  holder: Pick<KeyHolder, "id" | "email" | "role"> | null,
): Decision {
  const read = decideKeyRead(actor, key);
  if (!read.allowed) return read;
  const base = decideOrganizationAction(actor, "api_key.manage");
  if (!base.allowed) return base;
  if (key.owner === KEY_OWNER.organization || holder === null) {
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
export function revokedWithMember(key: KeyRef, memberId: string): boolean {
  return key.owner === KEY_OWNER.member && key.memberId === memberId;
}
