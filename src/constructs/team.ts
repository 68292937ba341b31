import { readFileSync } from "node:fs";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { PostscaleError, ValidationError } from "../errors";
import { Access, AssignableRole, ROLE, emailProblem, normalizeEmail } from "../policy";
import { ApiKey, ApiKeyOptions } from "./api-key";
import { inConstruct } from "./construct-errors";
import { DomainRef, domainName } from "./domain";
import { EphemeralApiKey, EphemeralApiKeyOptions } from "./ephemeral-key";
import { parseRoster } from "./roster";
import { TeamMember } from "./team-member";
import { UndeclaredAccess } from "./undeclared-access";

/** A member's domain access: `{ "app.example.com": "read_write" }` or `[{ domain, access }]`. */
export type DomainGrants = Readonly<Record<string, Access>> | readonly DomainGrant[];

/** One domain grant. */
export interface DomainGrant {
  /** The domain, as a `Domain` or its name. */
  readonly domain: DomainRef;
  readonly access: Access;
}

/** Options of `Team.addMember`. */
export interface AddMemberOptions {
  /**
   * Domains the member may see (read) or work on (read_write).
   * @default - no domain access; grant later with `domain.grantRead(member)`
   */
  readonly domains?: DomainGrants;
}

/** Properties of a `Team`. */
export interface TeamProps {
  /**
   * The provider configuration to manage this team with.
   * @default - the stack's default `postscale` provider
   */
  readonly provider?: TerraformProvider;
  /**
   * Makes this team the whole truth ("authoritative mode"): members,
   * domain access and API keys (a member's or the organization's) that
   * exist in Postscale but are not declared by this team show in every
   * plan, and apply removes them (offboards the person, deletes the grant,
   * revokes the key). Never touched: the owner, the person whose credential
   * runs the deploy and the key it runs with, and `exempt`. The first deploy
   * only records what it finds; the next plan shows the removals.
   * `"report"` lists undeclared access in the plan without removing it.
   * One exclusive team per stack.
   * @default false - access added outside the code is left alone
   */
  readonly exclusive?: boolean | "report";
  /**
   * For `exclusive`: emails (the person, their grants and keys, e.g. a
   * robot account managed elsewhere) and keys (`"dev@example.com/ci"`,
   * `"organization/terraform"`) never reported nor removed.
   * @default - none
   */
  readonly exempt?: readonly string[];
  /**
   * The organization's owner. Recorded so the code says who it is, never
   * managed: declaring this email with `addMember`/`addAdmin` (or in a
   * roster) fails synth, as it would fail the plan.
   * @default - not recorded; the plan still refuses the owner
   */
  readonly owner?: string;
}

/**
 * The people of a Postscale organization, their domain access and API keys.
 * The owner is never managed here (ownership moves only by transfer).
 */
