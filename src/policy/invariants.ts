import { parseDuration } from "../duration";
import { ACCESS, Access, MEMBER_STATUS, MemberStatus, ROLE, Role, accessCovers, isManager } from "./roles";

/**
 * Access invariants: rules the company wants true of its organization
 * whatever changes it ("contractors never get read_write", "at most 3
 * admins", "every key expires within 90 days"). One engine, pure: an access
 * snapshot and a rule set in, violations out. The constructs check the
 * declared team at synth, `postscale review` the access a plan leaves,
 * `postscale check` the live organization; each builds a snapshot and asks
 * this module.
 */

/** One person as far as access goes. */
export interface PersonAccess {
  /** Lower-case email. */
  readonly email: string;
  readonly role: Role;
  /** @default - unknown: counted as a person who has (or will have) access */
  readonly status?: MemberStatus;
  /** Domain grants by domain name (meaningful for role member; managers reach every domain). */
  readonly grants: Readonly<Record<string, Access>>;
}

/** What a key reaches, resolved: every domain, the domains it names, or not known yet (a plan's "known after apply"). */
export type ResolvedKeyReach = { readonly kind: "organization" } | { readonly kind: "domains"; readonly domains: readonly string[] } | { readonly kind: "unknown" };

/** One API key as far as access goes. */
export interface KeyAccess {
  readonly name: string;
  /** The holder's email; null for an organization-owned key. */
  readonly holder: string | null;
  readonly reach: ResolvedKeyReach;
  /**
   * When the key stops working (RFC 3339), null when it never expires.
   * @default - not known yet (a plan's "known after apply"): no expiry rule is decided on it
   */
  readonly expiresAt?: string | null;
}

/** The access of an organization at one moment: declared, planned or live. */
export interface AccessSnapshot {
  /** The organization's domain names that are known (lookups, grants, key scopes, the domain list). */
  readonly domains: readonly string[];
  readonly people: readonly PersonAccess[];
  readonly keys: readonly KeyAccess[];
}

/** What a `never` rule forbids: write access, or any access at all. */
export type ForbiddenAccess = "read_write" | "any";
export const FORBIDDEN_ACCESS: readonly ForbiddenAccess[] = ["read_write", "any"];

/** Roles an `at_most` rule can count. */
export const COUNTED_ROLES: readonly Role[] = [ROLE.owner, ROLE.admin, ROLE.member];

interface RuleBase {
  /** Unique within a rule set; every violation names it. */
  readonly name: string;
  /**
   * Why the rule exists, shown with every violation.
   * @default - a sentence made from the rule ({@link describeRule})
   */
  readonly message?: string;
}

/**
 * Nobody matching `people` (email patterns; `*` matches any run of
 * characters) has `access` on `domains` (names or patterns). Either may be
 * left out: anyone, or every domain. People in `except` (emails or
 * patterns) are exempt.
 */
export interface NeverRule extends RuleBase {
  readonly kind: "never";
  readonly people?: readonly string[];
  readonly domains?: readonly string[];
  readonly access: ForbiddenAccess;
  readonly except?: readonly string[];
}

/** At most `max` people of `role`. */
export interface AtMostRule extends RuleBase {
  readonly kind: "at_most";
  readonly role: Role;
  readonly max: number;
}

/**
 * Every key has an expiry, at most `within` (a duration: "90d", "36h")
 * from now when given. Keys in `except` (`email/name` or
 * `organization/name`) are exempt.
 */
export interface KeysExpireRule extends RuleBase {
  readonly kind: "keys_expire";
  readonly within?: string;
  readonly except?: readonly string[];
}

/**
 * Every domain (of `domains`, names or patterns, when given) has at least
 * one person of role member with read_write on it: someone answers for it
 * besides the admins, who reach every domain anyway.
 */
export interface EveryDomainHasWriterRule extends RuleBase {
  readonly kind: "every_domain_has_writer";
  readonly domains?: readonly string[];
}

