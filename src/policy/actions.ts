import { ALLOW, Decision, deny } from "./decision";
import { Principal, effectiveAccess, isDomainScopedKey } from "./principal";
import { Access, Role, accessCovers, isManager } from "./roles";

/**
 * Every action of the API, in two families: organization actions decided by
 * role, and domain actions decided by the principal's access to the domain.
 */
export const ORGANIZATION_ACTIONS = {
  "me.read": { roles: ["owner", "admin", "member"], domainKeys: true },
  "organization.read": { roles: ["owner", "admin", "member"], domainKeys: true },
  "organization.update": { roles: ["owner", "admin"], domainKeys: false },
  "organization.delete": { roles: ["owner"], domainKeys: false },
  "organization.transfer_ownership": { roles: ["owner"], domainKeys: false },
  "billing.read": { roles: ["owner"], domainKeys: false },
  "billing.update": { roles: ["owner"], domainKeys: false },
  "team.list": { roles: ["owner", "admin"], domainKeys: false },
  "team.read": { roles: ["owner", "admin"], domainKeys: false },
  "team.invite": { roles: ["owner", "admin"], domainKeys: false },
  "team.update": { roles: ["owner", "admin"], domainKeys: false },
  "team.remove": { roles: ["owner", "admin"], domainKeys: false },
  "team.resend_invitation": { roles: ["owner", "admin"], domainKeys: false },
  "team.domain_access.read": { roles: ["owner", "admin"], domainKeys: false },
  "team.domain_access.write": { roles: ["owner", "admin"], domainKeys: false },
  "domain.list": { roles: ["owner", "admin", "member"], domainKeys: true },
  "domain.create": { roles: ["owner", "admin"], domainKeys: false },
  "api_key.list": { roles: ["owner", "admin", "member"], domainKeys: true },
  "api_key.create": { roles: ["owner", "admin", "member"], domainKeys: true },
  "api_key.manage_any": { roles: ["owner", "admin"], domainKeys: false },
  "audit.read": { roles: ["owner", "admin"], domainKeys: false },
} as const satisfies Record<string, { roles: readonly Role[]; domainKeys: boolean }>;

export type OrganizationAction = keyof typeof ORGANIZATION_ACTIONS;

/**
 * Domain actions and the access each needs. "manage" means an organization
 * manager (owner/admin), e.g. deleting the domain; members never can.
 */
export const DOMAIN_ACTIONS = {
  "domain.read": "read",
  "domain.update": "read_write",
  "domain.delete": "manage",
  "domain.dns.read": "read",
  "domain.verify": "read_write",
  "domain.dkim.read": "read",
  "domain.dkim.rotate": "read_write",
  "domain.stats.read": "read",
  "domain.dmarc.read": "read",
  "domain.warming.read": "read",
  "domain.warming.act": "read_write",
  "domain.aliases.read": "read",
  "domain.aliases.write": "read_write",
  "domain.inbound_rules.read": "read",
  "domain.inbound_rules.write": "read_write",
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
