import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, type FieldError, type PolicyRefusal, type Problem, PostscaleError, codeForStatus, errorForDecision } from "../errors";
import { emailProblem, domainProblem } from "../policy";
import { FORMAT_MESSAGES, NOT_FOUND_KEYWORD, PATTERN_MESSAGES, escapePointer, textErrors, textProblem } from "./schemas";

const TITLES: Record<number, [slug: string, title: string]> = {
  401: ["unauthenticated", "Authentication required"],
  403: ["forbidden", "Not allowed"],
  404: ["not-found", "Not found"],
  408: ["timeout", "Request timeout"],
  409: ["conflict", "Conflict"],
  410: ["gone", "Gone"],
  413: ["too-large", "Request body too large"],
  422: ["validation", "Invalid input"],
  429: ["rate-limited", "Too many requests"],
  431: ["headers-too-large", "Request headers too large"],
  500: ["server-error", "Internal server error"],
  503: ["unavailable", "Service unavailable"],
};

/** Base of the problem type URIs; each type is documented under it. */
export const PROBLEM_BASE = "https://postscale.dev/problems/";

/** What a problem carries besides its status and detail. */
export interface ProblemExtras {
  errors?: FieldError[];
  rule?: string;
  code?: ErrorCode;
  headers?: Record<string, string>;
}

/**
 * An error the API answers with as `application/problem+json`: a
 * {@link PostscaleError} whose code is the one a client reads from the same
 * status, so server, client and CLI share one hierarchy.
 */
export class HttpProblem extends PostscaleError {
  constructor(
    status: number,
    readonly detail: string,
    readonly extra: ProblemExtras = {},
  ) {
    super(extra.code ?? codeForStatus(status), detail, { status, errors: extra.errors, rule: extra.rule });
    this.name = "HttpProblem";
  }

  /** The problem for any error of the hierarchy: its status, message, code, rule and field errors. */
  static from(error: PostscaleError): HttpProblem {
    if (error instanceof HttpProblem) return error;
    return new HttpProblem(error.status, error.message, { code: error.code, rule: error.rule, errors: error.errors.length > 0 ? error.errors : undefined });
  }

  /** The RFC 9457 body. */
  toProblem(): Problem {
    const [slug, title] = TITLES[this.status] ?? (this.status >= 500 ? TITLES[500] : ["error", "Error"]);
    const problem: Problem = { type: PROBLEM_BASE + slug, title, status: this.status, detail: this.detail, code: this.code };
    if (this.extra.rule !== undefined) problem.rule = this.extra.rule;
    if (this.extra.errors !== undefined) problem.errors = this.extra.errors;
    return problem;
  }
}

/** Invalid input naming fields: 422. */
export function invalid(errors: FieldError[], detail?: string): HttpProblem {
  return new HttpProblem(422, detail ?? errors.map((e) => `${e.path || "body"}: ${e.message}`).join("; "), { errors });
}

/**
 * A policy refusal as a problem: {@link errorForDecision}'s code and rule
 * (422 refusals name their field). 404s are {@link notFound}'s, without the
 * rule, so a hidden object answers exactly like an absent one.
 */
export function fromViolation(v: PolicyRefusal): HttpProblem {
  if (v.status === 404) return notFound(v.message);
  return HttpProblem.from(errorForDecision(v));
}

/**
 * The kind of thing a not-found message is about, without which one:
 * `Member "mem_1"` and `Domain "a.example" was not found.` become `Member`
 * and `Domain`; `Domain access of x@y to "d"` becomes `Domain access`.
 */
