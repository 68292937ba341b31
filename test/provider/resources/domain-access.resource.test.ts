import type { Member } from "../../../src/api/types";
import { UNKNOWN } from "../../../src/provider/protocol/types";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { domainAccessResource as resource } from "../../../src/provider/resources/domain-access.resource";
import { teamMemberResource } from "../../../src/provider/resources/team-member.resource";
import { apply, configOf, converge, isNoOp, plan } from "./engine-rules";
import { uniqueEmail, useLocalServer } from "./local-server";
import { closeContexts, providerContext } from "./provider-context";

const STAGING = "staging.example.com";
const config = (member_id: string | typeof UNKNOWN, domain: string, access: string) => configOf(resource.schema, { member_id, domain, access });
const none = new Uint8Array();

describe("postscale_domain_access", () => {
  const server = useLocalServer();
  let ctx: ProviderContext;
  let member: Member;
  beforeAll(async () => {
    member = await server().owner.inviteMember({ email: uniqueEmail("grantee"), role: "member" });
    ctx = await providerContext(server().url, server().ownerKey);
  });
  afterAll(closeContexts);

  it("plans the id and the member's email from configuration and the server, applies, and then shows no diff", async () => {
    const step = await plan(resource, ctx, null, config(member.id, STAGING, "read"));
    expect(step.planned).toEqual({ id: `${member.id}/${STAGING}`, member_id: member.id, domain: STAGING, access: "read", email: member.email });
    expect(step.diagnostics).toEqual([]);
    const { newState } = await apply(resource, ctx, null, step.planned, config(member.id, STAGING, "read"));
    expect(await server().owner.listDomainAccess(member.id)).toEqual([{ domain: STAGING, access: "read" }]);

    const fresh = await providerContext(server().url, server().ownerKey);
    const read = (await resource.read(fresh, { currentState: newState!, private: none })).newState!;
    expect(read).toEqual(newState);
    expect(isNoOp(resource.schema, read, await plan(resource, fresh, read, config(member.id, STAGING, "read")))).toBe(true);
  });

  it("widens access in place and replaces the grant when member or domain change", async () => {
    const prior = (await resource.read(await providerContext(server().url, server().ownerKey), {
      currentState: { id: `${member.id}/${STAGING}`, member_id: member.id, domain: STAGING, access: "read", email: member.email },
      private: none,
    })).newState!;
    const widen = await plan(resource, ctx, prior, config(member.id, STAGING, "read_write"));
    expect(widen.requiresReplace).toEqual([]);
    const { newState } = await apply(resource, ctx, prior, widen.planned, config(member.id, STAGING, "read_write"));
    expect(newState).toEqual({ ...prior, access: "read_write" });
    expect(await server().owner.listDomainAccess(member.id)).toEqual([{ domain: STAGING, access: "read_write" }]);

    expect((await plan(resource, ctx, newState, config(member.id, "app.example.com", "read_write"))).requiresReplace).toEqual([["domain"]]);
    expect((await plan(resource, ctx, newState, config(UNKNOWN, STAGING, "read_write"))).requiresReplace).toEqual([["member_id"]]);
  });

  it("resolves the email at apply for a member created in the same apply", async () => {
    const email = uniqueEmail("same-apply");
    const first = await plan(resource, ctx, null, config(UNKNOWN, STAGING, "read"));
    expect(first.planned).toMatchObject({ id: UNKNOWN, email: UNKNOWN });

    // The apply phase: a new process, the snapshot loaded by an earlier re-plan, then the member is invited.
    const applyPhase = await providerContext(server().url, server().ownerKey);
    await plan(resource, applyPhase, null, config(member.id, STAGING, "read"));
    const created = (await converge(teamMemberResource, applyPhase, null, configOf(teamMemberResource.schema, { email, role: "member" })))!;
    const replan = await plan(resource, applyPhase, null, config(created.id as string, STAGING, "read"));
    expect(replan.planned).toMatchObject({ id: `${created.id as string}/${STAGING}`, email });
    const { newState } = await apply(resource, applyPhase, null, replan.planned, config(created.id as string, STAGING, "read"));
    expect(newState).toMatchObject({ email, access: "read" });
    expect(applyPhase.stats.requests).toBeLessThanOrEqual(4);
  });

  it("warns at plan about a grant on someone the server says is an admin today, and the apply refusal carries the same finding", async () => {
    const admin = await server().owner.inviteMember({ email: uniqueEmail("admin"), role: "admin" });
    const fresh = await providerContext(server().url, server().ownerKey);
    const step = await plan(resource, fresh, null, config(admin.id, STAGING, "read"));
    expect(step.diagnostics).toEqual([
      expect.objectContaining({ severity: "warning", path: ["member_id"], summary: "Domain Access Only Applies To Members" }),
    ]);
    expect(step.diagnostics[0].detail).toContain(`${admin.email} has role admin`);
    expect(step.diagnostics[0].detail).toContain("grants_only_for_members");

    const { newState, diagnostics } = await apply(resource, fresh, null, step.planned, config(admin.id, STAGING, "read"));
    expect(newState).toBeNull();
    expect(diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "Domain Access Only Applies To Members" })]);
    expect(diagnostics![0].detail).toContain(admin.email);
    expect(await server().owner.listDomainAccess(admin.id)).toEqual([]);
  });

  it("imports by <email>/<domain> and <member_id>/<domain>, and reports what is missing", async () => {
    const fresh = await providerContext(server().url, server().ownerKey);
    const expected = { id: `${member.id}/${STAGING}`, member_id: member.id, domain: STAGING, access: "read_write", email: member.email };
    expect((await resource.importState!(fresh, `${member.email}/${STAGING}`)).imported).toEqual([{ state: expected }]);
    expect((await resource.importState!(fresh, `${member.id}/${STAGING}`)).imported).toEqual([{ state: expected }]);
    const missing = await resource.importState!(fresh, `${member.email}/prod.example.com`);
    expect(missing.diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "Domain Access Not Found", detail: expect.stringContaining(`${member.email} has no access to prod.example.com`) })]);
    expect((await resource.importState!(fresh, "no-slash")).diagnostics).toEqual([expect.objectContaining({ summary: "Domain Access Not Found" })]);
  });

  it("removes the grant on destroy, and reads a grant removed out of band as gone", async () => {
    const state = { id: `${member.id}/${STAGING}`, member_id: member.id, domain: STAGING, access: "read_write", email: member.email };
    expect((await plan(resource, ctx, state, null)).planned).toBeNull();
    expect((await apply(resource, ctx, state, null, null)).newState).toBeNull();
    expect(await server().owner.listDomainAccess(member.id)).toEqual([]);
    const fresh = await providerContext(server().url, server().ownerKey);
    expect((await resource.read(fresh, { currentState: state, private: none })).newState).toBeNull();
  });
});
