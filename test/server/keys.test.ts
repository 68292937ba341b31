/**
 * API keys over HTTP: the secret is shown once, member keys are bounded by
 * the member's read/write domains, effective access = key scope ∩ owner's
 * current access on every request, revoked and expired keys stop working,
 * and Idempotency-Key replays the first answer without creating anything.
 */
import { createHash } from "node:crypto";
import { Caller, expectProblem, ok, problemShape } from "../helpers/http";
import type { CreatedApiKey } from "../../src/api/types";
import { APP, BACKENDS, MISSING_DOMAIN, PROD, STAGING, sleep, uniqueEmail, useServer, type Person } from "../helpers/server";
import { DOMAIN_PATCH } from "../helpers/fixtures";

async function keyIds(caller: Caller): Promise<string[]> {
  return ok(await caller.get("/v1/api-keys?limit=1000")).data.map((k: { id: string }) => k.id).sort();
}

/** Every way a stored secret could leak: itself, or a common encoding of its SHA-256. */
function secretTraces(secret: string): string[] {
  const digest = createHash("sha256").update(secret).digest();
  return [secret, secret.slice(-16), digest.toString("hex"), digest.toString("base64"), digest.toString("base64url")];
}

function expectNoSecret(value: unknown, secret: string): void {
  const text = JSON.stringify(value);
  for (const trace of secretTraces(secret)) expect(text).not.toContain(trace);
  const keys = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") for (const [k, inner] of Object.entries(v)) keys.add(k), walk(inner);
  };
  walk(value);
  expect([...keys].filter((k) => /secret|hash/i.test(k))).toEqual([]);
}

