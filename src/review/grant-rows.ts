import { UNKNOWN_TEXT, Side } from "./attribute";
import { cellOf, rowsOf } from "./change-shape";
import type { MemberDirectory } from "./member-directory";
import type { ResourceChange } from "./plan-json";
import { NOTHING, ReviewRow } from "./review-model";
import { ACCESS, accessRank, isAccess } from "../policy";

const rank = (access: string): number => accessRank(isAccess(access) ? access : undefined);

interface GrantSide {
  who: string;
  domain: string;
  access: string;
}

function grant(rc: ResourceChange, side: Side, directory: MemberDirectory): GrantSide {
  return { who: directory.ownerOf(rc, side)?.email ?? UNKNOWN_TEXT, domain: cellOf(rc, side, "domain"), access: cellOf(rc, side, "access") };
}

function added(rc: ResourceChange, g: GrantSide): ReviewRow {
  const [risk, reason] =
    g.access === ACCESS.read_write ? (["medium", "new read_write grant"] as const) : g.access === ACCESS.read ? (["low", "new read grant"] as const) : (["medium", "new grant, access known after apply"] as const);
  return { sign: "+", who: g.who, change: "grant added", kind: "grant_added", domain: g.domain, before: NOTHING, after: g.access, risk, reason, broadening: true, address: rc.address };
}

function removed(rc: ResourceChange, g: GrantSide): ReviewRow {
  return { sign: "-", who: g.who, change: "grant removed", kind: "grant_removed", domain: g.domain, before: g.access, after: NOTHING, risk: "none", reason: "access removed", broadening: false, address: rc.address };
}

/** Same person, same domain: only the access level can move. */
function accessChanged(rc: ResourceChange, before: GrantSide, after: GrantSide, replaced: boolean): ReviewRow[] {
  const base = { who: after.who, domain: after.domain, before: before.access, after: after.access, address: rc.address };
  if (after.access === UNKNOWN_TEXT) {
    return [{ ...base, sign: "~", change: "grant changed", kind: "grant_changed", risk: "medium", reason: "access known after apply", broadening: true }];
  }
  const delta = rank(after.access) - rank(before.access);
  if (delta > 0) return [{ ...base, sign: "+", change: "grant widened", kind: "grant_widened", risk: "medium", reason: "read → read_write", broadening: true }];
  if (delta < 0) return [{ ...base, sign: "-", change: "grant narrowed", kind: "grant_narrowed", risk: "none", reason: "read_write → read", broadening: false }];
  if (replaced) return [{ ...base, sign: "~", change: "grant re-created", kind: "grant_recreated", risk: "none", reason: "same access, re-created", broadening: false }];
  return [];
}

/**
 * Rows for a `postscale_domain_access` change. A grant moved to another
 * person or domain is one grant removed and another added: each is reviewed
 * on its own.
 */
export function grantRows(rc: ResourceChange, directory: MemberDirectory): ReviewRow[] {
  return rowsOf(rc, {
    read: (side) => grant(rc, side, directory),
    added,
    removed,
    moved: (before, after) => before.who !== after.who || before.domain !== after.domain,
    changed: (_, before, after, shape) => accessChanged(rc, before, after, shape === "replace"),
  });
}
