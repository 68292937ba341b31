import { PostscaleError } from "../../errors";
import { type Rule, type Violation, domainProblem, emailProblem } from "../../policy";
import type { AttributePath, Diagnostic, Value } from "../protocol/types";

/**
 * Summaries for refusals by access rule. Plan-time checks and the server's
 * refusal at apply use the same words, so a warning at plan and the error
 * at apply read as the same finding.
 */
const RULE_SUMMARIES: Partial<Record<Rule, string>> = {
  grants_only_for_members: "Domain Access Only Applies To Members",
  key_domain_not_writable: "API Key Domain Not Writable By Its Owner",
  no_writable_domains: "API Key Owner Has No Writable Domains",
  organization_key_has_no_member: "Organization Key Cannot Have A Member",
  organization_key_requires_admin: "Organization Key Requires An Admin",
  key_for_other_member: "API Key For Another Member",
  key_domain_unknown: "Unknown Domain In API Key",
  owner_protected: "Owner Is Protected",
  own_role: "Cannot Change Own Role",
  cannot_remove_self: "Cannot Remove Yourself",
  owner_only_by_transfer: "Ownership Moves Only By Transfer",
  role_not_allowed: "Postscale Role Not Allowed",
  key_scope_excludes_action: "API Key Scope Too Narrow",
};

/** An error on one attribute. */
export function attributeError(path: AttributePath, summary: string, detail: string): Diagnostic {
  return { severity: "error", summary, detail, path };
}

/**
 * An error when the configured `value` of `attribute` is a known string that
 * `problem` rejects; unknown and null values are left for plan and apply.
 */
function nameAttributeErrors(value: Value, attribute: string, summary: string, problem: (value: string) => string | undefined): Diagnostic[] {
  const found = typeof value === "string" ? problem(value) : undefined;
  return found ? [attributeError([attribute], summary, `${attribute} ${found}.`)] : [];
}

/** "Invalid Email Address" on `attribute`, by the same rule the server applies. */
export function emailAttributeErrors(value: Value, attribute: string): Diagnostic[] {
  return nameAttributeErrors(value, attribute, "Invalid Email Address", emailProblem);
}

/** "Invalid Domain Name" on `attribute`, by the same rule the server applies. */
export function domainAttributeErrors(value: Value, attribute: string): Diagnostic[] {
  return nameAttributeErrors(value, attribute, "Invalid Domain Name", domainProblem);
}

/** A policy violation as a diagnostic on `path`, with the rule's summary; `context` frames the message (what it is based on, what happens next). */
export function violationDiagnostic(
  severity: Diagnostic["severity"],
  v: Violation,
  path: AttributePath,
  context: { before?: string; after?: string } = {},
): Diagnostic {
  const detail = `${context.before ?? ""}${v.message} (rule ${v.rule})${context.after ? ` ${context.after}` : ""}`;
  return { severity, summary: RULE_SUMMARIES[v.rule] ?? "Postscale Access Rule", detail, path };
}

/** The access rule a problem names, if any: the server sends every refusal's rule as `rule` (its `type` names only the status). */
export function problemRule(err: unknown): string | undefined {
  if (!(err instanceof PostscaleError) || typeof err.problem?.rule !== "string") return undefined;
  return err.problem.rule;
}

const CODE_SUMMARIES: Record<PostscaleError["code"], string> = {
  POSTSCALE_E_VALIDATION: "Postscale Rejected The Value",
  POSTSCALE_E_UNAUTHENTICATED: "Invalid Postscale API Key",
  POSTSCALE_E_FORBIDDEN: "Postscale Refused The Change",
  POSTSCALE_E_NOT_FOUND: "Postscale Object Not Found",
  POSTSCALE_E_CONFLICT: "Postscale Object Already Exists",
  POSTSCALE_E_RATE_LIMITED: "Postscale Rate Limit Reached",
  POSTSCALE_E_SERVER: "Postscale Server Error",
  POSTSCALE_E_NETWORK: "Cannot Reach Postscale API",
  POSTSCALE_E_POLICY: "Postscale Refused The Change",
  POSTSCALE_E_CONFIG: "Invalid Postscale Configuration",
};

/**
 * Maps a JSON pointer from a problem (`/domains/0`, `/role`) onto an
 * attribute path: the top-level attribute, when the resource has one of
 * that name. Set elements have no index in an attribute path, so the path
 * stops at the set and the message names the element.
 */
export function pointerToPath(pointer: string, attributes: readonly string[]): AttributePath | undefined {
  const head = pointer.split("/").filter((s) => s.length > 0)[0];
  return head !== undefined && attributes.includes(head) ? [head] : undefined;
}

/**
 * Diagnostics for a failed API call: the action, what the server said, and
 * the attribute at fault when the problem names one.
 */
export function apiErrorDiagnostics(err: unknown, action: string, attributes: readonly string[], fallbackPath?: AttributePath): Diagnostic[] {
  if (!(err instanceof PostscaleError)) {
    return [{ severity: "error", summary: "Unexpected Provider Error", detail: `${action} failed: ${err instanceof Error ? err.message : String(err)}` }];
  }
  const rule = problemRule(err);
  const summary = (rule && RULE_SUMMARIES[rule as Rule]) ?? networkSummary(err) ?? CODE_SUMMARIES[err.code];
  // After retries the message lists every attempt ("5 attempts over 12 s: 503, 503, 429, reset, 503"); show that.
  const said = err.attempts.length > 1 ? err.message : (err.problem?.detail ?? err.message);
  const ruleNote = rule ? ` (rule ${rule})` : "";
  if (err.errors.length === 0) {
    return [{ severity: "error", summary, detail: `${action} failed: ${said}${ruleNote}${fixHint(err)}`, path: fallbackPath }];
  }
  return err.errors.map((fe) => ({
    severity: "error" as const,
    summary,
    detail: `${action} failed: ${fe.path.replace(/^\//, "") || "request"}: ${fe.message}${ruleNote}`,
    path: pointerToPath(fe.path, attributes) ?? fallbackPath,
  }));
}

/** The summary of a failure without an answer, by what happened to the connection. */
export function networkSummary(err: PostscaleError): string | undefined {
  if (err.code !== "POSTSCALE_E_NETWORK") return undefined;
  switch (err.failure) {
    case "reset":
      return "Connection To Postscale API Reset";
    case "timeout":
      return "Postscale API Did Not Answer In Time";
    case "cancelled":
      return "Postscale Request Cancelled";
    default:
      return "Cannot Reach Postscale API";
  }
}

function fixHint(err: PostscaleError): string {
  switch (err.code) {
    case "POSTSCALE_E_UNAUTHENTICATED":
      return ". Check the provider's api_key (or POSTSCALE_API_KEY).";
    case "POSTSCALE_E_NETWORK":
      if (err.failure === "cancelled") return ".";
      if (err.failure === "reset" || err.failure === "timeout") return ". Apply again: creates are safe to repeat and every other change sets an absolute value.";
      return ". Check that the Postscale API is running and that the provider's endpoint (or POSTSCALE_ENDPOINT) points at it.";
    case "POSTSCALE_E_RATE_LIMITED":
      return ". Retry later, or lower the engine's -parallelism.";
    default:
      return "";
  }
}

/** True when the error is a 404 from the API: the object is gone (or not visible, which the API does not distinguish). */
export function isNotFound(err: unknown): boolean {
  return err instanceof PostscaleError && err.code === "POSTSCALE_E_NOT_FOUND";
}
