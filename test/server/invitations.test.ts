/**
 * Invitation → accept → verify-email → active, over HTTP with the dev
 * outbox: single-use tokens, expiry and resend, grants given while invited,
 * duplicates, login and logout, and Idempotency-Key on invites.
 */
import { expectProblem, expectStatus, ok } from "../helpers/http";
import { APP, BACKENDS, OWNER_EMAIL, PROD, STAGING, TestServer, sleep, uniqueEmail, useServer } from "../helpers/server";

async function memberIds(s: TestServer): Promise<string[]> {
  return ok(await s.owner.get("/v1/team/members?limit=1000")).data.map((m: { id: string }) => m.id).sort();
}

async function memberById(s: TestServer, id: string) {
  return ok(await s.owner.get(`/v1/team/members/${id}?include=domain_access`));
}

function byDomain(grants: Array<{ domain: string; access: string }>) {
  return [...grants].sort((a, b) => a.domain.localeCompare(b.domain));
}

describe.each(BACKENDS)("invitations on %s", (backend) => {
  describe("with the default expiry", () => {
    const server = useServer(backend);

    test("invite → invited → accept → verify → active, landing in the dashboard with a working session", async () => {
      const s = server();
      const email = uniqueEmail("newbie");
      const invited = await s.invite(email, "member", [{ domain: APP, access: "read" }]);
      expect(invited).toMatchObject({ email, role: "member", status: "invited", joined_at: null });
      expect(Date.parse(invited.invited_at)).not.toBeNaN();

      const invitation = await s.lastMail(email, "invitation");
      expect(invitation).toMatchObject({ to: email, kind: "invitation", token: expect.any(String), subject: expect.any(String), text: expect.any(String) });
      expect(invitation.text).toContain(invitation.token);
      const info = ok(await s.anonymous.get(`/v1/invitations/${invitation.token}`));
      expect(JSON.stringify(info)).toContain(email);
      expect(JSON.stringify(info)).toContain("Example Inc");

      expect((await s.mail()).filter((m) => m.to === email && m.kind === "verify_email")).toHaveLength(0);
      ok(await s.anonymous.post(`/v1/invitations/${invitation.token}/accept`, { name: "New Bie", password: "a-long-password-1" }));
      expect((await memberById(s, invited.id)).status).not.toBe("active");

      const verifyMail = await s.lastMail(email, "verify_email");
      const verified = ok(await s.anonymous.post("/v1/auth/verify-email", { token: verifyMail.token }));
      expect(verified.redirect_to).toBe("/dashboard");
      expect(verified.member).toMatchObject({ id: invited.id, email, status: "active", name: "New Bie" });
      expect(JSON.stringify(verified)).not.toMatch(/onboarding|plan/i);

      const me = ok(await s.as(verified.token).get("/v1/me"));
      expect(me).toMatchObject({ id: invited.id, role: "member", credential: "session", status: "active" });
      expect(me.domain_access).toEqual([{ domain: APP, access: "read" }]);
      const record = await memberById(s, invited.id);
      expect(record).toMatchObject({ status: "active", name: "New Bie" });
      expect(Date.parse(record.joined_at)).not.toBeNaN();

      // The password chosen at sign-up logs in; a wrong one does not.
      ok(await s.anonymous.post("/v1/auth/login", { email, password: "a-long-password-1" }));
      expectProblem(await s.anonymous.post("/v1/auth/login", { email, password: "wrong-password-1" }), 401);
    });

    test("invitation and verification tokens are single use", async () => {
      const s = server();
      const email = uniqueEmail("once");
      const invited = await s.invite(email, "admin");
      const invitation = await s.lastMail(email, "invitation");
      ok(await s.anonymous.post(`/v1/invitations/${invitation.token}/accept`, { name: "Once", password: "a-long-password-1" }));
      const again = await s.anonymous.post(`/v1/invitations/${invitation.token}/accept`, { name: "Twice", password: "another-password-2" });
      expectProblem(again, expectStatus(again, [404, 409, 410]).status);
      const lookup = await s.anonymous.get(`/v1/invitations/${invitation.token}`);
      expectStatus(lookup, [404, 409, 410]);

      const verifyMail = await s.lastMail(email, "verify_email");
      ok(await s.anonymous.post("/v1/auth/verify-email", { token: verifyMail.token }));
      const reverify = await s.anonymous.post("/v1/auth/verify-email", { token: verifyMail.token });
      expectProblem(reverify, expectStatus(reverify, [404, 409, 410, 422]).status);
      expect(await memberById(s, invited.id)).toMatchObject({ status: "active", role: "admin", name: "Once" });
      // The second accept did not change the password.
      expectProblem(await s.anonymous.post("/v1/auth/login", { email, password: "another-password-2" }), 401);
    });

    test("an unknown invitation token answers 404", async () => {
      const s = server();
      expectProblem(await s.anonymous.get("/v1/invitations/no-such-token"), 404);
      expectProblem(await s.anonymous.post("/v1/invitations/no-such-token/accept", { name: "X", password: "a-long-password-1" }), 404);
    });

    test("grants set while invited apply on joining", async () => {
      const s = server();
      const email = uniqueEmail("early");
      const invited = await s.invite(email, "member", [{ domain: APP, access: "read" }]);
      await s.grant(invited.id, STAGING, "read_write");
      await s.grant(invited.id, APP, "read_write");
      expect(byDomain(ok(await s.owner.get(`/v1/team/members/${invited.id}/domain-access`)).data)).toEqual([
        { domain: APP, access: "read_write" },
        { domain: STAGING, access: "read_write" },
      ]);
      const { session } = await s.signUp(email);
      const me = ok(await s.as(session).get("/v1/me"));
      expect(byDomain(me.domain_access)).toEqual([
        { domain: APP, access: "read_write" },
        { domain: STAGING, access: "read_write" },
      ]);
      ok(await s.as(session).patch(`/v1/domains/${STAGING}`, { open_tracking: true }));
      expectProblem(await s.as(session).get(`/v1/domains/${PROD}`), 404);
    });

    test("inviting an email that is already in the team → 409, nothing new", async () => {
      const s = server();
      const email = uniqueEmail("dup");
      await s.invite(email, "member");
      const before = await memberIds(s);
      const mails = (await s.mail()).length;
      for (const candidate of [email, email.toUpperCase(), OWNER_EMAIL]) {
        expectProblem(await s.owner.post("/v1/team/members", { email: candidate, role: "member" }), 409);
      }
      expect(await memberIds(s)).toEqual(before);
      expect((await s.mail()).length).toBe(mails);
    });

    test("logout ends the session", async () => {
      const s = server();
      const session = await s.ownerSession();
      ok(await session.get("/v1/me"));
      expectStatus(await session.post("/v1/auth/logout"), [200, 204]);
      expectProblem(await session.get("/v1/me"), 401);
      ok(await s.owner.get("/v1/me"));
    });

    test("Idempotency-Key on an invite: the same answer, one member, one email", async () => {
      const s = server();
      const email = uniqueEmail("idem");
      const before = await memberIds(s);
      const body = { email, role: "member", domain_access: [{ domain: APP, access: "read" }] };
      const first = await s.owner.post("/v1/team/members", body, { idempotencyKey: `invite-${email}` });
      const second = await s.owner.post("/v1/team/members", body, { idempotencyKey: `invite-${email}` });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(await memberIds(s)).toEqual([...before, first.body.id].sort());
      expect((await s.mail()).filter((m) => m.to === email)).toHaveLength(1);
    });
  });

  describe("with a one-second expiry", () => {
    const server = useServer(backend, { invitationTtlSeconds: 1 });

    test("an expired invitation is refused and shows as expired; resend issues a working new one", async () => {
      const s = server();
      const email = uniqueEmail("late");
      const invited = await s.invite(email, "member", [{ domain: STAGING, access: "read_write" }]);
      const stale = await s.lastMail(email, "invitation");
      await sleep(1600);

      const refused = await s.anonymous.post(`/v1/invitations/${stale.token}/accept`, { name: "Late", password: "a-long-password-1" });
      expectProblem(refused, expectStatus(refused, [404, 409, 410]).status);
      expect((await memberById(s, invited.id)).status).toBe("expired");
      expect((await s.mail()).filter((m) => m.to === email && m.kind === "verify_email")).toHaveLength(0);

      ok(await s.owner.post(`/v1/team/members/${invited.id}/resend-invitation`));
      const fresh = await s.lastMail(email, "invitation");
      expect(fresh.token).not.toBe(stale.token);
      expect((await memberById(s, invited.id)).status).toBe("invited");
      // The new invitation lives for the configured second too: use it at once.
      ok(await s.anonymous.post(`/v1/invitations/${fresh.token}/accept`, { name: "Late", password: "a-long-password-1" }));
      const verified = ok(await s.anonymous.post("/v1/auth/verify-email", { token: (await s.lastMail(email, "verify_email")).token }));
      expect(verified.redirect_to).toBe("/dashboard");
      expect((await memberById(s, invited.id)).status).toBe("active");
      expect(ok(await s.as(verified.token).get("/v1/me")).domain_access).toEqual([{ domain: STAGING, access: "read_write" }]);

      const reuse = await s.anonymous.post(`/v1/invitations/${stale.token}/accept`, { name: "Late", password: "a-long-password-1" });
      expectStatus(reuse, [404, 409, 410]);
    });
  });
});
