import type { Queryable } from "./db/adapter";
import type { Caller } from "./context";
import { type AuditActor, insertAuditEvent } from "./data/audit";

/** Who did it, for events without an authenticated caller (sign-up, login). */
export type AnonymousActor = AuditActor;

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
  await insertAuditEvent(tx, "principal" in who ? actorOf(who) : who, action, target, before, after);
}
