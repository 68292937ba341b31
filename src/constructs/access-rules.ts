import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { Annotations, Aspects, IStackSynthesizer, ISynthesisSession, TerraformStack } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { Duration } from "../duration";
import { ValidationError } from "../errors";
import {
  AccessSnapshot,
  AtMostRule,
  EveryDomainHasWriterRule,
  ForbiddenAccess,
  InvariantRule,
  InvariantViolation,
  KeyAccess,
  KeysExpireRule,
  NeverRule,
  NoOrganizationWideKeysRule,
  PersonAccess,
  ROLE,
  Role,
  autoScope,
  checkInvariants,
  describeRule,
  formatViolation,
  keyRef,
  parseRuleSet,
  ruleSetJson,
  ruleSetProblems,
} from "../policy";
import { ApiKey } from "./api-key";
import { Domain, DomainRef, domainName } from "./domain";
import { Team } from "./team";
import { TeamMember } from "./team-member";

/** What every rule method accepts: the rule's name and why it exists. */
export interface RuleOptions {
  /**
   * Unique among the rules; every violation names it.
   * @default - the sentence the rule reads as, e.g. "at most 3 admins"
   */
  readonly name?: string;
  /**
   * Why the rule exists, shown with every violation ("Contractors never get read_write.").
   * @default - the sentence the rule reads as
   */
  readonly message?: string;
}

/** Options of `AccessRules.never`. */
export interface NeverOptions extends RuleOptions {
  /**
   * Whose access is forbidden: emails or patterns (`*` stands for any run of characters).
   * @default - anyone
   */
  readonly people?: string | readonly string[];
  /**
   * Where: domains, their names, or name patterns ("*.prod.example.com").
   * @default - every domain
   */
  readonly domains?: DomainRef | readonly DomainRef[];
  /** What is forbidden: read_write, or any access at all. */
  readonly access: ForbiddenAccess;
  /**
   * People exempt from the rule: members, emails or patterns.
   * @default - none
   */
  readonly except?: readonly (TeamMember | string)[];
}

/** Options of `AccessRules.keysExpire`. */
export interface KeysExpireOptions extends RuleOptions {
  /**
   * The longest a key may live from the moment it is checked.
   * @default - any expiry, as long as there is one
   */
  readonly within?: Duration;
  /**
   * Keys exempt from the rule: `ApiKey`s or references (`organization/deploy`, `dev@example.com/ci`).
   * @default - none
   */
  readonly except?: readonly (ApiKey | string)[];
}

/** Options of `AccessRules.everyDomainHasWriter`. */
export interface EveryDomainHasWriterOptions extends RuleOptions {
  /**
   * The domains that need one: domains, names or patterns.
   * @default - every domain the stack knows of
   */
  readonly domains?: DomainRef | readonly DomainRef[];
}

/** Options of `AccessRules.noOrganizationWideKeys`. */
export interface NoOrganizationWideKeysOptions extends RuleOptions {
  /**
   * Keys allowed to reach the whole organization: `ApiKey`s or references (`organization/terraform`).
   * @default - none
   */
  readonly except?: readonly (ApiKey | string)[];
}

/** Who `atMost` counts: a role, or its plural. */
export type CountedPeople = "admins" | "members" | "owners" | Role;

/** Properties of `AccessRules`. */
export interface AccessRulesProps {
  /**
   * The teams whose declared access is checked at synth.
   * @default - every `Team` in the stack
   */
  readonly teams?: readonly Team[];
  /**
   * Where synth writes the rules file that `postscale review --rules` and
   * `postscale check --rules` read: a path relative to the stack's output
   * directory (cdktf.out/stacks/<stack>/), or absolute; `false` writes none.
   * @default "access-rules.json"
   */
  readonly file?: string | false;
  /**
   * The moment `keysExpire({ within })` is measured from at synth.
   * @default - the time of synth
   */
  readonly now?: Date;
}

/** A declared person or key, by what the snapshot calls them: where a violation about them is reported. */
export interface DeclaredAccess {
  readonly snapshot: AccessSnapshot;
  readonly people: ReadonlyMap<string, IConstruct>;
  readonly keys: ReadonlyMap<string, IConstruct>;
}

const ROLE_OF: Record<CountedPeople, Role> = { admins: ROLE.admin, members: ROLE.member, owners: ROLE.owner, admin: ROLE.admin, member: ROLE.member, owner: ROLE.owner };

/** A declared key as the engine reads it: its reach resolved (auto-scope included) and its expiry. */
export function keyAccess(key: ApiKey): KeyAccess {
  const holder = key.holder;
  let reach: KeyAccess["reach"];
  if (key.reachesOrganization) reach = { kind: "organization" };
  else if (key.requestedDomains !== undefined) reach = { kind: "domains", domains: [...key.requestedDomains] };
  // A member's key without domains: Postscale scopes it to their read_write domains when it creates it.
  else reach = { kind: "domains", domains: autoScope({ role: holder!.role, grants: holder!.grants }) };
  return { name: key.name, holder: holder?.email ?? null, reach, expiresAt: key.expiresAt ?? null };
}

