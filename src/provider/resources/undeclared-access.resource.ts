import type { ApiKey, Member } from "../../api/types";
import {
  KEY_OWNER,
  decideUndeclaredRemoval,
  domainProblem,
  emailProblem,
  nameProblem,
  normalizeDomain,
  normalizeEmail,
  type TargetMember,
  type UndeclaredAccess,
  type UndeclaredRemoval,
} from "../../policy";
import { defineResource } from "../framework/resource";
import { defineSchema, type StateOf } from "../framework/schema";
import type { Diagnostic, ObjectValue, Value } from "../protocol/types";
import { callerPrincipal, type ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, isNotFound, violationDiagnostic } from "./diagnostics";
import { isKnown } from "./values";

/** How an organization-owned key is named in `declared_keys`, `exempt` and `keys`: `organization/<name>`. */
const ORGANIZATION_PREFIX = "organization/";

const schema = defineSchema({
  description:
    'The code is the whole truth: the members, domain access and API keys that exist in Postscale but are not declared here. A refresh lists them in `members`, `grants` and `keys`, so access added outside the code (in the dashboard, by hand through the API) shows in every plan. With `remove = true` the plan shows each of them going away ("will remove") and apply removes them: the member is offboarded (their keys are revoked with them), the grant deleted, the key revoked. Never touched, whatever is declared: the owner, the person whose credential runs the apply, and the key it runs with (a warning names them when they are not declared). Make it depend on the members, grants and keys it declares, so it is applied after them. The first apply only records what it finds (the next plan shows the removals); destroying this resource removes nothing.',
  attributes: {
    id: { type: "string", computed: true, useStateForUnknown: true, description: "The organization's id." },
    declared_members: {
      type: ["set", "string"],
      required: true,
      description: "The emails of every member the code declares (compared case-insensitively). Anyone else is undeclared.",
    },
    declared_grants: {
      type: ["set", "string"],
      required: true,
      description: 'Every domain access the code declares, as `"<email>/<domain>"` (e.g. `"dev@example.com/app.example.com"`), whatever its level. Any other grant is undeclared.',
    },
    declared_keys: {
      type: ["set", "string"],
      required: true,
      description: 'Every API key the code declares: `"<email>/<name>"` for a member\'s key, `"organization/<name>"` for an organization-owned key. Any other key is undeclared.',
    },
    exempt: {
      type: ["set", "string"],
      optional: true,
      description:
        'Never reported nor removed: an email (the person, their grants and their keys, e.g. a robot account managed elsewhere) or a key (`"<email>/<name>"`, `"organization/<name>"`). Also silences the warning about an undeclared owner or running credential.',
    },
    remove: {
      type: "bool",
      optional: true,
      description:
        "Whether apply removes the undeclared access: the plan shows `members`, `grants` and `keys` emptied, and apply offboards, deletes and revokes what they held. Access the provider's credential may not remove (an admin's key, for another admin) stays listed, with a warning. Default false: only report.",
    },
    members: { type: ["set", "string"], computed: true, description: "Emails of the members that are not declared (nor exempt)." },
    grants: { type: ["set", "string"], computed: true, description: 'Domain access that is not declared, as `"<email>/<domain>"`.' },
    keys: { type: ["set", "string"], computed: true, description: 'API keys that are not declared, as `"<email>/<name>"` or `"organization/<name>"`.' },
  },
});
type State = StateOf<typeof schema>;

const KINDS = ["members", "grants", "keys"] as const;
type Kind = (typeof KINDS)[number];

/** What the configuration declares and exempts, every reference in its canonical spelling. */
interface Declared {
  members: ReadonlySet<string>;
  grants: ReadonlySet<string>;
  keys: ReadonlySet<string>;
  exempt: ReadonlySet<string>;
}

