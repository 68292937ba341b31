import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { Duration } from "../duration";
import { PostscaleError, ValidationError, errorForDecision } from "../errors";
import { KEY_OWNER, KEY_SCOPE, KeyOwner, Principal, ROLE, Violation, keyReach, nameProblem, personPrincipal, resolveKeyScope } from "../policy";
import { ApiKey as L1ApiKey } from "./generated/api-key";
import { Domain, DomainRef, domainName } from "./domain";
import { claimLogicalId, keyLogicalId } from "./ids";
import type { Team } from "./team";
import type { TeamMember } from "./team-member";

/** Options of `TeamMember.apiKey` and `Team.serviceKey`. */
export interface ApiKeyOptions {
  /**
   * Domains the key reaches, as `Domain` objects or names. A member-owned
   * key may only name domains its owner can write.
   * @default - a member-owned key of a role-member is auto-scoped by
   * Postscale to the owner's read/write domains; an admin's key and a
   * service key reach the whole organization
   */
  readonly domains?: readonly DomainRef[];
  /**
   * When the key stops working (a `Date` or an ISO 8601 timestamp).
   * @default - the key does not expire
   */
  readonly expiresAt?: Date | string;
  /**
   * Asks for an organization-wide key explicitly. Only admins (and service
   * keys) may hold one; cannot be combined with `domains`.
   * @default false
   */
  readonly organizationWide?: boolean;
  /**
   * Rotate the secret in place once it is this old: any plan after that
   * shows an in-place update that gives the key a new secret (same id,
   * name and scope). Plans run when you run them: deploy regularly (e.g. a
   * daily CI job) for the rotation to happen.
   * @default - no scheduled rotation
   */
  readonly rotateEvery?: Duration;
  /**
   * How long the replaced secret keeps working after a rotation, so clients
   * switch without downtime (at most 24 hours).
   * @default Duration.seconds(0) - the old secret stops at once
   */
  readonly rotationOverlap?: Duration;
  /**
   * Rotates the secret in place whenever this string changes (a date, a
   * ticket number, a `time_rotating` id). Setting it for the first time
   * does not rotate.
   * @default - no manual trigger
   */
  readonly rotationTrigger?: string;
  /**
   * Key material from your configuration instead of a secret Postscale
   * generates: Postscale stores only its hash, plan and state never hold it
   * (write-only `secret_wo`), and `secret` is unavailable. Needs OpenTofu
   * 1.11+ or Terraform 1.11+ at deploy (older engines refuse it).
   * @default - Postscale generates the secret and it is kept in state
   */
  readonly secretFrom?: KeyMaterial;
}

/**
 * Write-only key material for `ApiKeyOptions.secretFrom`.
 *
 * `material` is usually a reference to an ephemeral value, such as
 * `"${ephemeral.random_password.key.result}"` (cdktf 0.21 has no ephemeral
 * blocks: add one with `stack.addOverride("ephemeral.random_password.key",
 * {...})`), which a secret manager's write-only attribute can take too.
 */
export interface KeyMaterial {
  /** The material: 32 to 256 random characters (see the policy's keyMaterialProblem). Never a literal in code you commit. */
  readonly material: string;
  /** Bump (together with new material) to rotate the key in place. */
  readonly version: number;
}

/** Properties of an `ApiKey`. */
export interface ApiKeyProps extends ApiKeyOptions {
  /** The key's name, unique per owner. */
  readonly name: string;
  /** The team the key belongs to. */
  readonly team: Team;
  /**
   * The member who owns the key; it is revoked when they leave.
   * @default - the organization owns the key (a service key)
   */
  readonly holder?: TeamMember;
}

/**
 * Who deploys the stack, as synth sees it: synth does not know the
 * credential, so it assumes the organization's owner (with their own
 * organization-wide key: people manage people and keys, organization keys
 * cannot). The synth-time checks therefore ask what the owner could create;
 * the server refuses at apply what a deploying admin may not (keys of other
 * admins).
 */
const DEPLOYER_ASSUMED_OWNER: Principal = { role: ROLE.owner, memberId: "deployer", grants: {} };

/**
 * A Postscale API key (`postscale_api_key`). Member-owned keys come from
 * `TeamMember.apiKey`, organization-owned service keys from
 * `Team.serviceKey`. The secret is sensitive and only known after apply.
 */
