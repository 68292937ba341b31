import type { FastifyRequest } from "fastify";
import type { Database, Queryable } from "./db/adapter";
import { HttpProblem } from "./problem";
import { sha256 } from "./security";

/** Failed logins allowed per target email per window, whoever and wherever they come from. */
export const DEFAULT_LOGIN_FAILURE_LIMIT = { max: 10, windowMs: 15 * 60_000 };

/** Where the counts of fixed windows live. */
export interface WindowStore {
  /** Adds `add` (0 or 1) to the current window of `key`; returns its count and the ms until it ends. */
  count(key: string, windowMs: number, add: 0 | 1): Promise<{ count: number; resetInMs: number }>;
}

/**
 * Windows in this process's memory: right when this process is the only
 * server (PGlite owns its data directory).
 */
export class MemoryWindows implements WindowStore {
  private windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async count(key: string, windowMs: number, add: 0 | 1): Promise<{ count: number; resetInMs: number }> {
    const now = this.now();
    this.sweep(now, windowMs);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (add === 0) return { count: 0, resetInMs: 0 };
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count += add;
    return { count: w.count, resetInMs: w.resetAt - now };
  }

  /** Drops finished windows now and then, so unknown tokens cannot grow memory forever. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep < windowMs) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}

/**
 * Windows in the shared database, so that replicas on one PostgreSQL spend
 * one budget: a per-process count would let N replicas allow N times the
 * limit. Windows are aligned to the database's clock, not each replica's.
 */
export class DatabaseWindows implements WindowStore {
  private lastSweep = 0;

  constructor(private readonly db: Queryable) {}

  async count(key: string, windowMs: number, add: 0 | 1): Promise<{ count: number; resetInMs: number }> {
    const [row] = await this.db.query<{ count: number; reset_in_ms: string }>(
      `WITH now AS (SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms)
       INSERT INTO rate_limit_windows AS w (bucket, window_index, count)
         SELECT $1, floor((SELECT ms FROM now) / $2)::bigint, $3
       ON CONFLICT (bucket, window_index) DO UPDATE SET count = w.count + EXCLUDED.count
       RETURNING w.count, ceil((w.window_index + 1) * $2 - (SELECT ms FROM now))::bigint AS reset_in_ms`,
      [key, windowMs, add],
    );
    this.sweep(windowMs);
    return { count: Number(row.count), resetInMs: Number(row.reset_in_ms) };
  }

  /** Drops finished windows about once a window, off the request path. */
  private sweep(windowMs: number): void {
    const now = Date.now();
    if (now - this.lastSweep < Math.max(windowMs, 10_000)) return;
    this.lastSweep = now;
    this.db
      .query("DELETE FROM rate_limit_windows WHERE window_index < floor(extract(epoch FROM clock_timestamp()) * 1000 / $1)::bigint - 1", [windowMs])
      .catch(() => undefined);
  }
}

/**
 * A fixed-window rate limiter keyed by credential (or client IP when
 * unauthenticated). Fixed windows are cheap (one lookup per request) and
 * give clients an exact Retry-After.
 */
export class RateLimiter {
  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly store: WindowStore = new MemoryWindows(),
  ) {}

  /** Counts one request; resolves 0 when allowed, else the seconds to wait. */
  async hit(key: string): Promise<number> {
    const w = await this.store.count(key, this.windowMs, 1);
    return w.count <= this.max ? 0 : Math.max(1, Math.ceil(w.resetInMs / 1000));
  }

  /** The seconds to wait before `key` may be counted again (0: not limited now), without counting. */
  async wait(key: string): Promise<number> {
    const w = await this.store.count(key, this.windowMs, 0);
    return w.count < this.max ? 0 : Math.max(1, Math.ceil(w.resetInMs / 1000));
  }
}

/** A limiter whose windows are shared by every server on the database (in memory when this process is the only one). */
export function createRateLimiter(db: Database, limit: { max: number; windowMs: number }): RateLimiter {
  return new RateLimiter(limit.max, limit.windowMs, db.exclusive ? new MemoryWindows() : new DatabaseWindows(db));
}

/** Parses `N/window` like `100/1m`, `6000/60s`, `10/500ms`, or `off`. */
export function parseRateLimit(value: string): { max: number; windowMs: number } | false {
  if (value === "off" || value === "false" || value === "0") return false;
  const m = /^(\d+)\/(\d+)?(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new Error(`--rate-limit must look like 600/1m (requests per window: ms, s, m or h) or "off", got "${value}"`);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const windowMs = Number(m[2] ?? 1) * units[m[3] ?? "s"];
  const max = Number(m[1]);
  if (max < 1 || windowMs < 1) throw new Error(`--rate-limit needs at least 1 request per window, got "${value}"`);
  return { max, windowMs };
}

/** 429 with Retry-After, as problem+json. */
export function tooManyRequests(detail: string, wait: number): HttpProblem {
  return new HttpProblem(429, `${detail} Retry after ${wait}s.`, { headers: { "retry-after": String(wait) } });
}

const BEARER = /^Bearer\s+(\S{1,512})$/i;

/**
 * Counts a request in its bucket, or throws 429. Authenticated routes count
 * per credential (the token's hash, kept on the request for authentication).
 * Routes without authentication (login, invitations, verify-email) count per
 * client address whatever Authorization says, so a made-up bearer token
 * never buys a fresh bucket.
 */
export async function limitRequest(limiter: RateLimiter, request: FastifyRequest): Promise<void> {
  const m = BEARER.exec(request.headers.authorization ?? "");
  if (m) request.tokenHash = sha256(m[1]);
  const perCredential = m !== null && request.routeOptions.config.auth !== "none";
  const wait = await limiter.hit(perCredential ? `t:${request.tokenHash}` : `ip:${request.ip}`);
  if (wait > 0) throw tooManyRequests(`Rate limit of ${limiter.max} requests per ${limiter.windowMs / 1000}s exceeded.`, wait);
}

/**
 * A bearer token that does not authenticate counted only in its own (fresh)
 * bucket; it also spends its client address's budget, so guessing tokens
 * is limited like any unauthenticated request. Returns the error to throw.
 */
export async function limitFailedAuthentication(limiter: RateLimiter, request: FastifyRequest, error: unknown): Promise<unknown> {
  if (!(error instanceof HttpProblem) || error.code !== "POSTSCALE_E_UNAUTHENTICATED" || request.tokenHash === undefined) return error;
  const wait = await limiter.hit(`ip:${request.ip}`);
  return wait > 0 ? tooManyRequests(`Too many requests with tokens that do not authenticate from this address.`, wait) : error;
}
