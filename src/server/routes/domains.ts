import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { effectiveAccess, visibleDomains } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf } from "../context";
import { onUniqueViolation } from "../db/adapter";
import { deleteDomain, insertDomain, listDomains, updateDomainSettings } from "../data/domains";
import { removeDomainFromKeys } from "../data/keys";
import { newDkimKey } from "../domain-data";
import { conflict } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { toDomain } from "../records";
import { domainNameSchema, domainParams, domainSchema, listQuery, noContent, object, page, responses } from "../schemas";
import { newId } from "../security";
import type { RoutePluginOptions, Services } from "../services";
import type { WriteScope } from "../write";
import { authorizeDomain } from "./domain-guard";

type ListRoute = { Querystring: { limit: number; cursor?: string } };
type DomainRoute = { Params: { domain: string } };
type SettingsBody = { open_tracking?: boolean; click_tracking?: boolean; tls_policy?: string };

const listOptions = {
  config: { orgAction: "domain.list" },
  schema: { summary: "Domains visible to the caller (members: only granted ones)", querystring: listQuery(), response: responses({ 200: page(domainSchema) }) },
} as const;
const createOptions = { config: { orgAction: "domain.create" }, schema: { summary: "Add a domain (owner, admin)", body: object({ name: domainNameSchema }, ["name"]), response: responses({ 201: domainSchema }) } } as const;
const readOptions = { schema: { summary: "One domain (read)", params: domainParams, response: responses({ 200: domainSchema }) } } as const;
const settingsOptions = {
  schema: {
    summary: "Domain settings (read_write)",
    params: domainParams,
    body: object({ open_tracking: { type: "boolean" }, click_tracking: { type: "boolean" }, tls_policy: { type: "string", enum: ["opportunistic", "required"] } }, [], { minProperties: 1 }),
    response: responses({ 200: domainSchema }),
  },
} as const;
const deleteOptions = {
  schema: { summary: "Delete a domain (owner, admin): also deletes grants on it and removes it from key scopes", params: domainParams, response: responses({ 204: noContent }) },
} as const;

/** Domains: list, add, read, settings, delete. */
export const domainRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { writer } = services;
  app.get<ListRoute>("/v1/domains", listOptions, (request) => list(services, request));
  app.post<{ Body: { name: string } }>("/v1/domains", createOptions, async (request, reply) => {
    const dkim = newDkimKey();
    return writer.run(request, reply, 201, (scope) => create(scope, request.body.name, dkim));
  });
  app.get<DomainRoute>("/v1/domains/:domain", readOptions, (request) => read(services, request));
  app.patch<DomainRoute & { Body: SettingsBody }>("/v1/domains/:domain", settingsOptions, (request, reply) =>
    writer.run(request, reply, 200, (scope) => changeSettings(scope, request.params.domain, request.body)),
  );
  app.delete<DomainRoute>("/v1/domains/:domain", deleteOptions, (request, reply) => writer.runNoContent(request, reply, (scope) => remove(scope, request.params.domain)));
};

async function list(services: Services, request: FastifyRequest<ListRoute>) {
  const caller = callerOf(request);
  const { limit, cursor } = request.query;
  const after = decodeCursor(cursor);
  const filter = visibleDomains(caller.principal);
  const key = `domains:${caller.orgId}:${filter?.join(",") ?? "*"}:${after ?? ""}:${limit}`;
  const rows = await services.cache.get(key, () => listDomains(services.deps.db, caller.orgId, filter, after, limit));
  return toPage(rows, limit, (r) => r.name, (r) => toDomain(r, effectiveAccess(caller.principal, r.name)!));
}

async function create({ tx, caller }: WriteScope, name: string, dkim: { selector: string; publicKey: string }) {
  const row = await insertDomain(tx, { id: newId("dom"), orgId: caller.orgId, name, dkim }).catch(onUniqueViolation(() => conflict(`Domain "${name}" already exists in this organization.`)));
  const domain = toDomain(row, effectiveAccess(caller.principal, row.name)!);
  await recordAudit(tx, caller, "domain.create", `domain:${row.name}`, null, domain);
  return domain;
}

async function read(services: Services, request: FastifyRequest<DomainRoute>) {
  const caller = callerOf(request);
  const name = request.params.domain;
  const row = await authorizeDomain(services.deps.db, caller, name, "domain.read", { cache: services.cache });
  return toDomain(row, effectiveAccess(caller.principal, name)!);
}

async function changeSettings({ tx, caller }: WriteScope, name: string, b: SettingsBody) {
  const before = await authorizeDomain(tx, caller, name, "domain.update", { lock: true });
  const row = await updateDomainSettings(tx, before.id, { open_tracking: b.open_tracking ?? null, click_tracking: b.click_tracking ?? null, tls_policy: b.tls_policy ?? null });
  const access = effectiveAccess(caller.principal, row.name)!;
  const after = toDomain(row, access);
  await recordAudit(tx, caller, "domain.update", `domain:${row.name}`, toDomain(before, access), after);
  return after;
}

async function remove({ tx, caller }: WriteScope, name: string): Promise<void> {
  const row = await authorizeDomain(tx, caller, name, "domain.delete", { lock: true });
  const keys = await removeDomainFromKeys(tx, caller.orgId, row.name);
  // Grants, aliases and inbound rules go with the domain.
  await deleteDomain(tx, row.id);
  await recordAudit(tx, caller, "domain.delete", `domain:${row.name}`, { ...toDomain(row, effectiveAccess(caller.principal, row.name)!), rescoped_api_keys: keys }, null);
}
