import { Construct } from "constructs";
import { Access } from "../policy";
import { DomainAccess as L1DomainAccess } from "./generated/domain-access";
import { accessLogicalId, claimLogicalId } from "./ids";
import type { TeamMember } from "./team-member";

/** Properties of a `DomainAccess`. */
export interface DomainAccessProps {
  /** The member who gets access (role member). */
  readonly member: TeamMember;
  /** The domain name. */
  readonly domain: string;
  /** The access level. */
  readonly access: Access;
}

/**
 * One member's access to one domain (`postscale_domain_access`). Created by
 * `Domain.grantRead/grantReadWrite` or `TeamMember.grant`; the logical id is
 * derived from the email and the domain name.
 */
export class DomainAccess extends Construct {
  readonly member: TeamMember;
  readonly domain: string;
  readonly access: Access;
  /** The underlying `postscale_domain_access` resource (escape hatch). */
  readonly resource: L1DomainAccess;

  constructor(scope: Construct, id: string, props: DomainAccessProps) {
    super(scope, id);
    this.member = props.member;
    this.domain = props.domain;
    this.access = props.access;
    this.resource = new L1DomainAccess(this, "resource", {
      memberId: props.member.id,
      domain: props.domain,
      access: props.access,
      provider: props.member.team.provider,
    });
    claimLogicalId(this.resource, accessLogicalId(props.member.email, props.domain), `${props.access} access of ${props.member.email} to ${props.domain}`);
  }
}
