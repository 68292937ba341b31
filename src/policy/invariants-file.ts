import { parseDuration } from "../duration";
import { emailProblem } from "./names";
import { COUNTED_ROLES, FORBIDDEN_ACCESS, INVARIANT_RULE_KINDS, InvariantRule } from "./invariants";
import { isRole } from "./roles";

/**
 * The rules file (`access-rules.json`): what synth writes and what
 * `postscale review --rules` and `postscale check --rules` read, so neither
 * needs the TypeScript that declared the rules.
 *
 * ```json
 * { "version": 1, "rules": [{ "name": "at most 3 admins", "kind": "at_most", "role": "admin", "max": 3 }] }
 * ```
 */
export const RULE_SET_VERSION = 1;

export interface RuleSet {
  readonly version: typeof RULE_SET_VERSION;
  readonly rules: readonly InvariantRule[];
}

/** One thing wrong in a rules file: a JSON pointer to the field and what is wrong with it. */
export interface RuleSetProblem {
  readonly path: string;
  readonly message: string;
}

/** The fields each kind of rule may have, in the order the file writes them. */
const FIELDS: Record<InvariantRule["kind"], readonly string[]> = {
  never: ["people", "domains", "access", "except"],
  at_most: ["role", "max"],
  keys_expire: ["within", "except"],
  every_domain_has_writer: ["domains"],
  no_organization_wide_keys: ["except"],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const quoted = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Problems of a list of non-empty strings (patterns, emails, key references). */
function stringList(value: unknown, path: string, problems: RuleSetProblem[], what: string): void {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path, message: `must be a non-empty array of ${what}, got ${quoted(value)}` });
    return;
  }
  value.forEach((v, i) => {
    if (typeof v !== "string" || v.trim() === "") problems.push({ path: `${path}/${i}`, message: `must be a non-empty string (${what}), got ${quoted(v)}` });
  });
}

function ruleProblems(rule: unknown, path: string, problems: RuleSetProblem[]): void {
  if (!isObject(rule)) {
    problems.push({ path, message: `must be an object with name and kind, got ${quoted(rule)}` });
    return;
  }
  if (typeof rule.name !== "string" || rule.name.trim() === "") problems.push({ path: `${path}/name`, message: `must be a non-empty string, got ${quoted(rule.name)}` });
  if (rule.message !== undefined && (typeof rule.message !== "string" || rule.message.trim() === "")) {
    problems.push({ path: `${path}/message`, message: `must be a non-empty string when present, got ${quoted(rule.message)}` });
  }
  const kind = rule.kind as InvariantRule["kind"];
  if (!INVARIANT_RULE_KINDS.includes(kind)) {
    problems.push({ path: `${path}/kind`, message: `must be one of ${INVARIANT_RULE_KINDS.join(", ")}, got ${quoted(rule.kind)}` });
    return;
  }
  for (const field of Object.keys(rule)) {
    if (field !== "name" && field !== "kind" && field !== "message" && !FIELDS[kind].includes(field)) {
      problems.push({ path: `${path}/${field}`, message: `is not a field of a ${kind} rule (its fields: ${FIELDS[kind].join(", ")})` });
    }
  }
  const optionalList = (field: string, what: string): void => {
    if (rule[field] !== undefined) stringList(rule[field], `${path}/${field}`, problems, what);
  };
  switch (kind) {
    case "never":
      optionalList("people", "email patterns like *@contractors.example.com");
      optionalList("domains", "domain names or patterns");
      optionalList("except", "emails or email patterns");
      if (!FORBIDDEN_ACCESS.includes(rule.access as never)) problems.push({ path: `${path}/access`, message: `must be one of ${FORBIDDEN_ACCESS.join(", ")}, got ${quoted(rule.access)}` });
      if (Array.isArray(rule.except)) {
        rule.except.forEach((e, i) => {
          if (typeof e === "string" && !e.includes("*") && emailProblem(e) !== undefined) problems.push({ path: `${path}/except/${i}`, message: `must be an email or an email pattern, got ${quoted(e)}` });
        });
      }
      break;
    case "at_most":
      if (!isRole(rule.role) || !COUNTED_ROLES.includes(rule.role)) problems.push({ path: `${path}/role`, message: `must be one of ${COUNTED_ROLES.join(", ")}, got ${quoted(rule.role)}` });
      if (typeof rule.max !== "number" || !Number.isInteger(rule.max) || rule.max < 0) problems.push({ path: `${path}/max`, message: `must be a whole number >= 0, got ${quoted(rule.max)}` });
      break;
    case "keys_expire":
      if (rule.within !== undefined) {
        const parsed = typeof rule.within === "string" ? parseDuration(rule.within) : { problem: `must be a duration string such as "90d", got ${quoted(rule.within)}` };
        if ("problem" in parsed) problems.push({ path: `${path}/within`, message: parsed.problem });
        else if (parsed.seconds === 0) problems.push({ path: `${path}/within`, message: `must be longer than 0, got ${quoted(rule.within)}` });
      }
      optionalList("except", "key references like organization/deploy or dev@example.com/ci");
      break;
    case "every_domain_has_writer":
      optionalList("domains", "domain names or patterns");
      break;
    case "no_organization_wide_keys":
      optionalList("except", "key references like organization/deploy or dev@example.com/ci");
      break;
  }
}

