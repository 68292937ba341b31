import {
  DOMAIN_ACTIONS,
  DomainAction,
  ORGANIZATION_ACTIONS,
  OrganizationAction,
  Principal,
  Role,
  decideDomainAction,
  decideOrganizationAction,
  effectiveAccess,
  organizationKeyPrincipal,
  visibleDomains,
} from "../../src/policy";

const person = (role: Role, grants: Principal["grants"] = {}): Principal => ({ role, memberId: `${role}-1`, email: `${role}@example.com`, grants });

// Expected answer of every organization action for every role, written out from the Team accounts announcement's roles table and the rules in docs/security.md.
const ORG_MATRIX: Record<OrganizationAction, Record<Role, boolean>> = {
  "me.read": { owner: true, admin: true, member: true },
  "organization.read": { owner: true, admin: true, member: true },
  "organization.update": { owner: true, admin: true, member: false },
  "organization.delete": { owner: true, admin: false, member: false },
  "organization.transfer_ownership": { owner: true, admin: false, member: false },
  "billing.read": { owner: true, admin: false, member: false },
  "billing.update": { owner: true, admin: false, member: false },
  "team.list": { owner: true, admin: true, member: false },
  "team.read": { owner: true, admin: true, member: false },
  "team.invite": { owner: true, admin: true, member: false },
  "team.update": { owner: true, admin: true, member: false },
  "team.remove": { owner: true, admin: true, member: false },
  "team.resend_invitation": { owner: true, admin: true, member: false },
  "team.domain_access.read": { owner: true, admin: true, member: false },
  "team.domain_access.write": { owner: true, admin: true, member: false },
  "domain.list": { owner: true, admin: true, member: true },
  "domain.create": { owner: true, admin: true, member: false },
  "api_key.list": { owner: true, admin: true, member: true },
  "api_key.create": { owner: true, admin: true, member: true },
  "api_key.manage": { owner: true, admin: true, member: true },
  "api_key.read_any": { owner: true, admin: true, member: false },
  "audit.read": { owner: true, admin: true, member: false },
};

describe("organization actions", () => {
  it("the matrix covers every action", () => {
    expect(Object.keys(ORG_MATRIX).sort()).toEqual(Object.keys(ORGANIZATION_ACTIONS).sort());
  });

  const cells = Object.entries(ORG_MATRIX).flatMap(([action, byRole]) =>
    (Object.entries(byRole) as [Role, boolean][]).map(([role, allowed]) => [action as OrganizationAction, role, allowed] as const),
  );
  it.each(cells)("%s by %s → %s", (action, role, allowed) => {
    const d = decideOrganizationAction(person(role), action);
    expect(d.allowed).toBe(allowed);
    if (!d.allowed) {
      expect(d.status).toBe(403);
      expect(d.rule).toBe("role_not_allowed");
    }
  });

  // What an organization-owned key may do, written out from the rule "People manage people" (docs/security.md, rule 2).
  const ORGANIZATION_KEY: Record<OrganizationAction, boolean> = {
    "me.read": true,
    "organization.read": true,
    "organization.update": false,
    "organization.delete": false,
    "organization.transfer_ownership": false,
    "billing.read": false,
    "billing.update": false,
    "team.list": true,
    "team.read": true,
    "team.invite": false,
    "team.update": false,
    "team.remove": false,
    "team.resend_invitation": false,
    "team.domain_access.read": true,
    "team.domain_access.write": false,
    "domain.list": true,
    "domain.create": true,
    "api_key.list": true,
    "api_key.create": false,
    "api_key.manage": false,
    "api_key.read_any": true,
    "audit.read": true,
  };
  it.each(Object.entries(ORGANIZATION_KEY) as [OrganizationAction, boolean][])("organization key: %s → %s", (action, allowed) => {
    const key = organizationKeyPrincipal({ owner: "organization", scope: "organization", domains: [] });
    const d = decideOrganizationAction(key, action);
    expect(d.allowed).toBe(allowed);
    if (!d.allowed) expect(d).toMatchObject({ status: 403 });
    if (!d.allowed && action !== "billing.read" && action !== "billing.update" && action !== "organization.delete" && action !== "organization.transfer_ownership") {
      expect(d).toMatchObject({ rule: "organization_key_not_allowed" });
    }
  });

  it("domain-scoped keys cannot manage the organization even for an admin", () => {
    const p: Principal = { ...person("admin"), key: { owner: "member", scope: "domains", domains: ["app.example.com"] } };
    const d = decideOrganizationAction(p, "team.invite");
    expect(d).toMatchObject({ allowed: false, status: 403, rule: "key_scope_excludes_action" });
    expect(decideOrganizationAction(p, "domain.list").allowed).toBe(true);
  });
});

type Held = "none" | "read" | "read_write";
const memberWith = (held: Held) => person("member", held === "none" ? {} : { "app.example.com": held });

/**
 * Expected answer of every domain action for a member holding no grant, read
 * or read_write on the domain, written out from the Team accounts
 * announcement's rules (not from DOMAIN_ACTIONS):
 * - "Read access: view domain, DNS setup, DKIM records, stats, DMARC data,
 *   warming status, aliases, inbound rules."
 * - "Read/write adds: domain settings, DNS verification, DKIM management,
 *   aliases, inbound rules, warming actions."
 * - Deleting a domain: owner and admin only.
 * - A domain the member is not granted answers 404, as a missing one does.
 */
