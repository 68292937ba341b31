import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { normalizeEmail } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf } from "../context";
import { type Database, type Queryable, sqlState } from "../db/adapter";
import { grantsOfMember } from "../data/grants";
import { type TokenRow, findToken, markTokenUsed, storeVerificationToken } from "../data/invitations";
import { acceptMembership, activateMembership, inviterEmail, loginCandidates } from "../data/members";
import { createSession, deleteSession } from "../data/sessions";
import { HttpProblem, notFound } from "../problem";
import { DEFAULT_LOGIN_FAILURE_LIMIT, type RateLimiter, createRateLimiter, tooManyRequests } from "../rate-limit";
import { iso, toMember } from "../records";
import { emailSchema, invitationParams, memberSchema, nameSchema, noContent, object, record, responses, tokenSchema } from "../schemas";
import { hashPassword, newSecret, verifyPassword } from "../security";
import type { RoutePluginOptions, Services } from "../services";

const passwordSchema = { type: "string", minLength: 8, maxLength: 200 } as const;

type TokenRoute = { Params: { token: string } };
type AcceptRoute = TokenRoute & { Body: { name: string; password: string } };
type VerifyRoute = { Body: { token: string; password?: string } };
type LoginRoute = { Body: { email: string; password: string } };

const invitationSchema = record({
  email: { type: "string" },
  role: { type: "string" },
  organization: record({ id: { type: "string" }, name: { type: "string" } }),
  invited_by: { type: ["string", "null"] },
  expires_at: { type: "string", format: "date-time" },
});

const invitationOptions = {
  config: { auth: "none" },
  schema: { summary: "Who invited you to what (404 unknown or used, 410 expired)", security: [], params: invitationParams, response: responses({ 200: invitationSchema }) },
} as const;

const acceptOptions = {
  config: { auth: "none" },
  schema: {
    summary:
      "Accept an invitation: sets name and a provisional password, sends a verification email. The link alone is not an account: a password given at verify-email (the dashboard always asks for one there) replaces this one.",
    security: [],
    params: invitationParams,
    body: object({ name: nameSchema, password: passwordSchema }, ["name", "password"]),
    response: responses({ 200: record({ member: memberSchema, verification_sent_to: { type: "string" } }) }),
  },
} as const;

const verifyOptions = {
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
} as const;

const loginOptions = {
  config: { auth: "none" },
  schema: {
    summary:
      "Log in with email and password (active members only); returns a session token. Failed logins are limited per email whatever the client address (10 per 15 minutes by default): then 429 with Retry-After.",
    security: [],
    body: object({ email: emailSchema, password: { type: "string", minLength: 1, maxLength: 200 } }, ["email", "password"]),
    response: responses({ 200: record({ token: { type: "string" }, expires_at: { type: "string", format: "date-time" } }) }),
  },
} as const;

const logoutOptions = {
  config: { emptyBody: true },
  schema: { summary: "End the current session (API keys are revoked with DELETE /v1/api-keys/{id})", body: object({}), response: responses({ 204: noContent }) },
} as const;

/** Invitations, email verification, login and logout. */
export const authRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { db } = services.deps;
  const failureLimit = services.deps.config.loginFailureLimit ?? DEFAULT_LOGIN_FAILURE_LIMIT;
  // Failed logins per target email, across all client addresses: password guessing against one account is slow whatever its source.
  const loginFailures = failureLimit ? createRateLimiter(db, failureLimit) : null;
  app.get<TokenRoute>("/v1/invitations/:token", invitationOptions, (request) => describeInvitation(db, request.params.token));
  app.post<AcceptRoute>("/v1/invitations/:token/accept", acceptOptions, (request) => accept(services, request));
  app.post<VerifyRoute>("/v1/auth/verify-email", verifyOptions, (request) => verifyEmail(db, request.body));
  app.post<LoginRoute>("/v1/auth/login", loginOptions, (request) => login(db, loginFailures, request.body));
  app.post("/v1/auth/logout", logoutOptions, (request, reply) => logout(db, request, reply));
};

