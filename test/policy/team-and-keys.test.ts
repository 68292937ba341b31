import {
  KeyHolder,
  Principal,
  Role,
  TargetMember,
  autoScope,
  canHoldGrants,
  checkGrantTarget,
  checkHolderDomains,
  decideGrantChange,
  decideInvite,
  decideKeyChange,
  decideKeyRead,
  decideRemove,
  decideRoleChange,
  decideTransferOwnership,
  keyReach,
  keysVisibleTo,
  liftableByGrant,
  organizationKeyPrincipal,
  resolveKeyScope,
  revokedWithMember,
} from "../../src/policy";

const actor = (role: Role, id = `${role}-1`): Principal => ({ role, memberId: id, email: `${role}@example.com`, grants: {} });
const target = (role: Role, id = `${role}-t`, status: TargetMember["status"] = "active"): TargetMember => ({ id, email: `${id}@example.com`, role, status });

describe("team management", () => {
  it.each([
    ["owner", "admin", true],
    ["owner", "member", true],
    ["admin", "admin", true],
    ["admin", "member", true],
    ["member", "member", false],
  ] as const)("%s invites a %s → %s", (who, role, allowed) => {
    expect(decideInvite(actor(who), role).allowed).toBe(allowed);
  });

  it("nobody invites an owner", () => {
    expect(decideInvite(actor("owner"), "owner")).toMatchObject({ status: 422, rule: "owner_only_by_transfer", path: "/role" });
  });

  it.each([
    // actor, target role, same person?, expected rule (undefined = allowed)
    ["owner", "admin", false, undefined],
    ["owner", "member", false, undefined],
    ["admin", "member", false, undefined],
    ["admin", "admin", false, undefined],
    ["admin", "owner", false, "owner_protected"],
    ["admin", "admin", true, "own_role"],
    ["owner", "owner", true, "own_role"],
    ["member", "member", true, "role_not_allowed"],
    ["member", "admin", false, "role_not_allowed"],
  ] as const)("%s changes the role of a %s (self: %s) → %s", (who, role, self, rule) => {
    const a = actor(who);
    const t = self ? { ...target(role), id: a.memberId! } : target(role);
    const d = decideRoleChange(a, t, "member");
    if (rule === undefined) expect(d.allowed).toBe(true);
    else expect(d).toMatchObject({ allowed: false, status: 403, rule });
  });

  it("no role change can make an owner", () => {
    expect(decideRoleChange(actor("owner"), target("admin"), "owner")).toMatchObject({ status: 422, rule: "owner_only_by_transfer" });
    expect(decideRoleChange(actor("owner"), target("admin"), "superuser")).toMatchObject({ status: 422, path: "/role" });
  });

  it.each([
    ["owner", "member", false, undefined],
    ["owner", "admin", false, undefined],
    ["admin", "member", false, undefined],
    ["admin", "owner", false, "owner_protected"],
    ["admin", "admin", true, "cannot_remove_self"],
    ["owner", "owner", true, "owner_protected"],
    ["member", "member", false, "role_not_allowed"],
  ] as const)("%s removes a %s (self: %s) → %s", (who, role, self, rule) => {
    const a = actor(who);
    const t = self ? { ...target(role), id: a.memberId! } : target(role);
    const d = decideRemove(a, t);
    if (rule === undefined) expect(d.allowed).toBe(true);
    else expect(d).toMatchObject({ allowed: false, status: 403, rule });
  });

  it("grants apply only to members, and the message names the person", () => {
    expect(decideGrantChange(actor("admin"), target("member")).allowed).toBe(true);
    const d = checkGrantTarget({ email: "ops@example.com", role: "admin" });
    expect(d).toMatchObject({ allowed: false, rule: "grants_only_for_members" });
    expect(!d.allowed && d.message).toContain("ops@example.com");
    expect(decideGrantChange(actor("member"), target("member"))).toMatchObject({ rule: "role_not_allowed" });
  });

  it.each([
    ["member", true],
    ["admin", false],
    ["owner", false],
  ] as const)("a %s can hold domain grants → %s, and checkGrantTarget agrees", (role, holds) => {
    expect(canHoldGrants(role)).toBe(holds);
    expect(checkGrantTarget({ email: `${role}@example.com`, role }).allowed).toBe(holds);
  });

  it("ownership moves only from the owner to another active member", () => {
    expect(decideTransferOwnership(actor("owner"), target("admin")).allowed).toBe(true);
    expect(decideTransferOwnership(actor("admin"), target("member"))).toMatchObject({ status: 403 });
    expect(decideTransferOwnership(actor("owner"), target("member", "m", "invited"))).toMatchObject({ status: 422, rule: "transfer_target_invalid" });
    const self = actor("owner");
    expect(decideTransferOwnership(self, { ...target("owner"), id: self.memberId! })).toMatchObject({ status: 422 });
  });
});