describe.each(BACKENDS)("API keys on %s", (backend) => {
  const server = useServer(backend);
  let member: Person;
  let other: Person;
  let orgKey: CreatedApiKey;

  beforeAll(async () => {
    const s = server();
    member = await s.onboard("kim@example.com", "member", [
      { domain: APP, access: "read_write" },
      { domain: STAGING, access: "read" },
    ]);
    other = await s.onboard("oli@example.com", "member", [{ domain: PROD, access: "read_write" }]);
    orgKey = await s.createKey(s.owner, { name: "infra", owner: "organization" });
  });

  test("the secret is in the POST answer only; reads show the prefix, never the secret or a hash", async () => {
    const s = server();
    const created = await s.createKey(member.api, { name: "kim laptop", owner: "member" });
    expect(created.secret).toMatch(/^ps_/);
    expect(created.prefix.length).toBeGreaterThan(0);
    expect(created.prefix.length).toBeLessThan(created.secret.length);
    expect(created.secret.startsWith(created.prefix)).toBe(true);
    const { secret, ...record } = created;

    for (const caller of [member.api, s.owner]) {
      const one = ok(await caller.get(`/v1/api-keys/${created.id}`));
      expect(one).toEqual(expect.objectContaining({ ...record, last_used_at: one.last_used_at }));
      expect(one.prefix).toBe(created.prefix);
      expectNoSecret(one, secret);
      const list = ok(await caller.get("/v1/api-keys"));
      expect(list.data.map((k: { id: string }) => k.id)).toContain(created.id);
      expectNoSecret(list, secret);
    }
    const renamed = ok(await member.api.patch(`/v1/api-keys/${created.id}`, { name: "kim desktop" }));
    expectNoSecret(renamed, secret);
    expectNoSecret(ok(await s.owner.get("/v1/audit-events?limit=1000")), secret);
    expectNoSecret(ok(await s.as(secret).get("/v1/me")), secret);
  });

  test("a member key without domains is scoped to the member's read/write domains at that moment", async () => {
    const created = await server().createKey(member.api, { name: "auto", owner: "member" });
    expect(created).toMatchObject({ owner: "member", member_id: member.id, scope: "domains", domains: [APP] });
  });

  test("a member with no read/write domain cannot get an auto-scoped key", async () => {
    const s = server();
    const reader = await s.onboard("rea@example.com", "member", [{ domain: STAGING, access: "read" }]);
    expectProblem(await reader.api.post("/v1/api-keys", { name: "nothing to write", owner: "member" }), 422, "/domains");
    expect(await keyIds(reader.api)).toEqual([]);
  });

  describe("what members may not mint", () => {
    test.each([
      ["a read-only domain", () => ({ name: "k", owner: "member", domains: [STAGING] }), 403],
      ["a read/write and a read-only domain", () => ({ name: "k", owner: "member", domains: [APP, STAGING] }), 403],
      ["an organization-owned key", () => ({ name: "k", owner: "organization" }), 403],
      ["an organization-owned key for their domain", () => ({ name: "k", owner: "organization", domains: [APP] }), 403],
      ["a key for another member", () => ({ name: "k", owner: "member", member_id: other.id, domains: [APP] }), 422],
    ] as const)("%s → refused", async (_label, body, status) => {
      const before = await keyIds(server().owner);
      expectProblem(await member.api.post("/v1/api-keys", body()), status);
      expect(await keyIds(server().owner)).toEqual(before);
    });

    test("an unassigned domain is refused exactly like a domain that does not exist", async () => {
      const before = await keyIds(server().owner);
      const hidden = await member.api.post("/v1/api-keys", { name: "k", owner: "member", domains: [PROD] });
      const missing = await member.api.post("/v1/api-keys", { name: "k", owner: "member", domains: [MISSING_DOMAIN] });
      expect([404, 422]).toContain(missing.status);
      expectProblem(missing, missing.status);
      expect(problemShape(hidden)).toEqual(problemShape(missing));
      expect(hidden.body.errors).toEqual(missing.body.errors?.map((e: { path: string; message: string }) => ({ ...e, message: expect.any(String) })));
      expect(await keyIds(server().owner)).toEqual(before);
    });

    test("a member cannot widen their key to a read-only domain", async () => {
      const key = await server().createKey(member.api, { name: "narrow", owner: "member" });
      expectProblem(await member.api.patch(`/v1/api-keys/${key.id}`, { domains: [APP, STAGING] }), 403);
      expect(ok(await member.api.get(`/v1/api-keys/${key.id}`)).domains).toEqual([APP]);
    });
  });

  test("members see only their own keys; others' keys answer 404", async () => {
    const s = server();
    const otherKey = await s.createKey(other.api, { name: "oli", owner: "member" });
    const mine = await s.createKey(member.api, { name: "mine", owner: "member" });
    const listed = ok(await member.api.get("/v1/api-keys")).data;
    expect(listed.map((k: { id: string }) => k.id)).toContain(mine.id);
    expect(listed.every((k: { member_id: string }) => k.member_id === member.id)).toBe(true);
    for (const id of [orgKey.id, otherKey.id]) {
      expectProblem(await member.api.get(`/v1/api-keys/${id}`), 404);
      expectProblem(await member.api.patch(`/v1/api-keys/${id}`, { name: "stolen" }), 404);
      expectProblem(await member.api.delete(`/v1/api-keys/${id}`), 404);
      expect(ok(await s.owner.get(`/v1/api-keys/${id}`)).name).not.toBe("stolen");
    }
    ok(await s.as(otherKey.secret).get("/v1/me"));
    const all = await keyIds(s.owner);
    expect(all).toEqual(expect.arrayContaining([orgKey.id, otherKey.id, mine.id]));
  });

  test("effective access = key scope ∩ the owner's current access, on every request", async () => {
    const s = server();
    const eve = await s.onboard("eve@example.com", "member", [{ domain: APP, access: "read_write" }, { domain: STAGING, access: "read" }]);
    const key = s.as((await s.createKey(eve.api, { name: "eve", owner: "member" })).secret);
    ok(await key.patch(`/v1/domains/${APP}`, DOMAIN_PATCH));

    await s.grant(eve.id, APP, "read");
    expectProblem(await key.patch(`/v1/domains/${APP}`, DOMAIN_PATCH), 403);
    expectProblem(await key.post(`/v1/domains/${APP}/verify`), 403);
    ok(await key.get(`/v1/domains/${APP}`));
    ok(await key.get(`/v1/domains/${APP}/stats`));

    await s.grant(eve.id, APP, "read_write");
    ok(await key.patch(`/v1/domains/${APP}`, DOMAIN_PATCH));

    await s.grant(eve.id, APP, null);
    expectProblem(await key.get(`/v1/domains/${APP}`), 404);
    expectProblem(await key.get(`/v1/domains/${APP}/dns`), 404);
    expect(ok(await key.get("/v1/domains")).data).toEqual([]);
    // A grant given later does not widen a key beyond the domains it names.
    await s.grant(eve.id, PROD, "read_write");
    expectProblem(await key.get(`/v1/domains/${PROD}`), 404);
  });

  test("a key for someone still invited answers 401 saying they have not joined, and works once they join", async () => {
    const s = server();
    const email = uniqueEmail("joining");
    const invited = await s.invite(email, "member", [{ domain: APP, access: "read_write" }]);
    const created = await s.createKey(s.owner, { name: "before joining", owner: "member", member_id: invited.id, domains: [APP] });
    const early = await s.as(created.secret).get("/v1/me");
    expectProblem(early, 401);
    expect(early.body).toMatchObject({ rule: "key_holder_not_joined", detail: expect.stringContaining(`${email}, who has not joined`) });
    // A wrong secret still gets the plain answer: the hint is only for the key's real secret.
    const forged = await s.as(`${created.secret.slice(0, -4)}AAAA`).get("/v1/me");
    expectProblem(forged, 401);
    expect(forged.text).not.toContain(email);
    await s.signUp(email);
    expect(ok(await s.as(created.secret).get("/v1/me"))).toMatchObject({ id: invited.id, status: "active" });
  });

  test("a revoked key answers 401 at once", async () => {
    const s = server();
    const key = await s.createKey(member.api, { name: "short-lived", owner: "member" });
    ok(await s.as(key.secret).get("/v1/me"));
    ok(await member.api.delete(`/v1/api-keys/${key.id}`));
    expectProblem(await s.as(key.secret).get("/v1/me"), 401);
    expectProblem(await s.as(key.secret).get(`/v1/domains/${APP}`), 401);
    expectProblem(await s.owner.get(`/v1/api-keys/${key.id}`), 404);
  });

  test("an expired key answers 401; a past expiry is refused at creation", async () => {
    const s = server();
    const key = await s.createKey(member.api, { name: "expiring", owner: "member", expires_at: new Date(Date.now() + 2000).toISOString() });
    ok(await s.as(key.secret).get("/v1/me"));
    await sleep(Math.max(0, Date.parse(key.expires_at as string) - Date.now()) + 300);
    expectProblem(await s.as(key.secret).get("/v1/me"), 401);
    expectProblem(await member.api.post("/v1/api-keys", { name: "stale", owner: "member", expires_at: "2020-01-01T00:00:00Z" }), 422, "/expires_at");
  });

  test.each([
    ["no credential", undefined],
    ["an unknown key", "ps_0000000000000000000000000000000000000000"],
    ["garbage", "not-a-token"],
  ])("%s answers 401", async (_label, token) => {
    expectProblem(await server().as(token).get("/v1/me"), 401);
    expectProblem(await server().as(token).get(`/v1/domains/${APP}`), 401);
  });

  test("using a key records last_used_at", async () => {
    const s = server();
    const key = await s.createKey(member.api, { name: "used", owner: "member" });
    expect(key.last_used_at).toBeNull();
    ok(await s.as(key.secret).get(`/v1/domains/${APP}`));
    expect(ok(await member.api.get(`/v1/api-keys/${key.id}`)).last_used_at).toEqual(expect.any(String));
  });

  test("an organization key limited to domains reaches only those, and no team management", async () => {
    const s = server();
    const created = await s.createKey(s.owner, { name: "prod sender", owner: "organization", domains: [PROD] });
    expect(created).toMatchObject({ owner: "organization", member_id: null, scope: "domains", domains: [PROD] });
    const key = s.as(created.secret);
    ok(await key.get(`/v1/domains/${PROD}`));
    ok(await key.patch(`/v1/domains/${PROD}`, DOMAIN_PATCH));
    expectProblem(await key.get(`/v1/domains/${APP}`), 404);
    expect(ok(await key.get("/v1/domains")).data.map((d: { name: string }) => d.name)).toEqual([PROD]);
    expectProblem(await key.get("/v1/team/members"), 403);
    expectProblem(await key.post("/v1/api-keys", { name: "wider", owner: "organization" }), 403);
  });

  test("admins create member keys within the member's read/write domains only", async () => {
    const s = server();
    const admin = await s.onboard("ann@example.com", "admin");
    const made = await s.createKey(admin.api, { name: "for kim", owner: "member", member_id: member.id, domains: [APP] });
    expect(made).toMatchObject({ owner: "member", member_id: member.id, domains: [APP] });
    expectProblem(await admin.api.post("/v1/api-keys", { name: "too wide", owner: "member", member_id: member.id, domains: [STAGING] }), 403);
  });

  test("PATCH renames and rescopes a key", async () => {
    const s = server();
    const key = await s.createKey(s.owner, { name: "rescope me", owner: "organization", domains: [APP] });
    const patched = ok(await s.owner.patch(`/v1/api-keys/${key.id}`, { name: "rescoped", domains: [STAGING, PROD] }));
    expect(patched).toMatchObject({ name: "rescoped", scope: "domains", domains: [PROD, STAGING] });
    expectProblem(await s.as(key.secret).get(`/v1/domains/${APP}`), 404);
    ok(await s.as(key.secret).get(`/v1/domains/${STAGING}`));
  });

  test("Idempotency-Key: the same key and body return the first answer and create nothing new", async () => {
    const s = server();
    const before = await keyIds(s.owner);
    const body = { name: "idempotent", owner: "member" };
    const first = await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-key-1" });
    const second = await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-key-1" });
    expect(first.status).toBe(201);
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(await keyIds(s.owner)).toEqual([...before, first.body.id].sort());
    const third = await member.api.post("/v1/api-keys", body, { idempotencyKey: "create-key-2" });
    expect(third.body.id).not.toBe(first.body.id);
  });
});

