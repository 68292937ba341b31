import { SENSITIVE_TEXT, UNKNOWN_TEXT } from "./attribute";
import { TEAM_MEMBER, stateResources } from "./member-directory";
import type { PlanJson } from "./plan-json";
import type { Hint, ReviewRow } from "./review-model";

/** A person's email as declared: where it came from in the plan. */
interface Declared {
  email: string;
  address: string;
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions): `exmaple` is one edit from `example`, as people mistype.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const isEmail = (value: unknown): value is string => typeof value === "string" && /^[^@\s]+@[^@\s]+$/.test(value) && value !== UNKNOWN_TEXT && value !== SENSITIVE_TEXT;

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1).toLowerCase();
}

/**
 * The people Postscale knows before the plan: members in the prior state
 * (resources and `postscale_team_member` data sources) and the `members`
 * of any data source listing them (`postscale_team_members`).
 */
function existingEmails(plan: PlanJson): string[] {
  const out = new Set<string>();
  for (const r of stateResources(plan.prior_state?.values?.root_module)) {
    const values = r.values ?? {};
    const sensitive = (r.sensitive_values ?? {}) as Record<string, unknown>;
    if (r.type === TEAM_MEMBER && sensitive.email !== true && isEmail(values.email)) out.add(values.email);
    if (r.mode === "data" && Array.isArray(values.members) && sensitive.members === undefined) {
      for (const m of values.members) if (typeof m === "object" && m !== null && isEmail((m as Record<string, unknown>).email)) out.add((m as Record<string, string>).email);
    }
  }
  return [...out].sort();
}

/**
 * The usual email domains of the organization: those at least two of its
 * existing people and a fifth of them use. None below three people: too
 * few to tell what is usual.
 */
export function usualDomains(emails: string[]): string[] {
  if (emails.length < 3) return [];
  const counts = new Map<string, number>();
  for (const e of emails) counts.set(domainOf(e), (counts.get(domainOf(e)) ?? 0) + 1);
  const threshold = Math.max(2, emails.length / 5);
  return [...counts].filter(([, n]) => n >= threshold).map(([d]) => d).sort();
}

/** The closest address within edit distance 1–2 (ties: first in code-point order), ignoring case. */
function closest(email: string, candidates: string[]): string | undefined {
  let best: [number, string] | undefined;
  for (const c of candidates) {
    const distance = editDistance(email.toLowerCase(), c.toLowerCase());
    if (distance < 1 || distance > 2) continue;
    if (!best || distance < best[0] || (distance === best[0] && c < best[1])) best = [distance, c];
  }
  return best?.[1];
}

/**
 * Hints about the people this plan adds: an email within one or two edits
 * of someone who stays in the organization or of another email declared in
 * the plan (a likely typo: the invitation would go to a stranger), and an
 * email outside the domains the organization's people usually use.
 */
export function emailHints(plan: PlanJson, rows: ReviewRow[]): Hint[] {
  const added: Declared[] = rows.filter((r) => r.kind === "member_added" && isEmail(r.who)).map((r) => ({ email: r.who, address: r.address }));
  if (added.length === 0) return [];
  const leaving = new Set(rows.filter((r) => r.kind === "member_removed").map((r) => r.who));
  const addedEmails = new Set(added.map((a) => a.email));
  const existing = existingEmails(plan);
  const staying = existing.filter((e) => !leaving.has(e) && !addedEmails.has(e));
  const usual = usualDomains(existing);
  const hints: Hint[] = [];
  for (const { email, address } of added) {
    const nearExisting = closest(email, staying);
    const nearDeclared = nearExisting ? undefined : closest(email, [...addedEmails].filter((e) => e !== email));
    const similarTo = nearExisting ?? nearDeclared;
    if (similarTo) {
      const whose = nearExisting ? "an existing member" : "also in this plan";
      hints.push({ kind: "likely_typo", email, similarTo, message: `looks like ${similarTo} (${whose}): check the spelling before the invitation goes out`, address });
    }
    if (usual.length > 0 && !usual.includes(domainOf(email))) {
      hints.push({ kind: "unusual_domain", email, message: `outside the organization's usual email domains (${usual.join(", ")})`, address });
    }
  }
  return hints.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}