/** One piece of undeclared access, what the policy says about removing it, and how to. */
interface Finding {
  kind: Kind;
  /** Its name in `members`, `grants` or `keys`. */
  ref: string;
  what: string;
  decision: UndeclaredRemoval;
  /** The member whose offboarding takes it along (for a grant or a member's key), or the member itself. */
  memberId: string | null;
  domain?: string;
  keyId?: string;
}

/**
 * `postscale_undeclared_access`: authoritative mode. Reads report what
 * exists but is not declared; with `remove`, the plan empties the lists
 * and apply removes what they held. The policy decides what is never
 * touched (the owner, the caller, its key) and what the credential may
 * remove.
 *
 * Apply removes only what the plan showed: what the refresh listed (prior
 * state) and is still undeclared at apply. Access that appears between
 * plan and apply is left for the next plan to show, and the first apply
 * (create) removes nothing, so turning this on never removes access that no
 * plan has shown.
 */
export const undeclaredAccessResource = defineResource<ProviderContext, typeof schema.attributes>({
  name: "postscale_undeclared_access",
  schema,

  validate(_config, raw) {
    // Raw: the known elements of a set that is partly unknown are checked too.
    return [
      ...elementProblems(raw, "declared_members", (ref) => emailProblem(ref)),
      ...elementProblems(raw, "declared_grants", grantRefProblem),
      ...elementProblems(raw, "declared_keys", keyRefProblem),
      ...elementProblems(raw, "exempt", (ref) => (emailProblem(ref) === undefined ? undefined : keyRefProblem(ref) && `must be an email or a key (${KEY_REF_FORMS})`)),
    ];
  },

  async plan(ctx, { config, prior }) {
    const declared = declaredOf(config) ?? (prior && declaredOf(prior));
    const remove = config.remove === true;
    let findings: Finding[] = [];
    if (declared) {
      try {
        findings = await findUndeclared(ctx, declared);
      } catch (err) {
        return { diagnostics: apiErrorDiagnostics(err, "Listing the organization's members and API keys", schema.names) };
      }
    }
    const diagnostics = findings.flatMap((f) => findingWarnings(f, remove));
    if (prior === null) {
      const found = findings.filter((f) => f.decision.verdict !== "protected");
      if (remove && found.length > 0) diagnostics.push(firstApplyNotice(found));
      return { planned: { id: ctx.caller.organization.id }, diagnostics };
    }
    // Report only: the lists stay what the refresh found. Remove: what the credential may not remove stays listed.
    const kept = new Set(findings.filter((f) => f.decision.verdict === "refused").map((f) => `${f.kind}:${f.ref}`));
    const planned: Record<string, Value> = {};
    for (const kind of KINDS) planned[kind] = remove ? (prior[kind] ?? []).filter((ref) => kept.has(`${kind}:${ref}`)) : prior[kind];
    return { planned: planned as { [K in Kind]: Value }, diagnostics };
  },

  /** Records what is undeclared now; removes nothing (see the module comment). */
  async create(ctx, { planned, plannedState }) {
    try {
      const findings = await findUndeclared(ctx, declaredOf(planned)!);
      return { newState: { ...plannedState, id: ctx.caller.organization.id, ...lists(findings) } };
    } catch (err) {
      return { newState: null, diagnostics: apiErrorDiagnostics(err, "Listing the organization's members and API keys", schema.names) };
    }
  },

  async read(ctx, { state, currentState }) {
    try {
      return { newState: { ...currentState, ...lists(await findUndeclared(ctx, declaredOf(state)!)) } };
    } catch (err) {
      return { newState: currentState, diagnostics: await ctx.readFailures.report(err, "undeclared access", schema.names) };
    }
  },

  /**
   * With remove: offboards undeclared members first (their grants and keys
   * go with them), then deletes the remaining grants and revokes the
   * remaining keys; each only when the plan showed it and it is still
   * undeclared now.
   */
  async update(ctx, { prior, planned, plannedState }) {
    let findings: Finding[];
    try {
      findings = await findUndeclared(ctx, declaredOf(planned)!);
    } catch (err) {
      return { newState: { ...plannedState, ...priorLists(prior) }, diagnostics: apiErrorDiagnostics(err, "Listing the organization's members and API keys", schema.names) };
    }
    const shown = (f: Finding) => (prior[f.kind] ?? []).includes(f.ref);
    const doomed = planned.remove === true ? findings.filter((f) => f.decision.verdict === "remove" && shown(f)) : [];
    const { removed, diagnostics } = await removeAll(ctx, doomed);
    if (diagnostics.length > 0) {
      const left = priorLists(prior);
      for (const kind of KINDS) left[kind] = (left[kind] as string[]).filter((ref) => !removed.has(`${kind}:${ref}`));
      return { newState: { ...plannedState, ...left }, diagnostics };
    }
    const remaining = lists(findings.filter((f) => !removed.has(`${f.kind}:${f.ref}`)));
    const newState: Record<string, Value> = { ...plannedState };
    for (const kind of KINDS) newState[kind] = isKnown(planned[kind]) && planned[kind] !== null ? planned[kind] : remaining[kind];
    return { newState };
  },

  /** Removes nothing in Postscale: the organization simply stops being authoritative. */
  async delete() {
    return { newState: null };
  },

  /** By the organization's id. Adopting it changes nothing that creating it would not: neither removes anything. */
  async importState(ctx, id) {
    if (id !== ctx.caller.organization.id) {
      return {
        imported: [],
        diagnostics: [{ severity: "error", summary: "Organization Not Found", detail: `"${id}" is not the id of the provider's organization (${ctx.caller.organization.id}). Import with that id, or simply create the resource: its first apply removes nothing either.` }],
      };
    }
    const none: string[] = [];
    return { imported: [{ state: { id, declared_members: none, declared_grants: none, declared_keys: none, exempt: null, remove: null, members: none, grants: none, keys: none } }] };
  },
});

