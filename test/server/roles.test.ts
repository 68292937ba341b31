/**
 * Who may do what at the organization level, over HTTP, for each kind of
 * caller: owner session, owner (bootstrap) key, admin session, member
 * session, member-owned key and organization-owned key. Plus the rules on
 * the owner and on one's own role, and ownership transfer.
 */
import { Caller, HttpResponse, expectProblem, expectStatus, ok } from "../helpers/http";
import { APP, BACKENDS, OWNER_EMAIL, STAGING, TestServer, uniqueEmail, useServer, type Person } from "../helpers/server";
import { BILLING_PUT } from "../helpers/fixtures";

type Who = "owner session" | "owner key" | "admin session" | "member session" | "member key" | "organization key";
const EVERYONE: Who[] = ["owner session", "owner key", "admin session", "member session", "member key", "organization key"];
const MANAGERS: Who[] = ["owner session", "owner key", "admin session", "organization key"];
/** People manage people: organization keys read the team but never change people, keys or settings. */
const PEOPLE_MANAGERS: Who[] = ["owner session", "owner key", "admin session"];
const OWNER: Who[] = ["owner session", "owner key"];

/** What a row may use: the server and an invited-only target made fresh for each call. */
interface RowContext {
  s: TestServer;
  target: { id: string; email: string };
}

interface Row {
  label: string;
  allowed: Who[];
  /** The callers to try; everyone unless the call is destructive for the allowed ones. */
  callers?: Who[];
  run(caller: Caller, ctx: RowContext): Promise<HttpResponse>;
  /** What a refused call must leave unchanged, read before and after it. */
  state?(ctx: RowContext): Promise<unknown>;
}

async function memberOf(s: TestServer, id: string) {
  return ok(await s.owner.get(`/v1/team/members/${id}?include=domain_access`));
}

const ROWS: Row[] = [
  { label: "GET /v1/me", allowed: EVERYONE, run: (c) => c.get("/v1/me") },
  { label: "GET /v1/organization", allowed: EVERYONE, run: (c) => c.get("/v1/organization") },
  {
    label: "PATCH /v1/organization",
    allowed: PEOPLE_MANAGERS,
    run: (c) => c.patch("/v1/organization", { name: "Renamed By Caller" }),
    state: async ({ s }) => ok(await s.owner.get("/v1/organization")),
  },
  { label: "GET /v1/organization/billing", allowed: OWNER, run: (c) => c.get("/v1/organization/billing") },
  {
    label: "PUT /v1/organization/billing",
    allowed: OWNER,
    run: (c) => c.put("/v1/organization/billing", BILLING_PUT),
    state: async ({ s }) => ok(await s.owner.get("/v1/organization/billing")),
  },
  {
    label: "DELETE /v1/organization (the owner's delete is in lifecycle)",
    allowed: OWNER,
    callers: EVERYONE.filter((w) => !OWNER.includes(w)),
    run: (c) => c.delete("/v1/organization"),
    state: async ({ s }) => ok(await s.owner.get("/v1/organization")),
  },
  {
    label: "POST /v1/organization/transfer-ownership (the owner's is below)",
    allowed: OWNER,
    callers: EVERYONE.filter((w) => !OWNER.includes(w)),
    run: (c, { target }) => c.post("/v1/organization/transfer-ownership", { member_id: target.id }),
    state: async ({ s }) => ok(await s.owner.get("/v1/team/members?limit=1000")),
  },
  { label: "GET /v1/team/members", allowed: MANAGERS, run: (c) => c.get("/v1/team/members") },
  {
    label: "POST /v1/team/members",
    allowed: PEOPLE_MANAGERS,
    run: (c) => c.post("/v1/team/members", { email: uniqueEmail("invitee"), role: "member" }),
  },
  { label: "GET /v1/team/members/{id}", allowed: MANAGERS, run: (c, { target }) => c.get(`/v1/team/members/${target.id}`) },
  {
    label: "PATCH /v1/team/members/{id}",
    allowed: PEOPLE_MANAGERS,
    run: (c, { target }) => c.patch(`/v1/team/members/${target.id}`, { role: "admin" }),
    state: async ({ s, target }) => memberOf(s, target.id),
  },
  {
    label: "DELETE /v1/team/members/{id}",
    allowed: PEOPLE_MANAGERS,
    run: (c, { target }) => c.delete(`/v1/team/members/${target.id}`),
    state: async ({ s, target }) => memberOf(s, target.id),
  },
  {
    label: "POST /v1/team/members/{id}/resend-invitation",
    allowed: PEOPLE_MANAGERS,
    run: (c, { target }) => c.post(`/v1/team/members/${target.id}/resend-invitation`),
    state: async ({ s, target }) => (await s.mail()).filter((m) => m.to === target.email),
  },
  {
    label: "GET /v1/team/members/{id}/domain-access",
    allowed: MANAGERS,
    run: (c, { target }) => c.get(`/v1/team/members/${target.id}/domain-access`),
  },
  {
    label: "PUT /v1/team/members/{id}/domain-access/{domain}",
    allowed: PEOPLE_MANAGERS,
    run: (c, { target }) => c.put(`/v1/team/members/${target.id}/domain-access/${APP}`, { access: "read_write" }),
    state: async ({ s, target }) => ok(await s.owner.get(`/v1/team/members/${target.id}/domain-access`)),
  },
  {
    label: "DELETE /v1/team/members/{id}/domain-access/{domain}",
    allowed: PEOPLE_MANAGERS,
    run: (c, { target }) => c.delete(`/v1/team/members/${target.id}/domain-access/${STAGING}`),
    state: async ({ s, target }) => ok(await s.owner.get(`/v1/team/members/${target.id}/domain-access`)),
  },
  { label: "GET /v1/audit-events", allowed: MANAGERS, run: (c) => c.get("/v1/audit-events") },
  {
    label: "POST /v1/api-keys (organization-owned)",
    allowed: PEOPLE_MANAGERS,
    run: (c) => c.post("/v1/api-keys", { name: `org-wide ${Math.random().toString(36).slice(2, 10)}`, owner: "organization" }),
  },
  {
    label: "POST /v1/domains",
    allowed: MANAGERS,
    run: (c) => c.post("/v1/domains", { name: `d${Math.random().toString(36).slice(2, 10)}.example.com` }),
  },
];