describe("key scoping", () => {
  const ALL = ["app.example.com", "prod.example.com", "staging.example.com"];
  const dev: KeyHolder = { id: "dev", email: "dev@example.com", role: "member", grants: { "app.example.com": "read_write", "staging.example.com": "read" } };
  const devActor: Principal = { role: "member", memberId: "dev", email: dev.email, grants: dev.grants };

  it("a member's key without domains is scoped to their read/write domains now", () => {
    expect(resolveKeyScope(devActor, { owner: "member" }, dev, ALL)).toEqual({ allowed: true, scope: "domains", domains: ["app.example.com"] });
    expect(autoScope(dev)).toEqual(["app.example.com"]);
  });

  it("a member with no writable domain cannot mint an empty key", () => {
    const reader: KeyHolder = { ...dev, grants: { "staging.example.com": "read" } };
    expect(resolveKeyScope({ ...devActor, grants: reader.grants }, { owner: "member" }, reader, ALL)).toMatchObject({ status: 422, rule: "no_writable_domains" });
  });

  it("read-only access never becomes write through a key", () => {
    const d = resolveKeyScope(devActor, { owner: "member", domains: ["staging.example.com"] }, dev, ALL);
    expect(d).toMatchObject({ allowed: false, status: 403, rule: "key_domain_not_writable", path: "/domains/0" });
    expect(!d.allowed && d.message).toMatch(/dev@example\.com has read-only access to staging\.example\.com/);
  });

  it("an unassigned domain is refused exactly like a nonexistent one", () => {
    const unassigned = resolveKeyScope(devActor, { owner: "member", domains: ["prod.example.com"] }, dev, ALL);
    const missing = resolveKeyScope(devActor, { owner: "member", domains: ["nope.example.com"] }, dev, ALL);
    expect(unassigned).toMatchObject({ status: 422, rule: "key_domain_unknown" });
    expect(missing).toMatchObject({ status: 422, rule: "key_domain_unknown" });
  });

  it("members cannot create organization keys or keys for others", () => {
    expect(resolveKeyScope(devActor, { owner: "organization" }, null, ALL)).toMatchObject({ status: 403, rule: "organization_key_requires_admin" });
    const other: KeyHolder = { ...dev, id: "other", email: "other@example.com" };
    expect(resolveKeyScope(devActor, { owner: "member", memberId: "other" }, other, ALL)).toMatchObject({ status: 422, rule: "key_for_other_member", path: "/member_id" });
  });

  it("admins create organization-wide or domain-scoped organization keys, never with a member", () => {
    expect(resolveKeyScope(actor("admin"), { owner: "organization" }, null, ALL)).toEqual({ allowed: true, scope: "organization", domains: [] });
    expect(resolveKeyScope(actor("admin"), { owner: "organization", domains: ["prod.example.com", "app.example.com"] }, null, ALL)).toEqual({
      allowed: true,
      scope: "domains",
      domains: ["app.example.com", "prod.example.com"],
    });
    expect(resolveKeyScope(actor("admin"), { owner: "organization", memberId: "dev" }, null, ALL)).toMatchObject({ status: 422, rule: "organization_key_has_no_member" });
  });

  it("an admin minting a key for a member is held to the member's access", () => {
    expect(resolveKeyScope(actor("admin"), { owner: "member", memberId: "dev", domains: ["staging.example.com"] }, dev, ALL)).toMatchObject({
      rule: "key_domain_not_writable",
    });
    expect(resolveKeyScope(actor("admin"), { owner: "member", memberId: "dev" }, dev, ALL)).toMatchObject({ domains: ["app.example.com"] });
  });

  it("a domain-scoped key cannot mint a wider key", () => {
    const scoped: Principal = { ...actor("admin"), key: { owner: "member", scope: "domains", domains: ["app.example.com"] } };
    const holder: KeyHolder = { id: scoped.memberId!, email: "admin@example.com", role: "admin", grants: {} };
    expect(resolveKeyScope(scoped, { owner: "member" }, holder, ALL)).toMatchObject({ allowed: false, status: 403 });
    expect(resolveKeyScope(scoped, { owner: "member", domains: ["prod.example.com"] }, holder, ALL)).toMatchObject({ status: 422, rule: "key_domain_unknown" });
    expect(resolveKeyScope(scoped, { owner: "member", domains: ["app.example.com"] }, holder, ALL)).toMatchObject({ allowed: true, domains: ["app.example.com"] });
  });

  it("checkHolderDomains reports every offending domain with its index", () => {
    const v = checkHolderDomains(dev, ["app.example.com", "staging.example.com", "prod.example.com"]);
    expect(v.map((x) => x.path)).toEqual(["/domains/1", "/domains/2"]);
    expect(v[1].message).toContain("has no access to prod.example.com");
  });

  it("members see and manage only their own keys; others are invisible", () => {
    expect(decideKeyRead(devActor, { owner: "member", memberId: "dev" }).allowed).toBe(true);
    expect(decideKeyRead(devActor, { owner: "member", memberId: "other" })).toMatchObject({ status: 404 });
    expect(decideKeyRead(devActor, { owner: "organization", memberId: null })).toMatchObject({ status: 404 });
    expect(decideKeyChange(devActor, { owner: "member", memberId: "dev" }, dev).allowed).toBe(true);
    expect(decideKeyChange(devActor, { owner: "member", memberId: "other" }, { id: "other", email: "o@example.com", role: "member" })).toMatchObject({ status: 404 });
  });

  // Rule 1 of "Keys and people": act for a holder only when their reach is inside yours.
  it.each([
    // actor, holder role, same person, allowed
    ["owner", "owner", true, true],
    ["owner", "admin", false, true],
    ["owner", "member", false, true],
    ["admin", "owner", false, false],
    ["admin", "admin", false, false],
    ["admin", "admin", true, true],
    ["admin", "member", false, true],
  ] as const)("%s acting on a key held by a %s (self: %s) → %s", (who, holderRole, self, allowed) => {
    const a = actor(who);
    const holder = { id: self ? a.memberId! : `${holderRole}-h`, email: `${holderRole}-h@example.com`, role: holderRole as Role, grants: { "app.example.com": "read_write" as const } };
    const change = decideKeyChange(a, { owner: "member", memberId: holder.id }, holder);
    const create = resolveKeyScope(a, { owner: "member", memberId: holder.id, domains: ["app.example.com"] }, holder, ALL);
    for (const d of [change, create]) {
      expect(d.allowed).toBe(allowed);
      if (!d.allowed) expect(d).toMatchObject({ status: 403, rule: "key_holder_outranks_caller" });
    }
  });

  it("an organization key creates and manages no key", () => {
    const key: Principal = { role: "admin", memberId: null, grants: {}, key: { owner: "organization", scope: "organization", domains: [] } };
    expect(resolveKeyScope(key, { owner: "organization" }, null, ALL)).toMatchObject({ status: 403, rule: "organization_key_not_allowed" });
    expect(resolveKeyScope(key, { owner: "member", memberId: "dev" }, dev, ALL)).toMatchObject({ status: 403, rule: "organization_key_not_allowed" });
    expect(decideKeyChange(key, { owner: "member", memberId: "dev" }, dev)).toMatchObject({ status: 403, rule: "organization_key_not_allowed" });
    expect(decideKeyChange(key, { owner: "organization", memberId: null }, null)).toMatchObject({ status: 403, rule: "organization_key_not_allowed" });
  });

  it("a member naming another member's id gets the answer of an unknown id", () => {
    const other: KeyHolder = { id: "other", email: "other@example.com", role: "member", grants: { "app.example.com": "read_write" } };
    expect(resolveKeyScope(devActor, { owner: "member", memberId: "other" }, other, ALL)).toEqual(resolveKeyScope(devActor, { owner: "member", memberId: "nobody" }, null, ALL));
  });

  // "What will this key reach", from the announcement: "If a member creates an API key without choosing
  // explicit domains, Postscale automatically scopes that key to the member's writable domains"; admins
  // and owners create organization-wide keys; explicit domains are what the key names.
  it.each([
    ["member", "member", null, { kind: "holder_read_write_domains" }],
    ["member", "admin", null, { kind: "organization" }],
    ["member", "owner", null, { kind: "organization" }],
    ["organization", "member", null, { kind: "organization" }],
    ["member", "member", ["b.example.com", "a.example.com", "b.example.com"], { kind: "domains", domains: ["a.example.com", "b.example.com"] }],
    ["member", "admin", ["a.example.com"], { kind: "domains", domains: ["a.example.com"] }],
    ["organization", "admin", ["a.example.com"], { kind: "domains", domains: ["a.example.com"] }],
    ["member", "member", [], { kind: "domains", domains: [] }],
  ] as const)("a %s-owned key of a %s holder naming %j reaches %j", (owner, role, domains, reach) => {
    expect(keyReach(owner, domains, role)).toEqual(reach);
  });

  it("owners, admins and organization keys list every key; members and domain-scoped keys only the ones they hold", () => {
    expect(keysVisibleTo(actor("owner"))).toEqual({ all: true });
    expect(keysVisibleTo(actor("admin"))).toEqual({ all: true });
    expect(keysVisibleTo(organizationKeyPrincipal({ owner: "organization", scope: "organization", domains: [] }))).toEqual({ all: true });
    expect(keysVisibleTo(devActor)).toEqual({ all: false, heldBy: "dev" });
    expect(keysVisibleTo({ ...actor("admin"), key: { owner: "member", scope: "domains", domains: ["app.example.com"] } })).toEqual({ all: false, heldBy: "admin-1" });
    expect(keysVisibleTo(organizationKeyPrincipal({ owner: "organization", scope: "domains", domains: ["app.example.com"] }))).toEqual({ all: false, heldBy: null });
  });

  it("offboarding revokes the keys a person holds, never organization keys", () => {
    expect(revokedWithMember({ owner: "member", memberId: "dev" }, "dev")).toBe(true);
    expect(revokedWithMember({ owner: "member", memberId: "other" }, "dev")).toBe(false);
    expect(revokedWithMember({ owner: "organization", memberId: null }, "dev")).toBe(false);
  });
});

describe("which key refusals a grant can lift", () => {
  it.each([
    ["key_domain_not_writable", true],
    ["no_writable_domains", true],
    ["key_holder_outranks_caller", false],
    ["organization_key_requires_admin", false],
    ["key_name_taken", false],
  ])("%s: %s", (rule, liftable) => {
    expect(liftableByGrant(rule)).toBe(liftable);
  });
});
