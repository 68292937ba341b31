/**
 * What `postscale export` read (an {@link OrganizationSnapshot}) and what it
 * writes of it (an {@link ExportPlan}): pure data in, decisions out, shared
 * by the cdktf and HCL renderers so both formats declare the same things.
 *
 * The first plan after an export must change nothing, so only what imports
 * without a diff is declared: the owner is recorded but never managed, and
 * an expired invitation would plan a re-invitation (the provider plans an
 * update of its status), so it is written commented out.
 */
import type { KeyOwner, KeyScopeKind } from "../api/types";
import { ACCESS, KEY_OWNER, MEMBER_STATUS, ROLE, isDeclarable, type Access, type MemberStatus, type Role } from "../policy";

/** One member as read, grants sorted by domain. */
export interface SnapshotMember {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly status: MemberStatus;
  readonly invitedAt: string;
  readonly joinedAt: string | null;
  readonly grants: Readonly<Record<string, Access>>;
}

/** One API key as read (never a secret: Postscale keeps only hashes). */
export interface SnapshotKey {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly owner: KeyOwner;
  /** The holder's member id, null for an organization-owned key. */
  readonly memberId: string | null;
  readonly scope: KeyScopeKind;
  /** Sorted. */
  readonly domains: readonly string[];
  readonly expiresAt: string | null;
}

/** The organization as read through the API. */
export interface OrganizationSnapshot {
  readonly organization: { readonly id: string; readonly name: string };
  readonly endpoint: string;
  /** Who ran the export. */
  readonly exportedBy: { readonly email: string | null; readonly role: Role };
  /** When it was read (RFC 3339). */
  readonly readAt: string;
  readonly domains: readonly string[];
  readonly members: readonly SnapshotMember[];
  readonly keys: readonly SnapshotKey[];
}

/** A member the export declares, with the keys they hold. */
export interface ExportedPerson {
  readonly member: SnapshotMember;
  /** Sorted by name. */
  readonly keys: readonly SnapshotKey[];
}

/** A key the export does not declare, and why. */
export interface UnmanagedKey {
  readonly key: SnapshotKey;
  /** The holder's email, when the key has one. */
  readonly holder?: string;
  readonly reason: string;
}

/** The decisions of an export. */
export interface ExportPlan {
  readonly snapshot: OrganizationSnapshot;
  /** Recorded (a comment), never managed. */
  readonly owner?: SnapshotMember;
  /** Admins, then members, each by email; active and pending invitations. */
  readonly people: readonly ExportedPerson[];
  /** Expired invitations, by email: written commented out, with their grants and keys. */
  readonly expired: readonly ExportedPerson[];
  /** Organization-owned keys, by name. */
  readonly serviceKeys: readonly SnapshotKey[];
  /** Keys not written at all (the owner's, keys of unknown holders). */
  readonly unmanagedKeys: readonly UnmanagedKey[];
}

/** One file an export writes, relative to the output folder. */
export interface ExportFile {
  readonly path: string;
  readonly content: string;
}

/** How many import blocks the export writes: what the first plan shows as "N to import". */
export function importCount(plan: ExportPlan): number {
  return plan.people.reduce((n, p) => n + 1 + Object.keys(p.member.grants).length + p.keys.length, 0) + plan.serviceKeys.length;
}

/** Every key the export declares, with its holder's email (undefined for the organization's). */
export function declaredKeys(plan: ExportPlan): { holder?: string; key: SnapshotKey }[] {
  return [...plan.people.flatMap((p) => p.keys.map((key) => ({ holder: p.member.email, key }))), ...plan.serviceKeys.map((key) => ({ key }))];
}

const ROLE_ORDER: Record<Role, number> = { owner: 0, admin: 1, member: 2 };

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Decides what an export declares, comments out and leaves alone. Deterministic: the same snapshot gives the same plan. */
export function planExport(snapshot: OrganizationSnapshot): ExportPlan {
  const members = [...snapshot.members].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  const byId = new Map(members.map((m) => [m.id, m]));
  const keysOf = new Map<string, SnapshotKey[]>();
  const serviceKeys: SnapshotKey[] = [];
  const unmanagedKeys: UnmanagedKey[] = [];
  for (const key of snapshot.keys) {
    if (key.owner === KEY_OWNER.organization) {
      serviceKeys.push(key);
      continue;
    }
    const holder = key.memberId === null ? undefined : byId.get(key.memberId);
    if (holder === undefined) {
      unmanagedKeys.push({ key, reason: `held by member ${key.memberId ?? "(none)"}, who is not in the team list` });
    } else if (holder.role === ROLE.owner) {
      unmanagedKeys.push({ key, holder: holder.email, reason: "held by the owner, who is never managed" });
    } else if (!declarable(key, holder)) {
      unmanagedKeys.push({
        key,
        holder: holder.email,
        reason: `scoped to ${key.domains.join(", ") || "the organization"}, which ${holder.email} may no longer write, and they write no domain today, so the constructs refuse to declare it; revoke it or grant read_write`,
      });
    } else {
      keysOf.set(holder.id, [...(keysOf.get(holder.id) ?? []), key]);
    }
  }
  const person = (member: SnapshotMember): ExportedPerson => ({ member, keys: (keysOf.get(member.id) ?? []).sort(byName) });
  const managed = members.filter((m) => isDeclarable(m.role));
  return {
    snapshot,
    owner: members.find((m) => m.role === ROLE.owner),
    people: managed.filter((m) => m.status !== MEMBER_STATUS.expired).map(person),
    expired: managed.filter((m) => m.status === MEMBER_STATUS.expired).map(person),
    serviceKeys: serviceKeys.sort(byName),
    unmanagedKeys: unmanagedKeys.sort((a, b) => byName(a.key, b.key)),
  };
}

/**
 * Whether a member's key can be declared as it is. A key never reaches more
 * than its holder, but its scope is not narrowed when grants shrink, so a
 * role-member's key may name domains the member no longer writes. Such a key
 * is declared without domains (Postscale keeps its scope), which the
 * constructs allow only while the member writes some domain.
 */
function declarable(key: SnapshotKey, holder: SnapshotMember): boolean {
  if (holder.role !== ROLE.member) return true;
  const writable = writableDomains(holder);
  return writable.length > 0 || (key.scope === "domains" && key.domains.every((d) => writable.includes(d)));
}

/** The domains a member may write, sorted. */
export function writableDomains(member: SnapshotMember): string[] {
  return Object.entries(member.grants)
    .filter(([, access]) => access === ACCESS.read_write)
    .map(([domain]) => domain)
    .sort();
}

/** `2025-01-31T10:00:00.000Z` → `2025-01-31`. */
export function day(timestamp: string | null): string {
  return timestamp === null ? "unknown" : timestamp.slice(0, 10);
}

/** A key for a person to recognise: who holds it, its name, prefix and id. */
export function describeKey(holder: string | undefined, key: SnapshotKey): string {
  return `${holder === undefined ? "service key" : `key of ${holder}`} "${key.name}" (${key.prefix}…, id ${key.id})`;
}
