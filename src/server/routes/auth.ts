import type { FastifyInstance } from "fastify";
import { normalizeEmail } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf, type Services } from "../context";
import { type Queryable, sqlState } from "../db/adapter";
import { HttpProblem, notFound } from "../problem";
import { DEFAULT_LOGIN_FAILURE_LIMIT, createRateLimiter, tooManyRequests } from "../rate-limit";
import { MEMBER_COLUMNS, MemberRow, iso, toMember } from "../records";
import { emailSchema, invitationParams, memberSchema, nameSchema, noContent, object, record, responses, tokenSchema } from "../schemas";
import { SESSION_PREFIX, hashPassword, newId, newSecret, sha256, verifyPassword } from "../security";

const SESSION_TTL_SECONDS = 30 * 24 * 3600;
const passwordSchema = { type: "string", minLength: 8, maxLength: 200 } as const;

interface TokenRow extends MemberRow {
  kind: "invitation" | "verify_email";
  token_expires_at: Date;
  used_at: Date | null;
  org_name: string;
}

/**
 * A one-time token (locked for this transaction when `lock`). Unknown and
 * already used tokens answer the same 404 body (no "already used" oracle);
 * expired ones are 410. Routes call it once before hashing any password, so
 * a wrong link costs no scrypt, and again under the lock to use it.
 */
async function useToken(q: Queryable, token: string, kind: TokenRow["kind"], lock: boolean): Promise<TokenRow> {
  const [row] = await q.query<TokenRow>(
    `SELECT t.kind, t.expires_at AS token_expires_at, t.used_at, o.name AS org_name, ${MEMBER_COLUMNS}
     FROM tokens t JOIN members m ON m.id = t.member_id JOIN organizations o ON o.id = m.org_id
     WHERE t.token_hash = $1 AND t.kind = $2${lock ? " FOR UPDATE OF t" : ""}`,
    [sha256(token), kind],
  );
  const what = kind === "invitation" ? "Invitation" : "Email verification link";
  if (!row || row.used_at) throw notFound(what);
  if (new Date(row.token_expires_at).getTime() <= Date.now()) {
    throw new HttpProblem(410, `${what} has expired; ask an admin to resend the invitation.`);
  }
  return row;
}

/** Creates a login session and returns its bearer token (only its hash is stored). */
async function createSession(q: Queryable, member: { id: string; org_id: string }): Promise<{ token: string; expires_at: string }> {
  const token = newSecret(SESSION_PREFIX);
  const [row] = await q.query<{ expires_at: Date }>(
    "INSERT INTO sessions (id, org_id, member_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at",
    [newId("ses"), member.org_id, member.id, sha256(token), SESSION_TTL_SECONDS],
  );
  return { token, expires_at: iso(row.expires_at)! };
}

const invitationSchema = record({
  email: { type: "string" },
  role: { type: "string" },
  organization: record({ id: { type: "string" }, name: { type: "string" } }),
  invited_by: { type: ["string", "null"] },
  expires_at: { type: "string", format: "date-time" },
});

