import { Principal, Role, TargetMember, decideUndeclaredRemoval, organizationKeyPrincipal } from "../../src/policy";

const person = (role: Role, id: string): Principal => ({ role, memberId: id, email: `${id}@example.com`, grants: {} });
const target = (role: Role, id: string): TargetMember => ({ id, email: `${id}@example.com`, role, status: "active" });

const owner = target("owner", "olivia");
const admin = target("admin", "adam");
const other = target("admin", "ada");
const member = target("member", "mia");

describe("decideUndeclaredRemoval: what an authoritative run removes", () => {
  const byOwner = person("owner", "olivia");
  const byAdmin = person("admin", "adam");

  it("removes undeclared people, grants and keys the caller may remove", () => {
    expect(decideUndeclaredRemoval(byOwner, "key_run", { kind: "member", member: other })).toEqual({ verdict: "remove" });
    expect(decideUndeclaredRemoval(byAdmin, "key_run", { kind: "member", member })).toEqual({ verdict: "remove" });
    expect(decideUndeclaredRemoval(byAdmin, null, { kind: "grant", member, domain: "acme.com" })).toEqual({ verdict: "remove" });
    expect(decideUndeclaredRemoval(byAdmin, null, { kind: "key", key: { id: "k1", owner: "member", memberId: member.id }, holder: member })).toEqual({ verdict: "remove" });
    expect(decideUndeclaredRemoval(byAdmin, null, { kind: "key", key: { id: "k2", owner: "organization", memberId: null }, holder: null })).toEqual({ verdict: "remove" });
  });

  it("never touches the owner: not their membership, nor the keys they hold", () => {
    expect(decideUndeclaredRemoval(byAdmin, "key_run", { kind: "member", member: owner })).toMatchObject({ verdict: "protected", reason: "owner" });
    expect(decideUndeclaredRemoval(byAdmin, "key_run", { kind: "key", key: { id: "k3", owner: "member", memberId: owner.id }, holder: owner })).toMatchObject({
      verdict: "protected",
      reason: "owner",
      message: expect.stringContaining(owner.email),
    });
  });

  it("never locks the run out: the caller's membership, grants and keys, and the key it runs with", () => {
    expect(decideUndeclaredRemoval(byAdmin, "key_run", { kind: "member", member: admin })).toMatchObject({ verdict: "protected", reason: "caller" });
    expect(decideUndeclaredRemoval(byAdmin, "key_run", { kind: "key", key: { id: "k4", owner: "member", memberId: admin.id }, holder: admin })).toMatchObject({ verdict: "protected", reason: "caller" });
    const service = organizationKeyPrincipal({ owner: "organization", scope: "organization", domains: [] });
    expect(decideUndeclaredRemoval(service, "key_run", { kind: "key", key: { id: "key_run", owner: "organization", memberId: null }, holder: null })).toMatchObject({
      verdict: "protected",
      reason: "credential",
    });
  });

  it("leaves what the credential may not remove to someone who may, naming the rule", () => {
    expect(decideUndeclaredRemoval(byAdmin, null, { kind: "key", key: { id: "k5", owner: "member", memberId: other.id }, holder: other })).toMatchObject({
      verdict: "refused",
      violation: { rule: "key_holder_outranks_caller" },
    });
    const service = organizationKeyPrincipal({ owner: "organization", scope: "organization", domains: [] });
    expect(decideUndeclaredRemoval(service, "key_run", { kind: "member", member })).toMatchObject({ verdict: "refused", violation: { rule: "organization_key_not_allowed" } });
    expect(decideUndeclaredRemoval(service, "key_run", { kind: "grant", member, domain: "acme.com" })).toMatchObject({ verdict: "refused" });
  });
});
