import { SENSITIVE_TEXT, Side, UNKNOWN_TEXT, knownString, readAttribute } from "./attribute";
import { API_KEY, keySide } from "./key-rows";
import { DOMAIN_ACCESS, MemberDirectory, TEAM_MEMBER, managedChanges, stateResources } from "./member-directory";
import type { PlanJson, StateModule } from "./plan-json";
import { NEVER, ORGANIZATION } from "./review-model";
import { AccessSnapshot, Access, KeyAccess, MemberStatus, PersonAccess, Role, isAccess, isRole, MEMBER_STATUSES } from "../policy";

/** A person the plan knows on one side, with the resource that declares them. */
export interface PlannedPerson extends PersonAccess {
  readonly address: string;
}

/** A key the plan knows on one side, with its resource address. */
export interface PlannedKey extends KeyAccess {
  readonly address: string;
}

/** The access managed by a plan on one side: before (the prior state) or after (what applying it leaves). */
export interface PlannedAccess extends AccessSnapshot {
  readonly people: readonly PlannedPerson[];
  readonly keys: readonly PlannedKey[];
}

const POSTSCALE_DOMAIN = "postscale_domain";
const POSTSCALE_DOMAINS = "postscale_domains";

/** Domain names the plan's domain lookups read (`postscale_domain`'s `name`, `postscale_domains`' `names`). */
function lookedUpDomains(module: StateModule | undefined): string[] {
  const out: string[] = [];
  for (const r of stateResources(module)) {
    if (r.mode !== "data") continue;
    if (r.type === POSTSCALE_DOMAIN && typeof r.values?.name === "string") out.push(r.values.name);
    if (r.type === POSTSCALE_DOMAINS && Array.isArray(r.values?.names)) out.push(...r.values.names.filter((n): n is string => typeof n === "string"));
  }
  return out;
}

/** Whether a text is one of the review's placeholders rather than a value. */
const placeholder = (text: string | undefined): boolean => text === undefined || text === UNKNOWN_TEXT || text === SENSITIVE_TEXT;

/**
 * The access the plan's managed resources hold on one side: people
 * (`postscale_team_member`: email, role, status), their grants
 * (`postscale_domain_access`), keys (`postscale_api_key`, with the reach
 * the key rows read, auto-scope resolved against the grants after the
 * plan) and the domains the plan looks up or names. The side `after` is
 * the access that would exist once the plan is applied, whatever wrote the
 * configuration (constructs or plain HCL). A person whose email or role
 * the plan does not tell is left out; so are the grants and keys of
 * people it cannot name.
 */
export function plannedAccess(plan: PlanJson, side: Side, directory: MemberDirectory = new MemberDirectory(plan)): PlannedAccess {
  const people = new Map<string, { email: string; role: Role; status?: MemberStatus; grants: Record<string, Access>; address: string }>();
  for (const rc of managedChanges(plan, TEAM_MEMBER)) {
    if (rc.change[side] === null) continue;
    const email = knownString(readAttribute(rc, side, "email"));
    const role = knownString(readAttribute(rc, side, "role"));
    const status = knownString(readAttribute(rc, side, "status"));
    if (email === undefined || !isRole(role)) continue;
    people.set(email, { email, role, ...((MEMBER_STATUSES as readonly string[]).includes(status ?? "") ? { status: status as MemberStatus } : {}), grants: {}, address: rc.address });
  }
  const domains = new Set(lookedUpDomains(side === "before" ? plan.prior_state?.values?.root_module : plan.planned_values?.root_module));
  for (const rc of managedChanges(plan, DOMAIN_ACCESS)) {
    if (rc.change[side] === null) continue;
    const person = people.get(directory.ownerOf(rc, side)?.email ?? "");
    const domain = knownString(readAttribute(rc, side, "domain"));
    const access = knownString(readAttribute(rc, side, "access"));
    if (domain !== undefined) domains.add(domain);
    if (person !== undefined && domain !== undefined && isAccess(access)) person.grants[domain] = access;
  }
  const keys: PlannedKey[] = [];
  for (const rc of managedChanges(plan, API_KEY)) {
    if (rc.change[side] === null) continue;
    const k = keySide(rc, side, directory);
    if (placeholder(k.who) || placeholder(k.name)) continue;
    const reach: KeyAccess["reach"] =
      k.reach.kind === "organization" ? { kind: "organization" } : k.reach.kind === "domains" ? { kind: "domains", domains: k.reach.domains } : { kind: "unknown" };
    if (reach.kind === "domains") for (const d of reach.domains) domains.add(d);
    const expiresAt = k.expires === NEVER ? null : placeholder(k.expires) ? undefined : k.expires;
    keys.push({ name: k.name, holder: k.who === ORGANIZATION ? null : k.who, reach, ...(expiresAt === undefined ? {} : { expiresAt }), address: rc.address });
  }
  const byEmail = (a: { email: string }, b: { email: string }): number => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0);
  return { domains: [...domains].sort(), people: [...people.values()].sort(byEmail), keys };
}
