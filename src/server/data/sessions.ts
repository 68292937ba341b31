import type { Queryable } from "../db/adapter";
import type { MemberRow } from "../records";
import { iso } from "../records";
import { SESSION_PREFIX, newId, newSecret, sha256 } from "../security";
import { type Grants, grantsOf } from "./grants";
import { MEMBER_COLUMNS } from "./members";

const SESSION_TTL_SECONDS = 30 * 24 * 3600;

/** A session by its token's hash, with its member and the member's grants now. */
export type SessionCredentialRow = MemberRow & { session_id: string; session_expires_at: Date; grants: Grants | null };

export async function findSessionCredential(q: Queryable, tokenHash: string): Promise<SessionCredentialRow | undefined> {
  const [row] = await q.query<SessionCredentialRow>(
    `SELECT s.id AS session_id, s.expires_at AS session_expires_at, ${MEMBER_COLUMNS}, ${grantsOf("s.member_id")}
FROM sessions s JOIN members m ON m.id = s.member_id WHERE s.token_hash = $1`,
    [tokenHash],
  );
  return row;
}

/** Creates a login session and returns its bearer token (only its hash is stored). */
export async function createSession(q: Queryable, member: { id: string; org_id: string }): Promise<{ token: string; expires_at: string }> {
  const token = newSecret(SESSION_PREFIX);
  const [row] = await q.query<{ expires_at: Date }>(
    "INSERT INTO sessions (id, org_id, member_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at",
    [newId("ses"), member.org_id, member.id, sha256(token), SESSION_TTL_SECONDS],
  );
  return { token, expires_at: iso(row.expires_at)! };
}

export async function deleteSession(q: Queryable, id: string): Promise<void> {
  await q.query("DELETE FROM sessions WHERE id = $1", [id]);
}
