/**
 * The client against the real server (PGlite, dev outbox): the sign-up flow,
 * grants, keys, listing with include, idempotent POSTs, typed errors, and
 * backoff through the server's real rate limiter.
 */
import { PostscaleClient, type RequestInfo } from "../../src/api";
import { PostscaleError } from "../../src/errors";
import { APP, ORGANIZATION, OWNER_EMAIL, PROD, STAGING, TestServer } from "../helpers/server";

let server: TestServer;
let owner: PostscaleClient;
const attempts: RequestInfo[] = [];

beforeAll(async () => {
  server = await TestServer.start("pglite");
  owner = new PostscaleClient({ endpoint: server.url, apiKey: server.ownerKey, onRequest: (info) => attempts.push(info) });
});

afterAll(async () => {
  await owner?.close();
  await server?.stop();
});

async function rejection(promise: Promise<unknown>): Promise<PostscaleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PostscaleError);
  return error as PostscaleError;
}

/** Invites, accepts and verifies through the client; returns the member id and a client on their session. */
async function onboard(email: string, grants: Array<{ domain: string; access: "read" | "read_write" }>) {
  const invited = await owner.inviteMember({ email, role: "member", domain_access: grants });
  expect(invited.status).toBe("invited");
  const invitation = (await owner.devMail()).filter((m) => m.to === email && m.kind === "invitation").pop();
  expect(invitation).toMatchObject({ to: email, kind: "invitation", token: expect.any(String) });
  // Invitation and sign-up calls never send the client's credential.
  await owner.acceptInvitation(invitation!.token, { name: "Ada Lovelace", password: "correct-horse-battery" });
  const verification = (await owner.devMail()).filter((m) => m.to === email && m.kind === "verify_email").pop();
  const verified = await owner.verifyEmail(verification!.token);
  expect(verified.redirect_to).toBe("/dashboard");
  expect(verified.member.status).toBe("active");
  return { id: invited.id, session: owner.withToken(verified.token) };
}

describe("PostscaleClient against the real server", () => {
  it("reads the organization and the caller", async () => {
    await expect(owner.getOrganization()).resolves.toMatchObject({ name: ORGANIZATION });
    const me = await owner.me();
    expect(me.role).toBe("owner");
  });

  it("invites a member who signs up, then sees only granted domains", async () => {
    const ada = await onboard("ada@example.com", [{ domain: APP, access: "read_write" }]);
    expect((await ada.session.listDomains()).map((d) => d.name)).toEqual([APP]);
    const hidden = await rejection(ada.session.getDomain(STAGING));
    expect(hidden.code).toBe("POSTSCALE_E_NOT_FOUND");
    expect(hidden.status).toBe(404);
    expect(hidden.problem?.status).toBe(404);

    await expect(owner.setDomainAccess(ada.id, STAGING, "read")).resolves.toEqual({ domain: STAGING, access: "read" });
    expect((await owner.listDomainAccess(ada.id)).map((g) => `${g.domain}:${g.access}`).sort()).toEqual([`${APP}:read_write`, `${STAGING}:read`]);
    await expect(ada.session.getDomain(STAGING)).resolves.toMatchObject({ name: STAGING });

    const forbidden = await rejection(ada.session.getBilling());
    expect(forbidden.code).toBe("POSTSCALE_E_FORBIDDEN");
  });

  it("creates a member key scoped to the member's read/write domains, shown once", async () => {
    const grace = await onboard("grace@example.com", [
      { domain: APP, access: "read_write" },
      { domain: PROD, access: "read" },
    ]);
    const key = await grace.session.createApiKey({ name: "grace-ci", owner: "member" });
    expect(key.secret).toMatch(/^ps_/);
    expect(key.scope).toBe("domains");
    expect(key.domains).toEqual([APP]);
    const listed = await owner.listApiKeys();
    const record = listed.find((k) => k.id === key.id);
    expect(record).toMatchObject({ id: key.id, name: "grace-ci", prefix: key.prefix, scope: "domains", domains: [APP] });
    expect(record).not.toHaveProperty("secret");
    const viaKey = owner.withToken(key.secret);
    expect((await viaKey.listDomains()).map((d) => d.name)).toEqual([APP]);
  });

  it("lists members with their domain access in one request per page", async () => {
    const before = attempts.length;
    const members = await owner.listMembers({ includeDomainAccess: true });
    expect(attempts.length - before).toBe(1);
    const ada = members.find((m) => m.email === "ada@example.com");
    expect(ada?.domain_access?.map((g) => g.domain).sort()).toEqual([APP, STAGING]);
    expect(members.filter((m) => m.role === "owner").map((m) => m.email)).toEqual([OWNER_EMAIL]);
  });

  it("follows cursors across pages", async () => {
    const small = await owner.listAll<{ id: string }>("/v1/team/members", { limit: 1 });
    const all = await owner.listMembers();
    expect(small.map((m) => m.id)).toEqual(all.map((m) => m.id));
    expect(all.length).toBeGreaterThanOrEqual(3);
  });

  it("repeating a POST with the same Idempotency-Key creates nothing new", async () => {
    const input = { email: "linus@example.com", role: "member" as const };
    const first = await owner.inviteMember(input, { idempotencyKey: "invite-linus" });
    const second = await owner.inviteMember(input, { idempotencyKey: "invite-linus" });
    expect(second.id).toBe(first.id);
    expect((await owner.listMembers()).filter((m) => m.email === "linus@example.com")).toHaveLength(1);
  });

  it("names the invalid field of a 422", async () => {
    const error = await rejection(owner.setDomainAccess("nobody", APP, "write" as "read"));
    expect(error.status).toBe(422);
    expect(error.code).toBe("POSTSCALE_E_VALIDATION");
    expect(error.errors.map((e) => e.path).join(" ")).toContain("access");
  });

  it("removes a member and their grants", async () => {
    const linus = (await owner.listMembers()).find((m) => m.email === "linus@example.com")!;
    await expect(owner.removeMember(linus.id)).resolves.toBeUndefined();
    expect((await rejection(owner.getMember(linus.id))).code).toBe("POSTSCALE_E_NOT_FOUND");
  });
});

describe("PostscaleClient against the real rate limiter", () => {
  let limited: TestServer;

  beforeAll(async () => {
    limited = await TestServer.start("pglite", { rateLimit: { max: 3, windowMs: 1000 } });
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it("backs off on 429 with Retry-After and completes every request", async () => {
    const seen: RequestInfo[] = [];
    const client = new PostscaleClient({ endpoint: limited.url, apiKey: limited.ownerKey, coalesceReads: false, onRequest: (i) => seen.push(i) });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => client.getOrganization()));
      expect(results.every((o) => o.name === ORGANIZATION)).toBe(true);
      expect(seen.filter((i) => i.status === 429).length).toBeGreaterThanOrEqual(3);
      expect(seen.filter((i) => i.status === 200)).toHaveLength(6);
    } finally {
      await client.close();
    }
  });
});
