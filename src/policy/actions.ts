import { ALLOW, Decision, deny } from "./decision";
import { Principal, effectiveAccess, isDomainScopedKey, isOrganizationKey } from "./principal";
import { ACCESS, Access, MANAGER_ROLES, ROLE, ROLES, Role, accessCovers, isManager } from "./roles";

const OWNER_ONLY = [ROLE.owner] as const;

/**
 * Every action of the API, in two families: organization actions decided by
 * role, and domain actions decided by the principal's access to the domain.
 *
 * `domainKeys`: a domain-scoped key may do it. `organizationKeys`: an
 * organization-owned key (a service credential, held by nobody) may do it.
 * People manage people: organization keys never invite, change roles or
 * grants, remove members, manage keys, or touch settings, billing or
 * ownership; they do domain work and read.
 */
export const ORGANIZATION_ACTIONS = {
  "me.read": { roles: ROLES, domainKeys: true, organizationKeys: true },
  "organization.read": { roles: ROLES, domainKeys: true, organizationKeys: true },
  "organization.update": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: false },
  "organization.delete": { roles: OWNER_ONLY, domainKeys: false, organizationKeys: false },
  "organization.transfer_ownership": { roles: OWNER_ONLY, domainKeys: false, organizationKeys: false },
  "billing.read": { roles: OWNER_ONLY, domainKeys: false, organizationKeys: false },
  "billing.update": { roles: OWNER_ONLY, domainKeys: false, organizationKeys: false },
  "team.list": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: true },
  "team.read": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: true },
  "team.invite": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: false },
  "team.update": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: false },
  "team.remove": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: false },
  "team.resend_invitation": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: false },
  "team.domain_access.read": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: true },
  "team.domain_access.write": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: false },
  "domain.list": { roles: ROLES, domainKeys: true, organizationKeys: true },
  "domain.create": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: true },
  /** Listing and reading keys: which ones, see `keysVisibleTo` and `decideKeyRead`. */
  "api_key.list": { roles: ROLES, domainKeys: true, organizationKeys: true },
  "api_key.create": { roles: ROLES, domainKeys: true, organizationKeys: false },
  /** Renaming, rescoping or revoking a key: whose, see `decideKeyChange`. */
  "api_key.manage": { roles: ROLES, domainKeys: true, organizationKeys: false },
  /** Seeing every key of the organization, not only one's own. */
  "api_key.read_any": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: true },
  "audit.read": { roles: MANAGER_ROLES, domainKeys: false, organizationKeys: true },
} as const satisfies Record<string, { roles: readonly Role[]; domainKeys: boolean; organizationKeys: boolean }>;

export type OrganizationAction = keyof typeof ORGANIZATION_ACTIONS;

/**
 * Domain actions and the access each needs. "manage" means an organization
 * manager (owner/admin), e.g. deleting the domain; members never can.
 */
export const DOMAIN_ACTIONS = {
  "domain.read": ACCESS.read,
  "domain.update": ACCESS.read_write,
  "domain.delete": "manage",
  "domain.dns.read": ACCESS.read,
  "domain.verify": ACCESS.read_write,
  "domain.dkim.read": ACCESS.read,
  "domain.dkim.rotate": ACCESS.read_write,
  "domain.stats.read": ACCESS.read,
  "domain.dmarc.read": ACCESS.read,
  "domain.warming.read": ACCESS.read,
  "domain.warming.act": ACCESS.read_write,
  "domain.aliases.read": ACCESS.read,
  "domain.aliases.write": ACCESS.read_write,
  "domain.inbound_rules.read": ACCESS.read,
  "domain.inbound_rules.write": ACCESS.read_write,
} as const satisfies Record<string, Access | "manage">;

export type DomainAction = keyof typeof DOMAIN_ACTIONS;

function who(p: Principal): string {
  if (p.memberId === null) return "an organization API key";
  return p.email ? `${p.email} (${p.role})` : `a ${p.role}`;
}

/** May the principal perform an organization-level action? */
export function decideOrganizationAction(principal: Principal, action: OrganizationAction): Decision {
  const rule = ORGANIZATION_ACTIONS[action];
  if (!(rule.roles as readonly Role[]).includes(principal.role)) {
    return deny(403, "role_not_allowed", `${who(principal)} may not ${action.replace(/[._]/g, " ")}: it needs the role ${rule.roles.join(" or ")}.`);
  }
  if (!rule.organizationKeys && isOrganizationKey(principal)) {
    return deny(403, "organization_key_not_allowed", `An organization-owned API key may not ${action.replace(/[._]/g, " ")}: organization keys do domain work; people (the owner or an admin, with their own key or session) manage people, keys and settings.`);
  }
  if (!rule.domainKeys && isDomainScopedKey(principal)) {
    return deny(403, "key_scope_excludes_action", `A domain-scoped API key may not ${action.replace(/[._]/g, " ")}; use an organization-wide key or a session.`);
  }
  return ALLOW;
}

/**
 * May the principal perform `action` on `domain`? Invisible domains answer
 * 404 exactly as missing ones do; visible but read-only answers 403.
 */
export function decideDomainAction(principal: Principal, action: DomainAction, domain: string): Decision {
  const needed = DOMAIN_ACTIONS[action];
  const held = effectiveAccess(principal, domain);
  if (held === undefined) {
    return deny(404, "domain_not_visible", `Domain "${domain}" was not found.`);
  }
  if (needed === "manage") {
    if (!isManager(principal.role) || isDomainScopedKey(principal)) {
      return deny(403, "role_not_allowed", `${who(principal)} may not delete domain "${domain}": only owners and admins can.`);
    }
    return ALLOW;
  }
  if (!accessCovers(held, needed)) {
    return deny(403, "read_only_access", `${who(principal)} has read access to "${domain}"; ${action} needs read_write.`);
  }
  return ALLOW;
}