export class ApiKey extends Construct {
  readonly name: string;
  readonly team: Team;
  /** The owning member, or undefined for an organization-owned key. */
  readonly holder?: TeamMember;
  /** The domain names asked for, sorted; undefined when none were named. */
  readonly requestedDomains?: readonly string[];
  /** ISO 8601 expiry, or undefined when the key never expires. */
  readonly expiresAt?: string;
  readonly organizationWide: boolean;
  /** Who owns the key: a member (its holder) or the organization. */
  readonly owner: KeyOwner;
  /** The underlying `postscale_api_key` resource (escape hatch). */
  readonly resource: L1ApiKey;
  /** The rotation attributes as the resource gets them. */
  private readonly rotation: { rotateEvery?: string; rotationOverlap?: string; rotationTrigger?: string };
  private readonly writeOnly: boolean;

  constructor(scope: Construct, id: string, props: ApiKeyProps) {
    super(scope, id);
    const what = describeKey(props.name, props.holder);
    const problem = nameProblem(props.name);
    if (problem !== undefined) {
      throw new ValidationError([{ path: "name", message: problem }], `${what}: the key name ${problem}. Give the key a short name like "ci".`);
    }
    if (props.organizationWide === true && props.domains !== undefined) {
      throw new ValidationError(
        [{ path: "domains", message: "cannot be combined with organizationWide" }],
        `${what}: asks for organizationWide and for domains [${props.domains.map(domainName).join(", ")}]. Choose one: drop organizationWide to scope the key, or drop domains.`,
      );
    }
    this.name = props.name;
    this.team = props.team;
    this.holder = props.holder;
    const holder = props.holder;
    this.organizationWide = props.organizationWide === true;
    this.owner = holder === undefined ? KEY_OWNER.organization : KEY_OWNER.member;
    this.expiresAt = props.expiresAt === undefined ? undefined : expiryOf(props.expiresAt, what);
    this.requestedDomains =
      props.domains === undefined ? undefined : [...new Set(props.domains.map((d) => Domain.of(this, d, what).name))].sort();

    this.rotation = rotationOf(props, what);
    this.writeOnly = props.secretFrom !== undefined;
    this.resource = new L1ApiKey(this, "resource", {
      name: props.name,
      owner: this.owner,
      memberId: holder?.id,
      domains: this.requestedDomains === undefined ? undefined : [...this.requestedDomains],
      expiresAt: this.expiresAt,
      provider: props.team.provider,
      ...this.rotation,
    });
    if (props.secretFrom !== undefined) {
      // Raw attributes: the material must reach the engine as written (an ephemeral reference), whatever the bindings know of write-only.
      this.resource.addOverride("secret_wo", props.secretFrom.material);
      this.resource.addOverride("secret_wo_version", props.secretFrom.version);
    }
    if (holder !== undefined) {
      // The server checks the holder's grants when it creates the key (and
      // auto-scopes to them), so the grants must exist first. Lazy, because
      // grants may be declared after the key.
      // Plain addresses: depends_on takes references, not "${...}" interpolations.
      this.resource.dependsOn = Lazy.listValue(
        { produce: () => holder.accesses.map((a) => `${a.resource.terraformResourceType}.${a.resource.friendlyUniqueId}`) },
        { omitEmpty: true },
      );
    }
    claimLogicalId(this.resource, keyLogicalId(holder?.email, props.name), what);
    this.node.addValidation({ validate: () => this.policyProblems() });
  }

  /** The key's secret (sensitive; known after apply, shown once by Postscale). Not available with `secretFrom`: use your material. */
  get secret(): string {
    if (this.writeOnly) {
      throw new ValidationError(
        [{ path: "secretFrom", message: "the key's secret is write-only material" }],
        `${describeKey(this.name, this.holder)}: takes its secret from secretFrom, which Postscale stores only as a hash and never returns; use the material you passed (e.g. the same ephemeral value) instead of key.secret.`,
      );
    }
    return this.resource.secret;
  }

  /** The key's id (known after apply). */
  get keyId(): string {
    return this.resource.id;
  }

  /** The key's public prefix, safe to log (known after apply). */
  get prefix(): string {
    return this.resource.prefix;
  }

  /**
   * Whether the key will reach the whole organization: a service key or an
   * admin's key without domains, or one asked for with `organizationWide`.
   */
  get reachesOrganization(): boolean {
    if (this.organizationWide) return true;
    return keyReach(this.owner, this.requestedDomains, this.holder?.role).kind === KEY_SCOPE.organization;
  }

