import type { Queryable } from "../db/adapter";

export interface OrgRow {
  id: string;
  name: string;
  settings: { timezone?: string; require_two_factor?: boolean };
  plan: string;
  billing_email: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Whether the database holds any organization yet. */
export async function anyOrganization(q: Queryable): Promise<boolean> {
  return (await q.query("SELECT id FROM organizations LIMIT 1")).length > 0;
}

export async function insertOrganization(q: Queryable, id: string, name: string): Promise<void> {
  await q.query("INSERT INTO organizations (id, name) VALUES ($1, $2)", [id, name]);
}

/** The organization; locked for the transaction when `lock`. */
export async function findOrganization(q: Queryable, orgId: string, lock = false): Promise<OrgRow> {
  const [row] = await q.query<OrgRow>(`SELECT * FROM organizations WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [orgId]);
  return row;
}

/**
 * Takes the organization's write lock: the writes of one organization take
 * turns and each sees everything committed before it. NO KEY UPDATE, so
 * rows that only reference the organization can still be inserted.
 */
export async function lockOrganizationForWrite(q: Queryable, orgId: string): Promise<void> {
  await q.query("SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE", [orgId]);
}

/** Renames (when `name` is not null) and merges settings. */
export async function updateOrganization(q: Queryable, orgId: string, name: string | null, settings: OrgRow["settings"]): Promise<OrgRow> {
  const [row] = await q.query<OrgRow>(
    "UPDATE organizations SET name = COALESCE($2, name), settings = settings || $3::text::jsonb, updated_at = now() WHERE id = $1 RETURNING *",
    [orgId, name, JSON.stringify(settings)],
  );
  return row;
}

export async function updateBilling(q: Queryable, orgId: string, plan: string, billingEmail: string): Promise<OrgRow> {
  const [row] = await q.query<OrgRow>("UPDATE organizations SET plan = $2, billing_email = $3, updated_at = now() WHERE id = $1 RETURNING *", [orgId, plan, billingEmail]);
  return row;
}

/** Deletes the organization; everything hangs off it with ON DELETE CASCADE, so its credentials stop working at once. */
export async function deleteOrganization(q: Queryable, orgId: string): Promise<void> {
  await q.query("DELETE FROM organizations WHERE id = $1", [orgId]);
}
