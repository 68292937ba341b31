import type { Queryable } from "../../db/adapter";
import { findMember, type MemberWithGrants } from "../../data/members";
import { notFound } from "../../problem";
import { type MemberRow, memberStatus, toMember } from "../../records";

/** A member of the organization with their grants, or the 404 of a member; locked for the transaction when `lock`. */
export async function requireMember(q: Queryable, orgId: string, id: string, lock = false): Promise<MemberWithGrants> {
  const row = await findMember(q, orgId, id, lock);
  if (!row) throw notFound(`Member "${id}"`);
  return row;
}

/** The member record with their domain access. */
export function memberRecord(row: MemberWithGrants) {
  return toMember(row, row.grants ?? {});
}

/** A member as the policy's team rules see them. */
export function targetOf(row: MemberRow) {
  return { id: row.id, email: row.email, role: row.role, status: memberStatus(row) };
}
