import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { type KeyHolder, MAX_KEY_MATERIAL_LENGTH, decideKeyChange, decideKeyRead, keyMaterialProblem, keysVisibleTo, resolveKeyScope } from "../../policy";
import { recordAudit } from "../audit";
import { type Caller, callerOf } from "../context";
import { type Queryable, onUniqueViolation } from "../db/adapter";
import { domainNames } from "../data/domains";
import { deleteKey, findKey, insertKey, listKeys, rotateKeySecret, secretHashInUse, updateKey } from "../data/keys";
import { findKeyHolder } from "../data/members";
import { HttpProblem, fromViolation, invalid, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { type KeyRow, toApiKey } from "../records";
import { apiKeySchema, createdApiKeySchema, domainNameSchema, idSchema, keyParams, listQuery, nameSchema, noContent, object, page, responses } from "../schemas";
import { API_KEY_PREFIX, KEY_PREFIX_LENGTH, newId, newSecret, sha256 } from "../security";
import type { RoutePluginOptions } from "../services";
import type { WriteScope } from "../write";

const domainsInput = { type: ["array", "null"], maxItems: 1000, items: domainNameSchema } as const;

type ListRoute = { Querystring: { limit: number; cursor?: string; created_by?: string } };
type CreateBody = { name: string; owner: "organization" | "member"; member_id?: string | null; domains?: string[] | null; expires_at?: string | null; secret?: string };
type KeyRoute = { Params: { id: string } };
type ChangeBody = { name?: string; domains?: string[] | null };
type RotateBody = { secret?: string; overlap_seconds?: number };

/** The longest overlap a rotation may ask for: a day. */
export const MAX_OVERLAP_SECONDS = 86_400;

// The rule itself is the policy's (keyMaterialProblem); the schema only bounds the size.
const secretInput = {
  type: "string",
  maxLength: MAX_KEY_MATERIAL_LENGTH * 4,
  description:
    "Bring your own secret: 32 to 256 characters of letters, digits and !#$%&()*+,-./:;<=>?@[]^_{|}~, at least 10 different characters and an estimated 110 bits of entropy, not repetitive; not a secret any key has. Only its hash is stored, and the response's `secret` is null.",
} as const;

const listOptions = {
  config: { orgAction: "api_key.list" },
  schema: {
    summary: "API keys (owner/admin: all; member: own); created_by filters on the person whose credential created them",
    querystring: listQuery({ created_by: idSchema }),
    response: responses({ 200: page(apiKeySchema) }),
  },
} as const;

const createOptions = {
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
        secret: secretInput,
      },
      ["name", "owner"],
    ),
    response: responses({ 201: createdApiKeySchema }),
  },
} as const;

const readOptions = { config: { orgAction: "api_key.list" }, schema: { summary: "One key (never its secret)", params: keyParams, response: responses({ 200: apiKeySchema }) } } as const;

const changeOptions = {
  config: { orgAction: "api_key.manage" },
  schema: {
    summary: "Rename or rescope a key (the same scope rules as creating one)",
    params: keyParams,
    body: object({ name: nameSchema, domains: domainsInput }, [], { minProperties: 1 }),
    response: responses({ 200: apiKeySchema }),
  },
} as const;

const rotateOptions = {
  config: { orgAction: "api_key.manage" },
  schema: {
    summary:
      "Rotate a key's secret in place (same id, scope and name): a new generated secret in this response only, or the client's own (`secret`, stored as a hash, answered as null). The replaced secret keeps working for `overlap_seconds` (0 to 86400, default 0), then answers 401. Who may rotate a key is who may rename it. Send an Idempotency-Key to make a repeat safe.",
    params: keyParams,
    body: object({ secret: secretInput, overlap_seconds: { type: "integer", minimum: 0, maximum: MAX_OVERLAP_SECONDS, default: 0 } }, []),
    response: responses({ 200: createdApiKeySchema }),
  },
} as const;

