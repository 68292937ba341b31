import { knownString, readAttribute } from "./attribute";
import { API_KEY } from "./key-rows";
import type { MemberDirectory } from "./member-directory";
import type { PlanJson, ResourceChange } from "./plan-json";
import { ORGANIZATION, type EphemeralKey } from "./review-model";
import { KEY_OWNER } from "../policy";

/** A constant string an expression of the configuration sets, if it is one. */
function constant(expression: unknown): string | undefined {
  const value = (expression as { constant_value?: unknown } | undefined)?.constant_value;
  return typeof value === "string" ? value : undefined;
}

/**
 * Keys opened for one run by an ephemeral `postscale_api_key` (OpenTofu
 * 1.11+, Terraform 1.10+): in `resource_changes` with mode `ephemeral`
 * (before and after null), or only in the configuration. Never in state,
 * revoked when the run ends: listed as "short-lived key for this run", not
 * as access changes. Whatever the plan leaves out reads as its address.
 */
export function ephemeralKeys(plan: PlanJson, directory: MemberDirectory): EphemeralKey[] {
  const found = new Map<string, EphemeralKey>();
  const add = (rc: ResourceChange, name: string | undefined, owner: string | undefined): void => {
    const address = rc.address.startsWith("ephemeral.") ? rc.address : `ephemeral.${rc.address}`;
    const who = owner === KEY_OWNER.organization ? ORGANIZATION : directory.byReference(rc)?.email ?? "(holder known at run time)";
    found.set(address, { who, name: name ?? rc.name, address });
  };
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "ephemeral" || rc.type !== API_KEY) continue;
    const config = directory.configFor(rc)?.expressions;
    const side = rc.change.after ? "after" : "before";
    add(rc, knownString(readAttribute(rc, side, "name_prefix")) ?? constant(config?.name_prefix) ?? constant(config?.name), knownString(readAttribute(rc, side, "owner")) ?? constant(config?.owner));
  }
  for (const [address, config] of directory.configured()) {
    if (config.mode !== "ephemeral" || config.type !== API_KEY || found.has(address)) continue;
    const moduleAddress = address.includes(".ephemeral.") ? address.slice(0, address.indexOf(".ephemeral.")) : undefined;
    const rc: ResourceChange = { address, module_address: moduleAddress, mode: "ephemeral", type: config.type, name: config.name, change: { actions: [], before: null, after: null } };
    add(rc, constant(config.expressions?.name_prefix) ?? constant(config.expressions?.name), constant(config.expressions?.owner));
  }
  return [...found.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
