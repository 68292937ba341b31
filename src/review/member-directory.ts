import { AttributeValue, SENSITIVE_TEXT, Side, knownString, readAttribute } from "./attribute";
import { changeShape } from "./change-shape";
import type { ConfigModule, ConfigResource, PlanJson, ResourceChange, StateModule, StateResource } from "./plan-json";
import { Access, isAccess } from "../policy";

export const TEAM_MEMBER = "postscale_team_member";
export const DOMAIN_ACCESS = "postscale_domain_access";

/** What the plan tells about one person. `email` may be a placeholder when it is unknown or sensitive. */
export interface KnownMember {
  email: string;
  role?: string;
  /** `invited`, `active` or `expired`, when the plan tells. */
  status?: string;
}

/** The type-and-name part of an address, with `data.` or `ephemeral.` for those modes: how config addresses read. */
function resourcePart(r: { mode?: string; type: string; name: string }): string {
  return `${r.mode === "data" || r.mode === "ephemeral" ? `${r.mode}.` : ""}${r.type}.${r.name}`;
}

/** `module.a["x"].module.b[0]` -> `module.a.module.b`: config is per module call, not per instance. */
function stripInstanceKeys(moduleAddress: string | undefined): string {
  return (moduleAddress ?? "").replace(/\[[^\]]*\]/g, "");
}

export function stateResources(module: StateModule | undefined): StateResource[] {
  if (!module) return [];
  return [...(module.resources ?? []), ...(module.child_modules ?? []).flatMap(stateResources)];
}

/** A prior-state resource as a no-op change, for plans that do not list every resource in `resource_changes`. */
export function unchanged(r: StateResource, moduleAddress?: string): ResourceChange {
  const values = r.values ?? {};
  const sensitive = r.sensitive_values ?? {};
  return {
    address: r.address, module_address: moduleAddress, mode: r.mode ?? "managed", type: r.type, name: r.name, index: r.index,
    change: { actions: ["no-op"], before: values, after: values, after_unknown: {}, before_sensitive: sensitive, after_sensitive: sensitive },
  };
}

/** The managed resources of one type as the plan leaves them: its changes, plus prior-state ones it does not list. */
export function managedChanges(plan: PlanJson, type: string): ResourceChange[] {
  const out = new Map<string, ResourceChange>();
  const walk = (module: StateModule | undefined): void => {
    if (!module) return;
    for (const r of module.resources ?? []) if (r.type === type && (r.mode ?? "managed") === "managed" && r.values) out.set(r.address, unchanged(r, module.address));
    for (const child of module.child_modules ?? []) walk(child);
  };
  walk(plan.prior_state?.values?.root_module);
  for (const rc of plan.resource_changes ?? []) if (rc.type === type && (rc.mode ?? "managed") === "managed") out.set(rc.address, rc);
  return [...out.values()];
}

function configResources(module: ConfigModule | undefined, prefix: string, out: Map<string, ConfigResource>): void {
  if (!module) return;
  // Some engines may list ephemeral resources in a section of their own: read them as resources of mode "ephemeral".
  const ephemeral = (module as { ephemeral_resources?: unknown }).ephemeral_resources;
  const listed = [...(module.resources ?? []), ...(Array.isArray(ephemeral) ? (ephemeral as ConfigResource[]).map((r) => ({ ...r, mode: "ephemeral" as const })) : [])];
  for (const r of listed) {
    if (typeof r?.address !== "string" || typeof r.type !== "string") continue;
    const address = r.mode === "ephemeral" && !r.address.startsWith("ephemeral.") ? `ephemeral.${r.address}` : r.address;
    out.set(prefix ? `${prefix}.${address}` : address, r);
  }
  for (const [name, call] of Object.entries(module.module_calls ?? {})) {
    configResources(call.module, prefix ? `${prefix}.module.${name}` : `module.${name}`, out);
  }
}

function stateMember(r: StateResource): KnownMember | undefined {
  const sensitive = (r.sensitive_values ?? {}) as Record<string, unknown>;
  const email = r.values?.email;
  if (typeof email !== "string") return undefined;
  const role = r.values?.role;
  const status = r.values?.status;
  return {
    email: sensitive.email === true ? SENSITIVE_TEXT : email,
    role: typeof role === "string" && sensitive.role !== true ? role : undefined,
    status: typeof status === "string" && sensitive.status !== true ? status : undefined,
  };
}

function changeMember(rc: ResourceChange, side: Side): KnownMember | undefined {
  const email = readAttribute(rc, side, "email");
  if (email.state === "absent") return undefined;
  const shown = email.state === "sensitive" ? SENSITIVE_TEXT : knownString(email);
  if (shown === undefined) return undefined;
  return { email: shown, role: knownString(readAttribute(rc, side, "role")), status: knownString(readAttribute(rc, side, "status")) };
}

/**
 * Who is who in a plan: people by id and by resource address, before and
 * after the change. Grants and keys name a member by id, and a new member
 * has no id until apply, so the directory also follows the configuration's
 * references (`member_id = postscale_team_member.alice.id`) to the member
 * resource and reads its planned email.
 */
export class MemberDirectory {
  private readonly byId: Record<Side, Map<string, KnownMember>> = { before: new Map(), after: new Map() };
  private readonly byAddress: Record<Side, Map<string, KnownMember>> = { before: new Map(), after: new Map() };
  private readonly config = new Map<string, ConfigResource>();
  private readonly grants = new Map<string, Record<string, Access>>();

