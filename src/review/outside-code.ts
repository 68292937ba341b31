import { accessRows, describe } from "./access-rows";
import { UNKNOWN_TEXT, Side, readAttribute } from "./attribute";
import { changeShape } from "./change-shape";
import type { MemberDirectory } from "./member-directory";
import type { PlanJson, ResourceChange } from "./plan-json";
import { ALL_DOMAINS, NOTHING, ORGANIZATION, type DriftEntry, type ImportEntry, type ReviewRow, type UndeclaredEntry } from "./review-model";
import { isManager, isRole } from "../policy";

/**
 * Changes made outside the code since the last apply (the plan's
 * `resource_drift`: a grant changed in the dashboard, a key revoked by
 * hand), as the rows of those changes would read, and whether this plan
 * puts them back.
 */
export function driftEntries(plan: PlanJson, directory: MemberDirectory, compare: (a: ReviewRow, b: ReviewRow) => number): DriftEntry[] {
  const changing = new Set((plan.resource_changes ?? []).filter((rc) => changeShape(rc) !== "none").map((rc) => rc.address));
  const rows = (plan.resource_drift ?? []).flatMap((rc) => accessRows(rc, directory));
  return rows.sort(compare).map((row) => ({ who: row.who, change: row.change, domain: row.domain, before: row.before, after: row.after, reverted: changing.has(row.address), address: row.address }));
}

/** The addresses `resource_drift` names: rows changing them undo (or re-apply) what was done outside the code. */
export function driftedAddresses(plan: PlanJson): Set<string> {
  return new Set((plan.resource_drift ?? []).map((rc) => rc.address));
}

const IMPORTED: Partial<Record<ReviewRow["kind"], string>> = { member_added: "member imported", grant_added: "grant imported", key_created: "key imported" };

/** Whether the plan imports this resource (an `import` block). The import id is never read: it is an id, not a name. */
export function isImport(rc: ResourceChange): boolean {
  return rc.change.importing !== undefined && rc.change.importing !== null;
}

/** Resources this plan imports, each as what it is (the person's role, the grant's access, the key's reach), person by person as the rows are. */
export function importEntries(plan: PlanJson, directory: MemberDirectory, compare: (a: ReviewRow, b: ReviewRow) => number): ImportEntry[] {
  const rows = (plan.resource_changes ?? []).filter(isImport).flatMap((rc) => describe(rc, directory) ?? []);
  return rows.sort(compare).flatMap((row) => {
    const change = IMPORTED[row.kind];
    if (!change) return [];
    return [{ who: row.who, change: row.key === undefined ? change : `${change}: ${row.key}`, domain: row.domain, value: row.after, address: row.address }];
  });
}

export const UNDECLARED_ACCESS = "postscale_undeclared_access";

type Category = "member" | "grant" | "key";
const CATEGORIES: readonly Category[] = ["member", "grant", "key"];
const SET_NAMES: Record<Category, string> = { member: "members", grant: "grants", key: "keys" };

