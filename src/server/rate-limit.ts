import type { FastifyRequest } from "fastify";
import { HttpProblem } from "./problem";
import { sha256 } from "./security";

/** Failed logins allowed per target email per window, whoever and wherever they come from. */
export const DEFAULT_LOGIN_FAILURE_LIMIT = { max: 10, windowMs: 15 * 60_000 };

/**
 * A fixed-window rate limiter keyed by credential (or client IP when
 * unauthenticated). Fixed windows are cheap (one map lookup per request)
 * and give clients an exact Retry-After.
 */
export class RateLimiter {
  private windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request; returns 0 when allowed, else the seconds to wait. */
  hit(key: string): number {
    const now = this.now();
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.max) return 0;
    return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
  }

  /** The seconds to wait before `key` may be counted again (0: not limited now), without counting. */
  wait(key: string): number {
    const now = this.now();
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now || w.count < this.max) return 0;
    return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
  }

  /** Drops finished windows now and then, so unknown tokens cannot grow memory forever. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
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
export function limitRequest(limiter: RateLimiter, request: FastifyRequest): void {
  const m = BEARER.exec(request.headers.authorization ?? "");
  if (m) request.tokenHash = sha256(m[1]);
  const perCredential = m !== null && request.routeOptions.config.auth !== "none";
  const wait = limiter.hit(perCredential ? `t:${request.tokenHash}` : `ip:${request.ip}`);
  if (wait > 0) throw tooManyRequests(`Rate limit of ${limiter.max} requests per ${limiter.windowMs / 1000}s exceeded.`, wait);
}

/**
 * A bearer token that does not authenticate counted only in its own (fresh)
 * bucket; it also spends its client address's budget, so guessing tokens
 * is limited like any unauthenticated request. Returns the error to throw.
 */
export function limitFailedAuthentication(limiter: RateLimiter, request: FastifyRequest, error: unknown): unknown {
  if (!(error instanceof HttpProblem) || error.status !== 401 || request.tokenHash === undefined) return error;
  const wait = limiter.hit(`ip:${request.ip}`);
  return wait > 0 ? tooManyRequests(`Too many requests with tokens that do not authenticate from this address.`, wait) : error;
}
