/** Organization roles, from the Team accounts announcement. */
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

/** Roles that can be given by invitation or role change; ownership only moves by transfer. */
export const ASSIGNABLE_ROLES = ["admin", "member"] as const;
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

/** Domain access levels a member can be granted. */
export const ACCESS_LEVELS = ["read", "read_write"] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

export const MEMBER_STATUSES = ["invited", "active", "expired"] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

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
  return role === "owner" || role === "admin";
}

const ROLE_RANK: Record<Role, number> = { owner: 2, admin: 1, member: 0 };

/** Whether role `a` is strictly above role `b`: the owner above admins, admins above members. */
export function outranks(a: Role, b: Role): boolean {
  return ROLE_RANK[a] > ROLE_RANK[b];
}

/** Whether `held` is enough for an action that needs `needed`. */
export function accessCovers(held: Access | undefined, needed: Access): boolean {
  if (held === undefined) return false;
  return needed === "read" || held === "read_write";
}

/** The narrower of two access levels (undefined means none). */
export function narrower(a: Access | undefined, b: Access | undefined): Access | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a === "read_write" && b === "read_write" ? "read_write" : "read";
}

/** Rank for comparing access: 0 none, 1 read, 2 read_write. */
export function accessRank(access: Access | undefined | null): number {
  return access === "read_write" ? 2 : access === "read" ? 1 : 0;
}
