import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Queryable } from "./db/adapter";
import { HttpProblem, invalid } from "./problem";

const HEADER = "idempotency-key";
const MAX_KEY_LENGTH = 255;
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** JSON with sorted keys, so the same body fingerprints the same whatever its key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * What the server keeps of an `Idempotency-Key`: nothing readable. A key
 * derived from the client's Idempotency-Key and the credential seals the
 * stored response (which may hold a new key's secret) and keys the hashes
 * of the lookup and of the request, so the store alone reveals neither.
 */
export interface IdempotencyClaim {
  lookup: string;
  fingerprint: string;
  sealKey: Buffer;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

function claimFor(request: FastifyRequest, key: string): IdempotencyClaim {
  const cred = request.caller!.credential;
  const sealKey = Buffer.from(hkdfSync("sha256", key, `${cred.kind}:${cred.id}`, "postscale idempotency v1", 32));
  const mac = (text: string) => createHmac("sha256", sealKey).update(text).digest("hex");
  return { sealKey, lookup: mac("lookup"), fingerprint: mac(`${request.method} ${request.url}\n${canonicalJson(request.body)}`) };
}

function seal(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64");
}

function unseal(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/**
 * Reads `Idempotency-Key` on authenticated POSTs and PUTs. The record itself is read
 * and written by the write's own transaction (see `Writer`), so the claim,
 * the work and the stored response commit together: a crash leaves either
 * nothing (the retry runs the request) or the finished record (the retry
 * gets the response), never a claim stuck "in progress". Unauthenticated
 * routes (login, accept, verify-email) keep nothing: a token they hand out
 * is never replayed to another caller.
 */
export function registerIdempotency(app: FastifyInstance): void {
  app.addHook("preHandler", async (request: FastifyRequest) => {
    // PUT too: a rotation that generates a secret is not repeat-safe without it.
    if ((request.method !== "POST" && request.method !== "PUT") || !request.caller) return;
    const key = request.headers[HEADER];
    if (key === undefined) return;
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]/.test(key)) {
      throw invalid([{ path: "/headers/idempotency-key", message: `must be one header of 1 to ${MAX_KEY_LENGTH} printable characters` }]);
    }
    request.idempotency = claimFor(request, key);
  });
}

// The tables of the objects a create returns, by id prefix (see newId).
const CREATED_TABLES: Readonly<Record<string, string>> = { mem: "members", key: "api_keys", dom: "domains", als: "aliases", irl: "inbound_rules" };

/**
 * Whether the object a stored create returned is still there. A create is
 * replayed only while its object exists: once deleted, repeating the create
 * must make it again, not hand back a dead id (nor, for a key rotated since,
 * a dead secret).
 */
async function createdObjectExists(tx: Queryable, body: unknown): Promise<boolean> {
  const { id, rotated_at: rotatedAt } = (body ?? {}) as { id?: unknown; rotated_at?: unknown };
  const table = typeof id === "string" ? CREATED_TABLES[id.split("_")[0]] : undefined;
  if (table === undefined) return true;
  // A key whose secret was rotated since would be replayed with a secret that no longer works: make the create run again instead.
  if (table === "api_keys" && typeof rotatedAt === "string") {
    // The record's time has milliseconds; the column may have microseconds.
    return (await tx.query("SELECT 1 FROM api_keys WHERE id = $1 AND secret_rotated_at < $2::timestamptz + interval '1 millisecond'", [id, rotatedAt])).length > 0;
  }
  return (await tx.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).length > 0;
}

/**
 * The stored response for this claim, or null (none, expired, or a create
 * whose object has since been deleted); a different request under the
 * same key is a 422.
 */
export async function findResponse(tx: Queryable, claim: IdempotencyClaim): Promise<StoredResponse | null> {
  const [row] = await tx.query<{ fingerprint: string; status: number; sealed_body: string | null }>(
    "SELECT fingerprint, status, sealed_body FROM idempotency_records WHERE lookup = $1 AND expires_at > now()",
    [claim.lookup],
  );
  if (!row) return null;
  if (row.fingerprint !== claim.fingerprint) {
    throw new HttpProblem(422, "This Idempotency-Key was already used with a different request; use a new key for a new request.", {
      errors: [{ path: "/headers/idempotency-key", message: "was already used with a different method, path or body" }],
    });
  }
  const stored = { status: Number(row.status), body: row.sealed_body === null ? undefined : JSON.parse(unseal(claim.sealKey, row.sealed_body)) };
  if (stored.status === 201 && !(await createdObjectExists(tx, stored.body))) return null;
  return stored;
}

/** Keeps the response of a write under its claim, in the write's transaction, until `ttlSeconds` from now. */
export async function storeResponse(tx: Queryable, claim: IdempotencyClaim, orgId: string, response: StoredResponse, ttlSeconds: number): Promise<void> {
  const sealed = response.body === undefined ? null : seal(claim.sealKey, JSON.stringify(response.body));
  await tx.query(
    `INSERT INTO idempotency_records (lookup, org_id, fingerprint, status, sealed_body, expires_at) VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
     ON CONFLICT (lookup) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status, sealed_body = EXCLUDED.sealed_body, created_at = now(), expires_at = EXCLUDED.expires_at`,
    [claim.lookup, orgId, claim.fingerprint, response.status, sealed, ttlSeconds],
  );
}

/** Drops expired records. */
export async function purgeExpired(q: Queryable): Promise<void> {
  await q.query("DELETE FROM idempotency_records WHERE expires_at <= now()");
}
