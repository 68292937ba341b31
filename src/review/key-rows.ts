import { AttributeValue, SENSITIVE_TEXT, Side, UNKNOWN_TEXT, knownString, placeholder, readAttribute } from "./attribute";
import { cellOf, changeShape, rowsOf } from "./change-shape";
import { MemberDirectory, managedChanges } from "./member-directory";
import type { PlanJson, ResourceChange } from "./plan-json";
import { ALL_DOMAINS, NEVER, NOTHING, ORGANIZATION, ReviewRow, type KeyToRotate } from "./review-model";
import { KEY_OWNER, KEY_SCOPE, KeyOwner, KeyReach, MEMBER_STATUS, ROLE, autoScope, isKeyOwner, isRole, keyReach } from "../policy";

/** What a key can reach (src/policy's `keyReach`), or that the plan does not tell yet. */
export type PlanKeyReach = KeyReach | { kind: "unknown" } | { kind: "sensitive" };

export interface KeySide {
  who: string;
  name: string;
  reach: PlanKeyReach;
  /** The reach is the holder's read_write domains after this plan, resolved here: the server fixes them when it creates the key. */
  autoScoped: boolean;
  expires: string;
  /** The secret's first characters, as the dashboard shows them; undefined when not known. */
  prefix?: string;
  /** Why the key does not work yet, e.g. `works once bob@example.com joins`. */
  waitsFor?: string;
}

/**
 * The key's reach on one side, as src/policy's `keyReach` says from what
 * the plan tells: the scope the server reported, else the domains named,
 * else what the server will choose for the owner and the holder's role.
 */
function reachOf(rc: ResourceChange, side: Side, directory: MemberDirectory): PlanKeyReach {
  if (knownString(readAttribute(rc, side, "scope")) === KEY_SCOPE.organization) return { kind: KEY_SCOPE.organization };
  const domains = readAttribute(rc, side, "domains");
  if (domains.state === "sensitive") return { kind: "sensitive" };
  // An empty list names no domain: the server chooses, as when domains are left out.
  const named = domains.state === "known" && Array.isArray(domains.value) && domains.value.length > 0 ? domains.value.map(String) : null;
  if (named === null && domains.state === "unknown" && directory.configures(rc, "domains") !== false) return { kind: "unknown" };
  const owner = ownerOf(rc, side);
  if (named === null && owner === undefined) return { kind: "unknown" };
  const role = directory.ownerOf(rc, side)?.role;
  // Named domains are the reach whoever owns the key.
  return keyReach(owner ?? KEY_OWNER.member, named, isRole(role) ? role : undefined);
}

function ownerOf(rc: ResourceChange, side: Side): KeyOwner | undefined {
  const owner = knownString(readAttribute(rc, side, "owner"));
  return isKeyOwner(owner) ? owner : undefined;
}

export function reachText(reach: PlanKeyReach): string {
  switch (reach.kind) {
    case KEY_SCOPE.organization:
      return "organization-wide";
    case KEY_SCOPE.domains:
      return reach.domains.length > 0 ? reach.domains.join(", ") : "no domain";
    case "holder_read_write_domains":
      return "owner's read_write domains";
    case "unknown":
      return UNKNOWN_TEXT;
    case "sensitive":
      return SENSITIVE_TEXT;
  }
}

function reachDomains(reach: PlanKeyReach): string {
  return reach.kind === KEY_SCOPE.organization ? ALL_DOMAINS : reachText(reach);
}

function sameReach(a: PlanKeyReach, b: PlanKeyReach): boolean {
  return reachText(a) === reachText(b);
}

/** Statuses of a person who has not joined: their member keys answer 401 until they do. */
const NOT_JOINED: readonly string[] = [MEMBER_STATUS.invited, MEMBER_STATUS.expired, "pending"];

export function keySide(rc: ResourceChange, side: Side, directory: MemberDirectory): KeySide {
  const owner = ownerOf(rc, side);
  const holder = owner === KEY_OWNER.organization ? undefined : directory.ownerOf(rc, side);
  const who = owner === KEY_OWNER.organization ? ORGANIZATION : holder?.email ?? UNKNOWN_TEXT;
  let reach = reachOf(rc, side, directory);
  let autoScoped = false;
  // Only a key about to be created gets its domains now; an existing key keeps those it was given.
  if (reach.kind === "holder_read_write_domains" && side === "after" && holder && holder.email !== SENSITIVE_TEXT) {
    reach = { kind: KEY_SCOPE.domains, domains: autoScope({ role: ROLE.member, grants: directory.grantsAfter(holder.email) }) };
    autoScoped = true;
  }
  const expires = cellOf(rc, side, "expires_at");
  const waiting = owner === KEY_OWNER.member && holder?.status !== undefined && NOT_JOINED.includes(holder.status);
  return {
    who,
    name: cellOf(rc, side, "name"),
    reach,
    autoScoped,
    expires: expires === NOTHING ? NEVER : expires,
    prefix: knownString(readAttribute(rc, side, "prefix")),
    waitsFor: waiting ? `works once ${holder!.email} joins${holder!.status === MEMBER_STATUS.expired ? " (invitation expired)" : ""}` : undefined,
  };
}

