import type { Queryable } from "../db/adapter";
import type { MemberRow } from "../records";
import { sha256 } from "../security";
import { MEMBER_COLUMNS, setInvitationExpiry } from "./members";

/** A one-time token (an invitation or an email verification link) with its member and organization. */
export interface TokenRow extends MemberRow {
  kind: "invitation" | "verify_email";
  token_expires_at: Date;
  used_at: Date | null;
  org_name: string;
}

/** A token by its text (looked up by hash); locked for the transaction when `lock`. */
export async function findToken(q: Queryable, token: string, kind: TokenRow["kind"], lock: boolean): Promise<TokenRow | undefined> {
  const [row] = await q.query<TokenRow>(
    `SELECT t.kind, t.expires_at AS token_expires_at, t.used_at, o.name AS org_name, ${MEMBER_COLUMNS}
     FROM tokens t JOIN members m ON m.id = t.member_id JOIN organizations o ON o.id = m.org_id
     WHERE t.token_hash = $1 AND t.kind = $2${lock ? " FOR UPDATE OF t" : ""}`,
    [sha256(token), kind],
  );
  return row;
}

export async function markTokenUsed(q: Queryable, token: string): Promise<void> {
  await q.query("UPDATE tokens SET used_at = now() WHERE token_hash = $1", [sha256(token)]);
}

/** Keeps a fresh invitation token (by hash) for a member, invalidating older ones; returns when it expires. */
export async function storeInvitationToken(q: Queryable, memberId: string, token: string, ttlSeconds: number): Promise<Date> {
  await q.query("DELETE FROM tokens WHERE member_id = $1", [memberId]);
  const [row] = await q.query<{ expires_at: Date }>(
    "INSERT INTO tokens (token_hash, kind, member_id, expires_at) VALUES ($1, 'invitation', $2, now() + make_interval(secs => $3)) RETURNING expires_at",
    [sha256(token), memberId, ttlSeconds],
  );
  await setInvitationExpiry(q, memberId, row.expires_at);
  return row.expires_at;
}

/** Keeps an email verification token (by hash) for a member. */
export async function storeVerificationToken(q: Queryable, memberId: string, token: string, ttlSeconds: number): Promise<void> {
  await q.query("INSERT INTO tokens (token_hash, kind, member_id, expires_at) VALUES ($1, 'verify_email', $2, now() + make_interval(secs => $3))", [sha256(token), memberId, ttlSeconds]);
}