/** One piece of undeclared access, display-ready. */
interface Found {
  category: Category;
  who: string;
  name?: string;
  domain: string;
  value: string;
  /** Identity within its set, to tell what the plan removes. */
  identity: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
/** Ids are not for reviewers: an element named only by an id reads as this. */
const NOT_NAMED = "(not named in the plan)";

/**
 * A reference as the provider spells it: `<email>` for a member,
 * `<email>/<domain>` for a grant, `<email>/<name>` or `organization/<name>`
 * for a key. Split after the holder (a key name may hold a slash).
 */
function splitRef(ref: string): [holder: string, rest: string | undefined] {
  if (ref.startsWith(`${ORGANIZATION}/`)) return [ORGANIZATION, ref.slice(ORGANIZATION.length + 1)];
  const at = ref.indexOf("@");
  const slash = at < 0 ? -1 : ref.indexOf("/", at);
  return slash < 0 ? [ref, undefined] : [ref.slice(0, slash), ref.slice(slash + 1)];
}

/**
 * Reads one element of `members`, `grants` or `keys` without trusting its
 * shape: a reference string (see `splitRef`) or an object with whichever
 * of `email`, `member_email`, `member_id`, `role`, `domain`, `access`,
 * `name`, `owner`, `domains`, `scope` it has. Ids are resolved to emails
 * through the plan or left out; they are never shown.
 */
function readFound(category: Category, element: unknown, directory: MemberDirectory, side: Side): Found {
  const identity = JSON.stringify(element, (_, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
  const o: Record<string, unknown> = typeof element === "object" && element !== null && !Array.isArray(element) ? (element as Record<string, unknown>) : {};
  const [refHolder, refRest] = typeof element === "string" ? splitRef(element) : [undefined, undefined];
  const memberId = str(o.member_id);
  const named = str(o.email) ?? str(o.member_email) ?? str(o.holder_email) ?? (memberId ? directory.byMemberId(memberId, side)?.email : undefined);
  const holder = refHolder === ORGANIZATION || str(o.owner) === ORGANIZATION ? ORGANIZATION : named ?? (refHolder?.includes("@") ? refHolder : undefined);
  const who = holder ?? NOT_NAMED;
  if (category === "member") {
    const role = str(o.role);
    return { category, who, domain: role && isRole(role) && isManager(role) ? ALL_DOMAINS : NOTHING, value: role ?? "member", identity };
  }
  if (category === "grant") return { category, who, domain: str(o.domain) ?? refRest ?? NOT_NAMED, value: str(o.access) ?? "access", identity };
  const domains = Array.isArray(o.domains) ? o.domains.filter((d): d is string => typeof d === "string").sort() : [];
  const orgWide = str(o.scope) === ORGANIZATION || (domains.length === 0 && holder === ORGANIZATION && o.domains !== undefined);
  const reach = orgWide ? "organization-wide" : domains.length > 0 ? domains.join(", ") : "key";
  return { category, who, name: str(o.name) ?? refRest ?? NOT_NAMED, domain: orgWide ? ALL_DOMAINS : domains.length > 0 ? reach : NOTHING, value: reach, identity };
}

/** The elements of one set attribute on one side, or undefined when the plan does not tell (unknown, sensitive, absent). */
function elements(rc: ResourceChange, side: Side, category: Category, directory: MemberDirectory): Found[] | undefined {
  const attr = readAttribute(rc, side, SET_NAMES[category]);
  if (attr.state !== "known") return undefined;
  return Array.isArray(attr.value) ? attr.value.map((e) => readFound(category, e, directory, side)) : [];
}

function removes(rc: ResourceChange): boolean {
  const after = readAttribute(rc, "after", "remove");
  const before = readAttribute(rc, "before", "remove");
  return (after.state === "known" ? after.value : before.state === "known" ? before.value : false) === true;
}

const KIND: Record<Category, ReviewRow["kind"]> = { member: "undeclared_member_removed", grant: "undeclared_grant_removed", key: "undeclared_key_removed" };
const REMOVED = "added outside the code — will be removed";

function removalRow(rc: ResourceChange, f: Found): ReviewRow {
  const what = f.category === "key" ? `key: ${f.name}` : f.category;
  return {
    sign: "-", who: f.who, change: `${what} ${REMOVED}`, kind: KIND[f.category], domain: f.domain, before: f.value, after: NOTHING, risk: "none", reason: "narrows: not declared in the code",
    broadening: false, ...(f.name ? { key: f.name } : {}), address: rc.address,
  };
}

/**
 * Access found in Postscale that the code does not declare
 * (`postscale_undeclared_access`: computed sets `members`, `grants`,
 * `keys`, and `remove`). With `remove = true` the plan empties the sets:
 * what leaves them is a row that narrows access ("added outside the code —
 * will be removed"). Otherwise each element is listed as "added outside
 * the code — not managed". Its schema is read defensively: unknown or
 * missing sets are skipped, or summed up in one row when they are removed.
 */
export function undeclaredAccess(plan: PlanJson, directory: MemberDirectory): { rows: ReviewRow[]; entries: UndeclaredEntry[] } {
  const rows: ReviewRow[] = [];
  const entries: UndeclaredEntry[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.type !== UNDECLARED_ACCESS || rc.mode === "data" || rc.mode === "ephemeral") continue;
    const removing = removes(rc) && changeShape(rc) !== "delete";
    for (const category of CATEGORIES) {
      const before = elements(rc, "before", category, directory);
      const after = elements(rc, "after", category, directory);
      if (removing) {
        if (before === undefined && after === undefined && readAttribute(rc, "after", SET_NAMES[category]).state === "unknown") {
          rows.push({ sign: "-", who: UNKNOWN_TEXT, change: `${SET_NAMES[category]} ${REMOVED}`, kind: KIND[category], domain: UNKNOWN_TEXT, before: UNKNOWN_TEXT, after: NOTHING, risk: "none", reason: "known after apply", broadening: false, address: rc.address });
          continue;
        }
        const staying = new Set((after ?? []).map((f) => f.identity));
        for (const f of before ?? []) if (!staying.has(f.identity)) rows.push(removalRow(rc, f));
      } else {
        for (const f of after ?? before ?? []) {
          entries.push({ who: f.who, what: f.category === "key" ? `key: ${f.name}` : f.category, domain: f.domain, value: f.value, address: rc.address });
        }
      }
    }
  }
  const order = (e: UndeclaredEntry): string => [e.who === ORGANIZATION ? "\uffff" : e.who, e.what, e.domain, e.address].join("\u0000");
  entries.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { rows, entries };
}
