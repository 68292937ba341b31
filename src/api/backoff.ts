/**
 * How long to wait before the next attempt: exponential backoff with full
 * jitter, or the server's `Retry-After` when it sent one. Pure functions so
 * the schedule can be tested without a clock.
 */

/** Backoff tuning, all in milliseconds. */
export interface BackoffSettings {
  /** Ceiling of the first retry's delay; doubles per retry. */
  minBackoffMs: number;
  /** No computed delay exceeds this. */
  maxBackoffMs: number;
  /** A server-sent `Retry-After` is honoured up to this long. */
  maxRetryAfterMs: number;
}

/**
 * Full jitter ("Exponential Backoff And Jitter", AWS architecture blog):
 * a uniform delay in [0, min(max, min * 2^retry)). Spreading retries over
 * the whole window keeps many clients that failed together from retrying
 * together.
 *
 * @param retry 0 for the first retry, 1 for the second, ...
 * @param random a number in [0, 1), `Math.random` in production.
 */
export function jitteredBackoffMs(retry: number, settings: BackoffSettings, random: () => number): number {
  const ceiling = Math.min(settings.maxBackoffMs, settings.minBackoffMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date. Returns milliseconds from `now`, never negative, or undefined
 * when the header is absent or unreadable.
 */
export function parseRetryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date always names a weekday and month; this keeps Date.parse
  // from reading "-1" or "2" as a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The delay before retry number `retry`: the server's `Retry-After` when
 * given (capped, because a misbehaving server must not park a client for
 * hours), else jittered exponential backoff.
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  settings: BackoffSettings,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, settings.maxRetryAfterMs);
  return jitteredBackoffMs(retry, settings, random);
}
