import type { Queryable } from "./db/adapter";
import type { Caller } from "./context";
import { newId } from "./security";

/** Who did it, for events without an authenticated caller (sign-up, login). */
export interface AnonymousActor {
  orgId: string;
  memberId: string | null;
  actor: string | null;
  credential: string;
  /** For a key: its holder's member id, or "organization" for an organization-owned key. */
  keyHolder?: string | null;
}

/**
 * How a caller appears in the audit log: the acting person (null for an
 * organization key, which no person holds), the credential used and, for a
 * key, whose it is.
 */
export function actorOf(caller: Caller): AnonymousActor {
  const cred = caller.credential;
  return {
    orgId: caller.orgId,
    memberId: caller.member?.id ?? null,
    actor: caller.member?.email ?? null,
    credential: cred.kind === "session" ? `session:${cred.id}` : `api_key:${cred.id}`,
    keyHolder: cred.kind === "api_key" ? (cred.key.owner === "organization" ? "organization" : cred.key.member_id) : null,
  };
}

/** Records one mutation, inside the transaction that made it, so the log never disagrees with the data. */
export async function recordAudit(
  tx: Queryable,
  who: Caller | AnonymousActor,
  action: string,
  target: string | null,
  before: unknown,
  after: unknown,
): Promise<void> {
  const a = "principal" in who ? actorOf(who) : who;
  await tx.query(
    "INSERT INTO audit_events (id, org_id, actor_member_id, actor, credential, key_holder, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10::text::jsonb)",
    [newId("evt"), a.orgId, a.memberId, a.actor, a.credential, a.keyHolder ?? null, action, target, before === undefined ? null : JSON.stringify(before), after === undefined ? null : JSON.stringify(after)],
  );
}