const deleteOptions = { config: { orgAction: "api_key.manage" }, schema: { summary: "Revoke (delete) a key", params: keyParams, response: responses({ 204: noContent }) } } as const;

/** API keys: list, create, read, rename or rescope, revoke. */
export const apiKeyRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { db } = services.deps;
  const { writer } = services;
  app.get<ListRoute>("/v1/api-keys", listOptions, (request) => list(db, request));
  app.post<{ Body: CreateBody }>("/v1/api-keys", createOptions, async (request, reply) => {
    const b = request.body;
    if (b.expires_at && Date.parse(b.expires_at) <= Date.now()) throw invalid([{ path: "/expires_at", message: "must be in the future" }]);
    checkSuppliedSecret(b.secret);
    return writer.run(request, reply, 201, (scope) => create(scope, b));
  });
  app.get<KeyRoute>("/v1/api-keys/:id", readOptions, async (request) => toApiKey(await requireVisibleKey(db, callerOf(request), request.params.id)));
  app.patch<KeyRoute & { Body: ChangeBody }>("/v1/api-keys/:id", changeOptions, (request, reply) => writer.run(request, reply, 200, (scope) => change(scope, request.params.id, request.body)));
  app.put<KeyRoute & { Body: RotateBody }>("/v1/api-keys/:id/secret", rotateOptions, (request, reply) => {
    checkSuppliedSecret(request.body.secret);
    return writer.run(request, reply, 200, (scope) => rotate(scope, request.params.id, request.body));
  });
  app.delete<KeyRoute>("/v1/api-keys/:id", deleteOptions, (request, reply) => writer.runNoContent(request, reply, (scope) => revoke(scope, request.params.id)));
};

/** A key the caller may see, or 404 (others' keys are invisible, per the policy). */
async function requireVisibleKey(q: Queryable, caller: Caller, id: string, lock = false): Promise<KeyRow> {
  const row = await findKey(q, caller.orgId, id, lock);
  if (!row) throw notFound("API key");
  const decision = decideKeyRead(caller.principal, { owner: row.owner, memberId: row.member_id });
  if (!decision.allowed) throw fromViolation(decision);
  return row;
}

/** A key the caller may rename, rescope or revoke, with its holder; never a key of someone above the caller. */
async function requireChangeableKey(q: Queryable, caller: Caller, id: string): Promise<{ key: KeyRow; holder: KeyHolder | null }> {
  const key = await requireVisibleKey(q, caller, id, true);
  const holder = key.owner === "member" ? await findKeyHolder(q, caller.orgId, key.member_id) : null;
  const decision = decideKeyChange(caller.principal, { owner: key.owner, memberId: key.member_id }, holder);
  if (!decision.allowed) throw fromViolation(decision);
  return { key, holder };
}

/** Key names are unique per holder (and among organization keys): a repeat is a 409 the provider can resolve. */
function nameTaken(name: string): HttpProblem {
  return new HttpProblem(409, `An API key named "${name}" already exists for this holder; key names are unique per holder and among organization keys.`, { rule: "key_name_taken" });
}

async function withUniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  return name === undefined ? write() : write().catch(onUniqueViolation(() => nameTaken(name)));
}

/** Bring-your-own material that breaks the policy's rule: 422 naming `secret` (the material itself is never echoed). */
function checkSuppliedSecret(secret: string | undefined): void {
  if (secret === undefined) return;
  const problem = keyMaterialProblem(secret);
  if (problem) throw invalid([{ path: "/secret", message: problem }]);
}

/** A key's next secret: generated (returned once), or the client's own (only its hash kept; must be one no key has). */
async function nextSecret(tx: Queryable, supplied: string | undefined): Promise<{ secret: string | null; prefix: string; secretHash: string; supplied: boolean }> {
  if (supplied === undefined) {
    const secret = newSecret(API_KEY_PREFIX);
    return { secret, prefix: secret.slice(0, KEY_PREFIX_LENGTH), secretHash: sha256(secret), supplied: false };
  }
  const secretHash = sha256(supplied);
  if (await secretHashInUse(tx, secretHash)) throw invalid([{ path: "/secret", message: "must be new material: it is the current or previous secret of a key (perhaps this one); generate fresh random material" }]);
  return { secret: null, prefix: suppliedPrefix(secretHash), secretHash, supplied: true };
}

