import { SENSITIVE_TEXT, Side, UNKNOWN_TEXT, knownString, readAttribute } from "./attribute";
import { cellOf, changeShape, rowsOf } from "./change-shape";
import type { MemberDirectory } from "./member-directory";
import type { PlanJson, ResourceChange, StateModule } from "./plan-json";
import { ALL_DOMAINS, NOTHING, ORGANIZATION, ReviewRow, type KeyToRotate } from "./review-model";
import { KEY_OWNER, KEY_SCOPE, KeyOwner, KeyReach, isKeyOwner, isRole, keyReach } from "../policy";

/** What a key can reach (src/policy's `keyReach`), or that the plan does not tell yet. */
type PlanKeyReach = KeyReach | { kind: "unknown" } | { kind: "sensitive" };

interface KeySide {
  who: string;
  name: string;
  reach: PlanKeyReach;
  expires: string;
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

function reachText(reach: PlanKeyReach): string {
  switch (reach.kind) {
    case KEY_SCOPE.organization:
      return "organization-wide";
    case KEY_SCOPE.domains:
      return reach.domains.join(", ");
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

function keySide(rc: ResourceChange, side: Side, directory: MemberDirectory): KeySide {
  const who = ownerOf(rc, side) === KEY_OWNER.organization ? ORGANIZATION : directory.ownerOf(rc, side)?.email ?? UNKNOWN_TEXT;
  return { who, name: cellOf(rc, side, "name"), reach: reachOf(rc, side, directory), expires: cellOf(rc, side, "expires_at") };
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
  return { sign: "+", who: k.who, change: `key created: ${k.name}`, kind: "key_created", domain: reachDomains(k.reach), before: NOTHING, after: reachText(k.reach), risk, reason, broadening: true, key: k.name, address: rc.address };
}

function revoked(rc: ResourceChange, k: KeySide): ReviewRow {
  const reason = k.reach.kind === KEY_SCOPE.organization ? "organization-wide key revoked" : "key revoked";
  return { sign: "-", who: k.who, change: `key revoked: ${k.name}`, kind: "key_revoked", domain: reachDomains(k.reach), before: reachText(k.reach), after: NOTHING, risk: "none", reason, broadening: false, key: k.name, address: rc.address };
}

function rescoped(rc: ResourceChange, before: KeySide, after: KeySide): ReviewRow | undefined {
  if (sameReach(before.reach, after.reach)) return undefined;
  const base = { who: after.who, change: `key rescoped: ${after.name}`, kind: "key_rescoped" as const, before: reachText(before.reach), after: reachText(after.reach), key: after.name, address: rc.address };
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
  const base = { who: after.who, change: `key expiry changed: ${after.name}`, kind: "key_expiry_changed" as const, domain: reachDomains(after.reach), before: before.expires, after: after.expires, key: after.name, address: rc.address };
  if (after.expires === UNKNOWN_TEXT || after.expires === SENSITIVE_TEXT) return { ...base, sign: "~", risk: "low", reason: "expiry known after apply", broadening: true };
  if (after.expires === NOTHING) return { ...base, sign: "+", risk: "low", reason: "no longer expires", broadening: true };
  if (before.expires !== NOTHING && Date.parse(after.expires) > Date.parse(before.expires)) return { ...base, sign: "+", risk: "low", reason: "expires later", broadening: true };
  return { ...base, sign: "-", risk: "none", reason: "expires sooner", broadening: false };
}

/**
 * Rows for a `postscale_api_key` change. A key moving to another holder is
 * a revocation and a new key; otherwise scope, replacement (a new secret),
 * name and expiry each get their own row.
 */
export function keyRows(rc: ResourceChange, directory: MemberDirectory): ReviewRow[] {
  return rowsOf(rc, { read: (side) => keySide(rc, side, directory), added: created, removed: revoked, moved: (before, after) => before.who !== after.who, changed: keyChanged });
}

/** The same holder's key: scope, replacement (a new secret), name and expiry each get their own row. */
function keyChanged(rc: ResourceChange, before: KeySide, after: KeySide, shape: "update" | "replace"): ReviewRow[] {
  const out: ReviewRow[] = [];
  const scope = rescoped(rc, before, after);
  if (scope) out.push(scope);
  const orgWide = after.reach.kind === KEY_SCOPE.organization;
  if (!scope && shape === "replace") {
    out.push({
      sign: "~", who: after.who, change: `key replaced: ${after.name}`, kind: "key_replaced", domain: reachDomains(after.reach), before: reachText(before.reach), after: reachText(after.reach),
      risk: orgWide ? "high" : "low", reason: orgWide ? "new organization-wide secret; old key revoked" : "new secret; old key revoked", broadening: orgWide, key: after.name, address: rc.address,
    });
  }
  if (before.name !== after.name) {
    out.push({
      sign: "~", who: after.who, change: `key renamed: ${after.name}`, kind: "key_renamed", domain: reachDomains(after.reach), before: before.name, after: after.name,
      risk: orgWide ? "high" : "none", reason: orgWide ? "organization-wide key" : "renamed", broadening: false, key: after.name, address: rc.address,
    });
  }
  const expiry = expiryChanged(rc, before, after);
  if (expiry) out.push(expiry);
  return out;
}

export const API_KEY = "postscale_api_key";

/** A key still there after the plan, with the member id of the person whose credential created it. */
export interface SurvivingKey extends KeyToRotate {
  createdBy: string;
  /** Who holds it after the plan, as the server revokes by: a member key is revoked with its holder. */
  owner: KeyOwner | undefined;
  memberId: string | undefined;
}

/** The API keys of the prior state as no-op changes, with their module addresses (for plans that list only changes). */
function stateKeys(module: StateModule | undefined, out: ResourceChange[]): ResourceChange[] {
  if (!module) return out;
  for (const r of module.resources ?? []) {
    if (r.type !== API_KEY || r.mode === "data" || !r.values) continue;
    const values = r.values;
    const sensitive = r.sensitive_values ?? {};
    out.push({
      address: r.address, module_address: module.address, mode: "managed", type: r.type, name: r.name, index: r.index,
      change: { actions: ["no-op"], before: values, after: values, after_unknown: {}, before_sensitive: sensitive, after_sensitive: sensitive },
    });
  }
  for (const child of module.child_modules ?? []) stateKeys(child, out);
  return out;
}

/**
 * Every API key that exists before the plan and is still there after it
 * (not destroyed or replaced: a replaced key gets a new secret), with who
 * created it. Read from `resource_changes`, falling back to `prior_state`
 * for keys a plan does not list. A key created in this plan has no
 * creator yet; a key whose creator was never recorded (null) is left out.
 */
export function survivingKeys(plan: PlanJson, directory: MemberDirectory): SurvivingKey[] {
  const keys = new Map<string, ResourceChange>();
  for (const rc of stateKeys(plan.prior_state?.values?.root_module, [])) keys.set(rc.address, rc);
  for (const rc of plan.resource_changes ?? []) if (rc.type === API_KEY && rc.mode !== "data") keys.set(rc.address, rc);
  const out: SurvivingKey[] = [];
  for (const rc of keys.values()) {
    const shape = changeShape(rc);
    if (shape !== "update" && shape !== "none") continue;
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