/** No key reaches the whole organization; keys in `except` (`email/name` or `organization/name`) are exempt. */
export interface NoOrganizationWideKeysRule extends RuleBase {
  readonly kind: "no_organization_wide_keys";
  readonly except?: readonly string[];
}

export type InvariantRule = NeverRule | AtMostRule | KeysExpireRule | EveryDomainHasWriterRule | NoOrganizationWideKeysRule;
export type InvariantRuleKind = InvariantRule["kind"];
export const INVARIANT_RULE_KINDS: readonly InvariantRuleKind[] = ["never", "at_most", "keys_expire", "every_domain_has_writer", "no_organization_wide_keys"];

/** One broken rule: who or what breaks it, and how to fix it. Every text is display-ready. */
export interface InvariantViolation {
  /** The rule's name. */
  readonly rule: string;
  readonly kind: InvariantRuleKind;
  /** The rule's message: why it exists. */
  readonly message: string;
  /** The person concerned (a key's holder for key rules). */
  readonly person?: string;
  /** Everyone concerned, for a rule about a count (`at_most`). */
  readonly people?: readonly string[];
  /** The domain concerned; `all domains` for a manager's reach. */
  readonly domain?: string;
  /** The key concerned, as `email/name` or `organization/name`. */
  readonly key?: string;
  /** What is wrong, e.g. `lee@contractors.example.com has read_write on app.example.com`. */
  readonly detail: string;
  /** What to change so the rule holds. */
  readonly fix: string;
}

/** Options of {@link checkInvariants}. */
export interface CheckOptions {
  /** The moment `within` is measured from. @default - now */
  readonly now?: Date;
}

/** What a manager reaches, as a violation names the domain. */
const ALL_DOMAINS_TEXT = "all domains";

/** Whether `value` matches `pattern`: the same text ignoring case, `*` standing for any run of characters. */
export function matchesPattern(pattern: string, value: string): boolean {
  const source = pattern
    .toLowerCase()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(value.toLowerCase());
}

function matchesAny(patterns: readonly string[] | undefined, value: string): boolean {
  return patterns !== undefined && patterns.some((p) => matchesPattern(p, value));
}

/** A key as rules and people name it: `email/name`, or `organization/name` for an organization-owned key. */
export function keyRef(key: Pick<KeyAccess, "holder" | "name">): string {
  return `${key.holder ?? "organization"}/${key.name}`;
}

/** Whether someone has, or will have once they accept, the access recorded for them: an expired invitation gives nothing. */
export function holdsAccess(person: PersonAccess): boolean {
  return person.status !== MEMBER_STATUS.expired;
}

const ROLE_PLURAL: Record<Role, string> = { owner: "owners", admin: "admins", member: "members" };

/** The sentence a rule reads as when it has no message of its own. */
export function describeRule(rule: InvariantRule): string {
  switch (rule.kind) {
    case "never": {
      const who = rule.people ? `nobody matching ${rule.people.join(" or ")}` : "nobody";
      const what = rule.access === ACCESS.read_write ? "has read_write" : "has any access";
      const where = rule.domains ? ` on ${rule.domains.join(", ")}` : "";
      const except = rule.except && rule.except.length > 0 ? `, except ${rule.except.join(", ")}` : "";
      return `${who} ${what}${where}${except}`;
    }
    case "at_most":
      return `at most ${rule.max} ${rule.max === 1 ? rule.role : ROLE_PLURAL[rule.role]}`;
    case "keys_expire":
      return rule.within === undefined ? "every API key expires" : `every API key expires within ${rule.within}`;
    case "every_domain_has_writer":
      return `every domain${rule.domains ? ` of ${rule.domains.join(", ")}` : ""} has a member with read_write`;
    case "no_organization_wide_keys":
      return "no API key reaches the whole organization";
  }
}

