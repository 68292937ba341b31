/**
 * Turns a failed exchange into a PostscaleError: non-2xx answers keep their
 * status and problem body; transport failures become POSTSCALE_E_NETWORK
 * with the original error as `cause`. Messages carry the method, the
 * (redacted) path and what the server said, never headers or tokens.
 */
import { STATUS_CODES } from "node:http";
import { codeForStatus, PostscaleError, type Problem } from "../errors";

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

/** The error for a non-2xx answer: "<METHOD> <path>: <status> <title>: <detail>". */
export function responseError(method: string, path: string, status: number, bodyText: string): PostscaleError {
  const problem = problemFromResponse(status, bodyText);
  const detail = problem.detail ? `: ${problem.detail}` : "";
  return new PostscaleError(codeForStatus(status), `${method} ${path}: ${status} ${problem.title}${detail}`, {
    status,
    problem,
  });
}

/** The error for a request that got no answer (refused, reset, timed out). */
export function networkError(method: string, path: string, cause: unknown): PostscaleError {
  const reason = describeCause(cause, 0);
  return new PostscaleError("POSTSCALE_E_NETWORK", `${method} ${path}: network error: ${reason}`, { cause });
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