function kindOf(what: string): string {
  const kind = what
    .replace(/\s*(was\s+)?not\s+found\.?\s*$/i, "")
    .replace(/\s*".*$/s, "")
    .replace(/\s+(of|to|for|in)\s.*$/s, "")
    .replace(/\s*\(.*$/s, "")
    .trim();
  return kind || "Resource";
}

/**
 * The 404 of a kind of thing. The body names the kind, never the id or name
 * asked for, and carries no rule: an object you may not see and one that
 * does not exist answer byte-identical bodies (no existence oracle).
 */
export function notFound(what: string): HttpProblem {
  return new HttpProblem(404, `${kindOf(what)} was not found.`);
}

/**
 * The 404 for a path parameter that names nothing (its schema failed, or it
 * is not text): the same body the route answers for an absent or hidden
 * object of that kind, read from the parameter schema's `x-not-found`.
 */
export function notFoundIn(request: FastifyRequest, param: string | undefined): HttpProblem {
  const props = (request.routeOptions?.schema?.params as { properties?: Record<string, Record<string, unknown>> } | undefined)?.properties ?? {};
  const kind = param !== undefined ? props[param]?.[NOT_FOUND_KEYWORD] : undefined;
  return notFound(typeof kind === "string" ? kind : "Resource");
}

/** Headers the API reads as text (Authorization is checked by authentication itself). */
const TEXT_HEADERS = ["idempotency-key"];

/**
 * Refuses a request carrying a string that is not text (control characters,
 * lone surrogates; see textProblem) anywhere the API reads: path parameters
 * (the 404 of what they name), query fields, API headers and the body (422
 * naming the field). Runs before validation, so no schema, handler, query
 * or audit event ever sees such a string.
 */
export function checkRequestText(request: FastifyRequest): void {
  for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
    if (typeof value === "string" && textProblem(value)) throw notFoundIn(request, name);
  }
  const query = textErrors(request.query ?? {});
  if (query.length > 0) throw invalid(query, query.map((e) => `query ${e.path.slice(1)} ${e.message}`).join("; "));
  for (const name of TEXT_HEADERS) {
    const value = request.headers[name];
    const problem = typeof value === "string" ? textProblem(value) : undefined;
    if (problem) throw invalid([{ path: `/headers/${name}`, message: problem }]);
  }
  const body = textErrors(request.body);
  if (body.length > 0) throw invalid(body);
}

export function conflict(detail: string): HttpProblem {
  return new HttpProblem(409, detail);
}

/** Sends a problem body with its content type and headers. */
export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  for (const [k, v] of Object.entries(problem.extra.headers ?? {})) reply.header(k, v);
  return reply.code(problem.status).type("application/problem+json").send(problem.toProblem());
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
}

/** One ajv error as a field error: a JSON pointer into the input and the rule broken. */
export function fieldErrorFromAjv(e: AjvError): FieldError {
  const path = e.instancePath ?? "";
  switch (e.keyword) {
    case "required":
      return { path: `${path}/${escapePointer(String(e.params.missingProperty))}`, message: "is required" };
    case "additionalProperties":
      return { path: `${path}/${escapePointer(String(e.params.additionalProperty))}`, message: "is not an allowed field" };
    case "format": {
      // Formats for emails and domains are the policy's rules; reuse its words.
      const rule = e.params.format === "email" ? emailProblem(e.data) : e.params.format === "hostname" ? domainProblem(e.data) : undefined;
      return { path, message: rule ?? FORMAT_MESSAGES[String(e.params.format)] ?? `must be a valid ${String(e.params.format)}` };
    }
    case "enum":
      return { path, message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "pattern":
      return { path, message: PATTERN_MESSAGES[String(e.params.pattern)] ?? e.message ?? "has the wrong form" };
    default:
      return { path, message: e.message ?? `breaks the ${e.keyword} rule` };
  }
}

const LOCATION: Record<string, string> = { body: "", querystring: "query", params: "path", headers: "header" };

/**
 * The one error handler: every failure leaves as problem+json. Validation
 * and JSON syntax errors are 422 naming the field; unexpected errors are
 * 500 with nothing internal in the body.
 */
export function handleError(error: FastifyError | HttpProblem | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
  const problem = problemFor(error, request);
  if (problem.status >= 500) request.log.error({ err: error }, "unhandled error");
  // Refused while the body is still arriving (too large, not JSON, over a limit): read and discard
  // the rest first, so the client reads this answer instead of a reset in the middle of sending.
  if (!request.raw.complete && !request.raw.readableEnded) return drain(request.raw).then(() => sendProblem(reply, problem));
  return sendProblem(reply, problem);
}

function problemFor(error: FastifyError | HttpProblem | Error, request: FastifyRequest): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    // A path parameter that fails its schema names nothing: the 404 of its kind, not a 422.
    if (fe.validationContext === "params") return notFoundIn(request, paramOf(fe.validation[0]));
    const where = LOCATION[fe.validationContext ?? "body"] ?? "";
    const errors = fe.validation.map(fieldErrorFromAjv);
    const detail = errors.map((e) => `${where ? `${where} ` : ""}${e.path || "value"} ${e.message}`).join("; ");
    return invalid(errors, detail);
  }
  const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
  if (fe instanceof SyntaxError || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" || fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
    return invalid([{ path: "", message: `the body must be valid JSON: ${fe.message}` }]);
  }
  if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return invalid([{ path: "", message: "the body must be JSON (Content-Type: application/json)" }]);
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE" || status === 413) return bodyTooLarge(request);
  if (status >= 400 && status < 500) return new HttpProblem(status === 400 ? 422 : status, fe.message);
  return new HttpProblem(500, "The server failed to handle this request; the error was logged.");
}

