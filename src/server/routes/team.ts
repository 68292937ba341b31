import type { FastifyInstance } from "fastify";
import { Access, ROLES, Role, Violation, canHoldGrants, checkGrantTarget, decideGrantChange, decideGrantRemoval, decideInvite, decideRemove, decideRoleChange, normalizeEmail } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf, type Services } from "../context";
import type { Queryable } from "../db/adapter";
import { isUniqueViolation } from "../db/adapter";
import { conflict, fromViolation, invalid, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { MEMBER_COLUMNS, MemberRow, grantList, grantsOf, memberStatus, toMember } from "../records";
import { accessSchema, domainNameSchema, emailSchema, grantParams, grantSchema, listQuery, memberParams, memberSchema, noContent, object, page, responses } from "../schemas";
import { newId, newSecret, sha256 } from "../security";
import { domainNotFound } from "./domain-guard";

type Grants = Record<string, Access>;
const GRANTS_SQL = grantsOf("m.id");

async function loadMember(q: Queryable, orgId: string, id: string, lock = false): Promise<MemberRow & { grants: Grants | null; invited_by_email?: string | null }> {
  const [row] = await q.query<MemberRow & { grants: Grants | null }>(`SELECT ${MEMBER_COLUMNS}, ${GRANTS_SQL} FROM members m WHERE m.org_id = $1 AND m.id = $2${lock ? " FOR UPDATE OF m" : ""}`, [orgId, id]);
  if (!row) throw notFound(`Member "${id}"`);
  return row;
}

/** Issues a fresh invitation token for a member, invalidating older ones, and mails it. */
export async function issueInvitation(tx: Queryable, services: Services, member: { id: string; email: string; role: string }, orgName: string, inviter: string | null) {
  const token = newSecret("psi_");
  const ttl = services.deps.config.invitationTtlSeconds;
  await tx.query("DELETE FROM tokens WHERE member_id = $1", [member.id]);
  const [row] = await tx.query<{ expires_at: Date }>(
    "INSERT INTO tokens (token_hash, kind, member_id, expires_at) VALUES ($1, 'invitation', $2, now() + make_interval(secs => $3)) RETURNING expires_at",
    [sha256(token), member.id, ttl],
  );
  await tx.query("UPDATE members SET invitation_expires_at = $2 WHERE id = $1", [member.id, row.expires_at]);
  return () =>
    services.deps.outbox.send({
      to: member.email,
      subject: `You're invited to join ${orgName} on Postscale`,
      text: `${inviter ?? "An administrator"} invited you to join ${orgName} on Postscale as ${member.role === "admin" ? "an admin" : "a member"}.\n\nAccept the invitation: https://app.postscale.dev/invitations/${token}\n\nThe link works once and expires at ${new Date(row.expires_at).toISOString()}.`,
      kind: "invitation",
      token,
    });
}

/** Resolves domain names to ids, or a 422 naming each unknown one at its input path. */
async function domainIds(q: Queryable, orgId: string, grants: { domain: string; access: Access }[], path: string): Promise<Map<string, string>> {
  const names = grants.map((g) => g.domain);
  const rows = names.length ? await q.query<{ id: string; name: string }>("SELECT id, name FROM domains WHERE org_id = $1 AND name = ANY($2::text[])", [orgId, names]) : [];
  const ids = new Map(rows.map((r) => [r.name, r.id]));
  const errors = grants.flatMap((g, i) => (ids.has(g.domain) ? [] : [{ path: `${path}/${i}/domain`, message: `domain "${g.domain}" was not found in this organization` }]));
  const seen = new Set<string>();
  grants.forEach((g, i) => {
    if (seen.has(g.domain)) errors.push({ path: `${path}/${i}/domain`, message: `domain "${g.domain}" is listed twice` });
    seen.add(g.domain);
  });
  if (errors.length) throw invalid(errors);
  return ids;
}

function target(row: MemberRow) {
  return { id: row.id, email: row.email, role: row.role, status: memberStatus(row) };
}

export function registerTeamRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;

  app.get<{ Querystring: { limit: number; cursor?: string; include?: "domain_access" } }>(
    "/v1/team/members",
    {
      config: { orgAction: "team.list" },
      schema: { summary: "List members and invitations (owner, admin)", querystring: listQuery({ include: { type: "string", enum: ["domain_access"] } }), response: responses({ 200: page(memberSchema) }) },
    },
    async (request) => {
      const { orgId } = callerOf(request);
      const { limit, cursor, include } = request.query;
      const after = decodeCursor(cursor);
      // Grants come in the same query (json_object_agg per row), never one query per member.
      const rows = await db.query<MemberRow & { grants?: Grants | null }>(
        `SELECT ${MEMBER_COLUMNS}${include ? `, ${GRANTS_SQL}` : ""} FROM members m WHERE m.org_id = $1 AND ($2::text IS NULL OR m.id > $2) ORDER BY m.id LIMIT $3`,
        [orgId, after, limit + 1],
      );
      return toPage(rows, limit, (r) => r.id, (r) => toMember(r, include ? (r.grants ?? {}) : undefined));
    },
  );

  app.post<{ Body: { email: string; role: string; domain_access?: { domain: string; access: Access }[] } }>(
    "/v1/team/members",
    {
      config: { orgAction: "team.invite" },
      schema: {
        summary: "Invite a member (owner, admin): status invited, an invitation mail is sent",
        body: object(
          {
            email: emailSchema,
            role: { type: "string", enum: [...ROLES] },
            domain_access: { type: "array", maxItems: 1000, items: object({ domain: domainNameSchema, access: accessSchema }, ["domain", "access"]) },
          },
          ["email", "role"],
        ),
        response: responses({ 201: memberSchema }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const email = normalizeEmail(body.email);
      const grants = body.domain_access ?? [];
      return services.writer.run(request, reply, 201, async ({ tx, caller, afterCommit }) => {
        const decision = decideInvite(caller.principal, body.role);
        if (!decision.allowed) throw fromViolation(decision as Violation);
        if (grants.length > 0) {
          const g = checkGrantTarget({ email, role: body.role as "admin" | "member" });
          if (!g.allowed) throw fromViolation({ ...(g as Violation), path: "/domain_access" });
        }
        const ids = await domainIds(tx, caller.orgId, grants, "/domain_access");
        const [existing] = await tx.query("SELECT id FROM members WHERE org_id = $1 AND email = $2", [caller.orgId, email]);
        if (existing) throw conflict(`${email} is already a member of this organization (or invited).`);
        const id = newId("mem");
        let row: MemberRow;
        try {
          [row] = await tx.query<MemberRow>(`INSERT INTO members AS m (id, org_id, email, role, invited_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${MEMBER_COLUMNS}`, [
            id,
            caller.orgId,
            email,
            body.role,
            caller.member?.id ?? null,
          ]);
        } catch (err) {
          if (isUniqueViolation(err)) throw conflict(`${email} is already a member of this organization (or invited).`);
          throw err;
        }
        for (const g of grants) await tx.query("INSERT INTO grants (member_id, domain_id, access) VALUES ($1, $2, $3)", [id, ids.get(g.domain), g.access]);
        const [org] = await tx.query<{ name: string }>("SELECT name FROM organizations WHERE id = $1", [caller.orgId]);
        afterCommit(await issueInvitation(tx, services, row, org.name, caller.member?.email ?? null));
        const fresh = await loadMember(tx, caller.orgId, id);
        const member = toMember(fresh, fresh.grants ?? {});
        await recordAudit(tx, caller, "team.member.invite", `member:${id}`, null, member);
        return member;
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/team/members/:id",
    { config: { orgAction: "team.read" }, schema: { summary: "One member with their domain access (owner, admin)", params: memberParams, response: responses({ 200: memberSchema }) } },
    async (request) => {
      const row = await loadMember(db, callerOf(request).orgId, request.params.id);
      return toMember(row, row.grants ?? {});
    },
  );

  app.patch<{ Params: { id: string }; Body: { role: Role } }>(
    "/v1/team/members/:id",
    {
      config: { orgAction: "team.update" },
      schema: { summary: "Change a member's role (owner, admin; never your own, never the owner)", params: memberParams, body: object({ role: { type: "string", enum: [...ROLES] } }, ["role"]), response: responses({ 200: memberSchema }) },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const row = await loadMember(tx, caller.orgId, request.params.id, true);
        const decision = decideRoleChange(caller.principal, target(row), request.body.role);
        if (!decision.allowed) throw fromViolation(decision as Violation);
        const before = toMember(row, row.grants ?? {});
        if (row.role !== request.body.role) {
          await tx.query("UPDATE members SET role = $2 WHERE id = $1", [row.id, request.body.role]);
          if (!canHoldGrants(request.body.role)) await tx.query("DELETE FROM grants WHERE member_id = $1", [row.id]);
        }
        const fresh = await loadMember(tx, caller.orgId, row.id);
        const after = toMember(fresh, fresh.grants ?? {});
        await recordAudit(tx, caller, "team.member.update", `member:${row.id}`, before, after);
        return after;
      });
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/team/members/:id",
    {
      config: { orgAction: "team.remove" },
      schema: { summary: "Remove (offboard) a member: deletes grants, sessions and member-owned keys", params: memberParams, response: responses({ 204: noContent }) },
    },
    async (request, reply) => {
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        const row = await loadMember(tx, caller.orgId, request.params.id, true);
        const decision = decideRemove(caller.principal, target(row));
        if (!decision.allowed) throw fromViolation(decision as Violation);
        const keys = await tx.query<{ id: string }>("SELECT id FROM api_keys WHERE member_id = $1 ORDER BY id", [row.id]);
        // Sessions, member-owned keys, grants and tokens go by ON DELETE CASCADE in this same statement.
        await tx.query("DELETE FROM members WHERE id = $1", [row.id]);
        await recordAudit(tx, caller, "team.member.remove", `member:${row.id}`, { ...toMember(row, row.grants ?? {}), api_keys: keys.map((k) => k.id) }, null);
      });
      return reply.send();
    },
  );

  app.post<{ Params: { id: string } }>(
    "/v1/team/members/:id/resend-invitation",
    {
      config: { orgAction: "team.resend_invitation", emptyBody: true },
      schema: { summary: "Send a fresh invitation (old links stop working); for invited or expired members", params: memberParams, body: object({}), response: responses({ 200: memberSchema }) },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller, afterCommit }) => {
        const row = await loadMember(tx, caller.orgId, request.params.id, true);
        if (row.joined_at) throw conflict(`${row.email} has already joined; there is no invitation to resend.`);
        await tx.query("UPDATE members SET accepted_at = NULL, password_hash = NULL, invited_at = now() WHERE id = $1", [row.id]);
        const [org] = await tx.query<{ name: string }>("SELECT name FROM organizations WHERE id = $1", [caller.orgId]);
        afterCommit(await issueInvitation(tx, services, row, org.name, caller.member?.email ?? null));
        const fresh = await loadMember(tx, caller.orgId, row.id);
        const member = toMember(fresh, fresh.grants ?? {});
        await recordAudit(tx, caller, "team.member.resend_invitation", `member:${row.id}`, { status: memberStatus(row) }, { status: member.status });
        return member;
      });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
    "/v1/team/members/:id/domain-access",
    { config: { orgAction: "team.domain_access.read" }, schema: { summary: "A member's domain access", params: memberParams, querystring: listQuery(), response: responses({ 200: page(grantSchema) }) } },
    async (request) => {
      const row = await loadMember(db, callerOf(request).orgId, request.params.id);
      const after = decodeCursor(request.query.cursor);
      const grants = grantList(row.grants).filter((g) => after === null || g.domain > after);
      return toPage(grants, request.query.limit, (g) => g.domain, (g) => g);
    },
  );

  app.put<{ Params: { id: string; domain: string }; Body: { access: Access } }>(
    "/v1/team/members/:id/domain-access/:domain",
    {
      config: { orgAction: "team.domain_access.write" },
      schema: { summary: "Grant or change a member's access to a domain", params: grantParams, body: object({ access: accessSchema }, ["access"]), response: responses({ 200: grantSchema }) },
    },
    async (request, reply) => {
      const { id, domain } = request.params;
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const row = await loadMember(tx, caller.orgId, id, true);
        const decision = decideGrantChange(caller.principal, target(row));
        if (!decision.allowed) throw fromViolation(decision as Violation);
        const [d] = await tx.query<{ id: string }>("SELECT id FROM domains WHERE org_id = $1 AND name = $2", [caller.orgId, domain]);
        if (!d) throw domainNotFound(domain);
        const before = row.grants?.[domain] ?? null;
        await tx.query(
          "INSERT INTO grants (member_id, domain_id, access) VALUES ($1, $2, $3) ON CONFLICT (member_id, domain_id) DO UPDATE SET access = EXCLUDED.access",
          [row.id, d.id, request.body.access],
        );
        const grant = { domain, access: request.body.access };
        await recordAudit(tx, caller, before ? "team.domain_access.update" : "team.domain_access.grant", `member:${row.id}/domain:${domain}`, before ? { domain, access: before } : null, grant);
        return grant;
      });
    },
  );

  app.delete<{ Params: { id: string; domain: string } }>(
    "/v1/team/members/:id/domain-access/:domain",
    { config: { orgAction: "team.domain_access.write" }, schema: { summary: "Remove a member's access to a domain", params: grantParams, response: responses({ 204: noContent }) } },
    async (request, reply) => {
      const { id, domain } = request.params;
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        const row = await loadMember(tx, caller.orgId, id, true);
        const decision = decideGrantRemoval(caller.principal);
        if (!decision.allowed) throw fromViolation(decision);
        const removed = await tx.query<{ access: Access }>(
          "DELETE FROM grants g USING domains d WHERE g.domain_id = d.id AND g.member_id = $1 AND d.org_id = $2 AND d.name = $3 RETURNING g.access",
          [row.id, caller.orgId, domain],
        );
        if (removed.length === 0) throw notFound(`Domain access of ${row.email} to "${domain}"`);
        await recordAudit(tx, caller, "team.domain_access.revoke", `member:${row.id}/domain:${domain}`, { domain, access: removed[0].access }, null);
      });
      return reply.send();
    },
  );
}

