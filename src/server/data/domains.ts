import type { Queryable } from "../db/adapter";
import type { DomainRow } from "../records";

/** A domain of the organization by name; locked for the transaction when `lock`. */
export async function findDomain(q: Queryable, orgId: string, name: string, lock = false): Promise<DomainRow | undefined> {
  const [row] = await q.query<DomainRow>(`SELECT * FROM domains WHERE org_id = $1 AND name = $2${lock ? " FOR UPDATE" : ""}`, [orgId, name]);
  return row;
}

/** One page of domains by name after `after`, `limit + 1` rows; only those named in `only` unless it is null. */
export async function listDomains(q: Queryable, orgId: string, only: readonly string[] | null, after: string | null, limit: number): Promise<DomainRow[]> {
  return q.query<DomainRow>(
    "SELECT * FROM domains WHERE org_id = $1 AND ($2::text[] IS NULL OR name = ANY($2::text[])) AND ($3::text IS NULL OR name > $3) ORDER BY name LIMIT $4",
    [orgId, only, after, limit + 1],
  );
}

/** Every domain name of the organization, sorted. */
export async function domainNames(q: Queryable, orgId: string): Promise<string[]> {
  return (await q.query<{ name: string }>("SELECT name FROM domains WHERE org_id = $1 ORDER BY name", [orgId])).map((r) => r.name);
}

/** The ids of the named domains that exist in the organization, by name. */
export async function domainIdsByName(q: Queryable, orgId: string, names: string[]): Promise<Map<string, string>> {
  const rows = names.length ? await q.query<{ id: string; name: string }>("SELECT id, name FROM domains WHERE org_id = $1 AND name = ANY($2::text[])", [orgId, names]) : [];
  return new Map(rows.map((r) => [r.name, r.id]));
}

export async function insertDomain(q: Queryable, domain: { id: string; orgId: string; name: string; dkim: { selector: string; publicKey: string } }): Promise<DomainRow> {
  const [row] = await q.query<DomainRow>("INSERT INTO domains (id, org_id, name, dkim_selector, dkim_public_key) VALUES ($1, $2, $3, $4, $5) RETURNING *", [
    domain.id,
    domain.orgId,
    domain.name,
    domain.dkim.selector,
    domain.dkim.publicKey,
  ]);
  return row;
}

/** Changes the settings given (null leaves one as it is). */
export async function updateDomainSettings(q: Queryable, id: string, settings: { open_tracking: boolean | null; click_tracking: boolean | null; tls_policy: string | null }): Promise<DomainRow> {
  const [row] = await q.query<DomainRow>(
    "UPDATE domains SET open_tracking = COALESCE($2, open_tracking), click_tracking = COALESCE($3, click_tracking), tls_policy = COALESCE($4, tls_policy), updated_at = now() WHERE id = $1 RETURNING *",
    [id, settings.open_tracking, settings.click_tracking, settings.tls_policy],
  );
  return row;
}

/** Marks a domain verified (the first verification's time is kept). */
export async function markVerified(q: Queryable, id: string): Promise<DomainRow> {
  const [row] = await q.query<DomainRow>("UPDATE domains SET status = 'verified', verified_at = COALESCE(verified_at, now()), updated_at = now() WHERE id = $1 RETURNING *", [id]);
  return row;
}

export async function replaceDkimKey(q: Queryable, id: string, key: { selector: string; publicKey: string }): Promise<DomainRow> {
  const [row] = await q.query<DomainRow>("UPDATE domains SET dkim_selector = $2, dkim_public_key = $3, dkim_created_at = now(), updated_at = now() WHERE id = $1 RETURNING *", [
    id,
    key.selector,
    key.publicKey,
  ]);
  return row;
}

export async function updateWarming(q: Queryable, id: string, status: string, day: number): Promise<DomainRow> {
  const [row] = await q.query<DomainRow>(
    "UPDATE domains SET warming_status = $2, warming_day = $3, warming_started_at = COALESCE(warming_started_at, now()), warming_updated_at = now(), updated_at = now() WHERE id = $1 RETURNING *",
    [id, status, day],
  );
  return row;
}

/** Deletes a domain; grants, aliases and inbound rules go by ON DELETE CASCADE. */
export async function deleteDomain(q: Queryable, id: string): Promise<void> {
  await q.query("DELETE FROM domains WHERE id = $1", [id]);
}
