/**
 * Sign-up and login from the attacker's side (issue 9, rules 7 and 8):
 * - a leaked invitation link alone never yields a working password: the
 *   password chosen at verify-email (by whoever proves the mailbox) wins;
 * - used and unknown tokens answer the same 404 bytes (no "already used"
 *   oracle); accepting again after a resend works;
 * - unauthenticated routes are limited per client address whatever
 *   Authorization says; tokens that do not authenticate spend that budget
 *   too; failed logins are limited per target email (429 + Retry-After);
 * - the invitation token is checked before any password is hashed.
 * Refused requests write nothing (snapshot of the organization, audit
 * log included, before and after).
 */
import { randomBytes } from "node:crypto";
import { HttpResponse, expectProblem, ok } from "../helpers/http";
import { BACKENDS, OWNER_EMAIL, OWNER_PASSWORD, TestServer, uniqueEmail, useServer } from "../helpers/server";
import { refusedWithoutWrites, snapshot } from "../helpers/snapshot";

const junkBearer = () => `ps_${randomBytes(24).toString("base64url")}`;

/** A request with a bearer token on a route that needs none. */
function withBearer(s: TestServer, token: string, method: "GET" | "POST", path: string, body?: unknown): Promise<HttpResponse> {
  return s.as(token).request(method, path, body === undefined ? {} : { body });
}

function expectRateLimited(res: HttpResponse, maxWait: number): void {
  expectProblem(res, 429);
  const wait = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(wait)).toBe(true);
  expect(wait).toBeGreaterThanOrEqual(1);
  expect(wait).toBeLessThanOrEqual(maxWait);
}

async function login(s: TestServer, email: string, password: string): Promise<HttpResponse> {
  return s.anonymous.post("/v1/auth/login", { email, password });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(send: () => Promise<HttpResponse>, status: number): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await send();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  expectProblem(res, status);
  return ms;
}

