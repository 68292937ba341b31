import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Access, decideGrantChange, decideGrantRemoval } from "../../../policy";
import { recordAudit } from "../../audit";
import { callerOf } from "../../context";
import { findDomain } from "../../data/domains";
import { deleteGrant, putGrant } from "../../data/grants";
import { decodeCursor, toPage } from "../../pagination";
import { fromViolation, notFound } from "../../problem";
import { grantList } from "../../records";
import { accessSchema, grantParams, grantSchema, listQuery, memberParams, noContent, object, page, responses } from "../../schemas";
import type { Services } from "../../services";
import type { WriteScope } from "../../write";
import { domainNotFound } from "../domain-guard";
import { requireMember, targetOf } from "./members";

type ListRoute = { Params: { id: string }; Querystring: { limit: number; cursor?: string } };
type GrantRoute = { Params: { id: string; domain: string } };

const listOptions = {
  config: { orgAction: "team.domain_access.read" },
  schema: { summary: "A member's domain access", params: memberParams, querystring: listQuery(), response: responses({ 200: page(grantSchema) }) },
} as const;

const putOptions = {
  config: { orgAction: "team.domain_access.write" },
  schema: { summary: "Grant or change a member's access to a domain", params: grantParams, body: object({ access: accessSchema }, ["access"]), response: responses({ 200: grantSchema }) },
} as const;

const deleteOptions = {
  config: { orgAction: "team.domain_access.write" },
  schema: { summary: "Remove a member's access to a domain", params: grantParams, response: responses({ 204: noContent }) },
} as const;

/** A member's domain access: list, grant or change, remove. */
export function registerDomainAccessRoutes(app: FastifyInstance, services: Services): void {
  app.get<ListRoute>("/v1/team/members/:id/domain-access", listOptions, (request) => list(services, request));
  app.put<GrantRoute & { Body: { access: Access } }>("/v1/team/members/:id/domain-access/:domain", putOptions, (request, reply) =>
    services.writer.run(request, reply, 200, (scope) => grant(scope, request.params, request.body.access)),
  );
  app.delete<GrantRoute>("/v1/team/members/:id/domain-access/:domain", deleteOptions, (request, reply) =>
    services.writer.runNoContent(request, reply, (scope) => revoke(scope, request.params)),
  );
}

async function list(services: Services, request: FastifyRequest<ListRoute>) {
  const row = await requireMember(services.deps.db, callerOf(request).orgId, request.params.id);
  const after = decodeCursor(request.query.cursor);
  const grants = grantList(row.grants).filter((g) => after === null || g.domain > after);
  return toPage(grants, request.query.limit, (g) => g.domain, (g) => g);
}

async function grant({ tx, caller }: WriteScope, { id, domain }: GrantRoute["Params"], access: Access) {
  const row = await requireMember(tx, caller.orgId, id, true);
  const decision = decideGrantChange(caller.principal, targetOf(row));
  if (!decision.allowed) throw fromViolation(decision);
  const d = await findDomain(tx, caller.orgId, domain);
  if (!d) throw domainNotFound(domain);
  const before = row.grants?.[domain] ?? null;
  await putGrant(tx, row.id, d.id, access);
  const after = { domain, access };
  await recordAudit(tx, caller, before ? "team.domain_access.update" : "team.domain_access.grant", `member:${row.id}/domain:${domain}`, before ? { domain, access: before } : null, after);
  return after;
}

async function revoke({ tx, caller }: WriteScope, { id, domain }: GrantRoute["Params"]): Promise<void> {
  const row = await requireMember(tx, caller.orgId, id, true);
  const decision = decideGrantRemoval(caller.principal);
  if (!decision.allowed) throw fromViolation(decision);
  const removed = await deleteGrant(tx, caller.orgId, row.id, domain);
  if (removed === null) throw notFound(`Domain access of ${row.email} to "${domain}"`);
  await recordAudit(tx, caller, "team.domain_access.revoke", `member:${row.id}/domain:${domain}`, { domain, access: removed }, null);
}
