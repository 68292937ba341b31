import { grantRows } from "./grant-rows";
import { API_KEY, SurvivingKey, keyRows, survivingKeys } from "./key-rows";
import { MemberDirectory, TEAM_MEMBER } from "./member-directory";
import { memberRows } from "./member-rows";
import type { PlanJson } from "./plan-json";
import { AccessReview, ChangeKind, KeyToRotate, Offboarding, ReviewRow, ReviewSummary } from "./review-model";
import { SENSITIVE_TEXT, UNKNOWN_TEXT, knownString, readAttribute } from "./attribute";
import { changeShape } from "./change-shape";
import { revokedWithMember } from "../policy";

export { API_KEY };
export const DOMAIN_ACCESS = "postscale_domain_access";

/** Code-point order, not locale order: the same plan gives the same table on every machine. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted by who, domain, change; address and kind break the remaining ties. */
export function compareRows(a: ReviewRow, b: ReviewRow): number {
  return compareText(a.who, b.who) || compareText(a.domain, b.domain) || compareText(a.change, b.change) || compareText(a.address, b.address) || compareText(a.kind, b.kind);
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

/**
 * The access review of a plan: every change to people, grants and keys as
 * rows (sorted), the summary counts, and who leaves with what. Pure: plan in,
 * review out.
 */
export function reviewPlan(plan: PlanJson): AccessReview {
  const directory = new MemberDirectory(plan);
  const rows: ReviewRow[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === "data") continue;
    if (rc.type === TEAM_MEMBER) rows.push(...memberRows(rc));
    else if (rc.type === DOMAIN_ACCESS) rows.push(...grantRows(rc, directory));
    else if (rc.type === API_KEY) rows.push(...keyRows(rc, directory));
  }
  rows.sort(compareRows);
  return { summary: summarize(rows), offboarding: offboarding(rows, plan, directory), rows, broadening: rows.some((r) => r.broadening), changes: rows.length > 0 };
}
