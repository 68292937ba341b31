import type { FastifyRequest } from "fastify";
import { type Principal, organizationKeyPrincipal } from "../policy";
import type { Database, Queryable } from "./db/adapter";
import type { Caller } from "./context";
import { HttpProblem } from "./problem";
import { findKeyCredential, touchKey } from "./data/keys";
import { findSessionCredential } from "./data/sessions";
import type { KeyRow, MemberRow } from "./records";
import { SESSION_PREFIX, sha256 } from "./security";

/** A resolved credential plus when it stops being valid. */
interface Resolved {
  caller: Caller;
  expiresAt: number | null;
}

const LAST_USED_GRANULARITY_MS = 60_000;
const CACHE_LIMIT = 10_000;

/**
 * Turns bearer tokens into callers. Every request sees the grants as they
 * are now. When this process is the only writer (PGlite), a resolved
 * caller is reused until the next write anywhere, which is exactly as
 * fresh as a query; with a shared PostgreSQL nothing is cached.
 */
export class Authenticator {
  private cache = new Map<string, { generation: number; value: Resolved | null }>();

  constructor(private readonly db: Database) {}

  /** The caller, or a 401 problem. */
  async authenticate(request: FastifyRequest): Promise<Caller> {
    const token = bearerToken(request);
    const hash = request.tokenHash ?? sha256(token);
    const caller = checked(await this.resolve(token, hash));
    if (caller.credential.kind === "api_key") this.touch(caller.credential.key);
    return caller;
  }

  /**
   * The caller again, read inside a write's transaction (never from the
   * cache), so the write is decided on the role, grants, key and session as
   * they are after every write committed before it.
   */
  async reload(tx: Queryable, request: FastifyRequest): Promise<Caller> {
    const token = bearerToken(request);
    return checked(await this.load(tx, token, request.tokenHash ?? sha256(token)));
  }

  private load(q: Queryable, token: string, hash: string): Promise<Resolved | null> {
    if (token.startsWith(SESSION_PREFIX)) return this.loadSession(q, hash);
    // Generated key secrets start with ps_; a secret the client brought may start with anything but a session's prefix.
    return this.loadKey(q, hash);
  }

  private async resolve(token: string, hash: string): Promise<Resolved | null> {
    const generation = this.db.generation;
    if (this.db.exclusive) {
      const hit = this.cache.get(hash);
      if (hit && hit.generation === generation) return hit.value;
    }
    const value = await this.load(this.db, token, hash);
    if (this.db.exclusive) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(hash, { generation, value });
    }
    return value;
  }

  private async loadKey(q: Queryable, hash: string): Promise<Resolved | null> {
    const row = await findKeyCredential(q, hash);
    if (!row) return null;
    const key: KeyRow = {
      id: row.id,
      org_id: row.org_id,
      name: row.name,
      prefix: row.prefix,
      owner: row.owner,
      member_id: row.member_id,
      scope: row.scope,
      domains: row.domains ?? [],
      created_at: row.created_at,
      created_by: row.created_by,
      expires_at: row.expires_at,
      last_used_at: row.last_used_at,
      secret_rotated_at: row.secret_rotated_at,
      previous_secret_expires_at: row.previous_secret_expires_at,
      secret_supplied: row.secret_supplied,
    };
    // A secret replaced by a rotation works until its overlap ends, a cached resolution included.
    const ends = [row.expires_at, row.secret_valid_until].filter((t): t is Date => t !== null).map((t) => new Date(t).getTime());
    const expiresAt = ends.length > 0 ? Math.min(...ends) : null;
    const scope = { owner: key.owner, scope: key.scope, domains: key.domains };
    if (key.owner === "organization") {
      return { caller: { orgId: key.org_id, principal: organizationKeyPrincipal(scope), credential: { kind: "api_key", id: key.id, key }, member: null }, expiresAt };
    }
    if (!row.m_id) return null;
    // The secret is valid; say why it does not work yet rather than "not valid".
    if (!row.joined_at) {
      throw unauthenticated(`This API key is held by ${row.email}, who has not joined the organization yet: it works once they accept their invitation.`, "key_holder_not_joined");
    }
    const member: MemberRow = {
      id: row.m_id,
      org_id: key.org_id,
      email: row.email,
      role: row.role,
      name: row.m_name,
      invited_at: row.invited_at,
      invitation_expires_at: row.invitation_expires_at,
      accepted_at: row.accepted_at,
      joined_at: row.joined_at,
      invited_by: row.invited_by,
    };
    const principal: Principal = { role: member.role, memberId: member.id, email: member.email, grants: row.grants ?? {}, key: scope };
    return { caller: { orgId: key.org_id, principal, credential: { kind: "api_key", id: key.id, key }, member }, expiresAt };
  }

  private async loadSession(q: Queryable, hash: string): Promise<Resolved | null> {
    const row = await findSessionCredential(q, hash);
    if (!row || !row.joined_at) return null;
    const { session_id, session_expires_at, grants, ...member } = row;
    const principal: Principal = { role: member.role, memberId: member.id, email: member.email, grants: grants ?? {} };
    return {
      caller: { orgId: member.org_id, principal, credential: { kind: "session", id: session_id }, member },
      expiresAt: new Date(session_expires_at).getTime(),
    };
  }

  /** Records key use at most once a minute per key, off the request path. */
  private touch(key: KeyRow): void {
    const last = key.last_used_at ? new Date(key.last_used_at).getTime() : 0;
    const now = Date.now();
    if (now - last < LAST_USED_GRANULARITY_MS) return;
    key.last_used_at = new Date(now);
    touchKey(this.db, key.id).catch(() => undefined);
  }
}

/** A resolved credential that is still valid, or a 401 problem. */
function checked(resolved: Resolved | null): Caller {
  if (!resolved) throw unauthenticated("The token is not valid (unknown, revoked, or its member was removed).");
  if (resolved.expiresAt !== null && resolved.expiresAt <= Date.now()) {
    throw unauthenticated(resolved.caller.credential.kind === "api_key" ? "The API key has expired." : "The session has expired; log in again.");
  }
  return resolved.caller;
}

function unauthenticated(detail: string, rule?: string): HttpProblem {
  return new HttpProblem(401, detail, { rule, headers: { "www-authenticate": 'Bearer realm="postscale"' } });
}

/** The bearer token of a request, or a 401 problem. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw unauthenticated("Send Authorization: Bearer <token> (an API key or a session token from POST /v1/auth/login).");
  const m = /^Bearer\s+(\S{1,512})$/i.exec(header);
  if (!m) throw unauthenticated("The Authorization header must be `Bearer <token>`.");
  return m[1];
}
