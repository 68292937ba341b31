import type { Queryable } from "../db/adapter";

export interface AliasRow {
  id: string;
  address: string;
  forward_to: string[];
  created_at: Date;
  updated_at: Date;
}

/** One page of a domain's aliases by id after `after`, `limit + 1` rows. */
export async function listAliases(q: Queryable, domainId: string, after: string | null, limit: number): Promise<AliasRow[]> {
  return q.query<AliasRow>("SELECT * FROM aliases WHERE domain_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3", [domainId, after, limit + 1]);
}

/** An alias of a domain; locked for the transaction when `lock`. */
export async function findAlias(q: Queryable, domainId: string, id: string, lock = false): Promise<AliasRow | undefined> {
  const [row] = await q.query<AliasRow>(`SELECT * FROM aliases WHERE domain_id = $1 AND id = $2${lock ? " FOR UPDATE" : ""}`, [domainId, id]);
  return row;
}

export async function insertAlias(q: Queryable, alias: { id: string; domainId: string; address: string; forwardTo: string[] }): Promise<AliasRow> {
  const [row] = await q.query<AliasRow>("INSERT INTO aliases (id, domain_id, address, forward_to) VALUES ($1, $2, $3, $4::text[]) RETURNING *", [alias.id, alias.domainId, alias.address, alias.forwardTo]);
  return row;
}

/** Changes what is given (null leaves a field as it is). */
export async function updateAlias(q: Queryable, id: string, change: { address: string | null; forwardTo: string[] | null }): Promise<AliasRow> {
  const [row] = await q.query<AliasRow>("UPDATE aliases SET address = COALESCE($2, address), forward_to = COALESCE($3::text[], forward_to), updated_at = now() WHERE id = $1 RETURNING *", [
    id,
    change.address,
    change.forwardTo,
  ]);
  return row;
}

/** Deletes an alias of a domain; the row deleted, or undefined when there was none. */
export async function deleteAlias(q: Queryable, domainId: string, id: string): Promise<AliasRow | undefined> {
  const [row] = await q.query<AliasRow>("DELETE FROM aliases WHERE domain_id = $1 AND id = $2 RETURNING *", [domainId, id]);
  return row;
}
