/**
 * Rotating a key's secret in place (PUT /v1/api-keys/{id}/secret) and
 * bringing your own secret: the key keeps its id, the old secret works for
 * the overlap asked for and then answers 401, only hashes are stored, each
 * broken material rule is a 422 naming `secret`, and who may rotate a key
 * is who may rename it, tried from the attacker's side.
 */
import { randomBytes } from "node:crypto";
import { type Caller, expectProblem, ok } from "../helpers/http";
import { APP, BACKENDS, sleep, useServer, type Person } from "../helpers/server";

/** Material the rule accepts: 48 random base64url characters. */
function material(): string {
  return randomBytes(36).toString("base64url");
}

async function works(caller: Caller): Promise<boolean> {
  const res = await caller.get("/v1/me");
  if (res.status === 200) return true;
  expectProblem(res, 401);
  return false;
}

describe.each(BACKENDS)("key rotation on %s", (backend) => {
  const server = useServer(backend);
  let admin: Person;
  let member: Person;

  beforeAll(async () => {
    const s = server();
    admin = await s.onboard("ada-admin@example.com", "admin");
    member = await s.onboard("max@example.com", "member", [{ domain: APP, access: "read_write" }]);
  });

  test("without overlap: same id, a new secret and prefix, the old secret answers 401 at once; audited", async () => {
    const s = server();
    const key = await s.createKey(member.api, { name: "max ci", owner: "member" });
    const rotated = ok(await member.api.put(`/v1/api-keys/${key.id}/secret`, {}));
    expect(rotated).toMatchObject({ id: key.id, name: "max ci", domains: [APP], secret: expect.stringMatching(/^ps_/), previous_valid_until: null, origin: "generated" });
    expect(rotated.secret).not.toBe(key.secret);
    expect(rotated.secret.startsWith(rotated.prefix)).toBe(true);
    expect(rotated.prefix).not.toBe(key.prefix);
    expect(Date.parse(rotated.rotated_at)).toBeGreaterThanOrEqual(Date.parse(key.rotated_at));
    expect(await works(s.as(key.secret))).toBe(false);
    expect(await works(s.as(rotated.secret))).toBe(true);
    const read = ok(await member.api.get(`/v1/api-keys/${key.id}`));
    expect(read).not.toHaveProperty("secret");
    expect(read.prefix).toBe(rotated.prefix);
    const [event] = ok(await s.owner.get("/v1/audit-events?limit=1")).data;
    expect(event).toMatchObject({ action: "api_key.rotate", target: `api_key:${key.id}`, actor: member.email, actor_member_id: member.id });
    expect(event.credential).toMatch(/^session:/);
    expect(JSON.stringify(event)).not.toContain(rotated.secret);
  });

  test("with overlap: the old secret works until now + overlap_seconds, then 401; the new one throughout", async () => {
    const s = server();
    const key = await s.createKey(s.owner, { name: "deploy bot", owner: "organization" });
    const before = Date.now();
    const rotated = ok(await s.owner.put(`/v1/api-keys/${key.id}/secret`, { overlap_seconds: 3 }));
    const until = Date.parse(rotated.previous_valid_until);
    expect(until).toBeGreaterThanOrEqual(before + 2000);
    expect(until).toBeLessThanOrEqual(Date.now() + 4000);
    expect(await works(s.as(key.secret))).toBe(true);
    expect(await works(s.as(rotated.secret))).toBe(true);
    await sleep(Math.max(0, until - Date.now()) + 300);
    expect(await works(s.as(key.secret))).toBe(false);
    expect(await works(s.as(rotated.secret))).toBe(true);
  });

  test("a second rotation during an overlap ends the first secret at once", async () => {
    const s = server();
    const key = await s.createKey(s.owner, { name: "twice", owner: "organization" });
    const first = ok(await s.owner.put(`/v1/api-keys/${key.id}/secret`, { overlap_seconds: 600 }));
    const second = ok(await s.owner.put(`/v1/api-keys/${key.id}/secret`, { overlap_seconds: 600 }));
    expect(await works(s.as(key.secret))).toBe(false);
    expect(await works(s.as(first.secret))).toBe(true);
    expect(await works(s.as(second.secret))).toBe(true);
  });

  test("Idempotency-Key on PUT: a repeat answers the first rotation, secret included, and rotates nothing more", async () => {
    const s = server();
    const key = await s.createKey(s.owner, { name: "repeat", owner: "organization" });
    const send = () => s.owner.request("PUT", `/v1/api-keys/${key.id}/secret`, { body: { overlap_seconds: 0 }, idempotencyKey: "rotate-repeat-1" });
    const first = await send();
    const again = await send();
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.secret).toBe(first.body.secret);
    expect(await works(s.as(first.body.secret))).toBe(true);
  });

  test("bring your own: create and rotate store only the hash, answer secret null, and the material authenticates", async () => {
    const s = server();
    const mine = material();
    const created = ok(await member.api.post("/v1/api-keys", { name: "byo", owner: "member", secret: mine }));
    expect(created).toMatchObject({ secret: null, origin: "supplied", prefix: expect.stringMatching(/^sha256:[0-9a-f]{8}$/) });
    expect(JSON.stringify(created)).not.toContain(mine.slice(0, 8));
    expect(await works(s.as(mine))).toBe(true);

    const next = material();
    const rotated = ok(await member.api.put(`/v1/api-keys/${created.id}/secret`, { secret: next, overlap_seconds: 0 }));
    expect(rotated).toMatchObject({ id: created.id, secret: null, origin: "supplied" });
    expect(rotated.prefix).not.toBe(created.prefix);
    expect(await works(s.as(mine))).toBe(false);
    expect(await works(s.as(next))).toBe(true);

    // Back to a generated secret.
    const generated = ok(await member.api.put(`/v1/api-keys/${created.id}/secret`, {}));
    expect(generated).toMatchObject({ secret: expect.stringMatching(/^ps_/), origin: "generated" });
    expect(await works(s.as(next))).toBe(false);
  });

  describe("bring-your-own material that breaks the rule: 422 naming secret and the rule, nothing written", () => {
    const cases: [string, () => string, RegExp][] = [
      ["too short", () => material().slice(0, 31), /32 to 256 characters long, got 31/],
      ["too long", () => "x".repeat(257), /32 to 256 characters long, got 257/],
      ["a character outside the alphabet", () => `${material()} space`, /may contain only letters, digits and/],
      ["a quote", () => `${material()}"`, /may contain only/],
      ["low variety", () => "abababababababababababababababababab", /too little entropy.*at least 10 different characters.*110 bits/],
      ["few bits", () => "0123456789".repeat(4), /too little entropy|repetitive/],
      ["a repeated pattern", () => "Kq7#xP2!mZ9$".repeat(4), /repetitive/],
      ["a sequence", () => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", /repetitive.*sequence/],
      ["a session token's start", () => `pss_${material()}`, /must not start with "pss_"/],
    ];

    test.each(cases)("create: %s", async (_label, make, message) => {
      const res = await member.api.post("/v1/api-keys", { name: `bad ${Math.random()}`, owner: "member", secret: make() });
      expectProblem(res, 422, "/secret");
      expect(res.body.errors.find((e: { path: string }) => e.path === "/secret").message).toMatch(message);
    });

    test.each(cases)("rotate: %s", async (_label, make, message) => {
      const s = server();
      const key = await s.createKey(member.api, { name: `keep ${Math.random()}`, owner: "member" });
      const res = await member.api.put(`/v1/api-keys/${key.id}/secret`, { secret: make() });
      expectProblem(res, 422, "/secret");
      expect(res.body.errors[0].message).toMatch(message);
      expect(await works(s.as(key.secret))).toBe(true);
    });

    test("the material is never echoed in the problem", async () => {
      const bad = `${material()}\\`;
      const res = await member.api.post("/v1/api-keys", { name: "echo", owner: "member", secret: bad });
      expectProblem(res, 422, "/secret");
      expect(res.text).not.toContain(bad.slice(0, 20));
    });

    test("material some key already has (this one's current secret) is refused", async () => {
      const s = server();
      const mine = material();
      const key = ok(await member.api.post("/v1/api-keys", { name: `reuse ${Math.random()}`, owner: "member", secret: mine }));
      expectProblem(await member.api.put(`/v1/api-keys/${key.id}/secret`, { secret: mine }), 422, "/secret");
      expectProblem(await s.owner.post("/v1/api-keys", { name: "copy", owner: "organization", secret: mine }), 422, "/secret");
    });

    test("overlap_seconds outside 0..86400 → 422", async () => {
      const s = server();
      const key = await s.createKey(member.api, { name: `overlap ${Math.random()}`, owner: "member" });
      expectProblem(await member.api.put(`/v1/api-keys/${key.id}/secret`, { overlap_seconds: 86401 }), 422, "/overlap_seconds");
      expectProblem(await member.api.put(`/v1/api-keys/${key.id}/secret`, { overlap_seconds: -1 }), 422, "/overlap_seconds");
      expectProblem(await member.api.put(`/v1/api-keys/${key.id}/secret`, { overlap_seconds: 1.5 }), 422, "/overlap_seconds");
    });
  });

  describe("who may rotate, from the attacker's side", () => {
    test("a member rotating an admin's key → 404 (invisible), the admin's secret still works", async () => {
      const s = server();
      const adminsKey = await s.createKey(admin.api, { name: "ada ci", owner: "member" });
      expectProblem(await member.api.put(`/v1/api-keys/${adminsKey.id}/secret`, {}), 404);
      expect(await works(s.as(adminsKey.secret))).toBe(true);
    });

    test("a member's own key cannot rotate an admin's key either → 404", async () => {
      const s = server();
      const adminsKey = await s.createKey(admin.api, { name: "ada deploy", owner: "member" });
      const membersKey = await s.createKey(member.api, { name: "max tool", owner: "member" });
      expectProblem(await s.as(membersKey.secret).put(`/v1/api-keys/${adminsKey.id}/secret`, { overlap_seconds: 0 }), 404);
      expect(await works(s.as(adminsKey.secret))).toBe(true);
    });

    test("an admin rotating the owner's key → 403 key_holder_outranks_caller, the owner's key still works", async () => {
      const s = server();
      const ownersKey = await s.createKey(s.owner, { name: "owner laptop", owner: "member" });
      for (const as of [admin.api, s.as((await s.createKey(admin.api, { name: `ada own ${Math.random()}`, owner: "member" })).secret)]) {
        const res = await as.put(`/v1/api-keys/${ownersKey.id}/secret`, {});
        expectProblem(res, 403);
        expect(res.body).toMatchObject({ rule: "key_holder_outranks_caller" });
        expect(res.body.detail).toMatch(/owner/);
      }
      expect(await works(s.as(ownersKey.secret))).toBe(true);
    });

    test("an admin rotating another admin's key → 403; the owner may", async () => {
      const s = server();
      const other = await s.onboard(`other-admin-${Math.random().toString(36).slice(2, 8)}@example.com`, "admin");
      const key = await s.createKey(other.api, { name: "other ci", owner: "member" });
      const res = await admin.api.put(`/v1/api-keys/${key.id}/secret`, {});
      expectProblem(res, 403);
      expect(res.body).toMatchObject({ rule: "key_holder_outranks_caller" });
      ok(await s.owner.put(`/v1/api-keys/${key.id}/secret`, {}));
    });

    test("an organization key rotating keys → 403 (its own and another organization key)", async () => {
      const s = server();
      const orgKey = await s.createKey(s.owner, { name: "infra bot", owner: "organization" });
      const other = await s.createKey(s.owner, { name: "infra other", owner: "organization" });
      for (const id of [orgKey.id, other.id]) {
        const res = await s.as(orgKey.secret).put(`/v1/api-keys/${id}/secret`, {});
        expectProblem(res, 403);
        expect(res.body.rule).toEqual(expect.any(String));
      }
      expect(await works(s.as(orgKey.secret))).toBe(true);
      expect(await works(s.as(other.secret))).toBe(true);
    });

    test("an admin demoted to member can no longer rotate a member's key, with their session or their key", async () => {
      const s = server();
      const demoted = await s.onboard(`demoted-${Math.random().toString(36).slice(2, 8)}@example.com`, "admin");
      const ownKey = await s.createKey(demoted.api, { name: "demoted laptop", owner: "member" });
      const target = await s.createKey(member.api, { name: `max target ${Math.random()}`, owner: "member" });
      ok(await s.owner.patch(`/v1/team/members/${demoted.id}`, { role: "member" }));
      for (const as of [demoted.api, s.as(ownKey.secret)]) {
        const res = await as.put(`/v1/api-keys/${target.id}/secret`, {});
        expect([403, 404]).toContain(res.status);
        expectProblem(res, res.status);
      }
      expect(await works(s.as(target.secret))).toBe(true);
    });

    test("a rotation racing the rotator's demotion either happens before it or is refused; never a rotation after", async () => {
      const s = server();
      const racer = await s.onboard(`racer-${Math.random().toString(36).slice(2, 8)}@example.com`, "admin");
      const target = await s.createKey(member.api, { name: `max raced ${Math.random()}`, owner: "member" });
      const [rotation, demotion] = await Promise.all([racer.api.put(`/v1/api-keys/${target.id}/secret`, {}), s.owner.patch(`/v1/team/members/${racer.id}`, { role: "member" })]);
      ok(demotion);
      if (rotation.status === 200) {
        expect(await works(s.as(target.secret))).toBe(false);
        expect(await works(s.as(rotation.body.secret))).toBe(true);
      } else {
        expect([403, 404]).toContain(rotation.status);
        expect(await works(s.as(target.secret))).toBe(true);
      }
      // Whatever the order, once demoted the racer cannot rotate it.
      expect([403, 404]).toContain((await racer.api.put(`/v1/api-keys/${target.id}/secret`, {})).status);
    });

    test("the admin rotates a member's key; a rotated-away secret answers 401 on every route", async () => {
      const s = server();
      const key = await s.createKey(member.api, { name: "max laptop", owner: "member" });
      ok(await admin.api.put(`/v1/api-keys/${key.id}/secret`, {}));
      const old = s.as(key.secret);
      expectProblem(await old.get("/v1/me"), 401);
      expectProblem(await old.get(`/v1/domains/${APP}`), 401);
      expectProblem(await old.put(`/v1/api-keys/${key.id}/secret`, {}), 401);
    });
  });
});