const KEY_REF_FORMS = '"<email>/<name>" for a member\'s key, "organization/<name>" for an organization-owned key';

/** Splits `<email>/<rest>` after the email's `@` (an email's local part may hold a slash, its domain may not). */
function splitRef(ref: string): { email: string; rest: string } | undefined {
  const at = ref.indexOf("@");
  const slash = at < 0 ? -1 : ref.indexOf("/", at);
  return slash < 0 ? undefined : { email: ref.slice(0, slash), rest: ref.slice(slash + 1) };
}

function grantRefProblem(ref: string): string | undefined {
  const parts = splitRef(ref);
  if (!parts || emailProblem(parts.email) !== undefined || domainProblem(normalizeDomain(parts.rest)) !== undefined) {
    return 'must be "<email>/<domain>", e.g. "dev@example.com/app.example.com"';
  }
  return undefined;
}

function keyRefProblem(ref: string): string | undefined {
  if (ref.startsWith(ORGANIZATION_PREFIX)) return nameProblem(ref.slice(ORGANIZATION_PREFIX.length)) && `must be ${KEY_REF_FORMS}`;
  const parts = splitRef(ref);
  return !parts || emailProblem(parts.email) !== undefined || nameProblem(parts.rest) !== undefined ? `must be ${KEY_REF_FORMS}` : undefined;
}

function elementProblems(raw: ObjectValue, attribute: string, problem: (ref: string) => string | undefined): Diagnostic[] {
  const value = raw[attribute];
  if (!Array.isArray(value)) return [];
  return (value as readonly Value[]).flatMap((ref) => {
    const found = typeof ref === "string" ? problem(ref) : undefined;
    return found ? [attributeError([attribute], "Invalid Access Reference", `${attribute}: "${ref as string}" ${found}.`)] : [];
  });
}

