import { Lazy, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Duration } from "../duration";
import { PostscaleError, ValidationError } from "../errors";
import { KEY_OWNER, KeyOwner, ROLE, nameProblem, resolveKeyScope, type Principal } from "../policy";
import { Domain, DomainRef } from "./domain";
import { keyLogicalId } from "./ids";
import type { Team } from "./team";
import type { TeamMember } from "./team-member";

/** The ephemeral resource type; cdktf 0.21 has no ephemeral blocks, so it is written into the stack's JSON. */
const TYPE = "postscale_api_key";
const MIN_TTL = Duration.minutes(1);
const MAX_TTL = Duration.hours(1);
/** Characters the provider appends to the prefix (see src/provider/resources/api-key.ephemeral.ts). */
const SUFFIX_LENGTH = 12;

/** Options of `TeamMember.ephemeralKey` and `Team.ephemeralServiceKey`. */
export interface EphemeralApiKeyOptions {
  /**
   * How long the key works. Postscale refuses it afterwards, even when the
   * run that opened it was killed before revoking it. Between 1 minute and 1 hour.
   * @default Duration.minutes(15)
   */
  readonly ttl?: Duration;
  /**
   * Domains the key reaches; a member's key only domains the member can write.
   * @default - as for `apiKey`: a member's read/write domains, organization-wide for an admin or a service key
   */
  readonly domains?: readonly DomainRef[];
  /**
   * Start of the key's name in Postscale; a random suffix follows.
   * @default - the key's name and "-", e.g. "deploy-"
   */
  readonly namePrefix?: string;
}

/** Properties of an `EphemeralApiKey`. */
export interface EphemeralApiKeyProps extends EphemeralApiKeyOptions {
  /** Names the key in the stack (`ephemeral.postscale_api_key.<logical id>`), unique per holder. */
  readonly name: string;
  readonly team: Team;
  /**
   * The member who holds the key.
   * @default - the organization (a service key)
   */
  readonly holder?: TeamMember;
}

/** Synth does not know the deploying credential; as for managed keys it assumes the owner's. */
const DEPLOYER_ASSUMED_OWNER: Principal = { role: ROLE.owner, memberId: "deployer", grants: {} };

const declared = new WeakMap<TerraformStack, Set<string>>();

/**
 * An API key for one run (the ephemeral `postscale_api_key`): each phase
 * mints its own key with a server-side expiry of `ttl` and revokes it at
 * its end; it is never in plan or state. cdktf 0.21 knows no ephemeral
 * blocks, so the block is written into the stack's JSON and `secret` is a
 * `${ephemeral...}` reference. The synthesized stack needs OpenTofu >= 1.11
 * or Terraform >= 1.10; synth fails when the secret goes anywhere an
 * engine would store it (see {@link ephemeralUseProblems}).
 */
export class EphemeralApiKey extends Construct {
  /** Declares the key as the child `id` of `scope`, refusing a second key of that name with a message that says so. */
  static declare(scope: Construct, id: string, props: EphemeralApiKeyProps): EphemeralApiKey {
    if (scope.node.tryFindChild(id) !== undefined) {
      throw new PostscaleError("POSTSCALE_E_CONFLICT", `${describe(props.name, props.holder)} is declared twice. Ephemeral key names are unique per holder: rename one.`);
    }
    return new EphemeralApiKey(scope, id, props);
  }

  readonly name: string;
  readonly holder?: TeamMember;
  readonly owner: KeyOwner;
  readonly ttl: Duration;
  readonly namePrefix: string;
  /** The domain names asked for, sorted; undefined when none were named. */
  readonly requestedDomains?: readonly string[];
  /** The block's logical id: `ephemeral.postscale_api_key.<logicalId>`. */
  readonly logicalId: string;

  constructor(scope: Construct, id: string, props: EphemeralApiKeyProps) {
    super(scope, id);
    const what = describe(props.name, props.holder);
    this.name = props.name;
    this.holder = props.holder;
    this.owner = props.holder === undefined ? KEY_OWNER.organization : KEY_OWNER.member;
    this.ttl = props.ttl ?? Duration.minutes(15);
    this.namePrefix = props.namePrefix ?? `${props.name}-`;
    const ttl = this.ttl.toSeconds();
    if (ttl < MIN_TTL.toSeconds() || ttl > MAX_TTL.toSeconds()) {
      throw new ValidationError(
        [{ path: "ttl", message: `must be between 1m and 1h, got ${this.ttl}` }],
        `${what}: ttl must be between 1m and 1h, got ${this.ttl}. A key that must last longer is a managed key (member.apiKey or team.serviceKey with expiresAt).`,
      );
    }
    const problem = nameProblem(`${this.namePrefix}${"x".repeat(SUFFIX_LENGTH)}`);
    if (nameProblem(props.name) !== undefined || problem !== undefined) {
      throw new ValidationError(
        [{ path: "namePrefix", message: problem ?? "the key name must not be empty" }],
        `${what}: the name prefix followed by ${SUFFIX_LENGTH} random characters ${problem ?? "must not be empty"}. Use a short name like "deploy".`,
      );
    }
    this.requestedDomains = props.domains === undefined ? undefined : [...new Set(props.domains.map((d) => Domain.of(this, d, what).name))].sort();

    const stack = TerraformStack.of(this);
    this.logicalId = `ephemeral_${keyLogicalId(props.holder?.email, props.name)}`;
    const taken = declared.get(stack) ?? new Set<string>();
    declared.set(stack, taken);
    if (taken.has(this.logicalId)) {
      throw new PostscaleError("POSTSCALE_E_CONFLICT", `${what} would get the logical id "${this.logicalId}", already used by another ephemeral key in stack ${stack.node.id}: names that differ only in punctuation collide. Rename one.`);
    }
    taken.add(this.logicalId);

    const holder = props.holder;
    const provider = props.team.provider;
    stack.addOverride(`ephemeral.${TYPE}.${this.logicalId}`, {
      owner: this.owner,
      member_id: holder?.id,
      domains: this.requestedDomains === undefined ? undefined : [...this.requestedDomains],
      ttl: this.ttl.toString(),
      name_prefix: this.namePrefix,
      provider: provider?.fqn,
      // The holder's grants first: Postscale scopes and checks the key against them when it mints it.
      depends_on:
        holder === undefined
          ? undefined
          : Lazy.listValue({ produce: () => holder.accesses.map((a) => `${a.resource.terraformResourceType}.${a.resource.friendlyUniqueId}`) }, { omitEmpty: true }),
    });
    this.node.addValidation({ validate: () => [...this.policyProblems(what), ...ephemeralUseProblems(stack.toTerraform(), this.address, what)] });
  }

