import { UNKNOWN, type ObjectValue } from "../../../src/provider/protocol/types";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { teamMemberResource as resource } from "../../../src/provider/resources/team-member.resource";
import { sleep, uniqueEmail, useLocalServer } from "./local-server";
import { apply, configOf, converge, isNoOp, plan } from "./engine-rules";
import { closeContexts, providerContext } from "./provider-context";

const config = (email: string, role: string) => configOf(resource.schema, { email, role });

describe("postscale_team_member", () => {
  const server = useLocalServer();
  let ctx: ProviderContext;
  beforeAll(async () => {
    ctx = await providerContext(server().url, server().ownerKey);
  });
  afterAll(closeContexts);

  it("plans an invitation with status invited and the rest known after apply, then applies it consistently", async () => {
    const email = uniqueEmail("dev");
    const step = await plan(resource, ctx, null, config(email, "member"));
    expect(step.planned).toEqual({ id: UNKNOWN, email, role: "member", status: "invited", name: UNKNOWN, invited_at: UNKNOWN, joined_at: UNKNOWN });
    const { newState } = await apply(resource, ctx, null, step.planned, config(email, "member"));
    expect(newState).toMatchObject({ email, role: "member", status: "invited", name: null, joined_at: null });
    expect((await server().owner.devMail()).filter((m) => m.to === email).map((m) => m.kind)).toEqual(["invitation"]);
  });

  it("shows no diff while the invitation is pending, nor once it is accepted", async () => {
    const email = uniqueEmail("pending");
    const created = (await converge(resource, ctx, null, config(email, "member")))!;
    const fresh = await providerContext(server().url, server().ownerKey);
    const read = (await resource.read(fresh, { currentState: created, private: new Uint8Array() })).newState!;
    expect(read).toEqual(created);
    expect(isNoOp(resource.schema, read, await plan(resource, fresh, read, config(email, "member")))).toBe(true);

    await server().signUp(email);
    const later = await providerContext(server().url, server().ownerKey);
    const joined = (await resource.read(later, { currentState: read, private: new Uint8Array() })).newState!;
    expect(joined).toMatchObject({ status: "active", name: expect.any(String), joined_at: expect.any(String) });
    expect(isNoOp(resource.schema, joined, await plan(resource, later, joined, config(email, "member")))).toBe(true);
  });

  it("changes the role in place and keeps every computed value", async () => {
    const email = uniqueEmail("promote");
    const created = (await converge(resource, ctx, null, config(email, "member")))!;
    const step = await plan(resource, ctx, created, config(email, "admin"));
    expect(step.requiresReplace).toEqual([]);
    expect(step.planned).toEqual({ ...created, role: "admin" });
    const { newState } = await apply(resource, ctx, created, step.planned, config(email, "admin"));
    expect(await server().owner.getMember(created.id as string)).toMatchObject({ role: "admin" });
    expect(newState).toEqual({ ...created, role: "admin" });
  });

  it("replaces the member when the email changes, but not when only its case does", async () => {
    const email = uniqueEmail("case");
    const created = (await converge(resource, ctx, null, config(email, "member")))!;
    const upper = email.toUpperCase();
    const caseOnly = await plan(resource, ctx, created, config(upper, "member"));
    expect(caseOnly.requiresReplace).toEqual([]);
    const { newState } = await apply(resource, ctx, created, caseOnly.planned, config(upper, "member"));
    expect(newState).toMatchObject({ id: created.id, email: upper });
    const reread = (await resource.read(await providerContext(server().url, server().ownerKey), { currentState: newState!, private: new Uint8Array() })).newState;
    expect(reread).toMatchObject({ email: upper });

    expect((await plan(resource, ctx, newState, config(uniqueEmail("other"), "member"))).requiresReplace).toEqual([["email"]]);
    expect((await plan(resource, ctx, newState, config(UNKNOWN as never, "member"))).requiresReplace).toEqual([["email"]]);
  });

  it("imports by email and by id, and offboards on destroy", async () => {
    const email = uniqueEmail("import");
    const created = (await converge(resource, ctx, null, config(email, "admin")))!;
    const fresh = await providerContext(server().url, server().ownerKey);
    const byEmail = await resource.importState!(fresh, email.toUpperCase());
    const byId = await resource.importState!(fresh, created.id as string);
    expect(byEmail.imported).toEqual([{ state: created }]);
    expect(byId.imported).toEqual([{ state: created }]);
    const missing = await resource.importState!(fresh, "nobody@example.com");
    expect(missing.diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "Team Member Not Found" })]);

    const destroy = await plan(resource, ctx, created, null);
    expect(destroy.planned).toBeNull();
    expect((await apply(resource, ctx, created, null, null)).newState).toBeNull();
    await expect(server().owner.getMember(created.id as string)).rejects.toMatchObject({ code: "POSTSCALE_E_NOT_FOUND" });
    const after = await providerContext(server().url, server().ownerKey);
    expect((await resource.read(after, { currentState: created, private: new Uint8Array() })).newState).toBeNull();
  });

  it("a create repeated by a later run (its reply lost) gets the same member back, inviting nobody twice", async () => {
    const email = uniqueEmail("repeated");
    const first = await converge(resource, ctx, null, config(email, "member"));
    const laterRun = await providerContext(server().url, server().ownerKey);
    const step = await plan(resource, laterRun, null, config(email, "member"));
    const again = await apply(resource, laterRun, null, step.planned, config(email, "member"));
    expect(again.diagnostics ?? []).toEqual([]);
    expect(again.newState).toMatchObject({ id: first!.id, email, role: "member", status: "invited" });
    const invitations = (await server().owner.devMail()).filter((m) => m.to === email && m.kind === "invitation");
    expect(invitations).toHaveLength(1);
  });

  it("past the replay (another credential of the same person), its own pending invitation is taken over, not refused", async () => {
    const email = uniqueEmail("taken-over");
    const first = await converge(resource, ctx, null, config(email, "member"));
    const otherKey = await server().owner.createApiKey({ name: `second owner key ${email}`, owner: "member" });
    const laterRun = await providerContext(server().url, otherKey.secret);
    const step = await plan(resource, laterRun, null, config(email, "member"));
    const again = await apply(resource, laterRun, null, step.planned, config(email, "member"));
    expect(again.diagnostics ?? []).toEqual([]);
    expect(again.newState).toMatchObject({ id: first!.id, role: "member", status: "invited" });
  });

  it("reports an invitation of someone already in the organization in another role with an import hint and creates nothing", async () => {
    const email = uniqueEmail("twice");
    await converge(resource, ctx, null, config(email, "member"));
    const step = await plan(resource, ctx, null, config(email, "admin"));
    const { newState, diagnostics } = await apply(resource, ctx, null, step.planned, config(email, "admin"));
    expect(newState).toBeNull();
    expect(diagnostics).toEqual([expect.objectContaining({ severity: "error", detail: expect.stringContaining(`tofu import <address> ${email}`) })]);
  });

  it("refuses to plan the owner as a member, in any spelling, and to import them", async () => {
    const owner = (await server().owner.listMembers()).find((m) => m.role === "owner")!;
    for (const email of [owner.email, owner.email.toUpperCase()]) {
      const step = await plan(resource, ctx, null, config(email, "admin"));
      expect(step.diagnostics).toEqual([
        expect.objectContaining({ severity: "error", summary: "The Owner Is Not Managed", path: ["email"], detail: expect.stringContaining("remove this resource") }),
      ]);
    }
    const imported = await resource.importState!(ctx, owner.email);
    expect(imported.imported).toEqual([]);
    expect(imported.diagnostics).toEqual([expect.objectContaining({ summary: "The Owner Is Not Managed" })]);
  });
});

