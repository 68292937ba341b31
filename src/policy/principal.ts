import { ACCESS, Access, ROLE, Role, isManager, narrower } from "./roles";

/** Who owns an API key: the organization (a service credential) or one member, its holder. */
export const KEY_OWNERS = ["organization", "member"] as const;
export type KeyOwner = (typeof KEY_OWNERS)[number];
/** Each key owner by name: `KEY_OWNER.organization`. */
export const KEY_OWNER = { organization: "organization", member: "member" } as const satisfies { [O in KeyOwner]: O };

/** How far a key reaches: every domain its owner reaches, or only the domains it names. */
export const KEY_SCOPES = ["organization", "domains"] as const;
export type KeyScopeKind = (typeof KEY_SCOPES)[number];
/** Each key scope by name: `KEY_SCOPE.domains`. */
export const KEY_SCOPE = { organization: "organization", domains: "domains" } as const satisfies { [S in KeyScopeKind]: S };

export function isKeyOwner(value: unknown): value is KeyOwner {
  return (KEY_OWNERS as readonly unknown[]).includes(value);
}

/** What an API key is allowed to reach, independent of its owner's access. */
export interface KeyScope {
  owner: KeyOwner;
  scope: KeyScopeKind;
  /** Domain names, for scope "domains". */
  domains: readonly string[];
}

/**
 * Whoever makes a request: a person (session or their own key) or an
 * organization-owned key. `grants` is the person's access at this moment,
 * loaded per request, so downgrades apply to their keys immediately.
 */
export interface Principal {
  role: Role;
  /** The person, or null for an organization-owned key. */
  memberId: string | null;
  email?: string;
  grants: Readonly<Record<string, Access>>;
  key?: KeyScope;
}

/**
 * Organization-owned keys are service credentials: they act as an admin
 * (never as the owner, so never on billing), bounded by their scope.
 */
export const ORGANIZATION_KEY_ROLE: Role = ROLE.admin;

/** A principal for an organization-owned key. */
export function organizationKeyPrincipal(key: KeyScope): Principal {
  return { role: ORGANIZATION_KEY_ROLE, memberId: null, grants: {}, key };
}

/** A principal for a person acting with a session or with an organization-wide key of their own. */
export function personPrincipal(person: { id: string; email: string; role: Role; grants: Readonly<Record<string, Access>> }): Principal {
  return { role: person.role, memberId: person.id, email: person.email, grants: person.grants };
}

/** The person's own access to a domain, before any key narrows it. */
export function personAccess(role: Role, grants: Readonly<Record<string, Access>>, domain: string): Access | undefined {
  return isManager(role) ? ACCESS.read_write : grants[domain];
}

/**
 * Effective access = key scope ∩ owner's current access. A key grants at
 * most read/write on the domains it names, and never more than its owner
 * holds right now, so read-only access never becomes write through a key.
 */
export function effectiveAccess(principal: Principal, domain: string): Access | undefined {
  const own = personAccess(principal.role, principal.grants, domain);
  const key = principal.key;
  if (!key || key.scope === KEY_SCOPE.organization) return own;
  return key.domains.includes(domain) ? narrower(own, ACCESS.read_write) : undefined;
}

/** Whether a domain shows up for the principal at all (list endpoints filter on this). */
export function canSeeDomain(principal: Principal, domain: string): boolean {
  return effectiveAccess(principal, domain) !== undefined;
}

/**
 * The names of the domains the principal can see, sorted, or null when it
 * sees every domain of the organization (a manager without a domain-scoped
 * key). Only grants and key scopes can name a domain for anyone else, so
 * those are the only candidates; list endpoints filter on this.
 */
export function visibleDomains(principal: Principal): string[] | null {
  if (isManager(principal.role) && !isDomainScopedKey(principal)) return null;
  const candidates = new Set([...Object.keys(principal.grants), ...(principal.key?.domains ?? [])]);
  return [...candidates].filter((d) => canSeeDomain(principal, d)).sort();
}

/** True when the credential is an organization-owned key: a service credential that no person holds. */
export function isOrganizationKey(principal: Principal): boolean {
  return principal.memberId === null;
}

/** True when the credential is a key limited to some domains. */
export function isDomainScopedKey(principal: Principal): boolean {
  return principal.key?.scope === KEY_SCOPE.domains;
}