/** The notes of a key row: how its domains were found, whether it works yet, its rotation schedule. */
function keyNotes(rc: ResourceChange, k: KeySide): string[] | undefined {
  const notes: string[] = [];
  if (k.autoScoped) notes.push(k.reach.kind === KEY_SCOPE.domains && k.reach.domains.length === 0 ? "auto-scoped at creation: the holder has no read_write domain, so the server refuses it" : "auto-scoped at creation");
  if (k.waitsFor) notes.push(k.waitsFor);
  const every = knownString(readAttribute(rc, "after", "rotate_every"));
  if (every) notes.push(`rotates every ${every}`);
  return notes.length > 0 ? notes : undefined;
}

/** The fields every key row about a key that stays carries. */
function keyDetails(rc: ResourceChange, k: KeySide): Pick<ReviewRow, "key" | "address" | "expires" | "notes"> {
  const notes = keyNotes(rc, k);
  return { key: k.name, address: rc.address, expires: k.expires, ...(notes ? { notes } : {}) };
}

function created(rc: ResourceChange, k: KeySide): ReviewRow {
  const [risk, reason] =
    k.reach.kind === KEY_SCOPE.organization
      ? (["high", "new organization-wide key"] as const)
      : k.reach.kind === "holder_read_write_domains"
        ? (["medium", "new key on the owner's read_write domains"] as const)
        : k.reach.kind === KEY_SCOPE.domains
          ? (["medium", "new key"] as const)
          : (["medium", "new key, scope known after apply"] as const);
  return { sign: "+", who: k.who, change: `key created: ${k.name}`, kind: "key_created", domain: reachDomains(k.reach), before: NOTHING, after: reachText(k.reach), risk, reason, broadening: true, ...keyDetails(rc, k) };
}

function revoked(rc: ResourceChange, k: KeySide): ReviewRow {
  const reason = k.reach.kind === KEY_SCOPE.organization ? "organization-wide key revoked" : "key revoked";
  return { sign: "-", who: k.who, change: `key revoked: ${k.name}`, kind: "key_revoked", domain: reachDomains(k.reach), before: reachText(k.reach), after: NOTHING, risk: "none", reason, broadening: false, key: k.name, address: rc.address };
}

function rescoped(rc: ResourceChange, before: KeySide, after: KeySide): ReviewRow | undefined {
  if (sameReach(before.reach, after.reach)) return undefined;
  const base = { who: after.who, change: `key rescoped: ${after.name}`, kind: "key_rescoped" as const, before: reachText(before.reach), after: reachText(after.reach), ...keyDetails(rc, after) };
  const b = before.reach;
  const a = after.reach;
  if (a.kind === KEY_SCOPE.organization) return { ...base, sign: "+", domain: ALL_DOMAINS, risk: "high", reason: "becomes organization-wide", broadening: true };
  if (b.kind === KEY_SCOPE.domains && a.kind === KEY_SCOPE.domains) {
    const addedDomains = a.domains.filter((d) => !b.domains.includes(d));
    const removedDomains = b.domains.filter((d) => !a.domains.includes(d));
    const domain = [...addedDomains.map((d) => `+${d}`), ...removedDomains.map((d) => `-${d}`)].join(", ");
    if (addedDomains.length > 0) {
      const reason = `adds ${addedDomains.join(", ")}` + (removedDomains.length > 0 ? `; removes ${removedDomains.join(", ")}` : "");
      return { ...base, sign: "+", domain, risk: "medium", reason, broadening: true };
    }
    return { ...base, sign: "-", domain, risk: "none", reason: `removes ${removedDomains.join(", ")}`, broadening: false };
  }
  if (b.kind === KEY_SCOPE.organization && (a.kind === KEY_SCOPE.domains || a.kind === "holder_read_write_domains")) {
    return { ...base, sign: "-", domain: reachDomains(a), risk: "none", reason: "no longer organization-wide", broadening: false };
  }
  // Unknown on either side, or a switch to/from auto-scoping: the plan cannot say whether it widens.
  return { ...base, sign: "~", domain: reachDomains(a), risk: "medium", reason: "new scope cannot be compared until apply", broadening: true };
}