const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 30_000;

/** Reads and discards what is left of a request body (bounded in bytes and time). */
function drain(raw: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off("data", onData).off("end", done).off("error", done).off("close", done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    raw.on("data", onData).on("end", done).on("error", done).on("close", done);
    raw.resume();
  });
}

/** The path parameter an ajv error on `params` is about. */
function paramOf(e: AjvError | undefined): string | undefined {
  if (!e) return undefined;
  if (e.keyword === "required") return String(e.params.missingProperty);
  return e.instancePath.split("/")[1]?.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** 413 naming the limit; the connection stays usable (the rest of the body is drained, not reset). */
function bodyTooLarge(request: FastifyRequest): HttpProblem {
  const limit = request.routeOptions?.bodyLimit;
  const what = typeof limit === "number" && limit > 0 ? `${Math.floor(limit / 1024)} KiB` : "the server's limit";
  return new HttpProblem(413, `The request body is larger than ${what}; send a smaller one.`, {
    errors: [{ path: "", message: `must be at most ${what}` }],
  });
}

/**
 * A path segment that is not valid percent-encoding (`%zz`, a cut UTF-8
 * sequence) is taken literally instead of failing the whole URL, so it
 * reaches its route as a value that names nothing and gets that route's 404
 * (byte-identical to an absent id's) rather than a generic bad-URL answer.
 */
export function literalPercents(req: { url?: string }): string {
  const url = req.url ?? "/";
  if (!url.includes("%")) return url;
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const fixed = path
    .split("/")
    .map((segment) => {
      if (!segment.includes("%")) return segment;
      try {
        decodeURIComponent(segment);
        return segment;
      } catch {
        return segment.replace(/%/g, "%25");
      }
    })
    .join("/");
  return q < 0 ? fixed : fixed + url.slice(q);
}

/**
 * Fastify's errors from before routing (a path component that is not valid
 * percent-encoding, a parameter longer than maxParamLength): no route can
 * name such a thing, so they are 404 problems like any other unknown path.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
  if (error.code === "FST_ERR_BAD_URL" || error.code === "FST_ERR_MAX_PARAM_LENGTH") return sendProblem(reply, notFound("Resource"));
  return handleError(error, request, reply);
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (control
 * characters or NUL in a header, a malformed request line, oversized
 * headers) still get a problem+json answer, not a bare socket reset.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let problem: HttpProblem;
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") problem = new HttpProblem(408, "The request took too long to arrive.");
  else if (error.code === "HPE_HEADER_OVERFLOW") problem = new HttpProblem(431, "The request headers are larger than the server accepts.");
  else {
    problem = invalid(
      [{ path: "/headers", message: "must be valid HTTP/1.1: header names are tokens, and values contain no control characters (NUL, CR, LF, ...)" }],
      "The request is not valid HTTP/1.1 (a header or the request line contains characters HTTP does not allow).",
    );
  }
  const body = JSON.stringify(problem.toProblem());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? "Error"}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