describe.each(BACKENDS)("roles on %s", (backend) => {
  describe("organization actions by caller", () => {
    const server = useServer(backend);
    const callers = {} as Record<Who, Caller>;
    let admin: Person;
    let member: Person;

    beforeAll(async () => {
      const s = server();
      admin = await s.onboard("ada@example.com", "admin");
      member = await s.onboard("mo@example.com", "member", [
        { domain: APP, access: "read_write" },
        { domain: STAGING, access: "read" },
      ]);
      callers["owner session"] = await s.ownerSession();
      callers["owner key"] = s.owner;
      callers["admin session"] = admin.api;
      callers["member session"] = member.api;
      callers["member key"] = s.as((await s.createKey(member.api, { name: "mo key", owner: "member" })).secret);
      callers["organization key"] = s.as((await s.createKey(s.owner, { name: "infra", owner: "organization" })).secret);
    });

    const cells = ROWS.flatMap((row) => (row.callers ?? EVERYONE).map((who) => [row.label, who, row.allowed.includes(who) ? "allowed" : "403", row] as const));
    test.each(cells)("%s as %s → %s", async (_label, who, outcome, row) => {
      const s = server();
      const email = uniqueEmail("target");
      const invited = await s.invite(email, "member", [{ domain: STAGING, access: "read" }]);
      const ctx = { s, target: { id: invited.id, email } };
      const before = await row.state?.(ctx);
      const res = await row.run(callers[who], ctx);
      if (outcome === "allowed") {
        ok(res, `${row.label} as ${who}`);
      } else {
        expectProblem(res, 403);
        expect(await row.state?.(ctx)).toEqual(before);
      }
    });

    test("GET /v1/me describes each caller", async () => {
      const me = async (who: Who) => ok(await callers[who].get("/v1/me"));
      expect(await me("owner session")).toMatchObject({ role: "owner", credential: "session", email: OWNER_EMAIL });
      expect(await me("owner key")).toMatchObject({ role: "owner", credential: "api_key", email: OWNER_EMAIL, key: { scope: "organization" } });
      expect(await me("admin session")).toMatchObject({ role: "admin", credential: "session", id: admin.id, status: "active" });
      const memberMe = await me("member session");
      expect(memberMe).toMatchObject({ role: "member", credential: "session", id: member.id, email: member.email });
      expect(sortGrants(memberMe.domain_access)).toEqual([
        { domain: APP, access: "read_write" },
        { domain: STAGING, access: "read" },
      ]);
      expect(await me("member key")).toMatchObject({ role: "member", credential: "api_key", id: member.id, key: { owner: "member", scope: "domains", domains: [APP] } });
      expect(await me("organization key")).toMatchObject({ credential: "api_key", member: null, key: { owner: "organization", scope: "organization" } });
    });
  });

  describe("the owner and one's own role", () => {
    const server = useServer(backend);
    let ownerId: string;
    let admin: Person;
    let otherAdmin: Person;
    let member: Person;

    beforeAll(async () => {
      const s = server();
      ownerId = ok(await s.owner.get("/v1/me")).id;
      admin = await s.onboard("ali@example.com", "admin");
      otherAdmin = await s.onboard("bea@example.com", "admin");
      member = await s.onboard("max@example.com", "member");
    });

    const refusals: Array<[string, (ctx: { s: TestServer }) => Promise<HttpResponse>, number, string | undefined, () => string, string]> = [
      ["owner changes own role", async ({ s }) => (await s.ownerSession()).patch(`/v1/team/members/${ownerId}`, { role: "admin" }), 403, undefined, () => ownerId, "owner"],
      ["owner key changes the owner's role", async ({ s }) => s.owner.patch(`/v1/team/members/${ownerId}`, { role: "member" }), 403, undefined, () => ownerId, "owner"],
      ["owner removes themselves", async ({ s }) => (await s.ownerSession()).delete(`/v1/team/members/${ownerId}`), 403, undefined, () => ownerId, "owner"],
      ["admin changes own role", async () => admin.api.patch(`/v1/team/members/${admin.id}`, { role: "member" }), 403, undefined, () => admin.id, "admin"],
      ["admin removes themselves", async () => admin.api.delete(`/v1/team/members/${admin.id}`), 403, undefined, () => admin.id, "admin"],
      ["admin demotes the owner", async () => admin.api.patch(`/v1/team/members/${ownerId}`, { role: "member" }), 403, undefined, () => ownerId, "owner"],
      ["admin removes the owner", async () => admin.api.delete(`/v1/team/members/${ownerId}`), 403, undefined, () => ownerId, "owner"],
      ["member promotes themselves", async () => member.api.patch(`/v1/team/members/${member.id}`, { role: "admin" }), 403, undefined, () => member.id, "member"],
      ["owner makes someone owner by PATCH", async ({ s }) => s.owner.patch(`/v1/team/members/${member.id}`, { role: "owner" }), 422, "/role", () => member.id, "member"],
      ["admin makes themselves owner by PATCH", async () => admin.api.patch(`/v1/team/members/${admin.id}`, { role: "owner" }), 403, undefined, () => admin.id, "admin"],
    ];

    test.each(refusals)("%s → refused", async (_label, run, status, field, id, role) => {
      const s = server();
      const res = await run({ s });
      expectProblem(res, status, field);
      expect((await memberOf(s, id())).role).toBe(role);
      const owners = ok(await s.owner.get("/v1/team/members")).data.filter((m: { role: string }) => m.role === "owner");
      expect(owners).toHaveLength(1);
    });

    test("inviting someone as owner is refused and invites nobody", async () => {
      const s = server();
      const email = uniqueEmail("would-be-owner");
      expectProblem(await s.owner.post("/v1/team/members", { email, role: "owner" }), 422, "/role");
      const emails = ok(await s.owner.get("/v1/team/members")).data.map((m: { email: string }) => m.email);
      expect(emails).not.toContain(email);
    });

    test("an admin changes another admin's and a member's role", async () => {
      const s = server();
      expect(ok(await admin.api.patch(`/v1/team/members/${otherAdmin.id}`, { role: "member" })).role).toBe("member");
      expect((await memberOf(s, otherAdmin.id)).role).toBe("member");
      expect(ok(await admin.api.patch(`/v1/team/members/${otherAdmin.id}`, { role: "admin" })).role).toBe("admin");
      expect(ok(await admin.api.patch(`/v1/team/members/${member.id}`, { role: "admin" })).role).toBe("admin");
      expect(ok(await admin.api.patch(`/v1/team/members/${member.id}`, { role: "member" })).role).toBe("member");
    });

    test("grants are only for members: granting an admin is refused", async () => {
      const s = server();
      expectProblem(await s.owner.put(`/v1/team/members/${admin.id}/domain-access/${APP}`, { access: "read" }), 422);
      expect(ok(await s.owner.get(`/v1/team/members/${admin.id}/domain-access`)).data).toEqual([]);
    });

    // Last in this block: it changes who the owner is.
    test("ownership moves only by transfer-ownership: the owner transfers to an active admin; exactly one owner after; powers follow", async () => {
      const s = server();
      const ownerId = ok(await s.owner.get("/v1/me")).id;
      const heir = await s.onboard("heir@example.com", "admin");
      const invitedOnly = await s.invite(uniqueEmail("invited"), "admin");

      expectProblem(await heir.api.post("/v1/organization/transfer-ownership", { member_id: heir.id }), 403);
      expectProblem(await s.owner.post("/v1/organization/transfer-ownership", { member_id: invitedOnly.id }), 422, "/member_id");
      const unknown = await s.owner.post("/v1/organization/transfer-ownership", { member_id: "no-such-member" });
      expectProblem(unknown, expectStatus(unknown, [404, 422]).status);

      const oldOwner = await s.ownerSession();
      ok(await oldOwner.post("/v1/organization/transfer-ownership", { member_id: heir.id }));

      const members = ok(await heir.api.get("/v1/team/members")).data;
      const owners = members.filter((m: { role: string }) => m.role === "owner");
      expect(owners.map((m: { id: string }) => m.id)).toEqual([heir.id]);
      expect(members.find((m: { id: string }) => m.id === ownerId).role).toBe("admin");

      ok(await heir.api.get("/v1/organization/billing"));
      expectProblem(await oldOwner.get("/v1/organization/billing"), 403);
      // The bootstrap key belongs to the former owner: it now carries admin powers only.
      expectProblem(await s.owner.get("/v1/organization/billing"), 403);
      expectProblem(await s.owner.post("/v1/organization/transfer-ownership", { member_id: ownerId }), 403);
      expect(ok(await s.owner.get("/v1/me")).role).toBe("admin");
    });
  });
});

function sortGrants(grants: Array<{ domain: string; access: string }>) {
  return [...grants].sort((a, b) => a.domain.localeCompare(b.domain));
}
