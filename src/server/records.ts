import type { Access, MemberStatus, Role } from "../policy";
import type { ApiKey, DomainGrant, Member } from "../api/types";

/** A timestamp column as ISO 8601 (drivers hand back Date objects). */
export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export interface MemberRow {
  id: string;
  org_id: string;
  email: string;
  role: Role;
  name: string | null;
  invited_at: Date;
  invitation_expires_at: Date | null;
  accepted_at: Date | null;
  joined_at: Date | null;
  /** The member id of whoever invited them (null for the bootstrap owner). */
  invited_by: string | null;
}

/** Status is computed when read: an invitation left unaccepted past its expiry shows "expired". */
export function memberStatus(row: Pick<MemberRow, "joined_at" | "invitation_expires_at">, now = Date.now()): MemberStatus {
  if (row.joined_at) return "active";
  if (row.invitation_expires_at && new Date(row.invitation_expires_at).getTime() <= now) return "expired";
  return "invited";
}

/** Grants as sorted wire records. */
export function grantList(grants: Readonly<Record<string, Access>> | null | undefined): DomainGrant[] {
  return Object.entries(grants ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([domain, access]) => ({ domain, access }));
}

export function toMember(row: MemberRow, grants?: Readonly<Record<string, Access>> | null): Member {
  const member: Member = {
    id: row.id,
    email: row.email,
    role: row.role,
    status: memberStatus(row),
    name: row.name,
    invited_at: iso(row.invited_at)!,
    invited_by: row.invited_by ?? null,
    joined_at: iso(row.joined_at),
  };
  if (grants !== undefined) member.domain_access = grantList(grants);
  return member;
}

export interface KeyRow {
  id: string;
  org_id: string;
  name: string;
  prefix: string;
  owner: "organization" | "member";
  member_id: string | null;
  scope: "organization" | "domains";
  domains: string[];
  created_at: Date;
  created_by: string | null;
  expires_at: Date | null;
  last_used_at: Date | null;
  /** Absent on rows read without the rotation columns (none of ours today). */
  secret_rotated_at?: Date;
  previous_secret_expires_at?: Date | null;
  secret_supplied?: boolean;
}

export function toApiKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    owner: row.owner,
    member_id: row.member_id,
    scope: row.scope,
    domains: [...(row.domains ?? [])].sort(),
    created_at: iso(row.created_at)!,
    created_by: row.created_by ?? null,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    rotated_at: iso(row.secret_rotated_at ?? row.created_at)!,
    previous_valid_until: iso(row.previous_secret_expires_at),
    origin: row.secret_supplied ? "supplied" : "generated",
  };
}

export interface DomainRow {
  id: string;
  org_id: string;
  name: string;
  status: "pending" | "verified";
  verified_at: Date | null;
  open_tracking: boolean;
  click_tracking: boolean;
  tls_policy: string;
  dkim_selector: string;
  dkim_public_key: string;
  dkim_created_at: Date;
  warming_status: string;
  warming_day: number;
  warming_started_at: Date | null;
  warming_updated_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The domain record; `access` is the caller's effective access to it. */
export function toDomain(row: DomainRow, access: Access) {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    verified_at: iso(row.verified_at),
    open_tracking: row.open_tracking,
    click_tracking: row.click_tracking,
    tls_policy: row.tls_policy,
    access,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}
