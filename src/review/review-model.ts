/**
 * The access review of a plan: the shape `postscale review --json` prints.
 * Field names and the `kind` vocabulary are a stable contract for tools.
 */
import type { InvariantViolation } from "../policy";

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
  | "key_expiry_changed"
  | "key_rotated"
  | "key_rotation_changed"
  | "undeclared_member_removed"
  | "undeclared_grant_removed"
  | "undeclared_key_removed";

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
  /** For key rows (except revocations): when the key stops working, as the plan says, or `never`. */
  expires?: string;
  /**
   * Facts a reviewer needs beside the change: `auto-scoped at creation`,
   * `works once <email> joins`, `imported`, `undoes a change made outside the code`.
   */
  notes?: string[];
}

/** What a row's expiry reads when the key never expires. */
export const NEVER = "never";

/** A likely mistake in a new person's email: a typo of someone's address, or a domain the organization does not usually use. */
export interface Hint {
  kind: "likely_typo" | "unusual_domain";
  /** The new person's email, as declared. */
  email: string;
  /** For `likely_typo`: the address it is close to. */
  similarTo?: string;
  /** Display-ready sentence, e.g. `looks like bob@example.com (an existing member)`. */
  message: string;
  address: string;
}

/** A change made outside the code, as the plan's `resource_drift` reports it (e.g. a grant changed in the dashboard). */
export interface DriftEntry {
  who: string;
  /** As the row of that change would say, e.g. `grant widened`. */
  change: string;
  domain: string;
  before: string;
  after: string;
  /** Whether this plan puts it back as the code says (the resource changes again). */
  reverted: boolean;
  address: string;
}

/** A resource this plan imports (`import` blocks): access that already exists and becomes managed. */
export interface ImportEntry {
  who: string;
  /** e.g. `member imported`, `grant imported`, `key imported: deploy`. */
  change: string;
  domain: string;
  /** What it is: the role, the access level, or what the key reaches. */
  value: string;
  address: string;
}

/** Access found in Postscale that the code does not declare and does not remove (`postscale_undeclared_access` with `remove = false`). */
export interface UndeclaredEntry {
  who: string;
  /** e.g. `member`, `grant`, `key: legacy-ci`. */
  what: string;
  domain: string;
  value: string;
  address: string;
}

/** A key minted for one run by an ephemeral `postscale_api_key`: never in state, revoked when the run ends. */
export interface EphemeralKey {
  who: string;
  name: string;
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
  keysRotated: number;
  /** Access added outside the code that this plan removes (rows). */
  undeclaredRemoved: number;
  /** Changes made outside the code since the last apply. */
  drifted: number;
  imported: number;
  /** Rows flagged as broadening. */
  broadening: number;
}

/** One line of a person's effective access: `role`, a domain (or `all domains`), or `key <name>` with what it reaches. */
export interface EffectiveAccessLine {
  what: string;
  before: string;
  after: string;
}

/** A person whose effective access the plan changes (or `organization`, for its keys): every line, before → after. */
export interface EffectiveAccess {
  who: string;
  lines: EffectiveAccessLine[];
}

/** An access rule the access after the plan breaks (see src/policy's `InvariantViolation`). */
export interface InvariantFinding extends InvariantViolation {
  /** Whether this plan brings it in: the access before the plan kept the rule (as far as the plan's resources tell). */
  introduced: boolean;
}

/** The access rules (`--rules`) checked against the access the plan leaves. */
export interface InvariantsReport {
  /** How many rules were checked. */
  rules: number;
  violations: InvariantFinding[];
}

export interface AccessReview {
  summary: ReviewSummary;
  offboarding: Offboarding[];
  rows: ReviewRow[];
  /** Any row broadens access: what `--fail-on broadening` gates on. */
  broadening: boolean;
  /** Any access change at all: what `--fail-on any` gates on. */
  changes: boolean;
  /** Likely mistakes in new people's emails. */
  hints: Hint[];
  drift: DriftEntry[];
  imports: ImportEntry[];
  /** Access added outside the code that stays (not managed); removals are rows. */
  undeclared: UndeclaredEntry[];
  ephemeralKeys: EphemeralKey[];
  /** Everyone whose effective access changes, before → after. */
  effectiveAccess: EffectiveAccess[];
  /** With access rules: what the access after the plan breaks; what `--fail-on invariants` gates on. */
  invariants?: InvariantsReport;
}

/** The cell text for "nothing" (no value before a create, none after a delete). */
export const NOTHING = "—";
export const ALL_DOMAINS = "all domains";
export const ORGANIZATION = "organization";

