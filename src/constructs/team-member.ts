import { Construct } from "constructs";
import { PostscaleError, ValidationError } from "../errors";
import { Access, AssignableRole, checkGrantTarget, isAccess } from "../policy";
import { TeamMember as L1TeamMember } from "./generated/team-member";
import { ApiKey, ApiKeyOptions, policyError } from "./api-key";
import { DomainRef, Domain } from "./domain";
import { DomainAccess } from "./domain-access";
import { EphemeralApiKey, EphemeralApiKeyOptions } from "./ephemeral-key";
import { claimLogicalId, memberLogicalId } from "./ids";
import type { Team } from "./team";

/** Properties of a `TeamMember`. */
export interface TeamMemberProps {
  readonly team: Team;
  /** The person's email, already validated and lower-cased by the team. */
  readonly email: string;
  readonly role: AssignableRole;
}

/**
 * A person in the organization (`postscale_team_member`): created = invited,
 * removed from the code = offboarded (their grants and keys go with them).
 * Logical id: `member_<email>`, so reordering code never replaces anyone.
 */
export class TeamMember extends Construct {
  readonly team: Team;
  /** Lower-cased email. */
  readonly email: string;
  readonly role: AssignableRole;
  /** The underlying `postscale_team_member` resource (escape hatch). */
  readonly resource: L1TeamMember;
  private readonly accessByDomain = new Map<string, DomainAccess>();
  private readonly keysByName = new Map<string, ApiKey>();

  constructor(scope: Construct, id: string, props: TeamMemberProps) {
    super(scope, id);
    this.team = props.team;
    this.email = props.email;
    this.role = props.role;
    this.resource = new L1TeamMember(this, "resource", { email: props.email, role: props.role, provider: props.team.provider });
    claimLogicalId(this.resource, memberLogicalId(props.email), `member ${props.email}`);
  }

  /** The member id (known after apply). */
  get id(): string {
    return this.resource.id;
  }

  /** Declared domain access, by domain name (sorted). */
  get grants(): Readonly<Record<string, Access>> {
    return Object.fromEntries(this.accesses.map((a) => [a.domain, a.access]));
  }

  /** Declared `DomainAccess` objects, sorted by domain. */
  get accesses(): readonly DomainAccess[] {
    return [...this.accessByDomain.values()].sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  }

  /** The member's API keys, sorted by name. */
  get apiKeys(): readonly ApiKey[] {
    return [...this.keysByName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Grants this member `access` to `domain`. Only role member can hold
   * grants (admins reach every domain), checked by the policy at once.
   */
  grant(domain: DomainRef, access: Access): DomainAccess {
    const where = `grant to ${this.email}`;
    const target = Domain.of(this, domain, where);
    if (!isAccess(access)) {
      throw new ValidationError(
        [{ path: "access", message: `must be "read" or "read_write", got ${JSON.stringify(access)}` }],
        `Cannot grant ${target.name} to ${this.email}: access must be "read" or "read_write", got ${JSON.stringify(access)}.`,
      );
    }
    const decision = checkGrantTarget({ email: this.email, role: this.role });
    if (!decision.allowed) throw policyError(`Cannot grant ${access} on ${target.name} to ${this.email}`, decision);
    const existing = this.accessByDomain.get(target.name);
    if (existing !== undefined) {
      if (existing.access === access) return existing;
      throw new PostscaleError(
        "POSTSCALE_E_CONFLICT",
        `${this.email} is granted both ${existing.access} and ${access} on ${target.name}. A member has one access level per domain: keep one of the two grants.`,
      );
    }
    const created = new DomainAccess(this, target.name, { member: this, domain: target.name, access });
    this.accessByDomain.set(target.name, created);
    return created;
  }

  /**
   * A key owned by this member, revoked when they leave. Without `domains`,
   * Postscale scopes it to the member's read/write domains when it is
   * created (checked at synth: the member must have at least one).
   */
  apiKey(name: string, options: ApiKeyOptions = {}): ApiKey {
    if (this.keysByName.has(name)) {
      throw new PostscaleError("POSTSCALE_E_CONFLICT", `${this.email} already has an API key named "${name}". Key names are unique per owner: rename one.`);
    }
    const key = new ApiKey(this, `key-${name}`, { ...options, name, team: this.team, holder: this });
    this.keysByName.set(name, key);
    return key;
  }

  /**
   * A key of this member for one run, never in plan or state (the ephemeral
   * `postscale_api_key`; needs OpenTofu >= 1.11 or Terraform >= 1.10), e.g.
   * for a second provider configuration: `new PostscaleProvider(stack, "deploy",
   * { alias: "deploy", apiKey: member.ephemeralKey("deploy").secret })`.
   */
  ephemeralKey(name: string, options: EphemeralApiKeyOptions = {}): EphemeralApiKey {
    return EphemeralApiKey.declare(this, `ephemeral-key-${name}`, { ...options, name, team: this.team, holder: this });
  }
}