const READ = { none: 404, read: 200, read_write: 200 } as const;
const READ_WRITE = { none: 404, read: 403, read_write: 200 } as const;
const MANAGERS_ONLY = { none: 404, read: 403, read_write: 403 } as const;
const DOMAIN_MATRIX: Record<DomainAction, Record<Held, 200 | 403 | 404>> = {
  // Read access
  "domain.read": READ,
  "domain.dns.read": READ,
  "domain.dkim.read": READ,
  "domain.stats.read": READ,
  "domain.dmarc.read": READ,
  "domain.warming.read": READ,
  "domain.aliases.read": READ,
  "domain.inbound_rules.read": READ,
  // Read/write adds
  "domain.update": READ_WRITE,
  "domain.verify": READ_WRITE,
  "domain.dkim.rotate": READ_WRITE,
  "domain.aliases.write": READ_WRITE,
  "domain.inbound_rules.write": READ_WRITE,
  "domain.warming.act": READ_WRITE,
  // Owner and admin only
  "domain.delete": MANAGERS_ONLY,
};

describe("domain actions", () => {
  it("the matrix covers every action", () => {
    expect(Object.keys(DOMAIN_MATRIX).sort()).toEqual(Object.keys(DOMAIN_ACTIONS).sort());
  });

  const cells = Object.entries(DOMAIN_MATRIX).flatMap(([action, byHeld]) =>
    (Object.entries(byHeld) as [Held, 200 | 403 | 404][]).map(([held, status]) => [action as DomainAction, held, status] as const),
  );
  it.each(cells)("%s by a member with %s access → %s", (action, held, status) => {
    const d = decideDomainAction(memberWith(held), action, "app.example.com");
    expect(d.allowed ? 200 : d.status).toBe(status);
    if (status === 404) expect(d).toMatchObject({ rule: "domain_not_visible" });
    if (status === 403) expect(d).toMatchObject({ rule: action === "domain.delete" ? "role_not_allowed" : "read_only_access" });
  });

  it.each((Object.keys(DOMAIN_MATRIX) as DomainAction[]).flatMap((a) => (["owner", "admin"] as Role[]).map((r) => [a, r] as const)))(
    "%s by %s is allowed on every domain",
    (action, role) => {
      expect(decideDomainAction(person(role), action, "any.example.com").allowed).toBe(true);
    },
  );

  it("an unassigned domain is refused exactly like a nonexistent one", () => {
    const member = memberWith("read_write");
    const unassigned = decideDomainAction(member, "domain.read", "prod.example.com");
    const missing = decideDomainAction(member, "domain.read", "nope.example.com");
    expect(unassigned).toMatchObject({ allowed: false, status: 404, rule: "domain_not_visible" });
    expect(missing).toMatchObject({ allowed: false, status: 404, rule: "domain_not_visible" });
  });
});

describe("effective access = key scope ∩ owner's current access", () => {
  const key = { owner: "member" as const, scope: "domains" as const, domains: ["app.example.com", "stg.example.com"] };

  it.each([
    // grant on app, key domains, expected effective access on app
    ["read_write", "read_write"],
    ["read", "read"],
    [undefined, undefined],
  ] as const)("owner holds %s → key reaches %s", (grant, expected) => {
    const p: Principal = { ...person("member", grant ? { "app.example.com": grant } : {}), key };
    expect(effectiveAccess(p, "app.example.com")).toBe(expected);
  });

  it("a key never reaches a domain outside its scope, even for an admin", () => {
    const p: Principal = { ...person("admin"), key };
    expect(effectiveAccess(p, "prod.example.com")).toBeUndefined();
    expect(effectiveAccess(p, "app.example.com")).toBe("read_write");
  });

  it("downgrading the owner to read removes write from the key immediately", () => {
    const before: Principal = { ...person("member", { "app.example.com": "read_write" }), key };
    const after: Principal = { ...before, grants: { "app.example.com": "read" } };
    expect(decideDomainAction(before, "domain.aliases.write", "app.example.com").allowed).toBe(true);
    expect(decideDomainAction(after, "domain.aliases.write", "app.example.com")).toMatchObject({ status: 403, rule: "read_only_access" });
    expect(decideDomainAction(after, "domain.aliases.read", "app.example.com").allowed).toBe(true);
  });
});

describe("visible domains (what list endpoints filter on)", () => {
  const key = { owner: "member" as const, scope: "domains" as const, domains: ["stg.example.com", "app.example.com"] };

  it.each(["owner", "admin"] as const)("a %s without a domain-scoped key sees every domain", (role) => {
    expect(visibleDomains(person(role))).toBeNull();
  });

  it("an organization-wide organization key sees every domain", () => {
    expect(visibleDomains(organizationKeyPrincipal({ owner: "organization", scope: "organization", domains: [] }))).toBeNull();
  });

  it("a domain-scoped key bounds even an admin to the key's domains, sorted", () => {
    expect(visibleDomains({ ...person("admin"), key })).toEqual(["app.example.com", "stg.example.com"]);
    expect(visibleDomains(organizationKeyPrincipal({ ...key, owner: "organization" }))).toEqual(["app.example.com", "stg.example.com"]);
  });

  it("a member sees their granted domains, and through a key only those the key names too", () => {
    const grants = { "prod.example.com": "read", "app.example.com": "read_write" } as const;
    expect(visibleDomains(person("member", grants))).toEqual(["app.example.com", "prod.example.com"]);
    expect(visibleDomains({ ...person("member", grants), key })).toEqual(["app.example.com"]);
    expect(visibleDomains(person("member"))).toEqual([]);
  });
});