/**
 * A one-time token (locked for this transaction when `lock`). Unknown and
 * already used tokens answer the same 404 body (no "already used" oracle);
 * expired ones are 410. Routes call it once before hashing any password, so
 * a wrong link costs no scrypt, and again under the lock to use it.
 */
async function useToken(q: Queryable, token: string, kind: TokenRow["kind"], lock: boolean): Promise<TokenRow> {
  const row = await findToken(q, token, kind, lock);
  const what = kind === "invitation" ? "Invitation" : "Email verification link";
  if (!row || row.used_at) throw notFound(what);
  if (new Date(row.token_expires_at).getTime() <= Date.now()) {
    throw new HttpProblem(410, `${what} has expired; ask an admin to resend the invitation.`);
  }
  return row;
}

async function describeInvitation(db: Database, token: string) {
  const row = await useToken(db, token, "invitation", false);
  const invitedBy = await inviterEmail(db, row.id);
  return { email: row.email, role: row.role, organization: { id: row.org_id, name: row.org_name }, invited_by: invitedBy, expires_at: iso(row.token_expires_at)! };
}

async function accept(services: Services, request: FastifyRequest<AcceptRoute>) {
  const { db } = services.deps;
  const { token } = request.params;
  // The token first: an unknown, used or expired link never costs a password hash.
  await useToken(db, token, "invitation", false);
  const passwordHash = await hashPassword(request.body.password);
  const { member, send } = await db.transaction(async (tx) => {
    const row = await useToken(tx, token, "invitation", true);
    await markTokenUsed(tx, token);
    const updated = await acceptMembership(tx, row.id, request.body.name.trim(), passwordHash);
    const verify = newSecret("psv_");
    await storeVerificationToken(tx, row.id, verify, services.deps.config.invitationTtlSeconds);
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
}

async function verifyEmail(db: Database, { token, password }: VerifyRoute["Body"]) {
  let passwordHash: string | null = null;
  if (password !== undefined) {
    await useToken(db, token, "verify_email", false);
    passwordHash = await hashPassword(password);
  }
  return db.transaction(async (tx) => {
    const row = await useToken(tx, token, "verify_email", true);
    await markTokenUsed(tx, token);
    const member = await activateMembership(tx, row.id, passwordHash);
    const grants = await grantsOfMember(tx, row.id);
    const session = await createSession(tx, member);
    const record = toMember(member, grants);
    await recordAudit(tx, { orgId: row.org_id, memberId: row.id, actor: row.email, credential: "verify_email_token" }, "team.member.join", `member:${row.id}`, { status: "invited" }, {
      status: record.status,
      password: passwordHash ? "set at verification" : "set at acceptance",
    });
    // Invited users land in the dashboard: their organization and plan already exist.
    return { redirect_to: "/dashboard", token: session.token, expires_at: session.expires_at, member: record };
  });
}

async function login(db: Database, loginFailures: RateLimiter | null, body: LoginRoute["Body"]) {
  const email = normalizeEmail(body.email);
  const failureKey = `login:${email}`;
  const wait = (await loginFailures?.wait(failureKey)) ?? 0;
  if (wait > 0) throw tooManyRequests(`Too many failed logins for this email.`, wait);
  const candidates = await loginCandidates(db, email);
  for (const m of candidates) {
    if (!(await verifyPassword(body.password, m.password_hash))) continue;
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
  if (candidates.length === 0) await verifyPassword(body.password, null);
  await loginFailures?.hit(failureKey);
  throw new HttpProblem(401, "Email or password is wrong, or the membership is not active yet (accept the invitation and verify the email first).");
}

async function logout(db: Database, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const caller = callerOf(request);
  if (caller.credential.kind !== "session") {
    throw new HttpProblem(403, "Logout ends a session; this request used an API key. Revoke keys with DELETE /v1/api-keys/{id}.");
  }
  const sessionId = caller.credential.id;
  await db.transaction(async (tx) => {
    await deleteSession(tx, sessionId);
    await recordAudit(tx, caller, "auth.logout", `session:${sessionId}`, null, null);
  });
  return reply.code(204).send();
}
