import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ValidationError } from "../errors";
import { ACCESS, Access, domainProblem } from "../policy";
import { inConstruct } from "./construct-errors";
import { DataPostscaleDomain } from "./generated/data-postscale-domain";
import { claimLogicalId, domainLogicalId } from "./ids";
import type { DomainAccess } from "./domain-access";
import type { TeamMember } from "./team-member";

/** A domain: a `Domain` from `Domain.fromName`, or just its name. */
export type DomainRef = Domain | string;

const lookups = new WeakMap<TerraformStack, Map<string, Domain>>();

/**
 * A Postscale domain, looked up by name with the `postscale_domain` data
 * source, so a plan fails early when the organization has no such domain.
 * One lookup per name and stack: asking again returns the same `Domain`.
 */
export class Domain extends Construct {
  /**
   * Looks up the domain `name` (e.g. "app.example.com").
   * @throws ValidationError when `name` is not a lower-case domain name
   */
  static fromName(scope: Construct, id: string, name: string): Domain {
    checkDomainName(name, `Domain.fromName(${JSON.stringify(id)})`);
    const known = lookupsOf(scope).get(name);
    return known ?? new Domain(scope, id, name);
  }

  /** The lookup for `ref` in the stack of `scope`, created at the stack root on first use. */
  static of(scope: Construct, ref: DomainRef, where: string): Domain {
    if (ref instanceof Domain) return ref;
    checkDomainName(ref, where);
    return lookupsOf(scope).get(ref) ?? new Domain(TerraformStack.of(scope), domainLogicalId(ref), ref);
  }

  /** The domain name. */
  readonly name: string;
  /** The underlying `postscale_domain` data source (escape hatch). */
  readonly dataSource: DataPostscaleDomain;

  private constructor(scope: Construct, id: string, name: string) {
    super(scope, id);
    this.name = name;
    this.dataSource = new DataPostscaleDomain(this, "lookup", { name });
    claimLogicalId(this.dataSource, domainLogicalId(name), `the lookup of domain ${name}`);
    lookupsOf(scope).set(name, this);
  }

  /** Grants `member` read access to this domain. */
  grantRead(member: TeamMember): DomainAccess {
    return this.grant(member, ACCESS.read);
  }

  /** Grants `member` read/write access to this domain (what their API keys may reach). */
  grantReadWrite(member: TeamMember): DomainAccess {
    return this.grant(member, ACCESS.read_write);
  }

  /** Grants `member` the given access level to this domain. */
  grant(member: TeamMember, access: Access): DomainAccess {
    return inConstruct(member, () => member.grant(this, access));
  }
}

function lookupsOf(scope: Construct): Map<string, Domain> {
  const stack = TerraformStack.of(scope);
  let byName = lookups.get(stack);
  if (byName === undefined) {
    byName = new Map();
    lookups.set(stack, byName);
  }
  return byName;
}

/** The name a `DomainRef` stands for. */
export function domainName(ref: DomainRef): string {
  return ref instanceof Domain ? ref.name : ref;
}

/** Fails with the value, the rule and the fix when `name` is not a domain name Postscale accepts. */
export function checkDomainName(name: unknown, where: string): asserts name is string {
  const problem = domainProblem(name);
  if (problem !== undefined) {
    throw new ValidationError(
      [{ path: "domain", message: problem }],
      `${where}: domain name ${problem}. Write the domain as Postscale lists it (lower case, no trailing dot).`,
    );
  }
}
