/**
 * Which failures are worth another attempt, and what a transport failure
 * was. Retrying is only safe when a repeat cannot do the work twice:
 * idempotent methods (PATCH included: the API's PATCHes set absolute
 * values), and POSTs carrying an `Idempotency-Key` (the server answers a
 * repeat with the first response).
 */
import type { NetworkFailure } from "../errors";

/** HTTP methods the client sends. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(["GET", "HEAD", "PUT", "PATCH", "DELETE"]);

/** Gateway and overload statuses: the request most likely never ran, or can run again. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * What each known transport error code means. Codes come from Node's
 * sockets and DNS, from undici, and from the attempt's own timeout
 * (a DOMException named TimeoutError).
 */
const FAILURE_BY_CODE: ReadonlyMap<string, Exclude<NetworkFailure, "cancelled" | "other">> = new Map([
  // Never connected: nothing was sent.
  ["ECONNREFUSED", "unreachable"],
  ["ENOTFOUND", "unreachable"],
  ["EAI_AGAIN", "unreachable"],
  ["ENETUNREACH", "unreachable"],
  ["EHOSTUNREACH", "unreachable"],
  ["ETIMEDOUT", "unreachable"],
  ["UND_ERR_CONNECT_TIMEOUT", "unreachable"],
  // Connected, then the connection broke: the request may have been sent.
  ["ECONNRESET", "reset"],
  ["EPIPE", "reset"],
  ["UND_ERR_SOCKET", "reset"],
  // Connected and sent, but no (complete) answer in time.
  ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
  ["UND_ERR_BODY_TIMEOUT", "timeout"],
  ["TimeoutError", "timeout"],
] as const);

/**
 * Transport failures that mean "the connection broke", not "the request is
 * wrong". Timeouts are here too: for a request that is safe to repeat, a
 * slow attempt is worth another one. ENOTFOUND and the unreachable-network
 * codes are not: a name that does not resolve will not resolve in 200 ms.
 */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "TimeoutError",
]);

/** True when repeating the request cannot apply it twice. */
export function isRepeatSafe(method: HttpMethod, hasIdempotencyKey: boolean): boolean {
  return IDEMPOTENT_METHODS.has(method) || (method === "POST" && hasIdempotencyKey);
}

/**
 * Whether a response status deserves another attempt. 429 always does,
 * whatever the method: the server refused before doing anything.
 */
export function isRetryableStatus(status: number, repeatSafe: boolean): boolean {
  if (status === 429) return true;
  return repeatSafe && RETRYABLE_STATUSES.has(status);
}

/** Whether a transport error deserves another attempt. */
export function isRetryableNetworkError(error: unknown, repeatSafe: boolean): boolean {
  return repeatSafe && networkErrorCode(error) !== undefined;
}

/** The first retryable code found on the error's chain (see {@link findCode}), or undefined. */
export function networkErrorCode(error: unknown): string | undefined {
  return findCode(error, (code) => RETRYABLE_NETWORK_CODES.has(code));
}

/** A transport error's code and what it means. */
export interface ClassifiedNetworkError {
  failure: Exclude<NetworkFailure, "cancelled">;
  /** The known code found on the error's chain, else its outermost code, if any. */
  code: string | undefined;
}

/** What a transport error was: unreachable, reset, timeout, or other. */
export function classifyNetworkError(error: unknown): ClassifiedNetworkError {
  const known = findCode(error, (code) => FAILURE_BY_CODE.has(code));
  if (known !== undefined) return { failure: FAILURE_BY_CODE.get(known) ?? "other", code: known };
  // Names like "TypeError" are not codes; codes are SHOUTED (ERR_TLS_CERT_ALTNAME_INVALID).
  return { failure: "other", code: findCode(error, (code) => /^[A-Z][A-Z0-9_]+$/.test(code)) };
}

/**
 * The first `code` (or `name`, for DOMExceptions) that `accept`s, looking at
 * the error, then down its `cause` chain (undici wraps socket errors); an
 * AggregateError (a connect that tried IPv4 and IPv6) continues with its
 * first error. Duck-typed, not instanceof: socket errors and DOMExceptions
 * may come from another realm (a test runner's VM context), where Error
 * differs.
 */
function findCode(error: unknown, accept: (code: string) => boolean): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { code, name, cause, errors } = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string" && accept(code)) return code;
    if (typeof name === "string" && accept(name)) return name;
    current = cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return undefined;
}