/** Every domain name the snapshot mentions: the known list, grants and key scopes. */
function knownDomains(snapshot: AccessSnapshot): string[] {
  const names = new Set(snapshot.domains);
  for (const p of snapshot.people) for (const d of Object.keys(p.grants)) names.add(d);
  for (const k of snapshot.keys) if (k.reach.kind === "domains") for (const d of k.reach.domains) names.add(d);
  return [...names].sort();
}

type Found = Omit<InvariantViolation, "rule" | "kind" | "message">;

function a(role: Role): string {
  return role === ROLE.owner ? "the owner" : role === ROLE.admin ? "an admin" : "a member";
}

function checkNever(rule: NeverRule, snapshot: AccessSnapshot): Found[] {
  const needed: Access = rule.access === ACCESS.read_write ? ACCESS.read_write : ACCESS.read;
  // Literal domain names count even when nothing else mentions them: a manager reaches them too.
  const literal = (rule.domains ?? []).filter((d) => !d.includes("*"));
  const domains = [...new Set([...knownDomains(snapshot), ...literal])].filter((d) => rule.domains === undefined || matchesAny(rule.domains, d)).sort();
  const out: Found[] = [];
  for (const person of snapshot.people) {
    if (!holdsAccess(person) || matchesAny(rule.except, person.email)) continue;
    if (rule.people !== undefined && !matchesAny(rule.people, person.email)) continue;
    if (isManager(person.role)) {
      const fix = `Make ${person.email} a member (role member) with only the domain access this rule allows, or remove them.`;
      if (rule.domains === undefined) {
        out.push({ person: person.email, domain: ALL_DOMAINS_TEXT, detail: `${person.email} is ${a(person.role)}: read_write on every domain`, fix });
      } else {
        for (const domain of domains) out.push({ person: person.email, domain, detail: `${person.email} is ${a(person.role)}: read_write on ${domain}`, fix });
      }
      continue;
    }
    for (const [domain, access] of Object.entries(person.grants).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      if (!domains.includes(domain) || !accessCovers(access, needed)) continue;
      const fix =
        rule.access === ACCESS.read_write ? `Remove ${person.email}'s grant on ${domain}, or make it read.` : `Remove ${person.email}'s grant on ${domain}.`;
      out.push({ person: person.email, domain, detail: `${person.email} has ${access} on ${domain}`, fix });
    }
  }
  return out;
}

function checkAtMost(rule: AtMostRule, snapshot: AccessSnapshot): Found[] {
  const counted = snapshot.people.filter((p) => holdsAccess(p) && p.role === rule.role).map((p) => p.email).sort();
  if (counted.length <= rule.max) return [];
  const extra = counted.length - rule.max;
  const fix =
    rule.role === ROLE.member
      ? `Remove ${extra} of them, or raise the limit.`
      : `Make ${extra} of them ${rule.role === ROLE.owner ? "admins" : "members with domain access"} instead, or remove ${extra === 1 ? "one" : "them"}.`;
  return [{ people: counted, detail: `${counted.length} ${ROLE_PLURAL[rule.role]} (${counted.join(", ")}), more than ${rule.max}`, fix }];
}

const DAY_MS = 86_400_000;

function checkKeysExpire(rule: KeysExpireRule, snapshot: AccessSnapshot, now: Date, withinSeconds: number | undefined): Found[] {
  const limit = withinSeconds === undefined ? undefined : new Date(now.getTime() + withinSeconds * 1000);
  const out: Found[] = [];
  for (const key of snapshot.keys) {
    const ref = keyRef(key);
    if (key.expiresAt === undefined || matchesAny(rule.except, ref)) continue;
    const whose = keyWords(key);
    const person = key.holder ?? undefined;
    if (key.expiresAt === null) {
      const by = limit === undefined ? "" : ` no later than ${day(limit)}`;
      out.push({ person, key: ref, detail: `${whose} never expires`, fix: `Give it an expiry${by} (expires_at; expiresAt in the constructs).` });
      continue;
    }
    const expires = Date.parse(key.expiresAt);
    if (limit !== undefined && expires > limit.getTime()) {
      const days = Math.ceil((expires - now.getTime()) / DAY_MS);
      out.push({ person, key: ref, detail: `${whose} expires at ${key.expiresAt}, ${days} days from now, later than ${rule.within}`, fix: `Give it an earlier expiry, no later than ${day(limit)} (expires_at; expiresAt in the constructs).` });
    }
  }
  return out;
}