/**
 * The access `teams` declare, as the invariant engine reads it: the
 * recorded owner, members with their grants, their keys and the
 * organization's, and every domain the stack looks up or names. Nobody
 * declared has joined yet as far as synth knows, so statuses are left out.
 */
export function declaredAccess(teams: readonly Team[]): DeclaredAccess {
  const people: PersonAccess[] = [];
  const keys: KeyAccess[] = [];
  const domains = new Set<string>();
  const peopleAt = new Map<string, IConstruct>();
  const keysAt = new Map<string, IConstruct>();
  for (const team of teams) {
    if (team.owner !== undefined) {
      people.push({ email: team.owner, role: ROLE.owner, grants: {} });
      peopleAt.set(team.owner, team);
    }
    for (const member of team.members) {
      people.push({ email: member.email, role: member.role, grants: member.grants });
      peopleAt.set(member.email, member);
    }
    for (const key of [...team.members.flatMap((m) => m.apiKeys), ...team.keys]) {
      const access = keyAccess(key);
      keys.push(access);
      keysAt.set(keyRef(access), key);
    }
    for (const node of TerraformStack.of(team).node.findAll()) if (node instanceof Domain) domains.add(node.name);
  }
  return { snapshot: { domains: [...domains].sort(), people, keys }, people: peopleAt, keys: keysAt };
}

/**
 * Reports violations as `cdktf synth` errors on the construct they are
 * about (the member, the key) or else on `fallback`, so synth fails and
 * names them, as the organization-policy aspects do.
 */
export function reportViolations(violations: readonly InvariantViolation[], declared: DeclaredAccess, fallback: IConstruct, format: (v: InvariantViolation) => string = formatViolation): void {
  for (const v of violations) {
    const at = (v.key !== undefined ? declared.keys.get(v.key) : undefined) ?? (v.person !== undefined ? declared.people.get(v.person) : undefined) ?? fallback;
    Annotations.of(at).addError(format(v));
  }
}

