/**
 * The server as a whole, over HTTP: offboarding, audit events, restart on
 * the same storage, the OpenAPI document and health check, the dev outbox
 * switch, rate limiting, concurrent writes and deleting the organization.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectProblem, expectStatus, ok, request } from "../helpers/http";
import { APP, BACKENDS, BOOTSTRAP_DOMAINS, OWNER_EMAIL, PROD, STAGING, TestServer, uniqueEmail, useServer } from "../helpers/server";
import { DOMAIN_PATCH } from "../helpers/fixtures";

/** Every path of the API, written out here rather than read from the routes, in OpenAPI template form. */
const API_PATHS = [
  "/v1/organization",
  "/v1/organization/billing",
  "/v1/organization/transfer-ownership",
  "/v1/me",
  "/v1/team/members",
  "/v1/team/members/{id}",
  "/v1/team/members/{id}/resend-invitation",
  "/v1/team/members/{id}/domain-access",
  "/v1/team/members/{id}/domain-access/{domain}",
  "/v1/invitations/{token}",
  "/v1/invitations/{token}/accept",
  "/v1/auth/verify-email",
  "/v1/auth/login",
  "/v1/auth/logout",
  "/v1/domains",
  "/v1/domains/{domain}",
  "/v1/domains/{domain}/dns",
  "/v1/domains/{domain}/verify",
  "/v1/domains/{domain}/dkim",
  "/v1/domains/{domain}/dkim/rotate",
  "/v1/domains/{domain}/stats",
  "/v1/domains/{domain}/dmarc",
  "/v1/domains/{domain}/warming",
  "/v1/domains/{domain}/aliases",
  "/v1/domains/{domain}/aliases/{id}",
  "/v1/domains/{domain}/inbound-rules",
  "/v1/domains/{domain}/inbound-rules/{id}",
  "/v1/api-keys",
  "/v1/api-keys/{id}",
  "/v1/audit-events",
];

/** Path templates with parameter names erased, so `{id}` and `{memberId}` compare equal. */
function shape(path: string): string {
  return path.replace(/\{[^}]+\}/g, "{}");
}

