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
