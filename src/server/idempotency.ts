import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Database } from "./db/adapter";
import { HttpProblem, conflict, invalid } from "./problem";
import { sha256 } from "./security";

const HEADER = "idempotency-key";
const MAX_KEY_LENGTH = 255;

/** JSON with sorted keys, so the same body hashes the same whatever its key order. */
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
 * `Idempotency-Key` on POST: the first request with a key claims it (a row
 * with no response yet), its response is stored when sent, and a repeat
 * with the same body from the same credential gets that response back
 * without running the handler. A different body is a 422; a repeat while
 * the first is still running is a 409. 5xx responses release the key.
 */
export function registerIdempotency(app: FastifyInstance, db: Database): void {
  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== "POST") return;
    const key = request.headers[HEADER];
    if (key === undefined) return;
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw invalid([{ path: "/headers/idempotency-key", message: `must be one header of 1 to ${MAX_KEY_LENGTH} characters` }]);
    }
    const cred = request.caller?.credential;
    const scope = cred ? `${cred.kind}:${cred.id}` : "anonymous";
    const hash = sha256(`${request.method} ${request.url}\n${canonicalJson(request.body)}`);
    const claimed = await db.query(
      "INSERT INTO idempotency_keys (scope, key, org_id, request_hash) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key",
      [scope, key, request.caller?.orgId ?? null, hash],
    );
    if (claimed.length > 0) {
      request.idempotency = { scope, key };
      return;
    }
    const [row] = await db.query<{ request_hash: string; status: number | null; content_type: string | null; body: string | null }>(
      "SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE scope = $1 AND key = $2",
      [scope, key],
    );
    if (!row) throw conflict("This Idempotency-Key was just released; retry the request.");
    if (row.request_hash !== hash) {
      throw new HttpProblem(422, "This Idempotency-Key was already used with a different request; use a new key for a new request.", {
        errors: [{ path: "/headers/idempotency-key", message: "was already used with a different method, path or body" }],
      });
    }
    if (row.status === null) throw conflict("A request with this Idempotency-Key is still being processed; retry shortly.");
    reply.code(row.status).header("idempotent-replayed", "true");
    if (row.content_type) reply.header("content-type", row.content_type);
    return reply.send(row.body ?? undefined);
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = undefined;
    if (reply.statusCode >= 500) {
      await db.query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", [claim.scope, claim.key]);
    } else {
      const contentType = reply.getHeader("content-type");
      await db.query("UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 WHERE scope = $1 AND key = $2", [
        claim.scope,
        claim.key,
        reply.statusCode,
        typeof contentType === "string" ? contentType : null,
        typeof payload === "string" ? payload : null,
      ]);
    }
    return payload;
  });
}
