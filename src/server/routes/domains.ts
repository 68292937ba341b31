import type { FastifyInstance } from "fastify";
import { effectiveAccess, visibleDomains } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf, type Services } from "../context";
import { isUniqueViolation } from "../db/adapter";
import { newDkimKey } from "../domain-data";
import { conflict } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { DomainRow, toDomain } from "../records";
import { domainNameSchema, domainParams, domainSchema, listQuery, noContent, object, page, responses } from "../schemas";
import { newId } from "../security";
import { authorizeDomain } from "./domain-guard";

export function registerDomainRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    "/v1/domains",
    { config: { orgAction: "domain.list" }, schema: { summary: "Domains visible to the caller (members: only granted ones)", querystring: listQuery(), response: responses({ 200: page(domainSchema) }) } },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const filter = visibleDomains(caller.principal);
      const rows = await services.cache.get(`domains:${caller.orgId}:${filter?.join(",") ?? "*"}:${after ?? ""}:${limit}`, () =>
        db.query<DomainRow>(
          "SELECT * FROM domains WHERE org_id = $1 AND ($2::text[] IS NULL OR name = ANY($2::text[])) AND ($3::text IS NULL OR name > $3) ORDER BY name LIMIT $4",
          [caller.orgId, filter, after, limit + 1],
        ),
      );
      return toPage(rows, limit, (r) => r.name, (r) => toDomain(r, effectiveAccess(caller.principal, r.name)!));
    },
  );

  app.post<{ Body: { name: string } }>(
    "/v1/domains",
    { config: { orgAction: "domain.create" }, schema: { summary: "Add a domain (owner, admin)", body: object({ name: domainNameSchema }, ["name"]), response: responses({ 201: domainSchema }) } },
    async (request, reply) => {
      const dkim = newDkimKey();
      return services.writer.run(request, reply, 201, async ({ tx, caller }) => {
        let row: DomainRow;
        try {
          [row] = await tx.query<DomainRow>("INSERT INTO domains (id, org_id, name, dkim_selector, dkim_public_key) VALUES ($1, $2, $3, $4, $5) RETURNING *", [
            newId("dom"),
            caller.orgId,
            request.body.name,
            dkim.selector,
            dkim.publicKey,
          ]);
        } catch (err) {
          if (isUniqueViolation(err)) throw conflict(`Domain "${request.body.name}" already exists in this organization.`);
          throw err;
        }
        const domain = toDomain(row, effectiveAccess(caller.principal, row.name)!);
        await recordAudit(tx, caller, "domain.create", `domain:${row.name}`, null, domain);
        return domain;
      });
    },
  );

  app.get<{ Params: { domain: string } }>(
    "/v1/domains/:domain",
    { schema: { summary: "One domain (read)", params: domainParams, response: responses({ 200: domainSchema }) } },
    async (request) => {
      const caller = callerOf(request);
      const name = request.params.domain;
      const row = await authorizeDomain(db, caller, name, "domain.read", { cache: services.cache });
      return toDomain(row, effectiveAccess(caller.principal, name)!);
    },
  );

  app.patch<{ Params: { domain: string }; Body: { open_tracking?: boolean; click_tracking?: boolean; tls_policy?: string } }>(
    "/v1/domains/:domain",
    {
      schema: {
        summary: "Domain settings (read_write)",
        params: domainParams,
        body: object({ open_tracking: { type: "boolean" }, click_tracking: { type: "boolean" }, tls_policy: { type: "string", enum: ["opportunistic", "required"] } }, [], { minProperties: 1 }),
        response: responses({ 200: domainSchema }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const before = await authorizeDomain(tx, caller, request.params.domain, "domain.update", { lock: true });
        const [row] = await tx.query<DomainRow>(
          "UPDATE domains SET open_tracking = COALESCE($2, open_tracking), click_tracking = COALESCE($3, click_tracking), tls_policy = COALESCE($4, tls_policy), updated_at = now() WHERE id = $1 RETURNING *",
          [before.id, b.open_tracking ?? null, b.click_tracking ?? null, b.tls_policy ?? null],
        );
        const access = effectiveAccess(caller.principal, row.name)!;
        const after = toDomain(row, access);
        await recordAudit(tx, caller, "domain.update", `domain:${row.name}`, toDomain(before, access), after);
        return after;
      });
    },
  );

  app.delete<{ Params: { domain: string } }>(
    "/v1/domains/:domain",
    { schema: { summary: "Delete a domain (owner, admin): also deletes grants on it and removes it from key scopes", params: domainParams, response: responses({ 204: noContent }) } },
    async (request, reply) => {
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        const row = await authorizeDomain(tx, caller, request.params.domain, "domain.delete", { lock: true });
        const keys = await tx.query<{ id: string }>("UPDATE api_keys SET domains = array_remove(domains, $2) WHERE org_id = $1 AND $2 = ANY(domains) RETURNING id", [caller.orgId, row.name]);
        // Grants, aliases and inbound rules go by ON DELETE CASCADE.
        await tx.query("DELETE FROM domains WHERE id = $1", [row.id]);
        await recordAudit(tx, caller, "domain.delete", `domain:${row.name}`, { ...toDomain(row, effectiveAccess(caller.principal, row.name)!), rescoped_api_keys: keys.map((k) => k.id) }, null);
      });
      return reply.send();
    },
  );
}
