/**
 * One error hierarchy for client, server and CLI. Codes are stable: tools
 * match on `code`, people read `message`.
 */
export type ErrorCode =
  | "POSTSCALE_E_VALIDATION"
  | "POSTSCALE_E_UNAUTHENTICATED"
  | "POSTSCALE_E_FORBIDDEN"
  | "POSTSCALE_E_NOT_FOUND"
  | "POSTSCALE_E_CONFLICT"
  | "POSTSCALE_E_RATE_LIMITED"
  | "POSTSCALE_E_SERVER"
  | "POSTSCALE_E_NETWORK"
  | "POSTSCALE_E_POLICY"
  | "POSTSCALE_E_CONFIG";

/** One invalid field: a JSON-pointer-like path (`/domain_access/0/access`) and the rule it broke. */
export interface FieldError {
  path: string;
  message: string;
}

/** RFC 9457 problem details, as the API sends them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: ErrorCode;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "POSTSCALE_E_VALIDATION",
  401: "POSTSCALE_E_UNAUTHENTICATED",
  403: "POSTSCALE_E_FORBIDDEN",
  404: "POSTSCALE_E_NOT_FOUND",
  409: "POSTSCALE_E_CONFLICT",
  422: "POSTSCALE_E_VALIDATION",
  429: "POSTSCALE_E_RATE_LIMITED",
};

const CODE_STATUS: Record<ErrorCode, number> = {
  POSTSCALE_E_VALIDATION: 422,
  POSTSCALE_E_UNAUTHENTICATED: 401,
  POSTSCALE_E_FORBIDDEN: 403,
  POSTSCALE_E_NOT_FOUND: 404,
  POSTSCALE_E_CONFLICT: 409,
  POSTSCALE_E_RATE_LIMITED: 429,
  POSTSCALE_E_SERVER: 500,
  POSTSCALE_E_NETWORK: 503,
  POSTSCALE_E_POLICY: 403,
  POSTSCALE_E_CONFIG: 500,
};

/** The error code that an HTTP status maps to. */
export function codeForStatus(status: number): ErrorCode {
  return STATUS_CODES[status] ?? (status >= 500 ? "POSTSCALE_E_SERVER" : "POSTSCALE_E_VALIDATION");
}

/** The HTTP status that an error code maps to. */
export function statusForCode(code: ErrorCode): number {
  return CODE_STATUS[code];
}

/**
 * Why a request got no usable answer: `unreachable` (refused, DNS failure,
 * connect timeout), `reset` (the connection broke after the request was
 * sent), `timeout` (no answer in time), `cancelled` (the caller's
 * AbortSignal fired), `other` (any other transport error).
 */
export type NetworkFailure = "unreachable" | "reset" | "timeout" | "cancelled" | "other";

/** One attempt of a request: the status it was answered with, or the transport failure and its code. */
export interface AttemptRecord {
  /** The response status; absent when no response arrived. */
  status?: number;
  /** Why no response arrived. */
  failure?: NetworkFailure;
  /** The transport error's code (`ECONNRESET`, `UND_ERR_SOCKET`, `TimeoutError`, ...). */
  code?: string;
  /** How long the attempt took. */
  ms: number;
}

export interface PostscaleErrorOptions {
  status?: number;
  problem?: Problem;
  errors?: FieldError[];
  cause?: unknown;
  failure?: NetworkFailure;
  attempts?: AttemptRecord[];
}

/** Base of every error this package throws on purpose. */
export class PostscaleError extends Error {
  readonly code: ErrorCode;
  /** HTTP status, when the error came from or maps to a response. */
  readonly status: number;
  /** The problem body the API answered with, when there was one. */
  readonly problem?: Problem;
  /** Field-level validation errors. */
  readonly errors: FieldError[];
  /** For POSTSCALE_E_NETWORK: how the transport failed (a reset is not an unreachable server). */
  readonly failure?: NetworkFailure;
  /** Every attempt the client made, oldest first; empty for errors that did not come from a request. */
  readonly attempts: AttemptRecord[];

  constructor(code: ErrorCode, message: string, options: PostscaleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PostscaleError";
    this.code = code;
    this.status = options.status ?? statusForCode(code);
    this.problem = options.problem;
    this.errors = options.errors ?? options.problem?.errors ?? [];
    this.failure = options.failure;
    this.attempts = options.attempts ?? [];
  }
}

/** Invalid input: names each field and the rule it broke. */
export class ValidationError extends PostscaleError {
  constructor(errors: FieldError[], message?: string) {
    super("POSTSCALE_E_VALIDATION", message ?? errors.map((e) => `${e.path}: ${e.message}`).join("; "), {
      status: 422,
      errors,
    });
    this.name = "ValidationError";
  }
}
