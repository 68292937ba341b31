/**
 * Two server replicas on one PostgreSQL, the way the service scales past
 * one machine: requests that alternate between them see one truth. No
 * per-process state may make a replica wrong: credentials revoked or
 * demoted on one replica are refused by the other at once, an
 * Idempotency-Key used on one is replayed by the other, the rate limit is
 * one budget across both, and reads never serve a stale answer.
 */
import { APP, uniqueEmail, useServer } from "../helpers/server";
import { Caller, expectProblem, ok } from "../helpers/http";

// Replicas need a shared database: PostgreSQL, which CI provides (.ci/run sets POSTSCALE_TEST_DATABASE_URL).
const withPostgres = process.env.POSTSCALE_TEST_DATABASE_URL ? describe : describe.skip;

withPostgres("two replicas on postgresql (needs POSTSCALE_TEST_DATABASE_URL)", () => {
  const server = useServer("postgresql", { rateLimit: { max: 40, windowMs: 60_000 } });
  let b: Awaited<ReturnType<ReturnType<typeof server>["replica"]>>;
  let a: (token: string | undefined) => Caller;

  beforeAll(async () => {
    b = await server().replica();
    a = (token) => server().as(token);
  });
  afterAll(async () => b?.close());

  test("a team built with requests alternating between replicas is the same on both", async () => {
    const s = server();
    const email = uniqueEmail("alternating");
    const member = ok(await a(s.ownerKey).post("/v1/team/members", { email, role: "member" }));
    ok(await b.as(s.ownerKey).put(`/v1/team/members/${member.id}/domain-access/${APP}`, { access: "read_write" }));
    const onA = ok(await a(s.ownerKey).get(`/v1/team/members/${member.id}`));
    const onB = ok(await b.as(s.ownerKey).get(`/v1/team/members/${member.id}`));
    expect(onA).toEqual(onB);
    expect(onA.domain_access).toEqual([{ domain: APP, access: "read_write" }]);
  });

  test("a key revoked on one replica is refused by the other at once", async () => {
    const s = server();
    const key = ok(await a(s.ownerKey).post("/v1/api-keys", { name: uniqueEmail("replica-key"), owner: "organization" }));
    ok(await b.as(key.secret).get("/v1/domains"));
    ok(await a(key.secret).get("/v1/domains"));
    expect((await a(s.ownerKey).delete(`/v1/api-keys/${key.id}`)).status).toBe(204);
    expectProblem(await b.as(key.secret).get("/v1/domains"), 401);
    expectProblem(await a(key.secret).get("/v1/domains"), 401);
  });

  test("an admin demoted on one replica cannot write through the other", async () => {
    const s = server();
    const admin = await s.onboard(uniqueEmail("demoted"), "admin");
    ok(await b.as(admin.session).post("/v1/team/members", { email: uniqueEmail("before"), role: "member" }));
    ok(await a(s.ownerKey).patch(`/v1/team/members/${admin.id}`, { role: "member" }));
    expectProblem(await b.as(admin.session).post("/v1/team/members", { email: uniqueEmail("after"), role: "member" }), 403);
  });

  test("an Idempotency-Key used on one replica is replayed by the other", async () => {
    const s = server();
    const body = { name: uniqueEmail("idem-replica"), owner: "organization" };
    const first = await a(s.ownerKey).post("/v1/api-keys", body, { idempotencyKey: body.name });
    expect(first.status).toBe(201);
    const second = await b.as(s.ownerKey).post("/v1/api-keys", body, { idempotencyKey: body.name });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
  });

  test("the rate limit is one budget across replicas", async () => {
    const s = server();
    const key = ok(await a(s.ownerKey).post("/v1/api-keys", { name: uniqueEmail("budget"), owner: "organization" }));
    const statuses: number[] = [];
    for (let i = 0; i < 44; i++) statuses.push((await (i % 2 === 0 ? a(key.secret) : b.as(key.secret)).get("/v1/domains")).status);
    expect(statuses.slice(0, 40).every((st) => st === 200)).toBe(true);
    expect(statuses.slice(40)).toEqual([429, 429, 429, 429]);
  });
});
