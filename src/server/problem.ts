import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, FieldError, Problem, codeForStatus } from "../errors";
import { Violation, emailProblem, domainProblem } from "../policy";

const TITLES: Record<number, [slug: string, title: string]> = {
  401: ["unauthenticated", "Authentication required"],
  403: ["forbidden", "Not allowed"],
  404: ["not-found", "Not found"],
  409: ["conflict", "Conflict"],
  410: ["gone", "Gone"],
  413: ["too-large", "Request body too large"],
  422: ["validation", "Invalid input"],
  429: ["rate-limited", "Too many requests"],
  500: ["server-error", "Internal server error"],
  503: ["unavailable", "Service unavailable"],
};

/** Base of the problem type URIs; each type is documented under it. */
export const PROBLEM_BASE = "https://postscale.dev/problems/";

/** An error the API answers with as `application/problem+json`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; rule?: string; code?: ErrorCode; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
  }

  /** The RFC 9457 body. */
  toProblem(): Problem {
    const [slug, title] = TITLES[this.status] ?? (this.status >= 500 ? TITLES[500] : ["error", "Error"]);
    const code = this.extra.code ?? (this.status === 410 ? "POSTSCALE_E_NOT_FOUND" : codeForStatus(this.status));
    const problem: Problem = { type: PROBLEM_BASE + slug, title, status: this.status, detail: this.detail, code };
    if (this.extra.rule !== undefined) problem.rule = this.extra.rule;
    if (this.extra.errors !== undefined) problem.errors = this.extra.errors;
    return problem;
  }
}

/** Invalid input naming fields: 422. */
export function invalid(errors: FieldError[], detail?: string): HttpProblem {
  return new HttpProblem(422, detail ?? errors.map((e) => `${e.path || "body"}: ${e.message}`).join("; "), { errors });
}

/** A policy refusal as a problem; 422 refusals name their field. */
export function fromViolation(v: Violation): HttpProblem {
  const errors = v.status === 422 ? [{ path: v.path ?? "", message: v.message }] : undefined;
  return new HttpProblem(v.status, v.message, { rule: v.rule, errors });
}

export function notFound(what: string): HttpProblem {
  return new HttpProblem(404, `${what} was not found.`);
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

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
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
      return { path, message: rule ?? `must be a valid ${String(e.params.format)}` };
    }
    case "enum":
      return { path, message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
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
export function handleError(error: FastifyError | HttpProblem | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpProblem) return sendProblem(reply, error);
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    const where = LOCATION[fe.validationContext ?? "body"] ?? "";
    const errors = fe.validation.map(fieldErrorFromAjv);
    const detail = errors.map((e) => `${where ? `${where} ` : ""}${e.path || "value"} ${e.message}`).join("; ");
    return sendProblem(reply, invalid(errors, detail));
  }
  const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
  if (fe instanceof SyntaxError || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" || fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
    return sendProblem(reply, invalid([{ path: "", message: `the body must be valid JSON: ${fe.message}` }]));
  }
  if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    return sendProblem(reply, invalid([{ path: "", message: "the body must be JSON (Content-Type: application/json)" }]));
  }
  if (status === 413) return sendProblem(reply, new HttpProblem(413, "The request body is larger than the server accepts."));
  if (status >= 400 && status < 500) return sendProblem(reply, new HttpProblem(status === 400 ? 422 : status, fe.message));
  request.log.error({ err: error }, "unhandled error");
  return sendProblem(reply, new HttpProblem(500, "The server failed to handle this request; the error was logged."));
}