/**
 * The prefix of a key whose secret the client brought: a fingerprint of
 * its hash (`sha256:` and 8 hex digits), never characters of the secret,
 * so it shows which material a key holds without narrowing a guess.
 */
function suppliedPrefix(secretHash: string): string {
  return `sha256:${secretHash.slice(0, 8)}`;
}

async function list(db: Queryable, request: FastifyRequest<ListRoute>) {
  const caller = callerOf(request);
  const visible = keysVisibleTo(caller.principal);
  const { limit, cursor, created_by } = request.query;
  const rows = await listKeys(db, caller.orgId, { all: visible.all, heldBy: visible.all ? null : visible.heldBy, createdBy: created_by ?? null }, decodeCursor(cursor), limit);
  return toPage(rows, limit, (r) => r.id, toApiKey);
}

async function create({ tx, caller }: WriteScope, b: CreateBody) {
  // A member key without member_id belongs to the caller.
  const holder = b.owner === "member" ? await findKeyHolder(tx, caller.orgId, b.member_id ?? caller.principal.memberId) : null;
  const scope = resolveKeyScope(caller.principal, { owner: b.owner, memberId: b.member_id ?? null, domains: b.domains ?? null }, holder, await domainNames(tx, caller.orgId));
  if (!scope.allowed) throw fromViolation(scope);
  const secret = await nextSecret(tx, b.secret);
  const row = await withUniqueName(b.name, () =>
    insertKey(tx, {
      id: newId("key"),
      orgId: caller.orgId,
      name: b.name,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      secretSupplied: secret.supplied,
      owner: b.owner,
      memberId: b.owner === "member" ? holder!.id : null,
      scope: scope.scope,
      domains: scope.domains,
      expiresAt: b.expires_at ?? null,
      createdBy: caller.member!.id,
    }),
  );
  const key = toApiKey(row);
  await recordAudit(tx, caller, "api_key.create", `api_key:${row.id}`, null, key);
  return { ...key, secret: secret.secret };
}

/** A new secret for a key, decided like renaming it (decideKeyChange); the old one works for the overlap. */
async function rotate({ tx, caller }: WriteScope, id: string, body: RotateBody) {
  const { key: before } = await requireChangeableKey(tx, caller, id);
  const secret = await nextSecret(tx, body.secret);
  const row = await rotateKeySecret(tx, before.id, secret, body.overlap_seconds ?? 0);
  const after = toApiKey(row);
  await recordAudit(tx, caller, "api_key.rotate", `api_key:${row.id}`, toApiKey(before), after);
  return { ...after, secret: secret.secret };
}

async function change({ tx, caller }: WriteScope, id: string, body: ChangeBody) {
  const { key: before, holder } = await requireChangeableKey(tx, caller, id);
  let scope = { scope: before.scope, domains: before.domains };
  if ("domains" in body) {
    const decision = resolveKeyScope(caller.principal, { owner: before.owner, memberId: before.member_id, domains: body.domains }, holder, await domainNames(tx, caller.orgId));
    if (!decision.allowed) throw fromViolation(decision);
    scope = decision;
  }
  const row = await withUniqueName(body.name, () => updateKey(tx, before.id, body.name ?? null, scope));
  const after = toApiKey(row);
  await recordAudit(tx, caller, "api_key.update", `api_key:${row.id}`, toApiKey(before), after);
  return after;
}

async function revoke({ tx, caller }: WriteScope, id: string): Promise<void> {
  const { key } = await requireChangeableKey(tx, caller, id);
  await deleteKey(tx, key.id);
  await recordAudit(tx, caller, "api_key.delete", `api_key:${key.id}`, toApiKey(key), null);
}