function day(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, "Z");
}

function keyWords(key: KeyAccess): string {
  return key.holder === null ? `organization key "${key.name}"` : `API key "${key.name}" of ${key.holder}`;
}

function checkEveryDomainHasWriter(rule: EveryDomainHasWriterRule, snapshot: AccessSnapshot): Found[] {
  const writers = new Set<string>();
  for (const p of snapshot.people) {
    if (!holdsAccess(p) || p.role !== ROLE.member) continue;
    for (const [domain, access] of Object.entries(p.grants)) if (access === ACCESS.read_write) writers.add(domain);
  }
  return knownDomains(snapshot)
    .filter((d) => (rule.domains === undefined || matchesAny(rule.domains, d)) && !writers.has(d))
    .map((domain) => ({ domain, detail: `no member has read_write on ${domain}`, fix: `Grant read_write on ${domain} to the member who answers for it.` }));
}

function checkNoOrganizationWideKeys(rule: NoOrganizationWideKeysRule, snapshot: AccessSnapshot): Found[] {
  return snapshot.keys
    .filter((k) => k.reach.kind === "organization" && !matchesAny(rule.except, keyRef(k)))
    .map((k) => ({ person: k.holder ?? undefined, key: keyRef(k), detail: `${keyWords(k)} reaches every domain of the organization`, fix: "Name the domains it needs (domains = [...]; domains: [...] in the constructs)." }));
}

/** Code-point order; what has no value (the organization's keys) after what has one. */
function compare(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The violations of `rules` in `snapshot`: rule by rule in the order given,
 * then by person, domain and key. A value the snapshot does not know (a
 * key's reach or expiry known only after apply) breaks no rule. Rules are
 * expected valid ({@link ruleSetProblems}); a `within` that is not a
 * duration is skipped rather than guessed.
 */
export function checkInvariants(snapshot: AccessSnapshot, rules: readonly InvariantRule[], options: CheckOptions = {}): InvariantViolation[] {
  const now = options.now ?? new Date();
  const out: InvariantViolation[] = [];
  for (const rule of rules) {
    let found: Found[];
    switch (rule.kind) {
      case "never":
        found = checkNever(rule, snapshot);
        break;
      case "at_most":
        found = checkAtMost(rule, snapshot);
        break;
      case "keys_expire": {
        const within = rule.within === undefined ? undefined : parseDuration(rule.within);
        found = within !== undefined && "problem" in within ? [] : checkKeysExpire(rule, snapshot, now, within?.seconds);
        break;
      }
      case "every_domain_has_writer":
        found = checkEveryDomainHasWriter(rule, snapshot);
        break;
      case "no_organization_wide_keys":
        found = checkNoOrganizationWideKeys(rule, snapshot);
        break;
    }
    found.sort((x, y) => compare(x.person, y.person) || compare(x.domain, y.domain) || compare(x.key, y.key));
    const message = rule.message ?? describeRule(rule);
    for (const f of found) out.push(withoutUndefined({ rule: rule.name, kind: rule.kind, message, ...f }));
  }
  return out;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** One line for a person: the rule, what is wrong, why the rule exists, and the fix. */
export function formatViolation(v: InvariantViolation): string {
  return `access rule "${v.rule}": ${v.detail} (${v.message}). ${v.fix}`;
}
