import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Access, ROLES, type Role, canHoldGrants, checkGrantTarget, decideInvite, decideRemove, decideRoleChange, normalizeEmail } from "../../../policy";
import { recordAudit } from "../../audit";
import { callerOf } from "../../context";
import { onUniqueViolation } from "../../db/adapter";
import { deleteGrantsOf, insertGrants } from "../../data/grants";
import { keyIdsHeldBy } from "../../data/keys";
import { deleteMember, emailTaken, insertMember, listMembers, reinvite, updateRole } from "../../data/members";
import { decodeCursor, toPage } from "../../pagination";
import { conflict, fromViolation } from "../../problem";
import { memberStatus, toMember } from "../../records";
import { accessSchema, domainNameSchema, emailSchema, listQuery, memberParams, memberSchema, noContent, object, page, responses } from "../../schemas";
import { newId } from "../../security";
import type { Services } from "../../services";
import type { WriteScope } from "../../write";
import { grantDomainIds, issueInvitation } from "./invitation";
import { memberRecord, requireMember, targetOf } from "./members";

type ListRoute = { Querystring: { limit: number; cursor?: string; include?: "domain_access" } };
type InviteBody = { email: string; role: string; domain_access?: { domain: string; access: Access }[] };
type MemberRoute = { Params: { id: string } };
type RoleRoute = MemberRoute & { Body: { role: Role } };

const listOptions = {
  config: { orgAction: "team.list" },
  schema: { summary: "List members and invitations (owner, admin)", querystring: listQuery({ include: { type: "string", enum: ["domain_access"] } }), response: responses({ 200: page(memberSchema) }) },
} as const;

const inviteOptions = {
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
} as const;

const readOptions = { config: { orgAction: "team.read" }, schema: { summary: "One member with their domain access (owner, admin)", params: memberParams, response: responses({ 200: memberSchema }) } } as const;

const roleOptions = {
  config: { orgAction: "team.update" },
  schema: { summary: "Change a member's role (owner, admin; never your own, never the owner)", params: memberParams, body: object({ role: { type: "string", enum: [...ROLES] } }, ["role"]), response: responses({ 200: memberSchema }) },
} as const;

const removeOptions = {
  config: { orgAction: "team.remove" },
  schema: { summary: "Remove (offboard) a member: deletes grants, sessions and member-owned keys", params: memberParams, response: responses({ 204: noContent }) },
} as const;

const resendOptions = {
  config: { orgAction: "team.resend_invitation", emptyBody: true },
  schema: { summary: "Send a fresh invitation (old links stop working); for invited or expired members", params: memberParams, body: object({}), response: responses({ 200: memberSchema }) },
} as const;

/** Members and invitations: list, invite, read, change role, remove, resend the invitation. */
export function registerMemberRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;
  app.get<ListRoute>("/v1/team/members", listOptions, (request) => list(services, request));
  app.post<{ Body: InviteBody }>("/v1/team/members", inviteOptions, (request, reply) => services.writer.run(request, reply, 201, (scope) => invite(services, scope, request.body)));
  app.get<MemberRoute>("/v1/team/members/:id", readOptions, async (request) => memberRecord(await requireMember(db, callerOf(request).orgId, request.params.id)));
  app.patch<RoleRoute>("/v1/team/members/:id", roleOptions, (request, reply) => services.writer.run(request, reply, 200, (scope) => changeRole(scope, request.params.id, request.body.role)));
  app.delete<MemberRoute>("/v1/team/members/:id", removeOptions, (request, reply) => services.writer.runNoContent(request, reply, (scope) => remove(scope, request.params.id)));
  app.post<MemberRoute>("/v1/team/members/:id/resend-invitation", resendOptions, (request, reply) =>
    services.writer.run(request, reply, 200, (scope) => resendInvitation(services, scope, request.params.id)),
  );
}

async function list(services: Services, request: FastifyRequest<ListRoute>) {
  const { limit, cursor, include } = request.query;
  // Grants come in the same query, never one query per member.
  const rows = await listMembers(services.deps.db, callerOf(request).orgId, decodeCursor(cursor), limit, include !== undefined);
  return toPage(rows, limit, (r) => r.id, (r) => toMember(r, include ? (r.grants ?? {}) : undefined));
}

async function invite(services: Services, { tx, caller, afterCommit }: WriteScope, body: InviteBody) {
  const email = normalizeEmail(body.email);
  const grants = body.domain_access ?? [];
  const decision = decideInvite(caller.principal, body.role);
  if (!decision.allowed) throw fromViolation(decision);
  if (grants.length > 0) {
    const target = checkGrantTarget({ email, role: body.role as "admin" | "member" });
    if (!target.allowed) throw fromViolation({ ...target, path: "/domain_access" });
  }
  const ids = await grantDomainIds(tx, caller.orgId, grants, "/domain_access");
  const taken = () => conflict(`${email} is already a member of this organization (or invited).`);
  if (await emailTaken(tx, caller.orgId, email)) throw taken();
  const id = newId("mem");
  const row = await insertMember(tx, { id, orgId: caller.orgId, email, role: body.role as Role, invitedBy: caller.member?.id ?? null }).catch(onUniqueViolation(taken));
  await insertGrants(tx, id, grants.map((g) => ({ domainId: ids.get(g.domain)!, access: g.access })));
  afterCommit(await issueInvitation(tx, services, row, caller.member?.email ?? null));
  const member = memberRecord(await requireMember(tx, caller.orgId, id));
  await recordAudit(tx, caller, "team.member.invite", `member:${id}`, null, member);
  return member;
}

async function changeRole({ tx, caller }: WriteScope, id: string, role: Role) {
  const row = await requireMember(tx, caller.orgId, id, true);
  const decision = decideRoleChange(caller.principal, targetOf(row), role);
  if (!decision.allowed) throw fromViolation(decision);
  if (row.role !== role) {
    await updateRole(tx, row.id, role);
    if (!canHoldGrants(role)) await deleteGrantsOf(tx, row.id);
  }
  const after = memberRecord(await requireMember(tx, caller.orgId, row.id));
  await recordAudit(tx, caller, "team.member.update", `member:${row.id}`, memberRecord(row), after);
  return after;
}

async function remove({ tx, caller }: WriteScope, id: string): Promise<void> {
  const row = await requireMember(tx, caller.orgId, id, true);
  const decision = decideRemove(caller.principal, targetOf(row));
  if (!decision.allowed) throw fromViolation(decision);
  const keys = await keyIdsHeldBy(tx, row.id);
  // Sessions, member-owned keys, grants and tokens go with the member, in this same statement.
  await deleteMember(tx, row.id);
  await recordAudit(tx, caller, "team.member.remove", `member:${row.id}`, { ...memberRecord(row), api_keys: keys }, null);
}

async function resendInvitation(services: Services, { tx, caller, afterCommit }: WriteScope, id: string) {
  const row = await requireMember(tx, caller.orgId, id, true);
  if (row.joined_at) throw conflict(`${row.email} has already joined; there is no invitation to resend.`);
  await reinvite(tx, row.id);
  afterCommit(await issueInvitation(tx, services, row, caller.member?.email ?? null));
  const member = memberRecord(await requireMember(tx, caller.orgId, row.id));
  await recordAudit(tx, caller, "team.member.resend_invitation", `member:${row.id}`, { status: memberStatus(row) }, { status: member.status });
  return member;
}