/** Every problem of a parsed rules file, each naming its field; empty when it is a valid {@link RuleSet}. */
export function ruleSetProblems(data: unknown): RuleSetProblem[] {
  if (!isObject(data)) return [{ path: "", message: `must be an object {"version": ${RULE_SET_VERSION}, "rules": [...]}` }];
  const problems: RuleSetProblem[] = [];
  if (data.version !== RULE_SET_VERSION) problems.push({ path: "/version", message: `must be ${RULE_SET_VERSION}, got ${quoted(data.version)}` });
  for (const field of Object.keys(data)) if (field !== "version" && field !== "rules") problems.push({ path: `/${field}`, message: "is not a field of a rules file (its fields: version, rules)" });
  if (!Array.isArray(data.rules)) {
    problems.push({ path: "/rules", message: `must be an array of rules, got ${quoted(data.rules)}` });
    return problems;
  }
  const names = new Map<string, number>();
  data.rules.forEach((rule, i) => {
    ruleProblems(rule, `/rules/${i}`, problems);
    const name = isObject(rule) && typeof rule.name === "string" ? rule.name : undefined;
    if (name === undefined) return;
    const first = names.get(name);
    if (first !== undefined) problems.push({ path: `/rules/${i}/name`, message: `"${name}" is already the name of /rules/${first}; rule names are unique` });
    else names.set(name, i);
  });
  return problems;
}

/** A rule with its fields in the file's order, optional ones left out when absent. */
function canonical(rule: InvariantRule): InvariantRule {
  const source = rule as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { name: rule.name, kind: rule.kind };
  for (const field of FIELDS[rule.kind]) if (source[field] !== undefined) out[field] = source[field];
  if (rule.message !== undefined) out.message = rule.message;
  return out as unknown as InvariantRule;
}

/** The rules file's text: stable field order, two-space indent, a final newline. */
export function ruleSetJson(rules: readonly InvariantRule[]): string {
  const set: RuleSet = { version: RULE_SET_VERSION, rules: rules.map(canonical) };
  return `${JSON.stringify(set, null, 2)}\n`;
}

/** Reads a rules file's text: the rule set, or every problem (not JSON, or invalid fields), each naming its field. */
export function parseRuleSet(text: string): { ruleSet: RuleSet } | { problems: RuleSetProblem[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { problems: [{ path: "", message: `is not JSON: ${(err as Error).message}` }] };
  }
  const problems = ruleSetProblems(data);
  return problems.length > 0 ? { problems } : { ruleSet: data as RuleSet };
}