export function registerAuthRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;
  const tokenParams = invitationParams;
  const failureLimit = services.deps.config.loginFailureLimit ?? DEFAULT_LOGIN_FAILURE_LIMIT;
  // Failed logins per target email, across all client addresses: password guessing against one account is slow whatever its source.
  const loginFailures = failureLimit ? createRateLimiter(db, failureLimit) : null;

  app.get<{ Params: { token: string } }>(
    "/v1/invitations/:token",
    { config: { auth: "none" }, schema: { summary: "Who invited you to what (404 unknown or used, 410 expired)", security: [], params: tokenParams, response: responses({ 200: invitationSchema }) } },
    async (request) => {
      const row = await useToken(db, request.params.token, "invitation", false);
      const [inviter] = await db.query<{ email: string }>("SELECT i.email FROM members m JOIN members i ON i.id = m.invited_by WHERE m.id = $1", [row.id]);
      return { email: row.email, role: row.role, organization: { id: row.org_id, name: row.org_name }, invited_by: inviter?.email ?? null, expires_at: iso(row.token_expires_at)! };
    },
  );

  app.post<{ Params: { token: string }; Body: { name: string; password: string } }>(
    "/v1/invitations/:token/accept",
    {
      config: { auth: "none" },
      schema: {
        summary:
          "Accept an invitation: sets name and a provisional password, sends a verification email. The link alone is not an account: a password given at verify-email (the dashboard always asks for one there) replaces this one.",
        security: [],
        params: tokenParams,
        body: object({ name: nameSchema, password: passwordSchema }, ["name", "password"]),
        response: responses({ 200: record({ member: memberSchema, verification_sent_to: { type: "string" } }) }),
      },
    },
    async (request) => {
      // The token first: an unknown, used or expired link never costs a password hash.
      await useToken(db, request.params.token, "invitation", false);
      const passwordHash = await hashPassword(request.body.password);
      const { member, send } = await db.transaction(async (tx) => {
        const row = await useToken(tx, request.params.token, "invitation", true);
        await tx.query("UPDATE tokens SET used_at = now() WHERE token_hash = $1", [sha256(request.params.token)]);
        const [updated] = await tx.query<MemberRow>(`UPDATE members m SET name = $2, password_hash = $3, accepted_at = now() WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [
          row.id,
          request.body.name.trim(),
          passwordHash,
        ]);
        const verify = newSecret("psv_");
        await tx.query("INSERT INTO tokens (token_hash, kind, member_id, expires_at) VALUES ($1, 'verify_email', $2, now() + make_interval(secs => $3))", [
          sha256(verify),
          row.id,
          services.deps.config.invitationTtlSeconds,
        ]);
        await recordAudit(tx, { orgId: row.org_id, memberId: row.id, actor: row.email, credential: "invitation_token" }, "invitation.accept", `member:${row.id}`, null, { name: updated.name });
        const send = () =>
          services.deps.outbox.send({
            to: row.email,
            subject: `Verify your email to join ${row.org_name} on Postscale`,
            text: `Confirm ${row.email} to finish joining ${row.org_name}: https://app.postscale.dev/verify-email?token=${verify}`,
            kind: "verify_email",
            token: verify,
          });
        return { member: toMember(updated), send };
      });
      send();
      return { member, verification_sent_to: member.email };
    },
  );

  app.post<{ Body: { token: string; password?: string } }>(
    "/v1/auth/verify-email",
    {
      config: { auth: "none" },
      schema: {
        summary:
          "Verify the email: the membership becomes active; returns a session and where to land. `password`, when given, becomes the account's password: it is chosen by whoever proves the mailbox, so a leaked invitation link alone never yields a working password. The dashboard always asks for it here.",
        security: [],
        body: object(
          {
            token: tokenSchema,
            password: { ...passwordSchema, description: "The account's password from now on (replaces the one given when accepting). The dashboard always sends it." },
          },
          ["token"],
        ),
        response: responses({ 200: record({ redirect_to: { type: "string" }, token: { type: "string" }, expires_at: { type: "string", format: "date-time" }, member: memberSchema }) }),
      },
    },
    async (request) => {
      const { password } = request.body;
      let passwordHash: string | null = null;
      if (password !== undefined) {
        await useToken(db, request.body.token, "verify_email", false);
        passwordHash = await hashPassword(password);
      }
      return db.transaction(async (tx) => {
        const row = await useToken(tx, request.body.token, "verify_email", true);
        await tx.query("UPDATE tokens SET used_at = now() WHERE token_hash = $1", [sha256(request.body.token)]);
        const [member] = await tx.query<MemberRow>(`UPDATE members m SET joined_at = now(), password_hash = COALESCE($2, m.password_hash) WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [
          row.id,
          passwordHash,
        ]);
        const [grants] = await tx.query<{ grants: Record<string, "read" | "read_write"> | null }>(
          "SELECT json_object_agg(d.name, g.access) AS grants FROM grants g JOIN domains d ON d.id = g.domain_id WHERE g.member_id = $1",
          [row.id],
        );
        const session = await createSession(tx, member);
        const record = toMember(member, grants?.grants ?? {});
        await recordAudit(tx, { orgId: row.org_id, memberId: row.id, actor: row.email, credential: "verify_email_token" }, "team.member.join", `member:${row.id}`, { status: "invited" }, {
          status: record.status,
          password: passwordHash ? "set at verification" : "set at acceptance",
        });
        // Invited users land in the dashboard: their organization and plan already exist.
        return { redirect_to: "/dashboard", token: session.token, expires_at: session.expires_at, member: record };
      });
    },
  );

  app.post<{ Body: { email: string; password: string } }>(
    "/v1/auth/login",
    {
      config: { auth: "none" },
      schema: {
        summary:
          "Log in with email and password (active members only); returns a session token. Failed logins are limited per email whatever the client address (10 per 15 minutes by default): then 429 with Retry-After.",
        security: [],
        body: object({ email: emailSchema, password: { type: "string", minLength: 1, maxLength: 200 } }, ["email", "password"]),
        response: responses({ 200: record({ token: { type: "string" }, expires_at: { type: "string", format: "date-time" } }) }),
      },
    },
    async (request) => {
      const email = normalizeEmail(request.body.email);
      const failureKey = `login:${email}`;
      const wait = (await loginFailures?.wait(failureKey)) ?? 0;
      if (wait > 0) throw tooManyRequests(`Too many failed logins for this email.`, wait);
      const candidates = await db.query<{ id: string; org_id: string; password_hash: string | null }>(
        "SELECT id, org_id, password_hash FROM members WHERE email = $1 AND joined_at IS NOT NULL ORDER BY id",
        [email],
      );
      for (const m of candidates) {
        if (await verifyPassword(request.body.password, m.password_hash)) {
          try {
            return await db.transaction(async (tx) => {
              const session = await createSession(tx, m);
              await recordAudit(tx, { orgId: m.org_id, memberId: m.id, actor: email, credential: "password" }, "auth.login", `member:${m.id}`, null, { expires_at: session.expires_at });
              return session;
            });
          } catch (err) {
            // Removed between the password check and the session (a foreign-key violation): the login fails like any other.
            if (sqlState(err) !== "23503") throw err;
          }
        }
      }
      if (candidates.length === 0) await verifyPassword(request.body.password, null);
      await loginFailures?.hit(failureKey);
      throw new HttpProblem(401, "Email or password is wrong, or the membership is not active yet (accept the invitation and verify the email first).");
    },
  );

  app.post(
    "/v1/auth/logout",
    { config: { emptyBody: true }, schema: { summary: "End the current session (API keys are revoked with DELETE /v1/api-keys/{id})", body: object({}), response: responses({ 204: noContent }) } },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller.credential.kind !== "session") {
        throw new HttpProblem(403, "Logout ends a session; this request used an API key. Revoke keys with DELETE /v1/api-keys/{id}.");
      }
      const sessionId = caller.credential.id;
      await db.transaction(async (tx) => {
        await tx.query("DELETE FROM sessions WHERE id = $1", [sessionId]);
        await recordAudit(tx, caller, "auth.logout", `session:${sessionId}`, null, null);
      });
      return reply.code(204).send();
    },
  );
}