function list<T>(value: T | readonly T[] | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

function keyName(key: ApiKey | string): string {
  return typeof key === "string" ? key : keyRef({ holder: key.holder?.email ?? null, name: key.name });
}

/**
 * Access invariants declared next to the team, checked by one engine in
 * three places: here at synth against the declared teams (a violation
 * fails synth, naming the rule, the person, the domain or key, and the
 * fix), by `postscale review --rules` against the access a plan leaves
 * (HCL changes and the dashboard included), and by `postscale check
 * --rules` against the live organization. Synth writes the rules to
 * `access-rules.json` in the stack's output, so neither command needs
 * this code.
 *
 * ```ts
 * const rules = new AccessRules(stack, "rules");
 * rules.never({ people: "*@contractors.example.com", access: "read_write" });
 * rules.never({ domains: ["prod.example.com"], access: "read_write", except: [platform] });
 * rules.atMost(3, "admins");
 * rules.require("keys expire within", Duration.days(90));
 * rules.require("every domain has a read_write member");
 * ```
 */
export class AccessRules extends Construct {
  /** Rules read from a rules file (the one synth writes, or one shared between stacks), added to a new `AccessRules`. */
  static fromFile(scope: Construct, id: string, path: string, props: AccessRulesProps = {}): AccessRules {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ValidationError([{ path, message: "cannot be read" }], `AccessRules.fromFile: cannot read ${path}: ${(err as Error).message}`);
    }
    const parsed = parseRuleSet(text);
    if ("problems" in parsed) throw new ValidationError(parsed.problems.map((p) => ({ path: `${path}${p.path}`, message: p.message })));
    const rules = new AccessRules(scope, id, props);
    for (const rule of parsed.ruleSet.rules) rules.add(rule);
    return rules;
  }

  private readonly declared: InvariantRule[] = [];
  private readonly teams?: readonly Team[];
  private readonly now?: Date;

  constructor(scope: Construct, id: string, props: AccessRulesProps = {}) {
    super(scope, id);
    this.teams = props.teams;
    this.now = props.now;
    Aspects.of(this).add({
      visit: (node) => {
        if (node === this) this.check();
      },
    });
    const file = props.file ?? "access-rules.json";
    if (file !== false) writeWithStack(TerraformStack.of(this), file, () => ruleSetJson(this.declared));
  }

  /** The rules, in the order declared. */
  get rules(): readonly InvariantRule[] {
    return [...this.declared];
  }

  /** Forbids access: `never({ people: "*@contractors.example.com", access: "read_write" })`. */
  never(options: NeverOptions): NeverRule {
    const rule: Omit<NeverRule, "name"> = {
      kind: "never",
      people: list(options.people),
      domains: list(options.domains)?.map(domainName),
      access: options.access,
      except: list(options.except)?.map((p) => (p instanceof TeamMember ? p.email : p)),
    };
    return this.named(rule, options);
  }

  /** At most `max` people of a role: `atMost(3, "admins")`. */
  atMost(max: number, who: CountedPeople, options: RuleOptions = {}): AtMostRule {
    const role = ROLE_OF[who];
    if (role === undefined) {
      throw new ValidationError([{ path: "who", message: `must be one of ${Object.keys(ROLE_OF).join(", ")}, got ${JSON.stringify(who)}` }], `AccessRules.atMost: counts admins, members or owners, got ${JSON.stringify(who)}.`);
    }
    return this.named({ kind: "at_most", role, max }, options);
  }

  /** Every key expires, within `within` when given. */
  keysExpire(options: KeysExpireOptions = {}): KeysExpireRule {
    return this.named({ kind: "keys_expire", within: options.within?.toString(), except: options.except?.map(keyName) }, options);
  }

  /** Every domain has a member (not only admins) with read_write on it. */
  everyDomainHasWriter(options: EveryDomainHasWriterOptions = {}): EveryDomainHasWriterRule {
    return this.named({ kind: "every_domain_has_writer", domains: list(options.domains)?.map(domainName) }, options);
  }

  /** No key reaches the whole organization. */
  noOrganizationWideKeys(options: NoOrganizationWideKeysOptions = {}): NoOrganizationWideKeysRule {
    return this.named({ kind: "no_organization_wide_keys", except: options.except?.map(keyName) }, options);
  }

  /** A requirement in words, as the rules read aloud: `require("keys expire within", Duration.days(90))`. */
  require(what: "keys expire within", within: Duration, options?: RuleOptions): KeysExpireRule;
  require(what: "keys expire", options?: RuleOptions): KeysExpireRule;
  require(what: "every domain has a read_write member", options?: RuleOptions): EveryDomainHasWriterRule;
  require(what: "no organization-wide keys", options?: RuleOptions): NoOrganizationWideKeysRule;
  require(what: string, first?: Duration | RuleOptions, second?: RuleOptions): InvariantRule {
    const within = first instanceof Duration ? first : undefined;
    const options = (first instanceof Duration ? second : first) ?? {};
    switch (what) {
      case "keys expire within":
        if (within === undefined) throw new ValidationError([{ path: "within", message: "is required" }], 'AccessRules.require("keys expire within", ...): pass the longest a key may live, e.g. Duration.days(90).');
        return this.keysExpire({ ...options, within });
      case "keys expire":
        return this.keysExpire(options);
      case "every domain has a read_write member":
        return this.everyDomainHasWriter(options);
      case "no organization-wide keys":
        return this.noOrganizationWideKeys(options);
    }
    throw new ValidationError(
      [{ path: "what", message: `is not a requirement: ${JSON.stringify(what)}` }],
      `AccessRules.require: ${JSON.stringify(what)} is not a requirement; use "keys expire within", "keys expire", "every domain has a read_write member" or "no organization-wide keys".`,
    );
  }

  /** Adds a rule of the engine's vocabulary as it is (from a shared module or file), checked like the others. */
  add(rule: InvariantRule): InvariantRule {
    const problems = ruleSetProblems({ version: 1, rules: [...this.declared, rule] }).filter((p) => p.path.startsWith(`/rules/${this.declared.length}`));
    if (problems.length > 0) {
      const fields = problems.map((p) => ({ path: p.path.replace(/^\/rules\/\d+\/?/, "") || "rule", message: p.message }));
      throw new ValidationError(fields, `AccessRules ${this.node.path}: rule ${JSON.stringify(rule.name)} ${fields.map((f) => `${f.path} ${f.message}`).join("; ")}.`);
    }
    this.declared.push(rule);
    return rule;
  }

  /** Names a rule (its sentence when no name is given) and adds it. */
  private named<R extends InvariantRule>(rule: Omit<R, "name">, options: RuleOptions): R {
    const defined = Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)) as Omit<R, "name">;
    const named = { name: options.name ?? describeRule({ ...defined, name: "" } as unknown as InvariantRule), ...defined, ...(options.message !== undefined ? { message: options.message } : {}) } as R;
    return this.add(named) as R;
  }

  private check(): void {
    const teams = this.teams ?? TerraformStack.of(this).node.findAll().filter((n): n is Team => n instanceof Team);
    const declared = declaredAccess(teams);
    reportViolations(checkInvariants(declared.snapshot, this.declared, { now: this.now }), declared, this);
  }
}

/**
 * Writes `content()` next to the stack's synthesized configuration when
 * the stack is synthesized (after its own output, so a failed synth writes
 * nothing), through the stack's synthesizer: the public hook cdktf offers.
 */
function writeWithStack(stack: TerraformStack, file: string, content: () => string): void {
  const inner = stack.synthesizer;
  const wrapped: IStackSynthesizer = {
    synthesize(session: ISynthesisSession): void {
      inner.synthesize(session);
      const path = isAbsolute(file) ? file : join(session.outdir, session.manifest.forStack(stack).workingDirectory, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content());
    },
  };
  stack.synthesizer = wrapped;
}