/** An email, `<email>/<domain>` or `<email>/<key name>` in its canonical spelling: the email and domain lower-cased. */
function canonical(ref: string, kind: "grant" | "other"): string {
  if (ref.startsWith(ORGANIZATION_PREFIX)) return ref;
  const parts = splitRef(ref);
  if (!parts) return normalizeEmail(ref);
  return `${normalizeEmail(parts.email)}/${kind === "grant" ? normalizeDomain(parts.rest) : parts.rest}`;
}

/** The declarations of a configuration or state, or undefined while any of them is not known. */
function declaredOf(values: { declared_members: Value; declared_grants: Value; declared_keys: Value; exempt: Value }): Declared | undefined {
  const { declared_members: members, declared_grants: grants, declared_keys: keys, exempt } = values;
  if (!Array.isArray(members) || !Array.isArray(grants) || !Array.isArray(keys) || !isKnown(exempt)) return undefined;
  const set = (refs: readonly Value[], kind: "grant" | "other") => new Set(refs.filter((r): r is string => typeof r === "string").map((r) => canonical(r, kind)));
  return { members: set(members, "other"), grants: set(grants, "grant"), keys: set(keys, "other"), exempt: set(Array.isArray(exempt) ? exempt : [], "other") };
}

/**
 * The organization's members (with their grants) and keys that are neither
 * declared nor exempt, each with the policy's verdict on removing it. Lists
 * the server afresh: at apply, what resources applied before this one
 * created is there.
 */
