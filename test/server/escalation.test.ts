/**
 * "Keys and people", tried from the attacker's side: an admin trying to
 * become the owner through a key, admins disabling the owner's or another
 * admin's keys, organization keys managing people, duplicate key names,
 * who-made-it in keys and audit, and Idempotency-Key replays of a key's
 * creation. Every refusal is checked to have written nothing.
 */
import { APP, BACKENDS, STAGING, useServer, type Person, type TestServer } from "../helpers/server";
import { Caller, expectProblem, ok } from "../helpers/http";

/** Everything a refused request could have changed: keys, people, the audit log, the organization and billing. */
async function snapshot(s: TestServer) {
  return {
    // last_used_at moves with every use of a key, which is not a write of the request under test.
    keys: ok(await s.owner.get("/v1/api-keys?limit=1000")).data.map((k: Record<string, unknown>) => ({ ...k, last_used_at: undefined })),
    members: ok(await s.owner.get("/v1/team/members?limit=1000&include=domain_access")).data,
    audit: ok(await s.owner.get("/v1/audit-events?limit=1")).data[0]?.id,
    organization: ok(await s.owner.get("/v1/organization")),
    billing: ok(await s.owner.get("/v1/organization/billing")),
  };
}

describe.each(BACKENDS)("keys and people on %s", (backend) => {
  const server = useServer(backend);
  let owner: { id: string };
  let ownerKeyId: string;
  let admin: Person;
  let admin2: Person;
  let member: Person;
  let adminKey: Caller;

  beforeAll(async () => {
    const s = server();
    const me = ok(await s.owner.get("/v1/me"));
    owner = { id: me.id };
    ownerKeyId = me.key.id;
    admin = await s.onboard("eve-admin@example.com", "admin");
    admin2 = await s.onboard("adam-admin@example.com", "admin");
    member = await s.onboard("mia@example.com", "member", [{ domain: APP, access: "read_write" }]);
    adminKey = s.as((await s.createKey(admin.api, { name: "eve's own", owner: "member" })).secret);
  });

  test("the bootstrap key is the owner's own key, created by the owner", async () => {
    const me = ok(await server().owner.get("/v1/me"));
    expect(me).toMatchObject({ role: "owner", key: { owner: "member", member_id: owner.id, scope: "organization", created_by: owner.id } });
  });

  describe("an admin cannot take over the organization through a key", () => {
    test.each([
      ["session", () => admin.api],
      ["own key", () => adminKey],
    ])("POST /v1/api-keys for the owner with the admin's %s → 403, nothing written", async (_label, as) => {
      const s = server();
      const before = await snapshot(s);
      for (const body of [
        { name: "x", owner: "member", member_id: owner.id },
        { name: "x", owner: "member", member_id: owner.id, domains: [APP] },
        { name: "x", owner: "member", member_id: admin2.id },
      ]) {
        const res = await as().post("/v1/api-keys", body);
        expectProblem(res, 403);
        expect(res.body).toMatchObject({ rule: "key_holder_outranks_caller" });
      }
      expect(await snapshot(s)).toEqual(before);
    });

    test("with the owner's id in hand the admin still cannot reach billing or transfer ownership", async () => {
      const s = server();
      const before = await snapshot(s);
      expectProblem(await admin.api.put("/v1/organization/billing", { plan: "pro", billing_email: "eve@example.com" }), 403);
      expectProblem(await admin.api.post("/v1/organization/transfer-ownership", { member_id: admin.id }), 403);
      expect(await snapshot(s)).toEqual(before);
    });
  });

  describe("admins cannot disable the owner's or another admin's keys", () => {
    const attempts = [
      ["rename", (c: Caller, id: string) => c.patch(`/v1/api-keys/${id}`, { name: "pwned" })],
      ["rescope", (c: Caller, id: string) => c.patch(`/v1/api-keys/${id}`, { domains: [STAGING] })],
      ["revoke", (c: Caller, id: string) => c.delete(`/v1/api-keys/${id}`)],
    ] as const;

    test.each(attempts)("%s the owner's key → 403 and the key still works", async (_label, attempt) => {
      const s = server();
      const before = await snapshot(s);
      for (const as of [admin.api, adminKey]) {
        const res = await attempt(as, ownerKeyId);
        expectProblem(res, 403);
        expect(res.body).toMatchObject({ rule: "key_holder_outranks_caller" });
      }
      expect(await snapshot(s)).toEqual(before);
      ok(await s.owner.get("/v1/organization/billing"));
    });

    test.each(attempts)("%s another admin's key → 403", async (_label, attempt) => {
      const s = server();
      const key = await s.createKey(admin2.api, { name: `adam ${Math.random()}`, owner: "member" });
      const before = await snapshot(s);
      expectProblem(await attempt(admin.api, key.id), 403);
      expect(await snapshot(s)).toEqual(before);
    });

    test("the owner manages an admin's key; an admin manages a member's key and is recorded as its creator", async () => {
      const s = server();
      const adminsKey = await s.createKey(admin2.api, { name: "adam ci", owner: "member" });
      ok(await s.owner.patch(`/v1/api-keys/${adminsKey.id}`, { name: "adam ci (renamed by owner)" }));
      const made = await s.createKey(admin.api, { name: "mia ci", owner: "member", member_id: member.id, domains: [APP] });
      expect(made).toMatchObject({ member_id: member.id, created_by: admin.id });
      ok(await admin.api.patch(`/v1/api-keys/${made.id}`, { name: "mia ci 2" }));
      const byAdmin = ok(await s.owner.get(`/v1/api-keys?created_by=${admin.id}&limit=100`)).data.map((k: { id: string }) => k.id);
      expect(byAdmin).toContain(made.id);
      expect(byAdmin).not.toContain(adminsKey.id);
      expect(ok(await s.owner.get(`/v1/api-keys/${made.id}`))).toMatchObject({ created_by: admin.id });
      expect(ok(await admin.api.delete(`/v1/api-keys/${made.id}`)));
    });
  });

  describe("people manage people: organization keys do domain work only", () => {
    let orgKey: Caller;
    let orgKeyId: string;
    beforeAll(async () => {
      const created = await server().createKey(server().owner, { name: "infra", owner: "organization" });
      orgKey = server().as(created.secret);
      orgKeyId = created.id;
    });

    const refused: [string, (c: Caller) => Promise<import("../helpers/http").HttpResponse>][] = [
      ["invite", (c) => c.post("/v1/team/members", { email: "sneaky@example.com", role: "admin" })],
      ["change a role", (c) => c.patch(`/v1/team/members/${member.id}`, { role: "admin" })],
      ["grant a domain", (c) => c.put(`/v1/team/members/${member.id}/domain-access/${STAGING}`, { access: "read_write" })],
      ["remove a grant", (c) => c.delete(`/v1/team/members/${member.id}/domain-access/${APP}`)],
      ["remove a member", (c) => c.delete(`/v1/team/members/${member.id}`)],
      ["create an organization key", (c) => c.post("/v1/api-keys", { name: "child", owner: "organization" })],
      ["create a key for the owner", (c) => c.post("/v1/api-keys", { name: "child", owner: "member", member_id: owner.id })],
      ["revoke the owner's key", (c) => c.delete(`/v1/api-keys/${ownerKeyId}`)],
      ["rename itself", (c) => c.patch(`/v1/api-keys/${orgKeyId}`, { name: "renamed" })],
      ["change organization settings", (c) => c.patch("/v1/organization", { name: "Taken" })],
      ["change billing", (c) => c.put("/v1/organization/billing", { plan: "pro", billing_email: "x@example.com" })],
      ["transfer ownership", (c) => c.post("/v1/organization/transfer-ownership", { member_id: admin.id })],
      ["delete the organization", (c) => c.delete("/v1/organization")],
    ];
    test.each(refused)("%s → 403, nothing written", async (_label, run) => {
      const s = server();
      const before = await snapshot(s);
      expectProblem(await run(orgKey), 403);
      expect(await snapshot(s)).toEqual(before);
    });

    test("domain work within its scope still works, and the audit names the key and its holder", async () => {
      const s = server();
      const alias = ok(await orgKey.post(`/v1/domains/${APP}/aliases`, { address: "ops", forward_to: ["ops@example.com"] }));
      const [event] = ok(await s.owner.get("/v1/audit-events?limit=1")).data;
      expect(event).toMatchObject({ action: "domain.alias.create", actor: null, actor_member_id: null, credential: `api_key:${orgKeyId}`, key_holder: "organization" });
      ok(await orgKey.delete(`/v1/domains/${APP}/aliases/${alias.id}`));
    });
  });

  describe("who made it", () => {
    test("audit events name the acting person, the credential and the key's holder", async () => {
      const s = server();
      const created = await s.createKey(admin.api, { name: "for mia", owner: "member", member_id: member.id, domains: [APP] });
      const [event] = ok(await s.owner.get("/v1/audit-events?limit=1")).data;
      expect(event).toMatchObject({ action: "api_key.create", actor: admin.email, actor_member_id: admin.id, key_holder: null });
      expect(event.credential).toMatch(/^session:/);
      ok(await adminKey.delete(`/v1/api-keys/${created.id}`));
      const [revoked] = ok(await s.owner.get("/v1/audit-events?limit=1")).data;
      expect(revoked).toMatchObject({ action: "api_key.delete", actor: admin.email, key_holder: admin.id });
    });

    test("keys survive the person who created them; their list stays queryable", async () => {
      const s = server();
      const temp = await s.onboard("temp-admin@example.com", "admin");
      const service = await s.createKey(temp.api, { name: "pipeline", owner: "organization" });
      ok(await s.owner.delete(`/v1/team/members/${temp.id}`));
      ok(await s.as(service.secret).get("/v1/domains"));
      const left = ok(await s.owner.get(`/v1/api-keys?created_by=${temp.id}`)).data;
      expect(left.map((k: { id: string }) => k.id)).toEqual([service.id]);
    });
  });

  describe("key names", () => {
    test("are unique per holder and among organization keys: a repeat is 409 key_name_taken", async () => {
      const s = server();
      await s.createKey(member.api, { name: "deploy", owner: "member" });
      const before = await snapshot(s);
      const again = await member.api.post("/v1/api-keys", { name: "deploy", owner: "member" });
      expectProblem(again, 409);
      expect(again.body).toMatchObject({ rule: "key_name_taken" });
      const byAdmin = await admin.api.post("/v1/api-keys", { name: "deploy", owner: "member", member_id: member.id, domains: [APP] });
      expectProblem(byAdmin, 409);
      expect(await snapshot(s)).toEqual(before);
      // Another holder, or the organization, may use the same name.
      await s.createKey(admin.api, { name: "deploy", owner: "member" });
      await s.createKey(s.owner, { name: "deploy", owner: "organization" });
      expectProblem(await admin.api.post("/v1/api-keys", { name: "deploy", owner: "organization" }), 409);
    });

    test("renaming onto a taken name is 409 too", async () => {
      const s = server();
      await s.createKey(member.api, { name: "a-name", owner: "member" });
      const b = await s.createKey(member.api, { name: "b-name", owner: "member" });
      const res = await member.api.patch(`/v1/api-keys/${b.id}`, { name: "a-name" });
      expectProblem(res, 409);
      expect(ok(await member.api.get(`/v1/api-keys/${b.id}`)).name).toBe("b-name");
    });
  });

  describe("Idempotency-Key on a key's creation", () => {
    test("a repeat returns the original response (same secret) and creates nothing", async () => {
      const s = server();
      const body = { name: `replayed ${Math.random()}`, owner: "member" };
      const first = await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-1" });
      expect(first.status).toBe(201);
      const second = await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-1" });
      expect(second.status).toBe(201);
      expect(second.headers.get("idempotent-replayed")).toBe("true");
      expect(second.body).toEqual(first.body);
      const named = ok(await s.owner.get("/v1/api-keys?limit=1000")).data.filter((k: { name: string }) => k.name === body.name);
      expect(named).toHaveLength(1);
      // Another credential with the same Idempotency-Key gets no replay of someone else's secret.
      const other = await admin.api.post("/v1/api-keys", { ...body, name: `${body.name} (admin)` }, { idempotencyKey: "create-1" });
      expect(other.status).toBe(201);
      expect(other.body.secret).not.toBe(first.body.secret);
    });

    test("the same Idempotency-Key with another body is 422 and writes nothing", async () => {
      const s = server();
      await member.api.post("/v1/api-keys", { name: "k-one", owner: "member" }, { idempotencyKey: "create-2" });
      const before = await snapshot(s);
      expectProblem(await member.api.post("/v1/api-keys", { name: "k-two", owner: "member" }, { idempotencyKey: "create-2" }), 422, "/headers/idempotency-key");
      expect(await snapshot(s)).toEqual(before);
    });

    test("a refused request stores nothing: the same key runs again once the refusal is lifted", async () => {
      const s = server();
      const body = { name: "needs-staging", owner: "member", domains: [STAGING] };
      await s.grant(member.id, STAGING, "read");
      expectProblem(await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-3" }), 403);
      await s.grant(member.id, STAGING, "read_write");
      const res = await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-3" });
      expect(res.status).toBe(201);
      await s.grant(member.id, STAGING, null);
    });
  });
});

describe.each(BACKENDS)("idempotency records expire on %s", (backend) => {
  const server = useServer(backend, { idempotencyTtlSeconds: 1 });

  test("after the retention window a repeat runs again (and meets the key-name rule) instead of replaying", async () => {
    const s = server();
    const body = { name: "short-lived replay", owner: "organization" };
    const first = await s.owner.post("/v1/api-keys", body, { idempotencyKey: "expiring" });
    expect(first.status).toBe(201);
    const replay = await s.owner.post("/v1/api-keys", body, { idempotencyKey: "expiring" });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    await new Promise((r) => setTimeout(r, 1500));
    const late = await s.owner.post("/v1/api-keys", body, { idempotencyKey: "expiring" });
    expectProblem(late, 409);
    expect(late.body).toMatchObject({ rule: "key_name_taken" });
  });
});

describe.each(BACKENDS)("replays of creates on %s", (backend) => {
  const server = useServer(backend);

  test("a create whose object was deleted since is not replayed: it runs again", async () => {
    const s = server();
    const body = { email: "comes-back@example.com", role: "member" };
    const first = await s.owner.post("/v1/team/members", body, { idempotencyKey: "invite-comes-back" });
    expect(first.status).toBe(201);
    const replay = await s.owner.post("/v1/team/members", body, { idempotencyKey: "invite-comes-back" });
    expect(replay.body.id).toBe(first.body.id);
    ok(await s.owner.delete(`/v1/team/members/${first.body.id}`));
    const again = await s.owner.post("/v1/team/members", body, { idempotencyKey: "invite-comes-back" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.body.id).not.toBe(first.body.id);
    expect(ok(await s.owner.get(`/v1/team/members/${again.body.id}`)).email).toBe(body.email);
  });
});