  /** `ephemeral.postscale_api_key.<logical id>`. */
  get address(): string {
    return `ephemeral.${TYPE}.${this.logicalId}`;
  }

  /** The secret, for a provider's `apiKey`, a write-only attribute (`*_wo`), a provisioner or an ephemeral output. */
  get secret(): string {
    return `\${${this.address}.secret}`;
  }

  /** The key's id in Postscale (for this run only). */
  get keyId(): string {
    return `\${${this.address}.id}`;
  }

  /** When Postscale stops accepting the key (RFC 3339). */
  get expiresAt(): string {
    return `\${${this.address}.expires_at}`;
  }

  /** A member's key against the holder's declared grants, as for managed keys. */
  private policyProblems(what: string): string[] {
    const holder = this.holder;
    if (holder === undefined) return [];
    const person = { id: holder.email, email: holder.email, role: holder.role, grants: holder.grants };
    const requested = this.requestedDomains === undefined ? null : [...this.requestedDomains];
    const known = [...new Set([...(requested ?? []), ...Object.keys(holder.grants)])];
    const decision = resolveKeyScope(DEPLOYER_ASSUMED_OWNER, { owner: KEY_OWNER.member, memberId: person.id, domains: requested }, person, known);
    return decision.allowed ? [] : [`${what}: ${decision.message} (rule ${decision.rule})`];
  }
}

/** Where an engine stores a value: every place of a synthesized stack but these may not hold an ephemeral one. */
const EPHEMERAL_CONTEXTS = "provider configuration, another ephemeral block, a write-only attribute (named *_wo, e.g. secret_string_wo with secret_string_wo_version), a provisioner or connection, or an output with ephemeral = true";

/**
 * Places in a synthesized stack (`TerraformStack.toTerraform()`) that use
 * `address` (an ephemeral block) where OpenTofu and Terraform refuse
 * ephemeral values ("Ephemeral value used in non-ephemeral context"):
 * attributes of managed resources that are not write-only (taken from the
 * `_wo` naming convention, since synth has no other provider's schema),
 * data sources, and outputs without `ephemeral = true`; also through
 * locals that use it.
 */
export function ephemeralUseProblems(tf: Record<string, unknown>, address: string, what: string): string[] {
  const names = [address];
  const locals = (tf.locals ?? {}) as Record<string, unknown>;
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, value] of Object.entries(locals)) {
      if (!names.includes(`local.${name}`) && mentions(value, names)) {
        names.push(`local.${name}`);
        grew = true;
      }
    }
  }
  const problems: string[] = [];
  const refuse = (where: string) =>
    problems.push(
      `${what}: ${address}.secret is used in ${where}, which OpenTofu and Terraform store in plan and state; they refuse ephemeral values there. Ephemeral keys need OpenTofu >= 1.11 (or Terraform >= 1.10) and go only to ${EPHEMERAL_CONTEXTS}.`,
    );
  for (const [type, byName] of Object.entries((tf.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [name, body] of Object.entries(byName)) {
      for (const path of storedPaths(body, names)) refuse(`resource ${type}.${name} attribute ${path}`);
    }
  }
  for (const [type, byName] of Object.entries((tf.data ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [name, body] of Object.entries(byName)) if (mentions(body, names)) refuse(`data source ${type}.${name}`);
  }
  for (const [name, body] of Object.entries((tf.output ?? {}) as Record<string, Record<string, unknown>>)) {
    if (body.ephemeral !== true && mentions(body.value, names)) refuse(`output ${name} (add ephemeral = true)`);
  }
  return problems;
}

/** Attribute paths of a resource body that use `names` outside write-only attributes, provisioners and connections. */
function storedPaths(body: Record<string, unknown>, names: readonly string[], prefix = ""): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (prefix === "" && (key === "provisioner" || key === "connection" || key === "depends_on" || key === "lifecycle")) continue;
    if (key.endsWith("_wo") || !mentions(value, names)) continue;
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) out.push(...storedPaths(value as Record<string, unknown>, names, path));
    else out.push(path);
  }
  return out;
}

function mentions(value: unknown, names: readonly string[]): boolean {
  if (typeof value === "string") return names.some((name) => new RegExp(`\\$\\{[^}]*\\b${name.replace(/\./g, "\\.")}\\b`).test(value));
  if (Array.isArray(value)) return value.some((v) => mentions(v, names));
  if (value !== null && typeof value === "object") return Object.values(value).some((v) => mentions(v, names));
  return false;
}

function describe(name: string, holder: TeamMember | undefined): string {
  return holder === undefined ? `ephemeral service key "${name}"` : `ephemeral API key "${name}" of ${holder.email}`;
}
