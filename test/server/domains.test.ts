/**
 * Domain visibility and read vs read/write, over HTTP: hidden domains answer
 * exactly like missing ones on every sub-resource, read grants reach every
 * read and no write, read/write grants reach every write, managers reach all.
 */
import { Caller, expectProblem, expectStatus, ok, problemShape } from "../helpers/http";
import { APP, BACKENDS, MISSING_DOMAIN, PROD, STAGING, TestServer, useServer, type Person } from "../helpers/server";
import { DOMAIN_READS, DOMAIN_WRITES, aliasBody, inboundRuleBody, routeBody, routePath, type DomainRoute } from "../helpers/fixtures";

/** An alias and an inbound rule created by the owner on `domain`, for routes that need ids. */
async function seedIds(server: TestServer, domain: string, n: number): Promise<{ domain: string; alias: string; rule: string }> {
  const alias = ok(await server.owner.post(`/v1/domains/${domain}/aliases`, aliasBody(n)), `seed alias on ${domain}`);
  const rule = ok(await server.owner.post(`/v1/domains/${domain}/inbound-rules`, inboundRuleBody(n)), `seed rule on ${domain}`);
  return { domain, alias: alias.id, rule: rule.id };
}

function send(caller: Caller, route: DomainRoute, ids: { domain: string; alias: string; rule: string }) {
  const body = routeBody(route);
  return caller.request(route.method, routePath(route, ids), body === undefined ? {} : { body });
}

const ALL_ROUTES = [...DOMAIN_READS, ...DOMAIN_WRITES, { label: "domain delete", method: "DELETE", path: "/v1/domains/{domain}" } as DomainRoute];

describe.each(BACKENDS)("domains on %s", (backend) => {
  const server = useServer(backend);
  let member: Person;
  let memberKey: Caller;
  let admin: Person;
  let seq = 0;

  beforeAll(async () => {
    const s = server();
    member = await s.onboard("dora@example.com", "member", [
      { domain: APP, access: "read_write" },
      { domain: STAGING, access: "read" },
    ]);
    admin = await s.onboard("adam@example.com", "admin");
    const key = await s.createKey(member.api, { name: "dora's app key", owner: "member" });
    memberKey = s.as(key.secret);
  });

  describe("a domain the caller may not see answers exactly like a missing one", () => {
    test.each(ALL_ROUTES.map((r) => [r.label, r] as const))("%s", async (_label, route) => {
      const s = server();
      const prodIds = await seedIds(s, PROD, ++seq);
      const missingIds = { ...prodIds, domain: MISSING_DOMAIN };
      const stagingIds = await seedIds(s, STAGING, ++seq);
      const missing = await send(member.api, route, missingIds);
      expectProblem(missing, 404);
      // The member session has no grant on prod; the member's key does not name staging.
      for (const [caller, ids] of [
        [member.api, prodIds],
        [memberKey, prodIds],
        [memberKey, stagingIds],
      ] as const) {
        const hidden = await send(caller, route, ids);
        expectProblem(hidden, 404);
        expect(problemShape(hidden)).toEqual(problemShape(missing));
      }
      // Nothing was written by the refused requests: the owner still sees the seeded records.
      ok(await s.owner.get(`/v1/domains/${PROD}/aliases/${prodIds.alias}`));
      ok(await s.owner.get(`/v1/domains/${PROD}/inbound-rules/${prodIds.rule}`));
      ok(await s.owner.get(`/v1/domains/${PROD}`));
    });
  });

  test("lists leave out what the caller may not see", async () => {
    const s = server();
    const names = async (caller: Caller) => ok(await caller.get("/v1/domains")).data.map((d: { name: string }) => d.name).sort();
    expect(await names(member.api)).toEqual([APP, STAGING]);
    expect(await names(memberKey)).toEqual([APP]);
    for (const manager of [s.owner, admin.api]) {
      expect(await names(manager)).toEqual(expect.arrayContaining([APP, STAGING, PROD]));
    }
  });

  describe("read access reaches every read and no write", () => {
    test.each(DOMAIN_READS.map((r) => [r.label, r] as const))("read: %s → 200", async (_label, route) => {
      const ids = await seedIds(server(), STAGING, ++seq);
      const res = await send(member.api, route, ids);
      expectStatus(res, 200);
      if (route.label.endsWith("list")) expect(Array.isArray(res.body.data)).toBe(true);
    });

    test.each(DOMAIN_WRITES.map((r) => [r.label, r] as const))("write: %s → 403", async (_label, route) => {
      const s = server();
      const ids = await seedIds(s, STAGING, ++seq);
      const before = await snapshot(s, ids);
      expectProblem(await send(member.api, route, ids), 403);
      expect(await snapshot(s, ids)).toEqual(before);
    });

    test("the domain itself cannot be deleted or created by a member", async () => {
      const s = server();
      expectProblem(await member.api.delete(`/v1/domains/${APP}`), 403);
      expectProblem(await member.api.post("/v1/domains", { name: "member-made.example.com" }), 403);
      ok(await s.owner.get(`/v1/domains/${APP}`));
      expectProblem(await s.owner.get("/v1/domains/member-made.example.com"), 404);
    });
  });

  describe("read/write access reaches every write", () => {
    for (const who of ["member session", "member key"] as const) {
      test(`${who} on its read/write domain`, async () => {
        const caller = who === "member session" ? member.api : memberKey;
        const ids = await seedIds(server(), APP, ++seq);
        for (const route of DOMAIN_WRITES) {
          const res = await send(caller, route, ids);
          if (res.status < 200 || res.status > 299) throw new Error(`${who} ${route.label}: got ${res.status} ${res.text}`);
        }
        expectProblem(await caller.get(`/v1/domains/${APP}/aliases/${ids.alias}`), 404);
      });
    }
  });

  test("owners, admins and organization keys read and write every domain", async () => {
    const s = server();
    const orgKey = await s.createKey(s.owner, { name: "infra", owner: "organization" });
    for (const [who, caller] of [
      ["owner session", await s.ownerSession()],
      ["owner key", s.owner],
      ["admin", admin.api],
      ["organization key", s.as(orgKey.secret)],
    ] as const) {
      const ids = await seedIds(s, PROD, ++seq);
      for (const route of [...DOMAIN_READS, ...DOMAIN_WRITES]) {
        const res = await send(caller, route, ids);
        if (res.status < 200 || res.status > 299) throw new Error(`${who} ${route.label}: got ${res.status} ${res.text}`);
      }
    }
  });

  test("admins create and delete domains; a deleted domain is gone", async () => {
    const s = server();
    const created = ok(await admin.api.post("/v1/domains", { name: "new.example.com" }));
    expect(created.name).toBe("new.example.com");
    ok(await s.owner.get("/v1/domains/new.example.com"));
    expectProblem(await s.owner.post("/v1/domains", { name: "new.example.com" }), 409);
    ok(await admin.api.delete("/v1/domains/new.example.com"));
    expectProblem(await s.owner.get("/v1/domains/new.example.com"), 404);
  });
});

/** What a refused write must leave unchanged. */
async function snapshot(s: TestServer, ids: { domain: string; alias: string; rule: string }) {
  const read = async (path: string) => ok(await s.owner.get(path));
  return {
    domain: await read(`/v1/domains/${ids.domain}`),
    dkim: await read(`/v1/domains/${ids.domain}/dkim`),
    warming: await read(`/v1/domains/${ids.domain}/warming`),
    aliases: await read(`/v1/domains/${ids.domain}/aliases`),
    rules: await read(`/v1/domains/${ids.domain}/inbound-rules`),
  };
}
