import { accessRows } from "./access-rows";
import { emailHints } from "./email-hints";
import { ephemeralKeys } from "./ephemeral-keys";
import { API_KEY, SurvivingKey, pairDeposed, survivingKeys } from "./key-rows";
import { DOMAIN_ACCESS, MemberDirectory, TEAM_MEMBER } from "./member-directory";
import { driftEntries, driftedAddresses, importEntries, isImport, undeclaredAccess } from "./outside-code";
import type { PlanJson } from "./plan-json";
import { AccessReview, ChangeKind, KeyToRotate, ORGANIZATION, Offboarding, ReviewRow, ReviewSummary } from "./review-model";
import { SENSITIVE_TEXT, UNKNOWN_TEXT, knownString, readAttribute } from "./attribute";
import { changeShape } from "./change-shape";
import { effectiveAccess } from "./effective-access";
import { PlannedAccess, plannedAccess } from "./plan-access";
import { InvariantRule, InvariantViolation, checkInvariants, revokedWithMember } from "../policy";
import type { InvariantsReport } from "./review-model";

export { API_KEY, DOMAIN_ACCESS };

/** Code-point order, not locale order: the same plan gives the same table on every machine. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** People by email first, then rows whose person the plan does not tell (placeholders, all in parentheses), then the organization's keys. */
function whoRank(who: string): number {
  if (who === ORGANIZATION) return 2;
  return who.startsWith("(") ? 1 : 0;
}

/** Within a person: the person (added, removed, role), then grants, then keys. */
function kindRank(kind: ChangeKind): number {
  if (kind.startsWith("member_") || kind === "role_changed" || kind === "undeclared_member_removed") return 0;
  if (kind.startsWith("grant_") || kind === "undeclared_grant_removed") return 1;
  return 2;
}

/**
 * Person by person: each person's role change, grants (by domain) and keys
 * (by name) together, people in email order, organization keys last;
 * change, address and kind break the remaining ties.
 */
export function compareRows(a: ReviewRow, b: ReviewRow): number {
  return (
    whoRank(a.who) - whoRank(b.who) ||
    compareText(a.who, b.who) ||
    kindRank(a.kind) - kindRank(b.kind) ||
    compareText(a.key ?? "", b.key ?? "") ||
    compareText(a.domain, b.domain) ||
    compareText(a.change, b.change) ||
    compareText(a.address, b.address) ||
    compareText(a.kind, b.kind)
  );
}

function count(rows: ReviewRow[], kind: ChangeKind): number {
  return rows.filter((r) => r.kind === kind).length;
}

function summarize(rows: ReviewRow[]): ReviewSummary {
  return {
    peopleAdded: count(rows, "member_added"),
    peopleRemoved: count(rows, "member_removed"),
    rolesChanged: count(rows, "role_changed"),
    grantsAdded: count(rows, "grant_added"),
    grantsRemoved: count(rows, "grant_removed"),
    grantsWidened: count(rows, "grant_widened"),
    grantsNarrowed: count(rows, "grant_narrowed"),
    keysCreated: count(rows, "key_created"),
    keysRevoked: count(rows, "key_revoked"),
    keysRescoped: count(rows, "key_rescoped"),
    keysRotated: count(rows, "key_rotated"),
    undeclaredRemoved: count(rows, "undeclared_member_removed") + count(rows, "undeclared_grant_removed") + count(rows, "undeclared_key_removed"),
    drifted: 0,
    imported: 0,
    broadening: rows.filter((r) => r.broadening).length,
  };
}

/** Member ids (as they were before the plan) of the `postscale_team_member` resources this plan destroys, by address. */
function removedMemberIds(plan: PlanJson): Map<string, string> {
  const out = new Map<string, string>();
  for (const rc of plan.resource_changes ?? []) {
    if (rc.type !== TEAM_MEMBER || rc.mode === "data") continue;
    const shape = changeShape(rc);
    const id = knownString(readAttribute(rc, "before", "id"));
    if ((shape === "delete" || shape === "replace") && id !== undefined) out.set(rc.address, id);
  }
  return out;
}

/**
 * The keys to rotate when the member `id` leaves: those they created that
 * survive the plan, i.e. not revoked with a holder removed in it (the server
 * revokes a member's keys when they go; organization keys stay).
 */
function keysToRotate(id: string | undefined, keys: SurvivingKey[], removedIds: string[]): KeyToRotate[] {
  if (id === undefined) return [];
  const revoked = ({ owner, memberId }: SurvivingKey): boolean => owner !== undefined && removedIds.some((removed) => revokedWithMember({ owner, memberId: memberId ?? null }, removed));
  return keys
    .filter((k) => k.createdBy === id && !revoked(k))
    .map(({ name, holder, domains, address }) => ({ name, holder, domains, address }))
    .sort((a, b) => compareText(a.name, b.name) || compareText(a.address, b.address));
}

