/**
 * The access review of a plan: the shape `postscale review --json` prints.
 * Field names and the `kind` vocabulary are a stable contract for tools.
 */

/** `+` broadens access, `-` narrows it, `~` changes it otherwise (or cannot tell yet). */
export type Sign = "+" | "-" | "~";

export type Risk = "high" | "medium" | "low" | "none";

export type ChangeKind =
  | "member_added"
  | "member_removed"
  | "member_recreated"
  | "role_changed"
  | "grant_added"
  | "grant_removed"
  | "grant_widened"
  | "grant_narrowed"
  | "grant_recreated"
  | "grant_changed"
  | "key_created"
  | "key_revoked"
  | "key_rescoped"
  | "key_replaced"
  | "key_renamed"
  | "key_expiry_changed";

/** One line of the review table. Every text is display-ready: emails, domain names, never ids or secrets. */
export interface ReviewRow {
  sign: Sign;
  /** The person (email) the change is about, or `organization` for an organization-owned key. */
  who: string;
  /** Human wording, e.g. `grant widened`, `key created: ci-deploy`. */
  change: string;
  kind: ChangeKind;
  /** The domain(s) concerned; `all domains` for admins and organization-wide keys; `—` when none. */
  domain: string;
  before: string;
  after: string;
  risk: Risk;
  /** Why the risk is what it is, e.g. `new admin`. */
  reason: string;
  /** Whether this change can give someone more access than before. */
  broadening: boolean;
  /** The key's name, for key rows. */
  key?: string;
  /** The resource address in the plan (configuration names, not ids). */
  address: string;
}

/**
 * A key that outlives the person leaving although they created it (held by
 * the organization or by someone staying): they may know its secret, so it
 * should be rotated. Markdown: "rotate: created by the person leaving".
 */
export interface KeyToRotate {
  name: string;
  /** Who holds it: `organization`, or the holder's email. */
  holder: string;
  /** What it reaches, as in the key rows (e.g. `organization-wide`, `app.example.com`). */
  domains: string;
  /** The key's resource address: `tofu apply -replace=<address>` rotates it. */
  address: string;
}

/** A person leaving, and what leaves with them in the same plan. */
export interface Offboarding {
  email: string;
  role?: string;
  grants: { domain: string; access: string }[];
  /** Keys they hold: revoked with them. */
  keys: { name: string; domains: string }[];
  /** Keys they created that survive them: rotate (created by the person leaving). */
  rotate: KeyToRotate[];
}

export interface ReviewSummary {
  peopleAdded: number;
  peopleRemoved: number;
  rolesChanged: number;
  grantsAdded: number;
  grantsRemoved: number;
  grantsWidened: number;
  grantsNarrowed: number;
  keysCreated: number;
  keysRevoked: number;
  keysRescoped: number;
  /** Rows flagged as broadening. */
  broadening: number;
}

export interface AccessReview {
  summary: ReviewSummary;
  offboarding: Offboarding[];
  rows: ReviewRow[];
  /** Any row broadens access: what `--fail-on broadening` gates on. */
  broadening: boolean;
  /** Any access change at all: what `--fail-on any` gates on. */
  changes: boolean;
}

/** The cell text for "nothing" (no value before a create, none after a delete). */
export const NOTHING = "—";
export const ALL_DOMAINS = "all domains";
export const ORGANIZATION = "organization";

