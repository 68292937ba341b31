import { ALLOW, Decision, deny } from "./decision";
import { OrganizationAction, decideOrganizationAction } from "./actions";
import { Principal } from "./principal";
import { AssignableRole, MEMBER_STATUS, MemberStatus, ROLE, Role, isAssignableRole, isManager } from "./roles";

/** The member an action is aimed at. */
export interface TargetMember {
  id: string;
  email: string;
  role: Role;
  status?: MemberStatus;
}

function first(...decisions: Decision[]): Decision {
  return decisions.find((d) => !d.allowed) ?? ALLOW;
}

/** Inviting someone with a role. */
export function decideInvite(actor: Principal, role: unknown): Decision {
  const base = decideOrganizationAction(actor, "team.invite");
  if (!base.allowed) return base;
  if (role === ROLE.owner) {
    return deny(422, "owner_only_by_transfer", 'role "owner" cannot be given by invitation; ownership moves only by transfer-ownership.', "/role");
  }
  return ALLOW;
}

/** Changing a member's role. */
export function decideRoleChange(actor: Principal, target: TargetMember, newRole: unknown): Decision {
  const base = decideOrganizationAction(actor, "team.update");
  if (!base.allowed) return base;
  if (actor.memberId !== null && actor.memberId === target.id) {
    return deny(403, "own_role", `${target.email} cannot change their own role; another admin or the owner must.`);
  }
  if (target.role === ROLE.owner) {
    return deny(403, "owner_protected", `${target.email} is the owner; the owner's role changes only through transfer-ownership.`);
  }
  if (!isAssignableRole(newRole)) {
    const why = newRole === ROLE.owner ? "ownership moves only by transfer-ownership" : 'role must be "admin" or "member"';
    return deny(422, "owner_only_by_transfer", `cannot set ${target.email} to role ${JSON.stringify(newRole)}: ${why}.`, "/role");
  }
  return ALLOW;
}

/** Removing (offboarding) a member. */
export function decideRemove(actor: Principal, target: TargetMember): Decision {
  const base = decideOrganizationAction(actor, "team.remove");
  if (!base.allowed) return base;
  if (target.role === ROLE.owner) {
    return deny(403, "owner_protected", `${target.email} is the owner and cannot be removed; transfer ownership first.`);
  }
  if (actor.memberId !== null && actor.memberId === target.id) {
    return deny(403, "cannot_remove_self", `${target.email} cannot remove themselves; ask another admin or the owner.`);
  }
  return ALLOW;
}

/** Granting, changing or removing a member's domain access. */
export function decideGrantChange(actor: Principal, target: TargetMember): Decision {
  return first(
    decideOrganizationAction(actor, "team.domain_access.write"),
    checkGrantTarget(target),
  );
}

/**
 * Removing a member's domain access: any manager may, whoever the target.
 * Unlike granting, it is allowed on someone who cannot hold grants, so a
 * stale grant can always be cleaned up.
 */
export function decideGrantRemoval(actor: Principal): Decision {
  return decideOrganizationAction(actor, "team.domain_access.write");
}

/**
 * Who is declared in code as a team member: everyone but the owner. The
 * owner is given no role and must never be offboarded by a removed
 * declaration; ownership moves only by transfer-ownership. The provider
 * refuses to manage or import the owner as a team member, and export leaves
 * the owner out of the declared team.
 */
export function isDeclarable(role: Role): boolean {
  return role !== ROLE.owner;
}

/** The role the previous owner keeps after transfer-ownership. */
export const PREVIOUS_OWNER_ROLE: AssignableRole = ROLE.admin;

/**
 * Domain access is only for role member: owners and admins already reach
 * every domain read/write, so a grant on them would be meaningless (and a
 * kept one would silently come back on a later demotion).
 */
export function canHoldGrants(role: Role): boolean {
  return !isManager(role);
}

/** A grant may only be aimed at someone who can hold one (see `canHoldGrants`). */
export function checkGrantTarget(target: { email: string; role: Role }): Decision {
  if (!canHoldGrants(target.role)) {
    return deny(
      422,
      "grants_only_for_members",
      `${target.email} is ${target.role === ROLE.admin ? "an admin" : "the owner"}; domain access applies only to role member (${target.role}s already reach every domain). Remove the grant or make them a member.`,
    );
  }
  return ALLOW;
}

/** Transferring ownership to another active member. */
export function decideTransferOwnership(actor: Principal, target: TargetMember): Decision {
  const base = decideOrganizationAction(actor, "organization.transfer_ownership");
  if (!base.allowed) return base;
  if (target.id === actor.memberId) {
    return deny(422, "transfer_target_invalid", `${target.email} already owns the organization.`, "/member_id");
  }
  if (target.status !== undefined && target.status !== MEMBER_STATUS.active) {
    return deny(422, "transfer_target_invalid", `${target.email} has not joined yet (${target.status}); ownership can only move to an active member.`, "/member_id");
  }
  return ALLOW;
}
