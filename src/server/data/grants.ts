import type { Access } from "../../policy";
import type { Queryable } from "../db/adapter";

/** A member's grants: domain name -> access. */
export type Grants = Record<string, Access>;

/**
 * A member's grants as one JSON object (domain name -> access), as a column
 * of the same query: never one query per member. The one place this
 * subquery is written.
 */
export function grantsOf(memberIdColumn: string): string {
  return `(SELECT json_object_agg(d.name, g.access) FROM grants g JOIN domains d ON d.id = g.domain_id WHERE g.member_id = ${memberIdColumn}) AS grants`;
}

/** The grants of one member. */
export async function grantsOfMember(q: Queryable, memberId: string): Promise<Grants> {
  const [row] = await q.query<{ grants: Grants | null }>(`SELECT ${grantsOf("$1::text")}`, [memberId]);
  return row?.grants ?? {};
}

/** Grants `access` on a domain, or changes the access already granted. */
export async function putGrant(q: Queryable, memberId: string, domainId: string, access: Access): Promise<void> {
  await q.query(
    "INSERT INTO grants (member_id, domain_id, access) VALUES ($1, $2, $3) ON CONFLICT (member_id, domain_id) DO UPDATE SET access = EXCLUDED.access",
    [memberId, domainId, access],
  );
}

/** Grants of a member who has none yet (an invitation's). */
export async function insertGrants(q: Queryable, memberId: string, grants: { domainId: string; access: Access }[]): Promise<void> {
  for (const g of grants) await q.query("INSERT INTO grants (member_id, domain_id, access) VALUES ($1, $2, $3)", [memberId, g.domainId, g.access]);
}

/** Removes a member's access to a domain of the organization; the access removed, or null when there was none. */
export async function deleteGrant(q: Queryable, orgId: string, memberId: string, domain: string): Promise<Access | null> {
  const [removed] = await q.query<{ access: Access }>(
    "DELETE FROM grants g USING domains d WHERE g.domain_id = d.id AND g.member_id = $1 AND d.org_id = $2 AND d.name = $3 RETURNING g.access",
    [memberId, orgId, domain],
  );
  return removed?.access ?? null;
}

/** Removes every grant of a member (a role that holds none). */
export async function deleteGrantsOf(q: Queryable, memberId: string): Promise<void> {
  await q.query("DELETE FROM grants WHERE member_id = $1", [memberId]);
}