  constructor(plan: PlanJson) {
    this.addState("before", stateResources(plan.prior_state?.values?.root_module));
    this.addState("after", stateResources(plan.planned_values?.root_module));
    for (const rc of plan.resource_changes ?? []) {
      if (rc.type !== TEAM_MEMBER || rc.mode === "ephemeral") continue;
      for (const side of ["before", "after"] as const) {
        const member = changeMember(rc, side);
        if (!member) continue;
        this.byAddress[side].set(rc.address, member);
        const id = knownString(readAttribute(rc, side, "id"));
        if (id !== undefined) this.byId[side].set(id, member);
      }
    }
    configResources(plan.configuration?.root_module, "", this.config);
    for (const rc of managedChanges(plan, DOMAIN_ACCESS)) {
      const shape = changeShape(rc);
      if (shape === "delete" || rc.change.after === null) continue;
      const email = this.ownerOf(rc, "after")?.email;
      const domain = knownString(readAttribute(rc, "after", "domain"));
      const access = knownString(readAttribute(rc, "after", "access"));
      if (email === undefined || domain === undefined || !isAccess(access)) continue;
      this.grants.set(email, { ...this.grants.get(email), [domain]: access });
    }
  }

  /**
   * A person's grants as they will be after the plan (the same plan's
   * `postscale_domain_access` resources and the prior state's), by email:
   * what an auto-scoped key of theirs resolves against.
   */
  grantsAfter(email: string): Readonly<Record<string, Access>> {
    return this.grants.get(email) ?? {};
  }

  private addState(side: Side, resources: StateResource[]): void {
    for (const r of resources) {
      if (r.type !== TEAM_MEMBER) continue;
      const member = stateMember(r);
      if (!member) continue;
      this.byAddress[side].set(r.address, member);
      const id = r.values?.id;
      if (typeof id === "string") this.byId[side].set(id, member);
    }
  }

  /** The person with this id, preferring the side asked for. */
  byMemberId(id: string, side: Side): KnownMember | undefined {
    const other: Side = side === "before" ? "after" : "before";
    return this.byId[side].get(id) ?? this.byId[other].get(id);
  }

  /** Every configured resource with its full address (module calls included). */
  configured(): [string, ConfigResource][] {
    return [...this.config];
  }

  /** The configuration of a resource (module calls included), by the resource change's address parts. */
  configFor(rc: ResourceChange): ConfigResource | undefined {
    const modulePath = stripInstanceKeys(rc.module_address);
    const own = resourcePart(rc);
    return this.config.get(modulePath ? `${modulePath}.${own}` : own);
  }

  /**
   * Whether the configuration sets `attribute` on this resource. Tells an
   * attribute left out (so the provider computes it) from one set to an
   * expression not known until apply. Undefined when the plan carries no
   * configuration for the resource.
   */
  configures(rc: ResourceChange, attribute: string): boolean | undefined {
    const config = this.configFor(rc);
    if (!config) return undefined;
    return config.expressions !== undefined && attribute in config.expressions;
  }

  /**
   * The member resource that `rc`'s `member_id` refers to in the
   * configuration, read on the after side (that is where ids are unknown).
   */
  byReference(rc: ResourceChange): KnownMember | undefined {
    const expression = this.configFor(rc)?.expressions?.member_id as { references?: unknown } | undefined;
    const references = Array.isArray(expression?.references) ? expression!.references.filter((r): r is string => typeof r === "string") : [];
    const prefix = rc.module_address ? `${rc.module_address}.` : "";
    const ownKey = rc.index === undefined ? "" : `[${JSON.stringify(rc.index)}]`;
    for (const ref of references) {
      const m = /^((?:data\.)?postscale_team_member\.[A-Za-z0-9_-]+)(\[[^\]]*\])?/.exec(ref);
      if (!m) continue;
      const base = `${prefix}${m[1]}`;
      const candidates = [m[2] && !/\[(each|count)\./.test(m[2]) ? base + m[2] : undefined, ownKey ? base + ownKey : undefined, base];
      for (const address of candidates) {
        const found = address === undefined ? undefined : this.byAddress.after.get(address) ?? this.byAddress.before.get(address);
        if (found) return found;
      }
      const instances = [...this.byAddress.after.keys()].filter((a) => a.startsWith(`${base}[`));
      if (instances.length === 1) return this.byAddress.after.get(instances[0]);
    }
    return undefined;
  }

  /**
   * The person a grant or key belongs to on one side of its change: by
   * member_id, then (after) by configuration reference, then by the
   * resource's own `email`, then the raw id; never an id when an email can
   * be found.
   */
  ownerOf(rc: ResourceChange, side: Side): KnownMember | undefined {
    const memberId: AttributeValue = readAttribute(rc, side, "member_id");
    const id = knownString(memberId);
    const byId = id === undefined ? undefined : this.byMemberId(id, side);
    if (byId) return byId;
    if (side === "after") {
      const referenced = this.byReference(rc);
      if (referenced) return referenced;
    }
    const ownEmail = readAttribute(rc, side, "email");
    if (ownEmail.state === "sensitive") return { email: SENSITIVE_TEXT };
    const email = knownString(ownEmail);
    if (email !== undefined) return { email };
    if (id !== undefined) return { email: id };
    return undefined;
  }
}
