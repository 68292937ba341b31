import type { FastifyInstance } from "fastify";
import { recordAudit } from "../audit";
import { callerOf, type Services } from "../context";
import { isUniqueViolation } from "../db/adapter";
import { conflict, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { iso } from "../records";
import { UNIQUE_IGNORING_CASE, aliasParams, dateTime, domainParams, emailSchema, listQuery, noContent, object, page, record, responses } from "../schemas";
import { newId } from "../security";
import { authorizeDomain } from "./domain-guard";

interface AliasRow {
  id: string;
  address: string;
  forward_to: string[];
  created_at: Date;
  updated_at: Date;
}

const aliasSchema = record({ id: { type: "string" }, address: { type: "string" }, email: { type: "string" }, forward_to: { type: "array", items: { type: "string" } }, created_at: dateTime, updated_at: dateTime });
const addressSchema = { type: "string", minLength: 1, maxLength: 64, pattern: "^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$", description: "Local part, lower case" } as const;
const forwardSchema = { type: "array", minItems: 1, maxItems: 20, [UNIQUE_IGNORING_CASE]: true, items: emailSchema } as const;

function toAlias(row: AliasRow, domain: string) {
  return { id: row.id, address: row.address, email: `${row.address}@${domain}`, forward_to: row.forward_to, created_at: iso(row.created_at)!, updated_at: iso(row.updated_at)! };
}

const duplicate = (address: string, domain: string) => conflict(`The alias ${address}@${domain} already exists.`);

/** Aliases: read with read access, create/change/delete with read_write. */
export function registerAliasRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;

  app.get<{ Params: { domain: string }; Querystring: { limit: number; cursor?: string } }>(
    "/v1/domains/:domain/aliases",
    { schema: { summary: "Aliases of a domain (read)", params: domainParams, querystring: listQuery(), response: responses({ 200: page(aliasSchema) }) } },
    async (request) => {
      const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.aliases.read");
      const after = decodeCursor(request.query.cursor);
      const rows = await db.query<AliasRow>("SELECT * FROM aliases WHERE domain_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3", [d.id, after, request.query.limit + 1]);
      return toPage(rows, request.query.limit, (r) => r.id, (r) => toAlias(r, d.name));
    },
  );

  app.post<{ Params: { domain: string }; Body: { address: string; forward_to: string[] } }>(
    "/v1/domains/:domain/aliases",
    { schema: { summary: "Create an alias (read_write)", params: domainParams, body: object({ address: addressSchema, forward_to: forwardSchema }, ["address", "forward_to"]), response: responses({ 201: aliasSchema }) } },
    async (request, reply) => {
      return services.writer.run(request, reply, 201, async ({ tx, caller }) => {
        const d = await authorizeDomain(tx, caller, request.params.domain, "domain.aliases.write");
        let row: AliasRow;
        try {
          [row] = await tx.query<AliasRow>("INSERT INTO aliases (id, domain_id, address, forward_to) VALUES ($1, $2, $3, $4::text[]) RETURNING *", [
            newId("als"),
            d.id,
            request.body.address,
            request.body.forward_to.map((e) => e.toLowerCase()),
          ]);
        } catch (err) {
          if (isUniqueViolation(err)) throw duplicate(request.body.address, d.name);
          throw err;
        }
        const alias = toAlias(row, d.name);
        await recordAudit(tx, caller, "domain.alias.create", `domain:${d.name}/alias:${row.id}`, null, alias);
        return alias;
      });
    },
  );

  app.get<{ Params: { domain: string; id: string } }>(
    "/v1/domains/:domain/aliases/:id",
    { schema: { summary: "One alias (read)", params: aliasParams, response: responses({ 200: aliasSchema }) } },
    async (request) => {
      const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.aliases.read");
      const [row] = await db.query<AliasRow>("SELECT * FROM aliases WHERE domain_id = $1 AND id = $2", [d.id, request.params.id]);
      if (!row) throw notFound(`Alias "${request.params.id}"`);
      return toAlias(row, d.name);
    },
  );

  app.patch<{ Params: { domain: string; id: string }; Body: { address?: string; forward_to?: string[] } }>(
    "/v1/domains/:domain/aliases/:id",
    {
      schema: { summary: "Change an alias (read_write)", params: aliasParams, body: object({ address: addressSchema, forward_to: forwardSchema }, [], { minProperties: 1 }), response: responses({ 200: aliasSchema }) },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const d = await authorizeDomain(tx, caller, request.params.domain, "domain.aliases.write");
        const [before] = await tx.query<AliasRow>("SELECT * FROM aliases WHERE domain_id = $1 AND id = $2 FOR UPDATE", [d.id, request.params.id]);
        if (!before) throw notFound(`Alias "${request.params.id}"`);
        let row: AliasRow;
        try {
          [row] = await tx.query<AliasRow>("UPDATE aliases SET address = COALESCE($2, address), forward_to = COALESCE($3::text[], forward_to), updated_at = now() WHERE id = $1 RETURNING *", [
            before.id,
            request.body.address ?? null,
            request.body.forward_to?.map((e) => e.toLowerCase()) ?? null,
          ]);
        } catch (err) {
          if (isUniqueViolation(err)) throw duplicate(request.body.address ?? before.address, d.name);
          throw err;
        }
        const after = toAlias(row, d.name);
        await recordAudit(tx, caller, "domain.alias.update", `domain:${d.name}/alias:${row.id}`, toAlias(before, d.name), after);
        return after;
      });
    },
  );

  app.delete<{ Params: { domain: string; id: string } }>(
    "/v1/domains/:domain/aliases/:id",
    { schema: { summary: "Delete an alias (read_write)", params: aliasParams, response: responses({ 204: noContent }) } },
    async (request, reply) => {
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        const d = await authorizeDomain(tx, caller, request.params.domain, "domain.aliases.write");
        const [row] = await tx.query<AliasRow>("DELETE FROM aliases WHERE domain_id = $1 AND id = $2 RETURNING *", [d.id, request.params.id]);
        if (!row) throw notFound(`Alias "${request.params.id}"`);
        await recordAudit(tx, caller, "domain.alias.delete", `domain:${d.name}/alias:${row.id}`, toAlias(row, d.name), null);
      });
      return reply.send();
    },
  );
}