describe.each(BACKENDS)("lifecycle on %s", (backend) => {
  // One server through a whole life, in order: the restart and the deletion come last.
  describe("one organization from start to deletion", () => {
    const server = useServer(backend);

    test("GET /healthz answers 200", async () => {
      expectStatus(await request(server().url, "GET", "/healthz"), 200);
    });

    test("GET /v1/openapi.json is an OpenAPI 3.1 document with every path of the API", async () => {
      const doc = ok(await request(server().url, "GET", "/v1/openapi.json"));
      expect(doc.openapi).toMatch(/^3\.1\./);
      const documented = new Set(Object.keys(doc.paths ?? {}).map(shape));
      expect(API_PATHS.filter((p) => !documented.has(shape(p)))).toEqual([]);
      const text = JSON.stringify(doc);
      expect(text).not.toMatch(/password_hash|secret_hash|key_hash|token_hash/);
      // The repository keeps the same document (docs/openapi.json); regenerate with `npm run generate`.
      expect(doc).toEqual(JSON.parse(readFileSync(join(__dirname, "..", "..", "docs", "openapi.json"), "utf8")));
    });

    test("the dev outbox exists with dev: true", async () => {
      expect(Array.isArray(await server().mail())).toBe(true);
    });

    test("removing a member revokes sessions and keys and deletes grants; organization keys survive", async () => {
      const s = server();
      const leaver = await s.onboard("leaver@example.com", "member", [
        { domain: APP, access: "read_write" },
        { domain: STAGING, access: "read" },
      ]);
      const secondSession = await s.login(leaver.email, leaver.password);
      const leaverKey = s.as((await s.createKey(leaver.api, { name: "leaver", owner: "member" })).secret);
      const adminMadeKey = s.as((await s.createKey(s.owner, { name: "for leaver", owner: "member", member_id: leaver.id, domains: [APP] })).secret);
      const orgKey = s.as((await s.createKey(s.owner, { name: "infra", owner: "organization" })).secret);
      for (const caller of [leaver.api, secondSession, leaverKey, adminMadeKey, orgKey]) ok(await caller.get(`/v1/domains/${APP}`));

      ok(await s.owner.delete(`/v1/team/members/${leaver.id}`));

      for (const caller of [leaver.api, secondSession, leaverKey, adminMadeKey]) {
        expectProblem(await caller.get("/v1/me"), 401);
        expectProblem(await caller.get(`/v1/domains/${APP}`), 401);
      }
      expectProblem(await s.anonymous.post("/v1/auth/login", { email: leaver.email, password: leaver.password }), 401);
      ok(await orgKey.get(`/v1/domains/${APP}`));
      ok(await orgKey.patch(`/v1/domains/${APP}`, DOMAIN_PATCH));
      expectProblem(await s.owner.get(`/v1/team/members/${leaver.id}`), 404);
      const keys = ok(await s.owner.get("/v1/api-keys?limit=1000")).data;
      expect(keys.filter((k: { member_id: string | null }) => k.member_id === leaver.id)).toEqual([]);

      // Coming back starts from nothing: the old grants are gone.
      const again = await s.invite(leaver.email, "member");
      expect(ok(await s.owner.get(`/v1/team/members/${again.id}/domain-access`)).data).toEqual([]);
    });

    test("mutations write audit events with actor, credential, action and target", async () => {
      const s = server();
      const email = uniqueEmail("audited");
      const invited = await s.invite(email, "member");
      await s.grant(invited.id, PROD, "read");
      const key = await s.createKey(s.owner, { name: "audited key", owner: "organization" });
      ok(await s.owner.patch(`/v1/domains/${PROD}`, DOMAIN_PATCH));
      ok(await s.owner.delete(`/v1/api-keys/${key.id}`));
      const ownerId = ok(await s.owner.get("/v1/me")).id;

      const events = ok(await s.owner.get("/v1/audit-events?limit=1000")).data;
      for (const event of events) {
        expect(event).toEqual(expect.objectContaining({ id: expect.any(String), action: expect.any(String), credential: expect.any(String), time: expect.any(String) }));
      }
      const about = (needle: string) => events.filter((e: Record<string, unknown>) => JSON.stringify([e.target, e.after, e.before]).includes(needle));
      for (const needle of [invited.id, PROD, key.id]) {
        const found = about(needle);
        expect(found.length).toBeGreaterThan(0);
        const byOwner = (e: { actor: unknown }) => [ownerId, OWNER_EMAIL].some((who) => JSON.stringify(e.actor ?? null).includes(who));
        expect(found.some(byOwner)).toBe(true);
      }
      expect(new Set(about(key.id).map((e: { action: string }) => e.action)).size).toBeGreaterThanOrEqual(2);
      expect(about(PROD).some((e: { before: unknown; after: unknown }) => e.before !== null && e.after !== null)).toBe(true);
    });

    test("20 parallel PUTs of different grants for one member all persist", async () => {
      const s = server();
      const extra = Array.from({ length: 20 - BOOTSTRAP_DOMAINS.length }, (_, i) => `parallel-${i}.example.com`);
      for (const name of extra) ok(await s.owner.post("/v1/domains", { name }));
      const domains = [...BOOTSTRAP_DOMAINS, ...extra];
      const target = await s.invite(uniqueEmail("busy"), "member");
      const wanted = domains.map((domain, i) => ({ domain, access: i % 2 === 0 ? "read" : "read_write" }));
      const answers = await Promise.all(wanted.map((g) => s.owner.put(`/v1/team/members/${target.id}/domain-access/${g.domain}`, { access: g.access })));
      for (const answer of answers) ok(answer);
      const stored = ok(await s.owner.get(`/v1/team/members/${target.id}/domain-access`)).data;
      const byDomain = (a: { domain: string }, b: { domain: string }) => a.domain.localeCompare(b.domain);
      expect([...stored].sort(byDomain)).toEqual([...wanted].sort(byDomain));
    });

    test("10 parallel invites of one email: exactly one 201, the rest 409", async () => {
      const s = server();
      const email = uniqueEmail("racer");
      const answers = await Promise.all(Array.from({ length: 10 }, () => s.owner.post("/v1/team/members", { email, role: "member" })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([201, ...Array(9).fill(409)]);
      for (const conflict of answers.filter((a) => a.status === 409)) expectProblem(conflict, 409);
      const members = ok(await s.owner.get("/v1/team/members?limit=1000")).data.filter((m: { email: string }) => m.email === email);
      expect(members).toHaveLength(1);
      expect((await s.mail()).filter((m) => m.to === email)).toHaveLength(1);
    });

    test("members, grants and keys survive; keys and sessions still authenticate", async () => {
      const s = server();
      const stayer = await s.onboard("stayer@example.com", "member", [{ domain: APP, access: "read_write" }, { domain: STAGING, access: "read" }]);
      const key = await s.createKey(stayer.api, { name: "durable", owner: "member" });
      const members = ok(await s.owner.get("/v1/team/members?include=domain_access")).data;
      const keys = ok(await s.owner.get("/v1/api-keys")).data;
      const domains = ok(await s.owner.get("/v1/domains")).data.map((d: { name: string }) => d.name).sort();

      await s.restart();

      expect(ok(await s.owner.get("/v1/team/members?include=domain_access")).data).toEqual(members);
      expect(ok(await s.owner.get("/v1/api-keys")).data.map(({ last_used_at: _, ...k }: { last_used_at: unknown }) => k)).toEqual(
        keys.map(({ last_used_at: _, ...k }: { last_used_at: unknown }) => k),
      );
      expect(ok(await s.owner.get("/v1/domains")).data.map((d: { name: string }) => d.name).sort()).toEqual(domains);
      expect(domains).toEqual(expect.arrayContaining(BOOTSTRAP_DOMAINS));
      ok(await s.as(key.secret).patch(`/v1/domains/${APP}`, DOMAIN_PATCH));
      expectProblem(await s.as(key.secret).get(`/v1/domains/${STAGING}`), 404);
      ok(await stayer.api.get(`/v1/domains/${STAGING}`));
      ok(await (await s.login(stayer.email, stayer.password)).get("/v1/me"));
      // The organization was not bootstrapped twice.
      const owners = ok(await s.owner.get("/v1/team/members")).data.filter((m: { role: string }) => m.role === "owner");
      expect(owners).toHaveLength(1);
    });

    test("only the owner can, and afterwards its credentials reach nothing", async () => {
      const s: TestServer = server();
      const admin = await s.onboard("last-admin@example.com", "admin");
      expectProblem(await admin.api.delete("/v1/organization"), 403);
      ok(await s.owner.get("/v1/organization"));
      expectStatus(await s.owner.delete("/v1/organization"), [200, 204]);
      const after = await s.owner.get("/v1/organization");
      expect([401, 404]).toContain(after.status);
      expect([401, 404]).toContain((await admin.api.get(`/v1/domains/${APP}`)).status);
    });
  });

  describe("without dev, with a small rate limit", () => {
    const server = useServer(backend, { dev: false, rateLimit: { max: 5, windowMs: 60_000 } });

    test("past the limit the server answers 429 with Retry-After and a problem body", async () => {
      const s = server();
      const answers = [];
      for (let i = 0; i < 8; i += 1) answers.push(await s.owner.get("/v1/me"));
      expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      for (const limited of answers.slice(5)) {
        expectProblem(limited, 429);
        const retryAfter = Number(limited.headers.get("retry-after"));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
    });

    test("GET /_dev/mail does not exist", async () => {
      expectProblem(await request(server().url, "GET", "/_dev/mail"), 404);
    });
  });
});
