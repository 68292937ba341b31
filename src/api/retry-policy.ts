/**
 * Which failures are worth another attempt. Retrying is only safe when a
 * repeat cannot do the work twice: idempotent methods, and POSTs carrying an
 * `Idempotency-Key` (the server answers a repeat with the first response).
 */

/** HTTP methods the client sends. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(["GET", "HEAD", "PUT", "DELETE"]);

/** Gateway and overload statuses: the request most likely never ran, or can run again. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Transport failures that mean "the connection broke", not "the request is
 * wrong". Timeouts are here too: for a request that is safe to repeat, a
 * slow attempt is worth another one.
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

/**
 * The first retryable code found on the error or its `cause` chain (undici
 * wraps socket errors), or undefined.
 */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // Duck-typed, not instanceof: socket errors and DOMExceptions may come
  // from another realm (a test runner's VM context), where Error differs.
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { code, name, cause } = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === "string" && RETRYABLE_NETWORK_CODES.has(code)) return code;
    if (typeof name === "string" && RETRYABLE_NETWORK_CODES.has(name)) return name;
    current = cause;
  }
  return undefined;
}
