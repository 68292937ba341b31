/**
 * Turns a failed exchange into a PostscaleError: non-2xx answers keep their
 * status and problem body; transport failures become POSTSCALE_E_NETWORK
 * with the original error as `cause` and `failure` saying which kind.
 * Messages carry the method, the (redacted) path, what the server said and,
 * after retries, every attempt; never headers or tokens.
 */
import { STATUS_CODES } from "node:http";
import { codeForStatus, PostscaleError, type AttemptRecord, type ErrorCode, type PostscaleErrorOptions, type Problem } from "../errors";
import { classifyNetworkError } from "./retry-policy";

/** Longest slice of a non-JSON error body quoted in a synthesized problem. */
const MAX_DETAIL_CHARS = 200;

/**
 * The problem body of an error response: the server's problem+json when it
 * sent one, otherwise one synthesized from the status and the body's text,
 * so callers can always read `error.problem`.
 */
export function problemFromResponse(status: number, bodyText: string): Problem {
  const parsed = parseJsonObject(bodyText);
  const fallbackTitle = STATUS_CODES[status] ?? "HTTP error";
  if (parsed && typeof parsed.title === "string") {
    return { ...parsed, type: typeof parsed.type === "string" ? parsed.type : "about:blank", title: parsed.title, status } as Problem;
  }
  const detail = bodyText.trim().slice(0, MAX_DETAIL_CHARS);
  return { type: "about:blank", title: fallbackTitle, status, ...(detail ? { detail } : {}) };
}

/** What the client tried before giving up: every attempt, and the time from the first attempt's start to now. */
export interface Tried {
  attempts: AttemptRecord[];
  elapsedMs: number;
}

/** Where the request went, for the words of transport failures. */
export interface TransportContext {
  /** The API's base URL (origin and base path; never credentials). */
  endpoint: string;
  /** The timeout of one attempt. */
  timeoutMs: number;
}

/**
 * The error for a non-2xx answer: "<METHOD> <path>: <status> <title>: <detail>",
 * or after several attempts "<METHOD> <path> failed after <n> attempts over
 * <time>: <each attempt>. Last: <status> <title>: <detail>".
 */
export function responseError(method: string, path: string, status: number, bodyText: string, tried?: Tried): PostscaleError {
  const problem = problemFromResponse(status, bodyText);
  const detail = problem.detail ? `: ${problem.detail}` : "";
  return build(method, path, tried, codeForStatus(status), `${status} ${problem.title}${detail}`, { status, problem });
}

/**
 * The error for a request that got no answer, in words that tell the cases
 * apart: the API cannot be reached (refused, DNS, connect timeout), the
 * connection was reset after the request went out, or no answer came in
 * time. `failure` on the error says which.
 */
export function networkError(method: string, path: string, cause: unknown, where: TransportContext, tried?: Tried): PostscaleError {
  const { failure, code } = classifyNetworkError(cause);
  const reason = describeCause(cause, 0);
  let text: string;
  switch (failure) {
    case "unreachable":
      text = `Cannot reach the Postscale API at ${where.endpoint}: ${reason}`;
      break;
    case "reset":
      text = `The connection to the Postscale API was reset (the server may have restarted or a proxy dropped it): ${reason}`;
      break;
    case "timeout":
      text =
        code === "TimeoutError"
          ? `No answer from the Postscale API at ${where.endpoint} within ${formatDuration(where.timeoutMs)} (the client's timeoutMs)`
          : `No answer from the Postscale API at ${where.endpoint} in time: ${reason}`;
      break;
    default:
      text = `network error talking to the Postscale API at ${where.endpoint}: ${reason}`;
  }
  return build(method, path, tried, "POSTSCALE_E_NETWORK", text, { cause, failure });
}

/**
 * The error for a request whose AbortSignal fired: "<METHOD> <path>:
 * cancelled (<reason>)", listing the attempts made before, if any.
 * `failure` is "cancelled"; the code stays POSTSCALE_E_NETWORK.
 */
export function cancelledError(method: string, path: string, reason: unknown, tried?: Tried): PostscaleError {
  const why = abortReason(reason);
  const text = `cancelled${why ? ` (${why})` : ""}`;
  const attempts = tried?.attempts ?? [];
  const options = { cause: reason, failure: "cancelled" as const, attempts };
  if (!attempts.some((a) => a.failure !== "cancelled")) return new PostscaleError("POSTSCALE_E_NETWORK", `${method} ${path}: ${text}`, options);
  return new PostscaleError("POSTSCALE_E_NETWORK", `${method} ${path} ${text} after ${summary(attempts, tried?.elapsedMs ?? 0)}`, options);
}

/** "1.2 s", or "350 ms" under a second. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** How an attempt shows in a message: its status, or a word for its failure ("reset", "refused", "timeout", ...). */
export function attemptLabel(attempt: AttemptRecord): string {
  if (attempt.status !== undefined) return String(attempt.status);
  switch (attempt.failure) {
    case "unreachable":
      if (attempt.code === "ECONNREFUSED") return "refused";
      if (attempt.code === "ENOTFOUND" || attempt.code === "EAI_AGAIN") return "DNS failure";
      if (attempt.code === "ETIMEDOUT" || attempt.code === "UND_ERR_CONNECT_TIMEOUT") return "connect timeout";
      return "unreachable";
    case "reset":
    case "timeout":
    case "cancelled":
      return attempt.failure;
    default:
      return attempt.code ?? "network error";
  }
}

/** "<n> attempts over <time>: 503, reset, 429". */
function summary(attempts: AttemptRecord[], elapsedMs: number): string {
  const count = `${attempts.length} attempt${attempts.length === 1 ? "" : "s"}`;
  return `${count} over ${formatDuration(elapsedMs)}: ${attempts.map(attemptLabel).join(", ")}`;
}

/** One attempt keeps the plain "<METHOD> <path>: <text>"; several say what was tried first. */
function build(method: string, path: string, tried: Tried | undefined, code: ErrorCode, text: string, options: PostscaleErrorOptions): PostscaleError {
  const attempts = tried?.attempts ?? [];
  const message = attempts.length > 1 ? `${method} ${path} failed after ${summary(attempts, tried?.elapsedMs ?? 0)}. Last: ${text}` : `${method} ${path}: ${text}`;
  return new PostscaleError(code, message, { ...options, attempts });
}

/** The reason an AbortSignal was given, unless it is the default "This operation was aborted". */
function abortReason(reason: unknown): string | undefined {
  if (reason === undefined || reason === null) return undefined;
  if (typeof reason !== "object") return String(reason);
  const { name, message } = reason as { name?: unknown; message?: unknown };
  if (name === "AbortError") return undefined;
  return typeof message === "string" && message ? message : undefined;
}

/**
 * "<code> <message> (<cause's description>)". Duck-typed: errors from
 * sockets or another realm are not always `instanceof Error` here.
 */
function describeCause(error: unknown, depth: number): string {
  if (typeof error !== "object" || error === null) return String(error);
  const { code, name, message, cause } = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const text = typeof message === "string" && message ? message : String(name ?? "unknown error");
  const withCode = typeof code === "string" && !text.includes(code) ? `${code} ${text}` : text;
  const inner = cause !== undefined && depth < 3 ? ` (${describeCause(cause, depth + 1)})` : "";
  return withCode + inner;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