export class Team extends Construct {
  /**
   * A team read from a roster file (YAML or JSON, the shape HR exports
   * have), so offboarding someone is deleting their line.
   * @see parseRoster for the format
   */
  static fromFile(scope: Construct, id: string, path: string, props: TeamProps = {}): Team {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ValidationError([{ path, message: "cannot be read" }], `Team.fromFile: cannot read roster ${path}: ${(err as Error).message}`);
    }
    const team = new Team(scope, id, props);
    for (const entry of parseRoster(text, path)) {
      try {
        team.add(entry.email, entry.role, entry.domains);
      } catch (err) {
        if (!(err instanceof PostscaleError)) throw err;
        throw new PostscaleError(err.code, `${path} line ${entry.line} (${entry.email}): ${err.message}`, { errors: err.errors });
      }
    }
    return team;
  }

  /** The provider configuration resources of this team use, when not the default. */
  readonly provider?: TerraformProvider;
  /** With `exclusive`: the `postscale_undeclared_access` that makes this team the whole truth. */
  readonly undeclaredAccess?: UndeclaredAccess;
  /** The owner's email, when recorded with the `owner` prop. */
  readonly owner?: string;
  private readonly byEmail = new Map<string, TeamMember>();
  private readonly serviceKeys = new Map<string, ApiKey>();

  constructor(scope: Construct, id: string, props: TeamProps = {}) {
    super(scope, id);
    this.provider = props.provider;
    if (props.owner !== undefined) {
      const problem = emailProblem(props.owner.trim());
      if (problem !== undefined) throw new ValidationError([{ path: "owner", message: problem }], `Team ${this.node.path}: owner ${problem}. Fix the address.`);
      this.owner = normalizeEmail(props.owner);
    }
    const exclusive = props.exclusive ?? false;
    if (exclusive !== true && exclusive !== false && exclusive !== "report") {
      throw new ValidationError(
        [{ path: "exclusive", message: 'must be true, false or "report"' }],
        `Team ${this.node.path}: exclusive must be true, false or "report", got ${JSON.stringify(exclusive)}.`,
      );
    }
    if (exclusive === false && props.exempt !== undefined) {
      throw new ValidationError(
        [{ path: "exempt", message: "applies only with exclusive" }],
        `Team ${this.node.path}: exempt applies only to an exclusive team. Add exclusive: true (or "report"), or drop exempt.`,
      );
    }
    if (exclusive !== false) this.undeclaredAccess = new UndeclaredAccess(this, "undeclared-access", { team: this, remove: exclusive === true, exempt: props.exempt });
  }

  /** Invites `email` as an admin: manages the team and reaches every domain. */
  addAdmin(email: string): TeamMember {
    return inConstruct(this, () => this.add(email, ROLE.admin));
  }

  /** Invites `email` as a member, optionally with domain access. */
  addMember(email: string, options: AddMemberOptions = {}): TeamMember {
    return inConstruct(this, () => this.add(email, ROLE.member, options.domains));
  }

  /** An organization-owned key (survives any person leaving). Without `domains` it is organization-wide. */
  serviceKey(name: string, options: ApiKeyOptions = {}): ApiKey {
    if (this.serviceKeys.has(name)) {
      throw new PostscaleError("POSTSCALE_E_CONFLICT", `The team already has a service key named "${name}". Key names are unique: rename one.`);
    }
    const key = new ApiKey(this, `service-key-${name}`, { ...options, name, team: this });
    this.serviceKeys.set(name, key);
    return key;
  }

  /** An organization-owned key for one run, never in plan or state (see `TeamMember.ephemeralKey`). */
  ephemeralServiceKey(name: string, options: EphemeralApiKeyOptions = {}): EphemeralApiKey {
    return EphemeralApiKey.declare(this, `ephemeral-service-key-${name}`, { ...options, name, team: this });
  }

  /** The member with `email`, if declared. */
  member(email: string): TeamMember | undefined {
    return this.byEmail.get(normalizeEmail(email));
  }

  /** All declared members, sorted by email. */
  get members(): readonly TeamMember[] {
    return [...this.byEmail.values()].sort((a, b) => (a.email < b.email ? -1 : 1));
  }

  /** Declared admins, sorted by email. */
  get admins(): readonly TeamMember[] {
    return this.members.filter((m) => m.role === ROLE.admin);
  }

  /** Organization-owned keys, sorted by name. */
  get keys(): readonly ApiKey[] {
    return [...this.serviceKeys.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  private add(email: string, role: AssignableRole, domains?: DomainGrants): TeamMember {
    const problem = emailProblem(typeof email === "string" ? email.trim() : email);
    if (problem !== undefined) {
      throw new ValidationError([{ path: "email", message: problem }], `Team ${this.node.id}: email ${problem}. Fix the address.`);
    }
    const normalized = normalizeEmail(email);
    if (normalized === this.owner) {
      throw new ValidationError(
        [{ path: "email", message: "is the organization's owner" }],
        `${normalized} is the organization's owner (team ${this.node.id}, owner). The owner is never declared as ${role === ROLE.admin ? "an admin" : "a member"}: remove this declaration. Ownership moves only by a transfer of ownership.`,
      );
    }
    const existing = this.byEmail.get(normalized);
    if (existing !== undefined) {
      throw new PostscaleError(
        "POSTSCALE_E_CONFLICT",
        `${normalized} is declared twice in team ${this.node.id} (as ${existing.role} and as ${role}). A person has one role: keep one declaration.`,
      );
    }
    const member = new TeamMember(this, normalized, { team: this, email: normalized, role });
    this.byEmail.set(normalized, member);
    for (const grant of grantList(domains)) member.grant(grant.domain, grant.access);
    return member;
  }
}

function grantList(domains: DomainGrants | undefined): DomainGrant[] {
  if (domains === undefined) return [];
  if (Array.isArray(domains)) return [...(domains as readonly DomainGrant[])];
  return Object.entries(domains as Readonly<Record<string, Access>>)
    .map(([domain, access]) => ({ domain, access }))
    .sort((a, b) => (domainName(a.domain) < domainName(b.domain) ? -1 : 1));
}
