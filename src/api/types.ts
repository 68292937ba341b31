/**
 * Wire records of the Postscale API v1 (see docs/api and /v1/openapi.json).
 * Field names are the contract: snake_case, ids opaque strings, times ISO 8601.
 */
import type { Access, AssignableRole, MemberStatus, Role } from "../policy";

export interface DomainGrant {
  domain: string;
  access: Access;
}

export interface Member {
  id: string;
  email: string;
  role: Role;
  status: MemberStatus;
  name: string | null;
  invited_at: string;
  /** Member id of whoever invited them. */
  invited_by?: string | null;
  joined_at: string | null;
  domain_access?: DomainGrant[];
}

export interface InviteMemberInput {
  email: string;
  role: AssignableRole;
  domain_access?: DomainGrant[];
}

export interface Organization {
  id: string;
  name: string;
  created_at: string;
  [field: string]: unknown;
}

export type KeyOwner = "organization" | "member";
export type KeyScopeKind = "organization" | "domains";

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  owner: KeyOwner;
  member_id: string | null;
  scope: KeyScopeKind;
  domains: string[];
  created_at: string;
  /** Member id of the person whose credential created the key. */
  created_by: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  /** When the key's current secret was set: the creation time until the first rotation. */
  rotated_at: string;
  /** Until when the secret replaced by the last rotation still authenticates; null when it no longer does. */
  previous_valid_until: string | null;
  /** Who made the current secret: Postscale ("generated") or the client ("supplied", bring your own; Postscale has only its hash). */
  origin: "generated" | "supplied";
}

/** Returned once, by POST /v1/api-keys and PUT /v1/api-keys/{id}/secret when the server generates the secret. */
export interface CreatedApiKey extends ApiKey {
  secret: string;
}

/** A key whose secret the client brought: the response's `secret` is null (Postscale has only its hash). */
export interface SuppliedSecretApiKey extends ApiKey {
  secret: null;
}

export interface CreateApiKeyInput {
  name: string;
  owner: KeyOwner;
  member_id?: string | null;
  domains?: string[] | null;
  expires_at?: string | null;
}

/** `PUT /v1/api-keys/{id}/secret`. */
export interface RotateApiKeySecretInput {
  /** Bring your own new secret; without it the server generates one. */
  secret?: string;
  /** How long the replaced secret keeps working, 0 to 86400 seconds. @default 0 */
  overlap_seconds?: number;
}

export interface UpdateApiKeyInput {
  name?: string;
  domains?: string[];
}

export interface Domain {
  name: string;
  status: string;
  created_at: string;
  [field: string]: unknown;
}

/** GET /v1/me */
export interface Me {
  member: Member | null;
  role: Role;
  domain_access: DomainGrant[];
  organization: Organization;
  key?: ApiKey;
}

/** A page of a list endpoint. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface AuditEvent {
  id: string;
  actor: string | null;
  credential: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  time: string;
}

export interface MailMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  kind: "invitation" | "verify_email";
  token: string;
  sent_at: string;
}