describe.each(BACKENDS)("invitation security on %s", (backend) => {
  describe("the invitation link alone is not an account", () => {
    const server = useServer(backend);

    test("the link's holder accepts with P, the invitee verifies with Q: P never logs in, Q does", async () => {
      const s = server();
      const email = uniqueEmail("victim");
      const invited = await s.invite(email, "member");
      const leaked = (await s.lastMail(email, "invitation")).token;

      // The attacker holds the leaked link (not the mailbox) and accepts with their own password.
      const attackerPassword = "attacker-chose-this-1";
      ok(await s.anonymous.post(`/v1/invitations/${leaked}/accept`, { name: "Not The Invitee", password: attackerPassword }));
      expectProblem(await login(s, email, attackerPassword), 401);

      // The invitee proves the mailbox and chooses the password there, as the dashboard always asks.
      const verifyToken = (await s.lastMail(email, "verify_email")).token;
      const inviteePassword = "invitee-chose-this-2";
      const verified = ok(await s.anonymous.post("/v1/auth/verify-email", { token: verifyToken, password: inviteePassword }));
      expect(verified.redirect_to).toBe("/dashboard");
      expect(verified.member.id).toBe(invited.id);
      expect(ok(await s.as(verified.token).get("/v1/me")).id).toBe(invited.id);

      expectProblem(await login(s, email, attackerPassword), 401);
      ok(await login(s, email, inviteePassword));
    });

    test("without a password at verify-email the accept step's password works (the contract's normal flow)", async () => {
      const s = server();
      const email = uniqueEmail("plain");
      await s.invite(email, "member");
      ok(await s.anonymous.post(`/v1/invitations/${(await s.lastMail(email, "invitation")).token}/accept`, { name: "Plain", password: "accepted-password-1" }));
      ok(await s.anonymous.post("/v1/auth/verify-email", { token: (await s.lastMail(email, "verify_email")).token }));
      ok(await login(s, email, "accepted-password-1"));
    });

    test("a bad password at verify-email is a 422 that uses nothing: the link still works afterwards", async () => {
      const s = server();
      const email = uniqueEmail("short");
      await s.invite(email, "member");
      ok(await s.anonymous.post(`/v1/invitations/${(await s.lastMail(email, "invitation")).token}/accept`, { name: "Short", password: "accepted-password-1" }));
      const token = (await s.lastMail(email, "verify_email")).token;
      expectProblem(await refusedWithoutWrites(s, () => s.anonymous.post("/v1/auth/verify-email", { token, password: "short" })), 422, "/password");
      ok(await s.anonymous.post("/v1/auth/verify-email", { token, password: "long-enough-now-3" }));
      ok(await login(s, email, "long-enough-now-3"));
      expectProblem(await login(s, email, "accepted-password-1"), 401);
    });

    test("after a resend, accepting again works; the first acceptance's links are dead", async () => {
      const s = server();
      const email = uniqueEmail("again");
      const invited = await s.invite(email, "member");
      ok(await s.anonymous.post(`/v1/invitations/${(await s.lastMail(email, "invitation")).token}/accept`, { name: "First", password: "first-password-11" }));
      const staleVerify = (await s.lastMail(email, "verify_email")).token;

      ok(await s.owner.post(`/v1/team/members/${invited.id}/resend-invitation`));
      const unknownVerify = await s.anonymous.post("/v1/auth/verify-email", { token: `psv_${randomBytes(32).toString("base64url")}` });
      expectProblem(unknownVerify, 404);
      const stale = await refusedWithoutWrites(s, () => s.anonymous.post("/v1/auth/verify-email", { token: staleVerify }));
      expect([stale.status, stale.text]).toEqual([404, unknownVerify.text]);

      const fresh = (await s.lastMail(email, "invitation")).token;
      ok(await s.anonymous.post(`/v1/invitations/${fresh}/accept`, { name: "Second", password: "second-password-22" }));
      const verified = ok(await s.anonymous.post("/v1/auth/verify-email", { token: (await s.lastMail(email, "verify_email")).token }));
      expect(verified.member).toEqual(expect.objectContaining({ id: invited.id, name: "Second", status: "active" }));
      ok(await login(s, email, "second-password-22"));
      expectProblem(await login(s, email, "first-password-11"), 401);
    });

    test("used and unknown tokens answer the same 404 bytes everywhere (no 'already used' oracle)", async () => {
      const s = server();
      const email = uniqueEmail("used");
      await s.invite(email, "member");
      const used = (await s.lastMail(email, "invitation")).token;
      ok(await s.anonymous.post(`/v1/invitations/${used}/accept`, { name: "Used", password: "used-password-123" }));
      const usedVerify = (await s.lastMail(email, "verify_email")).token;
      ok(await s.anonymous.post("/v1/auth/verify-email", { token: usedVerify }));
      const unknown = `psi_${randomBytes(32).toString("base64url")}`;
      const body = { name: "Again", password: "again-password-123" };

      const pairs: Array<[string, () => Promise<HttpResponse>, () => Promise<HttpResponse>]> = [
        ["GET invitation", () => s.anonymous.get(`/v1/invitations/${used}`), () => s.anonymous.get(`/v1/invitations/${unknown}`)],
        ["GET invitation, bogus shape", () => s.anonymous.get(`/v1/invitations/${used}`), () => s.anonymous.get("/v1/invitations/psi_%00%22x")],
        ["accept", () => s.anonymous.post(`/v1/invitations/${used}/accept`, body), () => s.anonymous.post(`/v1/invitations/${unknown}/accept`, body)],
        ["accept, bogus shape", () => s.anonymous.post(`/v1/invitations/${used}/accept`, body), () => s.anonymous.post(`/v1/invitations/${"x".repeat(500)}/accept`, body)],
        ["verify-email", () => s.anonymous.post("/v1/auth/verify-email", { token: usedVerify }), () => s.anonymous.post("/v1/auth/verify-email", { token: `psv_${randomBytes(32).toString("base64url")}` })],
        [
          "verify-email with a password",
          () => s.anonymous.post("/v1/auth/verify-email", { token: usedVerify, password: "hijack-password-1" }),
          () => s.anonymous.post("/v1/auth/verify-email", { token: "psv_unknown", password: "hijack-password-1" }),
        ],
      ];
      for (const [label, sendUsed, sendUnknown] of pairs) {
        const a = await refusedWithoutWrites(s, sendUsed);
        const b = await refusedWithoutWrites(s, sendUnknown);
        expectProblem(a, 404);
        if (a.text !== b.text || b.status !== 404) throw new Error(`${label}: used ${a.status} ${a.text} vs unknown ${b.status} ${b.text}`);
      }
      // The used verification link did not set the hijacker's password.
      ok(await login(s, email, "used-password-123"));
      expectProblem(await login(s, email, "hijack-password-1"), 401);
    });

    test("the token is checked before any password is hashed: a wrong link answers at once", async () => {
      const s = server();
      const hashing: number[] = [];
      const wrongLink: number[] = [];
      const wrongVerify: number[] = [];
      for (let i = 0; i < 9; i++) {
        // A failed login for an existing account always runs scrypt once.
        hashing.push(await timed(() => login(s, OWNER_EMAIL, `wrong-password-${i}`), 401));
        wrongLink.push(await timed(() => s.anonymous.post(`/v1/invitations/psi_${randomBytes(32).toString("base64url")}/accept`, { name: "X", password: "some-long-password" }), 404));
        wrongVerify.push(await timed(() => s.anonymous.post("/v1/auth/verify-email", { token: `psv_${randomBytes(32).toString("base64url")}`, password: "some-long-password" }), 404));
      }
      // Generous margins: a password hash is tens of milliseconds, a token lookup a few.
      expect(median(wrongLink)).toBeLessThan(median(hashing) / 2);
      expect(median(wrongVerify)).toBeLessThan(median(hashing) / 2);
    });
  });

  describe("unauthenticated routes are limited per client address whatever Authorization says", () => {
    const MAX = 6;
    const server = useServer(backend, { rateLimit: { max: MAX, windowMs: 60_000 } });

    test("a fresh junk bearer on every request does not buy a fresh bucket", async () => {
      const s = server();
      // Only the owner's key reads state here: its bucket is its own, and the dev outbox is rate limited by address too.
      const before = ok(await s.owner.get("/v1/audit-events?limit=1000"));
      for (let i = 0; i < MAX; i++) {
        expectProblem(await withBearer(s, junkBearer(), "POST", "/v1/auth/login", { email: OWNER_EMAIL, password: `guess-${i}-password` }), 401);
      }
      expectRateLimited(await withBearer(s, junkBearer(), "POST", "/v1/auth/login", { email: OWNER_EMAIL, password: OWNER_PASSWORD }), 60);
      expectRateLimited(await withBearer(s, junkBearer(), "GET", `/v1/invitations/psi_${randomBytes(32).toString("base64url")}`), 60);
      expectRateLimited(await withBearer(s, junkBearer(), "POST", `/v1/invitations/psi_${randomBytes(32).toString("base64url")}/accept`, { name: "X", password: "some-long-password" }), 60);
      expectRateLimited(await withBearer(s, junkBearer(), "POST", "/v1/auth/verify-email", { token: "psv_x" }), 60);
      expectRateLimited(await s.anonymous.post("/v1/auth/login", { email: OWNER_EMAIL, password: OWNER_PASSWORD }), 60);
      // A real credential keeps its own bucket.
      ok(await s.owner.get("/v1/me"));
      expect(ok(await s.owner.get("/v1/audit-events?limit=1000"))).toEqual(before);
    });
  });

  describe("tokens that do not authenticate spend their address's budget on authenticated routes too", () => {
    const MAX = 5;
    const server = useServer(backend, { rateLimit: { max: MAX, windowMs: 60_000 } });

    test("guessing tokens is limited like any unauthenticated request", async () => {
      const s = server();
      for (let i = 0; i < MAX; i++) expectProblem(await s.as(junkBearer()).get("/v1/me"), 401);
      expectRateLimited(await s.as(junkBearer()).get("/v1/me"), 60);
      expectRateLimited(await s.as(`pss_${randomBytes(32).toString("base64url")}`).post("/v1/domains", { name: "guess.example.com" }), 60);
      ok(await s.owner.get("/v1/me"));
      expect(ok(await s.owner.get("/v1/domains")).data.map((d: { name: string }) => d.name)).not.toContain("guess.example.com");
    });
  });

  describe("failed logins are limited per target email", () => {
    const server = useServer(backend, { loginFailureLimit: { max: 3, windowMs: 60_000 } });

    test("after the limit the email answers 429 with Retry-After, even with the right password; other emails are unaffected", async () => {
      const s = server();
      const colleague = await s.onboard(uniqueEmail("colleague"), "member");
      const before = await snapshot(s);
      for (let i = 0; i < 3; i++) expectProblem(await login(s, OWNER_EMAIL, `wrong-password-${i}`), 401);
      expectRateLimited(await login(s, OWNER_EMAIL, OWNER_PASSWORD), 60);
      // The email is normalized: its case does not open another bucket.
      expectRateLimited(await login(s, OWNER_EMAIL.toUpperCase(), OWNER_PASSWORD), 60);
      expect(await snapshot(s)).toEqual(before);
      ok(await login(s, colleague.email, colleague.password));
      ok(await s.owner.get("/v1/me"));
    });

    test("an unknown email is limited the same way (no oracle for which emails exist)", async () => {
      const s = server();
      const nobody = uniqueEmail("nobody");
      for (let i = 0; i < 3; i++) expectProblem(await login(s, nobody, `wrong-password-${i}`), 401);
      expectRateLimited(await login(s, nobody, "wrong-password-x"), 60);
    });
  });

  describe("by default", () => {
    const server = useServer(backend);

    test("ten failed logins for one email, then 429 with Retry-After (15-minute window)", async () => {
      const s = server();
      for (let i = 0; i < 10; i++) expectProblem(await login(s, OWNER_EMAIL, `wrong-password-${i}`), 401);
      expectRateLimited(await login(s, OWNER_EMAIL, OWNER_PASSWORD), 15 * 60);
    });
  });
});
