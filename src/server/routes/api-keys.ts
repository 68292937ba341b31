import type { FastifyInstance } from "fastify";
import { Access, KeyHolder, decideKeyChange, decideKeyRead, keysVisibleTo, resolveKeyScope } from "../../policy";
import { recordAudit } from "../audit";
import { Caller, callerOf, type Services } from "../context";
import { type Queryable, isUniqueViolation } from "../db/adapter";
import { HttpProblem, fromViolation, invalid, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { KEY_COLUMNS, KeyRow, grantsOf, toApiKey } from "../records";
import { apiKeySchema, createdApiKeySchema, domainNameSchema, idSchema, keyParams, listQuery, nameSchema, noContent, object, page, responses } from "../schemas";
import { API_KEY_PREFIX, KEY_PREFIX_LENGTH, newId, newSecret, sha256 } from "../security";

const domainsInput = { type: ["array", "null"], maxItems: 1000, items: domainNameSchema } as const;

/** The member who will hold a key, with their grants now; null when there is no such member. */
async function loadHolder(q: Queryable, orgId: string, memberId: string | null | undefined): Promise<KeyHolder | null> {
  if (!memberId) return null;
  const [row] = await q.query<{ id: string; email: string; role: KeyHolder["role"]; grants: Record<string, Access> | null }>(
    `SELECT m.id, m.email, m.role, ${grantsOf("m.id")} FROM members m WHERE m.org_id = $1 AND m.id = $2`,
    [orgId, memberId],
  );
  return row ? { id: row.id, email: row.email, role: row.role, grants: row.grants ?? {} } : null;
}

async function domainNames(q: Queryable, orgId: string): Promise<string[]> {
  return (await q.query<{ name: string }>("SELECT name FROM domains WHERE org_id = $1", [orgId])).map((r) => r.name);
}

/** A key the caller may see, or 404 (others' keys are invisible, per the policy). */
async function loadVisibleKey(q: Queryable, caller: Caller, id: string, lock = false): Promise<KeyRow> {
  const [row] = await q.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.org_id = $1 AND k.id = $2${lock ? " FOR UPDATE" : ""}`, [caller.orgId, id]);
  if (!row) throw notFound("API key");
  const decision = decideKeyRead(caller.principal, { owner: row.owner, memberId: row.member_id });
  if (!decision.allowed) throw fromViolation(decision);
  return row;
}

/** A key the caller may rename, rescope or revoke, with its holder; never a key of someone above the caller. */
async function loadChangeableKey(q: Queryable, caller: Caller, id: string): Promise<{ key: KeyRow; holder: KeyHolder | null }> {
  const key = await loadVisibleKey(q, caller, id, true);
  const holder = key.owner === "member" ? await loadHolder(q, caller.orgId, key.member_id) : null;
  const decision = decideKeyChange(caller.principal, { owner: key.owner, memberId: key.member_id }, holder);
  if (!decision.allowed) throw fromViolation(decision);
  return { key, holder };
}

/** Key names are unique per holder (and among organization keys): a repeat is a 409 the provider can resolve. */
function nameTaken(name: string): HttpProblem {
  return new HttpProblem(409, `An API key named "${name}" already exists for this holder; key names are unique per holder and among organization keys.`, { rule: "key_name_taken" });
}

async function withUniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (name !== undefined && isUniqueViolation(err)) throw nameTaken(name);
    throw err;
  }
}

export function registerApiKeyRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;

  app.get<{ Querystring: { limit: number; cursor?: string; created_by?: string } }>(
    "/v1/api-keys",
    {
      config: { orgAction: "api_key.list" },
      schema: {
        summary: "API keys (owner/admin: all; member: own); created_by filters on the person whose credential created them",
        querystring: listQuery({ created_by: idSchema }),
        response: responses({ 200: page(apiKeySchema) }),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const visible = keysVisibleTo(caller.principal);
      const after = decodeCursor(request.query.cursor);
      const rows = await db.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.org_id = $1 AND ($2::boolean OR (k.owner = 'member' AND k.member_id = $3))
           AND ($4::text IS NULL OR k.id > $4) AND ($5::text IS NULL OR k.created_by = $5) ORDER BY k.id LIMIT $6`,
        [caller.orgId, visible.all, visible.all ? null : visible.heldBy, after, request.query.created_by ?? null, request.query.limit + 1],
      );
      return toPage(rows, request.query.limit, (r) => r.id, toApiKey);
    },
  );

  app.post<{ Body: { name: string; owner: "organization" | "member"; member_id?: string | null; domains?: string[] | null; expires_at?: string | null } }>(
    "/v1/api-keys",
    {
      config: { orgAction: "api_key.create" },
      schema: {
        summary: "Create a key; the secret is in this response only",
        body: object(
          {
            name: nameSchema,
            owner: { type: "string", enum: ["organization", "member"] },
            member_id: { type: ["string", "null"], minLength: 1, maxLength: 64 },
            domains: domainsInput,
            expires_at: { type: ["string", "null"], format: "date-time" },
          },
          ["name", "owner"],
        ),
        response: responses({ 201: createdApiKeySchema }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.expires_at && Date.parse(b.expires_at) <= Date.now()) throw invalid([{ path: "/expires_at", message: "must be in the future" }]);
      return services.writer.run(request, reply, 201, async ({ tx, caller }) => {
        const secret = newSecret(API_KEY_PREFIX);
        // A member key without member_id belongs to the caller.
        const holder = b.owner === "member" ? await loadHolder(tx, caller.orgId, b.member_id ?? caller.principal.memberId) : null;
        const scope = resolveKeyScope(caller.principal, { owner: b.owner, memberId: b.member_id ?? null, domains: b.domains ?? null }, holder, await domainNames(tx, caller.orgId));
        if (!scope.allowed) throw fromViolation(scope);
        const [row] = await withUniqueName(b.name, () =>
          tx.query<KeyRow>(
            `INSERT INTO api_keys AS k (id, org_id, name, prefix, secret_hash, owner, member_id, scope, domains, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, $11) RETURNING ${KEY_COLUMNS}`,
            [newId("key"), caller.orgId, b.name, secret.slice(0, KEY_PREFIX_LENGTH), sha256(secret), b.owner, b.owner === "member" ? holder!.id : null, scope.scope, scope.domains, b.expires_at ?? null, caller.member!.id],
          ),
        );
        const key = toApiKey(row);
        await recordAudit(tx, caller, "api_key.create", `api_key:${row.id}`, null, key);
        return { ...key, secret };
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/api-keys/:id",
    { config: { orgAction: "api_key.list" }, schema: { summary: "One key (never its secret)", params: keyParams, response: responses({ 200: apiKeySchema }) } },
    async (request) => toApiKey(await loadVisibleKey(db, callerOf(request), request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; domains?: string[] | null } }>(
    "/v1/api-keys/:id",
    {
      config: { orgAction: "api_key.manage" },
      schema: {
        summary: "Rename or rescope a key (the same scope rules as creating one)",
        params: keyParams,
        body: object({ name: nameSchema, domains: domainsInput }, [], { minProperties: 1 }),
        response: responses({ 200: apiKeySchema }),
      },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const { key: before, holder } = await loadChangeableKey(tx, caller, request.params.id);
        let scope = { scope: before.scope, domains: before.domains };
        if ("domains" in request.body) {
          const decision = resolveKeyScope(caller.principal, { owner: before.owner, memberId: before.member_id, domains: request.body.domains }, holder, await domainNames(tx, caller.orgId));
          if (!decision.allowed) throw fromViolation(decision);
          scope = decision;
        }
        const [row] = await withUniqueName(request.body.name, () =>
          tx.query<KeyRow>(`UPDATE api_keys AS k SET name = COALESCE($2, name), scope = $3, domains = $4::text[] WHERE k.id = $1 RETURNING ${KEY_COLUMNS}`, [
            before.id,
            request.body.name ?? null,
            scope.scope,
            scope.domains,
          ]),
        );
        const after = toApiKey(row);
        await recordAudit(tx, caller, "api_key.update", `api_key:${row.id}`, toApiKey(before), after);
        return after;
      });
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/api-keys/:id",
    { config: { orgAction: "api_key.manage" }, schema: { summary: "Revoke (delete) a key", params: keyParams, response: responses({ 204: noContent }) } },
    async (request, reply) => {
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        const { key } = await loadChangeableKey(tx, caller, request.params.id);
        await tx.query("DELETE FROM api_keys WHERE id = $1", [key.id]);
        await recordAudit(tx, caller, "api_key.delete", `api_key:${key.id}`, toApiKey(key), null);
      });
      return reply.send();
    },
  );
}