  /** Checks the key against the access policy with the holder's declared grants; one message per violation. */
  private policyProblems(): string[] {
    const what = describeKey(this.name, this.holder);
    const holder = this.holder;
    if (holder === undefined) return [];
    // Before apply a member has no id; the email identifies them just as well here.
    const person = { id: holder.email, email: holder.email, role: holder.role, grants: holder.grants };
    if (this.organizationWide) {
      // The same decision as the holder asking the API for an organization-owned key.
      const decision = resolveKeyScope(personPrincipal(person), { owner: KEY_OWNER.organization }, null, []);
      return decision.allowed
        ? []
        : [explain(what, decision, `Name the domains the key needs, or create it with team.serviceKey("${this.name}") or for an admin.`)];
    }
    const requested = this.requestedDomains === undefined ? null : [...this.requestedDomains];
    const known = [...new Set([...(requested ?? []), ...Object.keys(holder.grants)])];
    const decision = resolveKeyScope(DEPLOYER_ASSUMED_OWNER, { owner: KEY_OWNER.member, memberId: person.id, domains: requested }, person, known);
    if (decision.allowed) return [];
    const fix =
      decision.rule === "no_writable_domains"
        ? `Grant ${holder.email} read_write on a domain (domain.grantReadWrite(member)), or name the key's domains.`
        : undefined;
    return [explain(what, decision, fix)];
  }
}

const MAX_OVERLAP_SECONDS = 86_400;

/** The rotation props as the provider's attributes, validated early with the fix. */
function rotationOf(props: ApiKeyOptions, what: string): { rotateEvery?: string; rotationOverlap?: string; rotationTrigger?: string } {
  if (props.rotateEvery !== undefined && props.rotateEvery.toSeconds() === 0) {
    throw new ValidationError([{ path: "rotateEvery", message: "must be longer than zero" }], `${what}: rotateEvery must be longer than zero, e.g. Duration.days(90).`);
  }
  if (props.rotationOverlap !== undefined && props.rotationOverlap.toSeconds() > MAX_OVERLAP_SECONDS) {
    throw new ValidationError(
      [{ path: "rotationOverlap", message: "must be at most 24 hours" }],
      `${what}: rotationOverlap must be at most 24 hours (Duration.hours(24)), got ${props.rotationOverlap.toString()}.`,
    );
  }
  if (props.rotationTrigger !== undefined && props.rotationTrigger.length === 0) {
    throw new ValidationError([{ path: "rotationTrigger", message: "must not be empty" }], `${what}: rotationTrigger must not be empty; use a date or a ticket number, and change it to rotate.`);
  }
  if (props.secretFrom !== undefined && !Number.isFinite(props.secretFrom.version)) {
    throw new ValidationError([{ path: "secretFrom.version", message: "must be a number" }], `${what}: secretFrom.version must be a number; bump it with new material to rotate.`);
  }
  const out: { rotateEvery?: string; rotationOverlap?: string; rotationTrigger?: string } = {};
  if (props.rotateEvery !== undefined) out.rotateEvery = props.rotateEvery.toString();
  if (props.rotationOverlap !== undefined) out.rotationOverlap = props.rotationOverlap.toString();
  if (props.rotationTrigger !== undefined) out.rotationTrigger = props.rotationTrigger;
  return out;
}

function describeKey(name: string, holder: TeamMember | undefined): string {
  return holder === undefined ? `service key "${name}"` : `API key "${name}" of ${holder.email}`;
}

function explain(what: string, violation: Violation, fix?: string): string {
  return `${what}: ${violation.message}${fix === undefined ? "" : ` ${fix}`} (rule ${violation.rule})`;
}

/** The policy's refusal as an error, for checks that can fail at once. */
export function policyError(what: string, violation: Violation): PostscaleError {
  return errorForDecision(violation, explain(what, violation));
}

function expiryOf(value: Date | string, what: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new ValidationError(
      [{ path: "expiresAt", message: `must be a Date or an ISO 8601 timestamp, got ${JSON.stringify(String(value))}` }],
      `${what}: expiresAt must be a Date or an ISO 8601 timestamp like "2027-01-31T00:00:00Z", got ${JSON.stringify(String(value))}.`,
    );
  }
  // RFC 3339 without milliseconds when there are none, as Postscale writes it back: no perpetual diff.
  return date.toISOString().replace(".000Z", "Z");
}
