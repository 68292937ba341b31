import { UNKNOWN_TEXT, Side } from "./attribute";
import { cellOf, rowsOf } from "./change-shape";
import type { ResourceChange } from "./plan-json";
import { ALL_DOMAINS, NOTHING, ReviewRow } from "./review-model";
import { isManager, isRole } from "../policy";

interface PersonSide {
  email: string;
  role: string;
}

function person(rc: ResourceChange, side: Side): PersonSide {
  return { email: cellOf(rc, side, "email"), role: cellOf(rc, side, "role") };
}

/** Whether a role (as the plan shows it) reaches every domain read/write: the policy's managers. */
function reachesAllDomains(role: string): boolean {
  return isRole(role) && isManager(role);
}

/** Managers reach every domain, so the domain cell says so; members reach only their grants. */
function roleDomain(role: string): string {
  return reachesAllDomains(role) ? ALL_DOMAINS : NOTHING;
}

function added(rc: ResourceChange, p: PersonSide): ReviewRow {
  const [risk, reason] =
    reachesAllDomains(p.role) ? (["high", "new admin"] as const) : p.role === UNKNOWN_TEXT ? (["high", "new person, role known after apply"] as const) : (["medium", "new person"] as const);
  return { sign: "+", who: p.email, change: "member added", kind: "member_added", domain: roleDomain(p.role), before: NOTHING, after: p.role, risk, reason, broadening: true, address: rc.address };
}

function removed(rc: ResourceChange, p: PersonSide): ReviewRow {
  return { sign: "-", who: p.email, change: "member removed", kind: "member_removed", domain: roleDomain(p.role), before: p.role, after: NOTHING, risk: "none", reason: "leaves the organization", broadening: false, address: rc.address };
}

function roleChanged(rc: ResourceChange, before: PersonSide, after: PersonSide): ReviewRow {
  const base = { who: after.email, change: "role changed", kind: "role_changed" as const, domain: ALL_DOMAINS, before: before.role, after: after.role, address: rc.address };
  if (after.role === UNKNOWN_TEXT) return { ...base, sign: "~", risk: "medium", reason: "role known after apply", broadening: true };
  if (reachesAllDomains(after.role)) return { ...base, sign: "+", risk: "high", reason: "becomes admin: every domain, read_write", broadening: true };
  if (reachesAllDomains(before.role)) return { ...base, sign: "-", risk: "none", reason: "no longer admin: keeps only granted domains", broadening: false };
  return { ...base, sign: "~", risk: "low", reason: "role changed", broadening: false };
}

/**
 * Rows for a `postscale_team_member` change. A new email is a different
 * person to review, so an email change (a replace) reads as one person
 * leaving and another arriving.
 */
export function memberRows(rc: ResourceChange): ReviewRow[] {
  return rowsOf(rc, { read: (side) => person(rc, side), added, removed, moved: (before, after) => before.email !== after.email, changed: personChanged });
}

function personChanged(rc: ResourceChange, before: PersonSide, after: PersonSide, shape: "update" | "replace"): ReviewRow[] {
  if (before.role !== after.role) return [roleChanged(rc, before, after)];
  if (shape === "replace") {
    return [{ sign: "~", who: after.email, change: "member re-created", kind: "member_recreated", domain: roleDomain(after.role), before: before.role, after: after.role, risk: "low", reason: "re-invited: must accept a new invitation", broadening: false, address: rc.address }];
  }
  return [];
}