async function findUndeclared(ctx: ProviderContext, declared: Declared): Promise<Finding[]> {
  const [members, keys] = await Promise.all([ctx.client.listMembers({ includeDomainAccess: true }), ctx.client.listApiKeys()]);
  const actor = callerPrincipal(ctx.caller);
  const credential = ctx.caller.key?.id ?? null;
  const decide = (access: UndeclaredAccess) => decideUndeclaredRemoval(actor, credential, access);
  const byId = new Map<string, Member>(members.map((m) => [m.id, m]));
  const findings: Finding[] = [];
  for (const m of members) {
    const email = normalizeEmail(m.email);
    if (declared.exempt.has(email)) continue;
    const member: TargetMember = { id: m.id, email, role: m.role, status: m.status };
    if (!declared.members.has(email)) findings.push({ kind: "members", ref: email, what: `member ${email}`, decision: decide({ kind: "member", member }), memberId: m.id });
    for (const g of m.domain_access ?? []) {
      const domain = normalizeDomain(g.domain);
      const ref = `${email}/${domain}`;
      if (declared.grants.has(ref)) continue;
      findings.push({ kind: "grants", ref, what: `${g.access} access of ${email} to ${domain}`, decision: decide({ kind: "grant", member, domain }), memberId: m.id, domain: g.domain });
    }
  }
  for (const k of keys) {
    const holder = k.owner === KEY_OWNER.member && k.member_id !== null ? byId.get(k.member_id) : undefined;
    // A member's key whose holder the list does not show cannot be named; the list shows every holder to whoever sees every key.
    if (k.owner === KEY_OWNER.member && holder === undefined) continue;
    const ref = keyRef(k, holder);
    if (declared.keys.has(ref) || declared.exempt.has(ref) || (holder && declared.exempt.has(normalizeEmail(holder.email)))) continue;
    const target: TargetMember | null = holder ? { id: holder.id, email: normalizeEmail(holder.email), role: holder.role, status: holder.status } : null;
    findings.push({
      kind: "keys",
      ref,
      what: holder ? `API key "${k.name}" of ${target!.email}` : `organization key "${k.name}"`,
      decision: decide({ kind: "key", key: { id: k.id, owner: k.owner, memberId: k.member_id }, holder: target }),
      memberId: holder?.id ?? null,
      keyId: k.id,
    });
  }
  return findings.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

function keyRef(key: ApiKey, holder: Member | undefined): string {
  return holder ? `${normalizeEmail(holder.email)}/${key.name}` : `${ORGANIZATION_PREFIX}${key.name}`;
}

/** The computed lists: every finding except the protected ones, sorted. */
function lists(findings: readonly Finding[]): Record<Kind, string[]> {
  const listed = findings.filter((f) => f.decision.verdict !== "protected");
  return { members: refsOf(listed, "members"), grants: refsOf(listed, "grants"), keys: refsOf(listed, "keys") };
}

function refsOf(findings: readonly Finding[], kind: Kind): string[] {
  return findings.filter((f) => f.kind === kind).map((f) => f.ref);
}

function priorLists(prior: State): Record<string, Value> {
  return { members: prior.members ?? [], grants: prior.grants ?? [], keys: prior.keys ?? [] };
}

/** Warnings for what is never removed (always) and what this credential may not remove (when removing). */
function findingWarnings(f: Finding, remove: boolean): Diagnostic[] {
  const path = [`declared_${f.kind}`];
  const exemptRef = f.kind === "grants" ? f.ref.slice(0, f.ref.lastIndexOf("/")) : f.ref;
  if (f.decision.verdict === "protected") {
    return [
      {
        severity: "warning",
        summary: "Undeclared Access Never Removed",
        detail: `${f.what} is not declared, and it ${f.decision.message} It is left alone and not listed in \`${f.kind}\`. Declare it, or add "${exemptRef}" to exempt.`,
        path,
      },
    ];
  }
  if (f.decision.verdict === "refused" && remove) {
    return [
      violationDiagnostic("warning", f.decision.violation, path, {
        before: `${f.what} is not declared, but the provider's credential cannot remove it: `,
        after: `It stays listed in \`${f.kind}\`. Apply with the owner's key to remove it, or add "${exemptRef}" to exempt.`,
      }),
    ];
  }
  return [];
}

function firstApplyNotice(found: readonly Finding[]): Diagnostic {
  return {
    severity: "warning",
    summary: "Undeclared Access Found",
    detail: `Postscale holds access the code does not declare: ${found.map((f) => f.what).join("; ")}. This first apply only records it in \`members\`, \`grants\` and \`keys\`; the next plan shows its removal. Declare what should stay, or exempt it.`,
  };
}

/** Removes the findings: members first, then grants and keys not already gone with their member. */
async function removeAll(ctx: ProviderContext, doomed: readonly Finding[]): Promise<{ removed: Set<string>; diagnostics: Diagnostic[] }> {
  const removed = new Set<string>();
  const offboarded = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const attempt = async (f: Finding, call: () => Promise<void>, record: () => void) => {
    try {
      await call();
    } catch (err) {
      if (!isNotFound(err)) {
        diagnostics.push(...apiErrorDiagnostics(err, `Removing undeclared ${f.what}`, schema.names, [f.kind]));
        return;
      }
    }
    record();
    removed.add(`${f.kind}:${f.ref}`);
  };
  await Promise.all(
    doomed
      .filter((f) => f.kind === "members")
      .map((f) => attempt(f, () => ctx.client.removeMember(f.memberId!), () => (ctx.snapshot.dropMember(f.memberId!), offboarded.add(f.memberId!)))),
  );
  const rest = doomed.filter((f) => f.kind !== "members");
  for (const f of rest.filter((f) => f.memberId !== null && offboarded.has(f.memberId))) removed.add(`${f.kind}:${f.ref}`);
  await Promise.all(
    rest
      .filter((f) => f.memberId === null || !offboarded.has(f.memberId))
      .map((f) =>
        f.kind === "grants"
          ? attempt(f, () => ctx.client.removeDomainAccess(f.memberId!, f.domain!), () => ctx.snapshot.putGrant(f.memberId!, f.domain!, null))
          : attempt(f, () => ctx.client.deleteApiKey(f.keyId!), () => ctx.snapshot.dropKey(f.keyId!)),
      ),
  );
  return { removed, diagnostics };
}
