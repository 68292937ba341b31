import type { KeyHolder, Role } from "../../policy";
import type { Queryable } from "../db/adapter";
import type { MemberRow } from "../records";
import { type Grants, grantsOf } from "./grants";

export const MEMBER_COLUMNS = "m.id, m.org_id, m.email, m.role, m.name, m.invited_at, m.invitation_expires_at, m.accepted_at, m.joined_at, m.invited_by";

/** A member with their grants, read in the same query. */
export type MemberWithGrants = MemberRow & { grants: Grants | null };

/** A member of the organization with their grants; locked for the transaction when `lock`. */
export async function findMember(q: Queryable, orgId: string, id: string, lock = false): Promise<MemberWithGrants | undefined> {
  const [row] = await q.query<MemberWithGrants>(
    `SELECT ${MEMBER_COLUMNS}, ${grantsOf("m.id")} FROM members m WHERE m.org_id = $1 AND m.id = $2${lock ? " FOR UPDATE OF m" : ""}`,
    [orgId, id],
  );
  return row;
}

/** One page of members by id after `after`, `limit + 1` rows; with their grants when `withGrants`. */
export async function listMembers(q: Queryable, orgId: string, after: string | null, limit: number, withGrants: boolean): Promise<(MemberRow & { grants?: Grants | null })[]> {
  return q.query(
    `SELECT ${MEMBER_COLUMNS}${withGrants ? `, ${grantsOf("m.id")}` : ""} FROM members m WHERE m.org_id = $1 AND ($2::text IS NULL OR m.id > $2) ORDER BY m.id LIMIT $3`,
    [orgId, after, limit + 1],
  );
}

/** Whether the organization has a member (or invitation) with this email. */
export async function emailTaken(q: Queryable, orgId: string, email: string): Promise<boolean> {
  return (await q.query("SELECT id FROM members WHERE org_id = $1 AND email = $2", [orgId, email])).length > 0;
}

/** The first owner: active from the start, with a password. */
export async function insertOwner(q: Queryable, owner: { id: string; orgId: string; email: string; name: string; passwordHash: string }): Promise<void> {
  await q.query("INSERT INTO members (id, org_id, email, role, name, password_hash, accepted_at, joined_at) VALUES ($1, $2, $3, 'owner', $4, $5, now(), now())", [
    owner.id,
    owner.orgId,
    owner.email,
    owner.name,
    owner.passwordHash,
  ]);
}

/** A new, invited member. */
export async function insertMember(q: Queryable, member: { id: string; orgId: string; email: string; role: Role; invitedBy: string | null }): Promise<MemberRow> {
  const [row] = await q.query<MemberRow>(`INSERT INTO members AS m (id, org_id, email, role, invited_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${MEMBER_COLUMNS}`, [
    member.id,
    member.orgId,
    member.email,
    member.role,
    member.invitedBy,
  ]);
  return row;
}

export async function updateRole(q: Queryable, id: string, role: Role): Promise<void> {
  await q.query("UPDATE members SET role = $2 WHERE id = $1", [id, role]);
}

/** Deletes a member; sessions, member-owned keys, grants and tokens go by ON DELETE CASCADE in the same statement. */
export async function deleteMember(q: Queryable, id: string): Promise<void> {
  await q.query("DELETE FROM members WHERE id = $1", [id]);
}

/** Back to invited: a resent invitation starts over. */
export async function reinvite(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE members SET accepted_at = NULL, password_hash = NULL, invited_at = now() WHERE id = $1", [id]);
}

export async function setInvitationExpiry(q: Queryable, id: string, expiresAt: Date): Promise<void> {
  await q.query("UPDATE members SET invitation_expires_at = $2 WHERE id = $1", [id, expiresAt]);
}

/** An accepted invitation: name and provisional password. */
export async function acceptMembership(q: Queryable, id: string, name: string, passwordHash: string): Promise<MemberRow> {
  const [row] = await q.query<MemberRow>(`UPDATE members m SET name = $2, password_hash = $3, accepted_at = now() WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [id, name, passwordHash]);
  return row;
}

/** A verified email: the membership becomes active; the password is replaced when one is given. */
export async function activateMembership(q: Queryable, id: string, passwordHash: string | null): Promise<MemberRow> {
  const [row] = await q.query<MemberRow>(`UPDATE members m SET joined_at = now(), password_hash = COALESCE($2, m.password_hash) WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [id, passwordHash]);
  return row;
}

/** The email of whoever invited a member, or null. */
export async function inviterEmail(q: Queryable, memberId: string): Promise<string | null> {
  const [row] = await q.query<{ email: string }>("SELECT i.email FROM members m JOIN members i ON i.id = m.invited_by WHERE m.id = $1", [memberId]);
  return row?.email ?? null;
}

/** The active memberships of an email, in every organization, with their password hashes. */
export async function loginCandidates(q: Queryable, email: string): Promise<{ id: string; org_id: string; password_hash: string | null }[]> {
  return q.query("SELECT id, org_id, password_hash FROM members WHERE email = $1 AND joined_at IS NOT NULL ORDER BY id", [email]);
}

/** The member who will hold a key, with their grants now; null when there is no such member. */
export async function findKeyHolder(q: Queryable, orgId: string, memberId: string | null | undefined): Promise<KeyHolder | null> {
  if (!memberId) return null;
  const [row] = await q.query<{ id: string; email: string; role: KeyHolder["role"]; grants: Grants | null }>(
    `SELECT m.id, m.email, m.role, ${grantsOf("m.id")} FROM members m WHERE m.org_id = $1 AND m.id = $2`,
    [orgId, memberId],
  );
  return row ? { id: row.id, email: row.email, role: row.role, grants: row.grants ?? {} } : null;
}

/** A member locked for the transaction (without grants). */
export async function lockMember(q: Queryable, orgId: string, id: string): Promise<MemberRow | undefined> {
  const [row] = await q.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.org_id = $1 AND m.id = $2 FOR UPDATE`, [orgId, id]);
  return row;
}

/** Moves ownership: the owner gets `previousOwnerRole`, the target becomes the owner; both rows as they are now. */
export async function moveOwnership(q: Queryable, orgId: string, targetId: string, previousOwnerRole: Role): Promise<{ owner: MemberRow; previousOwner: MemberRow }> {
  const [previousOwner] = await q.query<MemberRow>(`UPDATE members m SET role = $2 WHERE m.org_id = $1 AND m.role = 'owner' RETURNING ${MEMBER_COLUMNS}`, [orgId, previousOwnerRole]);
  const [owner] = await q.query<MemberRow>(`UPDATE members m SET role = 'owner' WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [targetId]);
  return { owner, previousOwner };
}
