import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../../src/server";
import { bootstrap } from "../../../src/server/bootstrap";
import type { Database } from "../../../src/server/db/adapter";
import { openDatabase } from "../../../src/server/db/open";

// Real HTTP on port 0: app.inject() needs light-my-request, whose `cookie`
// dependency is ESM-only and cannot be required inside jest on Node 20.
describe("app internals over HTTP", () => {
  let dir: string;
  let db: Database;
  let app: FastifyInstance;
  let key: string;
  let base: string;

  type Res = { statusCode: number; headers: Record<string, string>; json(): any };
  async function request(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Res> {
    const res = await fetch(base + url, { method, body, headers });
    const text = await res.text();
    return { statusCode: res.status, headers: Object.fromEntries(res.headers), json: () => JSON.parse(text) };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "postscale-app-"));
    db = await openDatabase({ dataDir: dir });
    key = (await bootstrap(db, { organization: "Acme", ownerEmail: "owner@acme.test", ownerPassword: "password123", domains: ["acme.test"] }))!;
    app = buildApp({ db, config: { dev: true, invitationTtlSeconds: 3600, rateLimit: { max: 50, windowMs: 60_000 } } });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  }, 120_000);

  afterAll(async () => {
    await app.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    request("POST", url, JSON.stringify(body), { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers });

  it("bootstraps only an empty database", async () => {
    await expect(bootstrap(db, { organization: "Other", ownerEmail: "x@other.test", ownerPassword: "password123", domains: [] })).resolves.toBeUndefined();
  });

  it("replays an Idempotency-Key with the same body and creates nothing new", async () => {
    const first = await post("/v1/domains", { name: "one.acme.test" }, { "idempotency-key": "k1" });
    const second = await post("/v1/domains", { name: "one.acme.test" }, { "idempotency-key": "k1" });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers["idempotent-replayed"]).toBe("true");
    const rows = await db.query("SELECT id FROM domains WHERE name = 'one.acme.test'");
    expect(rows).toHaveLength(1);
  });

  it("refuses the same Idempotency-Key with a different body", async () => {
    const res = await post("/v1/domains", { name: "two.acme.test" }, { "idempotency-key": "k1" });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe("/headers/idempotency-key");
    expect(await db.query("SELECT id FROM domains WHERE name = 'two.acme.test'")).toHaveLength(0);
  });

  it("maps schema failures to 422 problems naming each field, and writes nothing", async () => {
    const res = await post("/v1/team/members", { email: "not-an-email", role: "member", extra: true, domain_access: [{ domain: "acme.test", access: "admin" }] });
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const paths = res.json().errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(["/domain_access/0/access", "/email", "/extra"]);
    expect(await db.query("SELECT id FROM members WHERE email = 'not-an-email'")).toHaveLength(0);
  });

  it("answers malformed JSON with a 422 problem", async () => {
    const res = await request("POST", "/v1/domains", "{nope", { authorization: `Bearer ${key}`, "content-type": "application/json" });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("POSTSCALE_E_VALIDATION");
  });

  it("rate limits per credential with Retry-After, never /healthz", async () => {
    let last = await request("GET", "/v1/organization", undefined, { authorization: `Bearer ${key}` });
    for (let i = 0; i < 60 && last.statusCode !== 429; i++) {
      last = await request("GET", "/v1/organization", undefined, { authorization: `Bearer ${key}` });
    }
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers["retry-after"])).toBeGreaterThan(0);
    expect(last.json().code).toBe("POSTSCALE_E_RATE_LIMITED");
    expect((await request("GET", "/healthz")).statusCode).toBe(200);
  });
});