function expiryChanged(rc: ResourceChange, before: KeySide, after: KeySide): ReviewRow | undefined {
  if (before.expires === after.expires) return undefined;
  const base = { who: after.who, change: `key expiry changed: ${after.name}`, kind: "key_expiry_changed" as const, domain: reachDomains(after.reach), before: before.expires, after: after.expires, ...keyDetails(rc, after) };
  if (after.expires === UNKNOWN_TEXT || after.expires === SENSITIVE_TEXT) return { ...base, sign: "~", risk: "low", reason: "expiry known after apply", broadening: true };
  if (after.expires === NEVER) return { ...base, sign: "+", risk: "low", reason: "no longer expires", broadening: true };
  if (before.expires !== NEVER && Date.parse(after.expires) > Date.parse(before.expires)) return { ...base, sign: "+", risk: "low", reason: "expires later", broadening: true };
  return { ...base, sign: "-", risk: "none", reason: "expires sooner", broadening: false };
}

/** Two readings of one attribute differ: a known value changes, or becomes unknown (a trigger read from another resource). */
function differs(before: AttributeValue, after: AttributeValue): boolean {
  if (after.state === "unknown") return before.state !== "absent";
  if (before.state !== "known" || after.state !== "known") return false;
  return JSON.stringify(before.value ?? null) !== JSON.stringify(after.value ?? null);
}

/**
 * Why an in-place update gives the key a new secret, or undefined when it
 * keeps its secret: a new `rotation_trigger`, a bumped `secret_wo_version`
 * (write-only key material), a new `secret_rotated_at` or a new prefix.
 */
export function inPlaceRotation(rc: ResourceChange): string | undefined {
  if (changeShape(rc) !== "update") return undefined;
  const read = (name: string): [AttributeValue, AttributeValue] => [readAttribute(rc, "before", name), readAttribute(rc, "after", name)];
  const [triggerBefore, triggerAfter] = read("rotation_trigger");
  if (differs(triggerBefore, triggerAfter)) return "rotation_trigger changed";
  const [versionBefore, versionAfter] = read("secret_wo_version");
  if (differs(versionBefore, versionAfter)) {
    const from = placeholder(versionBefore) ?? String((versionBefore as { value?: unknown }).value ?? "none");
    const to = placeholder(versionAfter) ?? String((versionAfter as { value?: unknown }).value ?? "none");
    return `secret rotated (secret_wo_version ${from} → ${to})`;
  }
  const [rotatedBefore, rotatedAfter] = read("secret_rotated_at");
  const [prefixBefore, prefixAfter] = read("prefix");
  if (differs(rotatedBefore, rotatedAfter) || differs(prefixBefore, prefixAfter)) return "secret rotated";
  return undefined;
}

/** What made the engine replace the key, from its `action_reason` and `replace_paths`. */
function replaceCause(rc: ResourceChange): string | undefined {
  switch (rc.action_reason) {
    case "replace_by_request":
      return "requested (-replace)";
    case "replace_by_triggers":
      return "replace_triggered_by";
    case "replace_because_tainted":
      return "tainted";
  }
  const paths = (rc.change.replace_paths ?? []).map((p) => (Array.isArray(p) ? p[0] : undefined)).filter((p): p is string => typeof p === "string");
  return paths.length > 0 ? `${[...new Set(paths)].sort().join(", ")} changed` : undefined;
}

/**
 * One row for a key that gets a new secret: a replace (delete and create
 * of the same address, in either order) or an in-place rotation. It does
 * not broaden: the key reaches what it reached (a change of scope is a row
 * of its own).
 */
function rotated(rc: ResourceChange, before: KeySide, after: KeySide, shape: "update" | "replace"): ReviewRow | undefined {
  let reason: string;
  if (shape === "update") {
    const cause = inPlaceRotation(rc);
    if (cause === undefined) return undefined;
    reason = `${cause}; changes in place`;
  } else {
    const createsFirst = rc.change.actions[0] === "create";
    const order = createsFirst ? "the new key exists before the old one is revoked" : "the old key is revoked before the new one exists: clients fail until they get the new secret";
    reason = [replaceCause(rc), order].filter(Boolean).join("; ");
  }
  const stillWaiting = after.waitsFor !== undefined;
  return {
    sign: "~", who: after.who, change: `key rotated: ${after.name}`, kind: "key_rotated", domain: reachDomains(after.reach), before: before.prefix ?? "old", after: after.prefix && after.prefix !== before.prefix ? after.prefix : "new",
    risk: shape === "replace" && rc.change.actions[0] !== "create" && !stillWaiting ? "low" : "none", reason, broadening: false, ...keyDetails(rc, after),
  };
}

