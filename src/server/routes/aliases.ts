import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { recordAudit } from "../audit";
import { callerOf } from "../context";
import { onUniqueViolation } from "../db/adapter";
import { type AliasRow, deleteAlias, findAlias, insertAlias, listAliases, updateAlias } from "../data/aliases";
import { conflict, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { iso } from "../records";
import { UNIQUE_IGNORING_CASE, aliasParams, dateTime, domainParams, emailSchema, listQuery, noContent, object, page, record, responses } from "../schemas";
import { newId } from "../security";
import type { RoutePluginOptions, Services } from "../services";
import type { WriteScope } from "../write";
import { authorizeDomain } from "./domain-guard";

const aliasSchema = record({ id: { type: "string" }, address: { type: "string" }, email: { type: "string" }, forward_to: { type: "array", items: { type: "string" } }, created_at: dateTime, updated_at: dateTime });
const addressSchema = { type: "string", minLength: 1, maxLength: 64, pattern: "^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$", description: "Local part, lower case" } as const;
const forwardSchema = { type: "array", minItems: 1, maxItems: 20, [UNIQUE_IGNORING_CASE]: true, items: emailSchema } as const;

type DomainRoute = { Params: { domain: string } };
type AliasRoute = { Params: { domain: string; id: string } };
type CreateBody = { address: string; forward_to: string[] };
type ChangeBody = { address?: string; forward_to?: string[] };

const listOptions = { schema: { summary: "Aliases of a domain (read)", params: domainParams, querystring: listQuery(), response: responses({ 200: page(aliasSchema) }) } } as const;
const createOptions = {
  schema: { summary: "Create an alias (read_write)", params: domainParams, body: object({ address: addressSchema, forward_to: forwardSchema }, ["address", "forward_to"]), response: responses({ 201: aliasSchema }) },
} as const;
const readOptions = { schema: { summary: "One alias (read)", params: aliasParams, response: responses({ 200: aliasSchema }) } } as const;
const changeOptions = {
  schema: { summary: "Change an alias (read_write)", params: aliasParams, body: object({ address: addressSchema, forward_to: forwardSchema }, [], { minProperties: 1 }), response: responses({ 200: aliasSchema }) },
} as const;
const deleteOptions = { schema: { summary: "Delete an alias (read_write)", params: aliasParams, response: responses({ 204: noContent }) } } as const;

function toAlias(row: AliasRow, domain: string) {
  return { id: row.id, address: row.address, email: `${row.address}@${domain}`, forward_to: row.forward_to, created_at: iso(row.created_at)!, updated_at: iso(row.updated_at)! };
}

/** A repeated address is a 409. */
function uniqueAddress(address: string, domain: string): (err: unknown) => never {
  return onUniqueViolation(() => conflict(`The alias ${address}@${domain} already exists.`));
}

const aliasNotFound = (id: string) => notFound(`Alias "${id}"`);

/** Aliases: read with read access, create/change/delete with read_write. */
export const aliasRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { writer } = services;
  app.get<DomainRoute & { Querystring: { limit: number; cursor?: string } }>("/v1/domains/:domain/aliases", listOptions, (request) => list(services, request));
  app.post<DomainRoute & { Body: CreateBody }>("/v1/domains/:domain/aliases", createOptions, (request, reply) =>
    writer.run(request, reply, 201, (scope) => create(scope, request.params.domain, request.body)),
  );
  app.get<AliasRoute>("/v1/domains/:domain/aliases/:id", readOptions, (request) => read(services, request));
  app.patch<AliasRoute & { Body: ChangeBody }>("/v1/domains/:domain/aliases/:id", changeOptions, (request, reply) =>
    writer.run(request, reply, 200, (scope) => change(scope, request.params, request.body)),
  );
  app.delete<AliasRoute>("/v1/domains/:domain/aliases/:id", deleteOptions, (request, reply) => writer.runNoContent(request, reply, (scope) => remove(scope, request.params)));
};

async function list(services: Services, request: FastifyRequest<DomainRoute & { Querystring: { limit: number; cursor?: string } }>) {
  const { db } = services.deps;
  const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.aliases.read");
  const rows = await listAliases(db, d.id, decodeCursor(request.query.cursor), request.query.limit);
  return toPage(rows, request.query.limit, (r) => r.id, (r) => toAlias(r, d.name));
}

async function read(services: Services, request: FastifyRequest<AliasRoute>) {
  const { db } = services.deps;
  const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.aliases.read");
  const row = await findAlias(db, d.id, request.params.id);
  if (!row) throw aliasNotFound(request.params.id);
  return toAlias(row, d.name);
}

async function create({ tx, caller }: WriteScope, domain: string, body: CreateBody) {
  const d = await authorizeDomain(tx, caller, domain, "domain.aliases.write");
  const row = await insertAlias(tx, { id: newId("als"), domainId: d.id, address: body.address, forwardTo: body.forward_to.map((e) => e.toLowerCase()) }).catch(uniqueAddress(body.address, d.name));
  const alias = toAlias(row, d.name);
  await recordAudit(tx, caller, "domain.alias.create", `domain:${d.name}/alias:${row.id}`, null, alias);
  return alias;
}

async function change({ tx, caller }: WriteScope, params: AliasRoute["Params"], body: ChangeBody) {
  const d = await authorizeDomain(tx, caller, params.domain, "domain.aliases.write");
  const before = await findAlias(tx, d.id, params.id, true);
  if (!before) throw aliasNotFound(params.id);
  const row = await updateAlias(tx, before.id, { address: body.address ?? null, forwardTo: body.forward_to?.map((e) => e.toLowerCase()) ?? null }).catch(
    uniqueAddress(body.address ?? before.address, d.name),
  );
  const after = toAlias(row, d.name);
  await recordAudit(tx, caller, "domain.alias.update", `domain:${d.name}/alias:${row.id}`, toAlias(before, d.name), after);
  return after;
}

async function remove({ tx, caller }: WriteScope, params: AliasRoute["Params"]): Promise<void> {
  const d = await authorizeDomain(tx, caller, params.domain, "domain.aliases.write");
  const row = await deleteAlias(tx, d.id, params.id);
  if (!row) throw aliasNotFound(params.id);
  await recordAudit(tx, caller, "domain.alias.delete", `domain:${d.name}/alias:${row.id}`, toAlias(row, d.name), null);
}