// The owner is never declared (isDeclarable in src/policy): also when ownership
// moves to someone the code already declares, so the stale declaration is
// the new owner's. Its own server: the transfer changes who owns it.
describe("postscale_team_member after ownership moved to a declared member", () => {
  const server = useLocalServer();
  afterAll(closeContexts);

  it("never demotes or offboards the new owner through the stale declaration, refuses to import them, and lets the former owner be declared", async () => {
    const ctx = await providerContext(server().url, server().ownerKey);
    const formerOwner = (await server().owner.listMembers()).find((m) => m.role === "owner")!;
    const email = uniqueEmail("heir");
    const declared = (await converge(resource, ctx, null, config(email, "admin")))!;
    await server().signUp(email);
    await server().owner.transferOwnership(declared.id as string);

    const after = await providerContext(server().url, server().ownerKey);
    const read = (await resource.read(after, { currentState: declared, private: new Uint8Array() })).newState!;
    expect(read).toMatchObject({ id: declared.id, role: "owner", status: "active" });

    // Back to "admin" as still written, then the declaration removed: refused at plan or at apply, never carried out.
    for (const wanted of [config(email, "admin"), null]) {
      const step = await plan(resource, after, read, wanted);
      if (!step.diagnostics.some((d) => d.severity === "error")) {
        const response = await apply(resource, after, read, step.planned, wanted);
        expect((response.diagnostics ?? []).filter((d) => d.severity === "error")).not.toEqual([]);
      }
      expect(await server().owner.getMember(declared.id as string)).toMatchObject({ role: "owner", status: "active" });
    }

    for (const spelling of [email, email.toUpperCase()]) {
      const step = await plan(resource, await providerContext(server().url, server().ownerKey), null, config(spelling, "member"));
      expect(step.diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "The Owner Is Not Managed" })]);
    }
    const imported = await resource.importState!(after, email);
    expect(imported.imported).toEqual([]);
    expect(imported.diagnostics).toEqual([expect.objectContaining({ summary: "The Owner Is Not Managed" })]);

    const former = await resource.importState!(await providerContext(server().url, server().ownerKey), formerOwner.email);
    expect(former.diagnostics ?? []).toEqual([]);
    expect(former.imported).toEqual([{ state: expect.objectContaining({ id: formerOwner.id, role: "admin" }) }]);
  });
});

describe("postscale_team_member with an expired invitation", () => {
  const server = useLocalServer({ invitationTtlSeconds: 1 });
  afterAll(closeContexts);

  it("plans a re-invitation (status expired -> invited) and applies it by resending", async () => {
    const ctx = await providerContext(server().url, server().ownerKey);
    const email = uniqueEmail("late");
    const created: ObjectValue = (await converge(resource, ctx, null, config(email, "member")))!;
    await sleep(1500);

    const refresh = await providerContext(server().url, server().ownerKey);
    const read = (await resource.read(refresh, { currentState: created, private: new Uint8Array() })).newState!;
    expect(read).toMatchObject({ status: "expired" });
    const step = await plan(resource, refresh, read, config(email, "member"));
    expect(step.requiresReplace).toEqual([]);
    expect(step.planned).toEqual({ ...read, status: "invited", invited_at: UNKNOWN });

    const mailsBefore = (await server().owner.devMail()).filter((m) => m.to === email).length;
    const { newState } = await apply(resource, refresh, read, step.planned, config(email, "member"));
    expect(newState).toMatchObject({ id: created.id, status: "invited" });
    expect((await server().owner.devMail()).filter((m) => m.to === email)).toHaveLength(mailsBefore + 1);
    expect(isNoOp(resource.schema, newState!, await plan(resource, refresh, newState, config(email, "member")))).toBe(true);
  });
});
