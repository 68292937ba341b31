import type { Access } from "../../policy";
import type { Queryable } from "../db/adapter";
import type { KeyRow, MemberRow } from "../records";
import { grantsOf } from "./grants";

export const KEY_COLUMNS = "k.id, k.org_id, k.name, k.prefix, k.owner, k.member_id, k.scope, k.domains, k.created_at, k.created_by, k.expires_at, k.last_used_at, k.secret_rotated_at, k.previous_secret_expires_at, k.secret_supplied";

/**
 * A key by its secret's hash, with its holder (m_*) and the holder's grants
 * now: one indexed lookup. The hash may be the key's previous secret during
 * a rotation's overlap; `secret_valid_until` is then when it stops working.
 */
export type KeyCredentialRow = KeyRow &
  Omit<MemberRow, "id" | "org_id" | "name"> & { m_id: string | null; m_name: string | null; grants: Record<string, Access> | null; secret_valid_until: Date | null };

// The holder's columns, renamed where a key's columns already use the name (id, name).
const HOLDER_COLUMNS = "m.id AS m_id, m.email, m.role, m.name AS m_name, m.invited_at, m.invitation_expires_at, m.accepted_at, m.joined_at, m.invited_by";

export async function findKeyCredential(q: Queryable, secretHash: string): Promise<KeyCredentialRow | undefined> {
  const [row] = await q.query<KeyCredentialRow>(
    `SELECT ${KEY_COLUMNS}, ${HOLDER_COLUMNS}, ${grantsOf("k.member_id")},
  CASE WHEN k.secret_hash = $1 THEN NULL ELSE k.previous_secret_expires_at END AS secret_valid_until
FROM api_keys k LEFT JOIN members m ON m.id = k.member_id
WHERE k.secret_hash = $1 OR (k.previous_secret_hash = $1 AND k.previous_secret_expires_at > now())`,
    [secretHash],
  );
  return row;
}

/** Records a key's use. */
export async function touchKey(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE api_keys SET last_used_at = now() WHERE id = $1", [id]);
}

/** A key of the organization; locked for the transaction when `lock`. */
export async function findKey(q: Queryable, orgId: string, id: string, lock = false): Promise<KeyRow | undefined> {
  const [row] = await q.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.org_id = $1 AND k.id = $2${lock ? " FOR UPDATE" : ""}`, [orgId, id]);
  return row;
}

/** Which keys a list shows: all of the organization's, or (when not `all`) those one member holds. */
export interface KeyFilter {
  all: boolean;
  heldBy: string | null;
  createdBy: string | null;
}

/** One page of keys by id after `after`, `limit + 1` rows. */
export async function listKeys(q: Queryable, orgId: string, filter: KeyFilter, after: string | null, limit: number): Promise<KeyRow[]> {
  return q.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.org_id = $1 AND ($2::boolean OR (k.owner = 'member' AND k.member_id = $3))
           AND ($4::text IS NULL OR k.id > $4) AND ($5::text IS NULL OR k.created_by = $5) ORDER BY k.id LIMIT $6`,
    [orgId, filter.all, filter.heldBy, after, filter.createdBy, limit + 1],
  );
}

/** Whether a hash is the current or previous secret of any key (bring-your-own material must be new). */
export async function secretHashInUse(q: Queryable, secretHash: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>("SELECT id FROM api_keys WHERE secret_hash = $1 OR previous_secret_hash = $1 LIMIT 1", [secretHash]);
  return rows.length > 0;
}

/** What a new key row holds; the secret only as its hash. */
export interface NewKey {
  id: string;
  orgId: string;
  name: string;
  prefix: string;
  secretHash: string;
  owner: KeyRow["owner"];
  memberId: string | null;
  scope: KeyRow["scope"];
  domains: string[];
  expiresAt: string | null;
  createdBy: string;
  /** The client brought the secret. @default false */
  secretSupplied?: boolean;
}

export async function insertKey(q: Queryable, key: NewKey): Promise<KeyRow> {
  const [row] = await q.query<KeyRow>(
    `INSERT INTO api_keys AS k (id, org_id, name, prefix, secret_hash, owner, member_id, scope, domains, expires_at, created_by, secret_supplied)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, $11, $12) RETURNING ${KEY_COLUMNS}`,
    [key.id, key.orgId, key.name, key.prefix, key.secretHash, key.owner, key.memberId, key.scope, key.domains, key.expiresAt, key.createdBy, key.secretSupplied ?? false],
  );
  return row;
}

/** Renames (when `name` is not null) and rescopes a key. */
export async function updateKey(q: Queryable, id: string, name: string | null, scope: { scope: KeyRow["scope"]; domains: string[] }): Promise<KeyRow> {
  const [row] = await q.query<KeyRow>(`UPDATE api_keys AS k SET name = COALESCE($2, name), scope = $3, domains = $4::text[] WHERE k.id = $1 RETURNING ${KEY_COLUMNS}`, [
    id,
    name,
    scope.scope,
    scope.domains,
  ]);
  return row;
}

/** A key's new secret. The current one keeps working for `overlapSeconds` (none when 0); an older previous secret stops now. */
export async function rotateKeySecret(q: Queryable, id: string, secret: { prefix: string; secretHash: string; supplied: boolean }, overlapSeconds: number): Promise<KeyRow> {
  const [row] = await q.query<KeyRow>(
    `UPDATE api_keys AS k SET
       previous_secret_hash = CASE WHEN $5::integer > 0 THEN k.secret_hash END,
       previous_secret_expires_at = CASE WHEN $5::integer > 0 THEN now() + make_interval(secs => $5::integer) END,
       secret_hash = $2, prefix = $3, secret_supplied = $4, secret_rotated_at = now()
     WHERE k.id = $1 RETURNING ${KEY_COLUMNS}`,
    [id, secret.secretHash, secret.prefix, secret.supplied, overlapSeconds],
  );
  return row;
}

export async function deleteKey(q: Queryable, id: string): Promise<void> {
  await q.query("DELETE FROM api_keys WHERE id = $1", [id]);
}

/** The ids of the keys a member holds, sorted. */
export async function keyIdsHeldBy(q: Queryable, memberId: string): Promise<string[]> {
  return (await q.query<{ id: string }>("SELECT id FROM api_keys WHERE member_id = $1 ORDER BY id", [memberId])).map((k) => k.id);
}

/** Takes a domain out of every key scope that names it; the ids of the keys changed. */
export async function removeDomainFromKeys(q: Queryable, orgId: string, domain: string): Promise<string[]> {
  return (await q.query<{ id: string }>("UPDATE api_keys SET domains = array_remove(domains, $2) WHERE org_id = $1 AND $2 = ANY(domains) RETURNING id", [orgId, domain])).map((k) => k.id);
}
