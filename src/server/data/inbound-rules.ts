import type { Queryable } from "../db/adapter";

export type RuleAction = "forward" | "webhook" | "drop";

export interface RuleRow {
  id: string;
  match: string;
  action: RuleAction;
  destination: string | null;
  priority: number;
  created_at: Date;
  updated_at: Date;
}

/** One page of a domain's rules by (priority, id), keyed by one sortable string, `limit + 1` rows. */
export async function listRules(q: Queryable, domainId: string, after: string | null, limit: number): Promise<(RuleRow & { sort_key: string })[]> {
  return q.query(
    "SELECT *, lpad(priority::text, 5, '0') || ':' || id AS sort_key FROM inbound_rules WHERE domain_id = $1 AND ($2::text IS NULL OR lpad(priority::text, 5, '0') || ':' || id > $2) ORDER BY priority, id LIMIT $3",
    [domainId, after, limit + 1],
  );
}

/** A rule of a domain; locked for the transaction when `lock`. */
export async function findRule(q: Queryable, domainId: string, id: string, lock = false): Promise<RuleRow | undefined> {
  const [row] = await q.query<RuleRow>(`SELECT * FROM inbound_rules WHERE domain_id = $1 AND id = $2${lock ? " FOR UPDATE" : ""}`, [domainId, id]);
  return row;
}

/** The priority a new rule gets when none is given: 10 after the last one. */
export async function nextPriority(q: Queryable, domainId: string): Promise<number> {
  const [{ next }] = await q.query<{ next: number }>("SELECT COALESCE(MAX(priority) + 10, 10)::int AS next FROM inbound_rules WHERE domain_id = $1", [domainId]);
  return Number(next);
}

/** The fields of a rule that a write sets. */
export interface RuleFields {
  match: string;
  action: RuleAction;
  destination: string | null;
  priority: number;
}

export async function insertRule(q: Queryable, rule: RuleFields & { id: string; domainId: string }): Promise<RuleRow> {
  const [row] = await q.query<RuleRow>("INSERT INTO inbound_rules (id, domain_id, match, action, destination, priority) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *", [
    rule.id,
    rule.domainId,
    rule.match,
    rule.action,
    rule.destination,
    rule.priority,
  ]);
  return row;
}

export async function updateRule(q: Queryable, id: string, rule: RuleFields): Promise<RuleRow> {
  const [row] = await q.query<RuleRow>("UPDATE inbound_rules SET match = $2, action = $3, destination = $4, priority = $5, updated_at = now() WHERE id = $1 RETURNING *", [
    id,
    rule.match,
    rule.action,
    rule.destination,
    rule.priority,
  ]);
  return row;
}

/** Deletes a rule of a domain; the row deleted, or undefined when there was none. */
export async function deleteRule(q: Queryable, domainId: string, id: string): Promise<RuleRow | undefined> {
  const [row] = await q.query<RuleRow>("DELETE FROM inbound_rules WHERE domain_id = $1 AND id = $2 RETURNING *", [domainId, id]);
  return row;
}
