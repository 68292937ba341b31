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
  /**
   * @deprecated Policy refusals carry the code their decision maps to
   * (see {@link errorForDecision}) and the policy's `rule`; kept only
   * because this union is a public export.
   */
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
  // Gone (an expired invitation or link) is a kind of not found.
  410: "POSTSCALE_E_NOT_FOUND",
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
  /** The access rule that refused, when a policy decision did. */
  rule?: string;
  /** The process exit code the CLI ends with. @default 1 */
  exitCode?: number;
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
  /** The access rule that refused (`owner_protected`, `key_name_taken`, ...), wherever the refusal was decided. */
  readonly rule?: string;
  /** The exit code of the CLI when this error ends it. */
  readonly exitCode: number;
  /** For errors of a construct: its path in the construct tree (`access/team`). */
  constructPath?: string;

  constructor(code: ErrorCode, message: string, options: PostscaleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PostscaleError";
    this.code = code;
    this.status = options.status ?? statusForCode(code);
    this.problem = options.problem;
    this.errors = options.errors ?? options.problem?.errors ?? [];
    this.failure = options.failure;
    this.attempts = options.attempts ?? [];
    const rule = options.rule ?? options.problem?.rule;
    if (typeof rule === "string") this.rule = rule;
    this.exitCode = options.exitCode ?? 1;
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

/** A policy refusal, as `src/policy` decides it: the status the API answers with, the rule, words for a person and the field at fault. */
export interface PolicyRefusal {
  allowed: false;
  status: number;
  rule: string;
  message: string;
  path?: string;
}

/**
 * The error for a policy refusal, with the code its status maps to (the
 * code a client reads from the API's answer to the same request) and the
 * policy's rule: one code per kind of denial, wherever it is decided.
 * Refusals of input (422) name their field.
 */
export function errorForDecision(decision: PolicyRefusal, message: string = decision.message): PostscaleError {
  const errors = decision.status === 422 ? [{ path: decision.path ?? "", message: decision.message }] : undefined;
  return new PostscaleError(codeForStatus(decision.status), message, { status: decision.status, rule: decision.rule, errors });
}
