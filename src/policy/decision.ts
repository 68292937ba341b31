/** Stable identifiers of the access rules; tests, docs and tools match on them. */
export type Rule =
  | "role_not_allowed"
  | "domain_not_visible"
  | "read_only_access"
  | "key_scope_excludes_action"
  | "own_role"
  | "owner_protected"
  | "cannot_remove_self"
  | "owner_only_by_transfer"
  | "grants_only_for_members"
  | "organization_key_requires_admin"
  | "organization_key_has_no_member"
  | "key_for_other_member"
  | "key_domain_not_writable"
  | "key_domain_unknown"
  | "no_writable_domains"
  | "transfer_target_invalid"
  | "key_not_visible"
  | "key_holder_outranks_caller"
  | "organization_key_not_allowed"
  | "key_name_taken";

/** A refusal: the HTTP status the API answers with, the rule, and words for a person. */
export interface Violation {
  allowed: false;
  status: 403 | 404 | 409 | 422;
  rule: Rule;
  message: string;
  /** The input field at fault, as a JSON pointer (`/domains/0`), when there is one. */
  path?: string;
}

export type Decision = { allowed: true } | Violation;

export const ALLOW: Decision = Object.freeze({ allowed: true as const });

export function deny(status: Violation["status"], rule: Rule, message: string, path?: string): Violation {
  return path === undefined ? { allowed: false, status, rule, message } : { allowed: false, status, rule, message, path };
}
