/** Organization roles, from the Team accounts announcement. */
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];
/** Each role by name, for code that means one role: `ROLE.owner`. */
export const ROLE = { owner: "owner", admin: "admin", member: "member" } as const satisfies { [R in Role]: R };

/** Roles that can be given by invitation or role change; ownership only moves by transfer. */
export const ASSIGNABLE_ROLES = [ROLE.admin, ROLE.member] as const;
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

/** The roles that manage the organization and reach every domain read/write. */
export const MANAGER_ROLES = [ROLE.owner, ROLE.admin] as const;

/** Domain access levels a member can be granted. */
export const ACCESS_LEVELS = ["read", "read_write"] as const;
export type Access = (typeof ACCESS_LEVELS)[number];
/** Each access level by name: `ACCESS.read_write`. */
export const ACCESS = { read: "read", read_write: "read_write" } as const satisfies { [A in Access]: A };

export const MEMBER_STATUSES = ["invited", "active", "expired"] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];
/** Each member status by name: `MEMBER_STATUS.active`. */
export const MEMBER_STATUS = { invited: "invited", active: "active", expired: "expired" } as const satisfies { [S in MemberStatus]: S };

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}

export function isAssignableRole(value: unknown): value is AssignableRole {
  return (ASSIGNABLE_ROLES as readonly unknown[]).includes(value);
}

export function isAccess(value: unknown): value is Access {
  return (ACCESS_LEVELS as readonly unknown[]).includes(value);
}

/** Owners and admins manage the organization and see every domain read/write. */
export function isManager(role: Role): boolean {
  return (MANAGER_ROLES as readonly Role[]).includes(role);
}

const ROLE_RANK: Record<Role, number> = { owner: 2, admin: 1, member: 0 };

/** Whether role `a` is strictly above role `b`: the owner above admins, admins above members. */
export function outranks(a: Role, b: Role): boolean {
  return ROLE_RANK[a] > ROLE_RANK[b];
}

/** Whether `held` is enough for an action that needs `needed`. */
export function accessCovers(held: Access | undefined, needed: Access): boolean {
  if (held === undefined) return false;
  return needed === ACCESS.read || held === ACCESS.read_write;
}

/** The narrower of two access levels (undefined means none). */
export function narrower(a: Access | undefined, b: Access | undefined): Access | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a === ACCESS.read_write && b === ACCESS.read_write ? ACCESS.read_write : ACCESS.read;
}

/** Rank for comparing access: 0 none, 1 read, 2 read_write. */
export function accessRank(access: Access | undefined | null): number {
  return access === ACCESS.read_write ? 2 : access === ACCESS.read ? 1 : 0;
}
