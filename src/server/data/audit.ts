import type { Queryable } from "../db/adapter";
import { newId } from "../security";

/** Who an audit event names: the organization, the acting person, the credential and, for a key, its holder. */
export interface AuditActor {
  orgId: string;
  memberId: string | null;
  actor: string | null;
  credential: string;
  /** For a key: its holder's member id, or "organization" for an organization-owned key. */
  keyHolder?: string | null;
}

export interface EventRow {
  cursor_seq: string;
  id: string;
  actor: string | null;
  actor_member_id: string | null;
  credential: string;
  key_holder: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  time: Date;
}

export async function insertAuditEvent(q: Queryable, a: AuditActor, action: string, target: string | null, before: unknown, after: unknown): Promise<void> {
  await q.query(
    "INSERT INTO audit_events (id, org_id, actor_member_id, actor, credential, key_holder, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10::text::jsonb)",
    [newId("evt"), a.orgId, a.memberId, a.actor, a.credential, a.keyHolder ?? null, action, target, before === undefined ? null : JSON.stringify(before), after === undefined ? null : JSON.stringify(after)],
  );
}

/** One page of events, newest first, older than sequence number `beforeSeq`; `limit + 1` rows. */
export async function listAuditEvents(q: Queryable, orgId: string, beforeSeq: string | null, limit: number): Promise<EventRow[]> {
  return q.query<EventRow>(
    "SELECT seq::text AS cursor_seq, id, actor, actor_member_id, credential, key_holder, action, target, before, after, time FROM audit_events WHERE org_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint) ORDER BY seq DESC LIMIT $3",
    [orgId, beforeSeq, limit + 1],
  );
}