/**
 * People who leave: removed and not added back under the same email in the
 * same plan (a moved resource is not an offboarding), with the grants and
 * member keys this plan destroys with them, and the keys they created that
 * outlive them (to rotate: they may know those secrets).
 */
function offboarding(rows: ReviewRow[], plan: PlanJson, directory: MemberDirectory): Offboarding[] {
  const staying = new Set(rows.filter((r) => r.kind === "member_added").map((r) => r.who));
  const leaving = rows.filter((r) => r.kind === "member_removed" && !staying.has(r.who) && r.who !== UNKNOWN_TEXT && r.who !== SENSITIVE_TEXT);
  const removed = removedMemberIds(plan);
  const keys = leaving.length > 0 ? survivingKeys(plan, directory) : [];
  return leaving
    .map((person) => ({
      email: person.who,
      role: person.before,
      grants: rows.filter((r) => r.kind === "grant_removed" && r.who === person.who).map((r) => ({ domain: r.domain, access: r.before })).sort((a, b) => compareText(a.domain, b.domain)),
      keys: rows.filter((r) => r.kind === "key_revoked" && r.who === person.who).map((r) => ({ name: r.key ?? "", domains: r.before })).sort((a, b) => compareText(a.name, b.name)),
      rotate: keysToRotate(removed.get(person.address), keys, [...removed.values()]),
    }))
    .sort((a, b) => compareText(a.email, b.email));
}

/** Adds a note to a row, keeping the notes it has. */
function note(row: ReviewRow, text: string): ReviewRow {
  return { ...row, notes: [...(row.notes ?? []), text] };
}

/** Options of {@link reviewPlan}. */
export interface ReviewOptions {
  /** Access rules (a rules file's `rules`) to check the access after the plan against. */
  rules?: readonly InvariantRule[];
  /** The moment key expiry limits are measured from. @default - now */
  now?: Date;
}

const sameFinding = (a: InvariantViolation, b: InvariantViolation): boolean => a.rule === b.rule && a.person === b.person && a.domain === b.domain && a.key === b.key;

/** The rules checked against the access after the plan, each violation marked by whether the access before kept that rule. */
function invariantsReport(access: Record<"before" | "after", PlannedAccess>, rules: readonly InvariantRule[], now: Date | undefined): InvariantsReport {
  const after = checkInvariants(access.after, rules, { now });
  const before = checkInvariants(access.before, rules, { now });
  return { rules: rules.length, violations: after.map((v) => ({ ...v, introduced: !before.some((b) => sameFinding(b, v)) })) };
}

/**
 * The access review of a plan: every change to people, grants and keys as
 * rows (person by person), the summary counts, who leaves with what, hints
 * about new people's emails, what changed or was added outside the code,
 * imports, the short-lived keys of the run, everyone's effective access
 * before → after and, with `rules`, the access rules the result breaks.
 * Pure: plan in, review out.
 */
export function reviewPlan(plan: PlanJson, options: ReviewOptions = {}): AccessReview {
  const directory = new MemberDirectory(plan);
  const drifted = driftedAddresses(plan);
  const rows: ReviewRow[] = [];
  for (const rc of pairDeposed(plan.resource_changes ?? [])) {
    for (let row of accessRows(rc, directory)) {
      if (isImport(rc)) row = note(row, "imported");
      if (drifted.has(rc.address)) row = note(row, "undoes a change made outside the code");
      rows.push(row);
    }
  }
  const undeclared = undeclaredAccess(plan, directory);
  rows.push(...undeclared.rows);
  rows.sort(compareRows);
  const drift = driftEntries(plan, directory, compareRows);
  const imports = importEntries(plan, directory, compareRows);
  const access = { before: plannedAccess(plan, "before", directory), after: plannedAccess(plan, "after", directory) };
  return {
    summary: { ...summarize(rows), drifted: drift.length, imported: imports.length },
    offboarding: offboarding(rows, plan, directory),
    rows,
    broadening: rows.some((r) => r.broadening),
    changes: rows.length > 0,
    hints: emailHints(plan, rows),
    drift,
    imports,
    undeclared: undeclared.entries,
    ephemeralKeys: ephemeralKeys(plan, directory),
    effectiveAccess: effectiveAccess(access.before, access.after),
    ...(options.rules === undefined ? {} : { invariants: invariantsReport(access, options.rules, options.now) }),
  };
}