function rotationScheduleChanged(rc: ResourceChange, after: KeySide): ReviewRow | undefined {
  const before = cellOf(rc, "before", "rotate_every");
  const now = cellOf(rc, "after", "rotate_every");
  if (before === now) return undefined;
  const stops = now === NOTHING;
  return {
    sign: "~", who: after.who, change: `key rotation changed: ${after.name}`, kind: "key_rotation_changed", domain: reachDomains(after.reach), before: before === NOTHING ? NEVER : before, after: stops ? NEVER : now,
    risk: stops ? "low" : "none", reason: stops ? "no longer rotates on a schedule" : "rotation schedule", broadening: false, ...keyDetails(rc, after),
  };
}

/**
 * Rows for a `postscale_api_key` change. A key moving to another holder is
 * a revocation and a new key; otherwise scope, rotation (a new secret),
 * name, expiry and rotation schedule each get their own row.
 */
export function keyRows(rc: ResourceChange, directory: MemberDirectory): ReviewRow[] {
  return rowsOf(rc, { read: (side) => keySide(rc, side, directory), added: created, removed: revoked, moved: (before, after) => before.who !== after.who, changed: keyChanged });
}

function keyChanged(rc: ResourceChange, before: KeySide, after: KeySide, shape: "update" | "replace"): ReviewRow[] {
  const orgWide = after.reach.kind === KEY_SCOPE.organization;
  const renamed: ReviewRow | undefined =
    before.name === after.name
      ? undefined
      : { sign: "~", who: after.who, change: `key renamed: ${after.name}`, kind: "key_renamed", domain: reachDomains(after.reach), before: before.name, after: after.name, risk: orgWide ? "high" : "none", reason: orgWide ? "organization-wide key" : "renamed", broadening: false, ...keyDetails(rc, after) };
  return [rescoped(rc, before, after), rotated(rc, before, after, shape), renamed, expiryChanged(rc, before, after), rotationScheduleChanged(rc, after)].filter((r): r is ReviewRow => r !== undefined);
}

/**
 * The plan's key changes with a rotation left half done by an interrupted
 * create-before-destroy paired up: the deposed old key's delete and the
 * same address's create read as one replace, new key first.
 */
export function pairDeposed(changes: ResourceChange[]): ResourceChange[] {
  const creates = new Map(changes.filter((rc) => rc.type === API_KEY && !rc.deposed && changeShape(rc) === "create").map((rc) => [rc.address, rc]));
  const paired = new Set<ResourceChange>();
  const out: ResourceChange[] = [];
  for (const rc of changes) {
    const create = rc.type === API_KEY && rc.deposed && changeShape(rc) === "delete" ? creates.get(rc.address) : undefined;
    if (!create || paired.has(create)) continue;
    paired.add(create);
    paired.add(rc);
    out.push({ ...create, change: { ...create.change, actions: ["create", "delete"], before: rc.change.before, before_sensitive: rc.change.before_sensitive } });
  }
  return [...changes.filter((rc) => !paired.has(rc)), ...out];
}

export const API_KEY = "postscale_api_key";

/** A key still there after the plan, with the member id of the person whose credential created it. */
export interface SurvivingKey extends KeyToRotate {
  createdBy: string;
  /** Who holds it after the plan, as the server revokes by: a member key is revoked with its holder. */
  owner: KeyOwner | undefined;
  memberId: string | undefined;
}

/**
 * Every API key that exists before the plan and is still there after it
 * with the same secret (not destroyed, replaced or rotated in place), with
 * who created it. Read from `resource_changes`, falling back to
 * `prior_state` for keys a plan does not list. A key created in this plan
 * has no creator yet; a key whose creator was never recorded (null) is
 * left out.
 */
export function survivingKeys(plan: PlanJson, directory: MemberDirectory): SurvivingKey[] {
  const out: SurvivingKey[] = [];
  for (const rc of managedChanges(plan, API_KEY)) {
    const shape = changeShape(rc);
    if ((shape !== "update" && shape !== "none") || inPlaceRotation(rc) !== undefined) continue;
    const createdBy = knownString(readAttribute(rc, "before", "created_by"));
    if (createdBy === undefined) continue;
    // `forget` leaves the key on the server with no after side: read it as it was.
    const side: Side = rc.change.after ? "after" : "before";
    const key = keySide(rc, side, directory);
    out.push({
      createdBy,
      owner: ownerOf(rc, side),
      memberId: knownString(readAttribute(rc, side, "member_id")),
      name: key.name,
      holder: key.who,
      domains: reachText(key.reach),
      address: rc.address,
    });
  }
  return out;
}
