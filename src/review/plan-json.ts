import { ValidationError } from "../errors";

/**
 * The subset of OpenTofu/Terraform's machine-readable plan
 * (`tofu show -json <planfile>`, format_version 1.x) that an access review
 * reads. Terraform writes the same shape, and so does a cdktf plan file shown
 * the same way.
 */
export interface PlanJson {
  format_version: string;
  terraform_version?: string;
  resource_changes?: ResourceChange[];
  /** Changes made outside the code since the last apply, found by the plan's refresh: same shape as `resource_changes`. */
  resource_drift?: ResourceChange[];
  prior_state?: { values?: { root_module?: StateModule } };
  planned_values?: { root_module?: StateModule };
  configuration?: { root_module?: ConfigModule };
  errored?: boolean;
}

/** `ephemeral`: OpenTofu 1.11+/Terraform 1.10+ ephemeral resources, opened for one run and never in state. */
export type ResourceMode = "managed" | "data" | "ephemeral";

export type ChangeAction = "no-op" | "create" | "read" | "update" | "delete" | "forget";

/** One entry of `resource_changes`. Unknown values are absent from `after` and flagged in `after_unknown`. */
export interface ResourceChange {
  address: string;
  module_address?: string;
  mode?: ResourceMode;
  type: string;
  name: string;
  index?: string | number;
  /** Why the engine chose the action, e.g. `replace_by_request` (`-replace`), `replace_by_triggers` (`replace_triggered_by`). */
  action_reason?: string;
  /** Set when a deposed object (left by an interrupted create-before-destroy) is the one changed. */
  deposed?: string;
  change: {
    actions: ChangeAction[];
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    after_unknown?: unknown;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: unknown[];
    /** Present when the plan imports the resource (an `import` block); its id is never shown. */
    importing?: unknown;
  };
}

export interface StateResource {
  address: string;
  mode?: ResourceMode;
  type: string;
  name: string;
  index?: string | number;
  values?: Record<string, unknown>;
  sensitive_values?: unknown;
}

export interface StateModule {
  address?: string;
  resources?: StateResource[];
  child_modules?: StateModule[];
}

export interface ConfigResource {
  address: string;
  type: string;
  name: string;
  mode?: ResourceMode;
  expressions?: Record<string, unknown>;
}

export interface ConfigModule {
  resources?: ConfigResource[];
  module_calls?: Record<string, { module?: ConfigModule }>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses and checks plan JSON text. Fails with a message that says which
 * command produces the right input, because the usual mistake is feeding a
 * binary plan file or `tofu show -json` of the state instead of a plan.
 */
export function parsePlanJson(text: string, source = "plan"): PlanJson {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const hint = text.startsWith("PK") ? " (this looks like a binary plan file; run `tofu show -json <planfile>` and pass its output)" : "";
    throw new ValidationError([{ path: source, message: `is not JSON${hint}: ${(err as Error).message}` }]);
  }
  return checkPlanJson(data, source);
}

/** Checks an already-parsed value is a plan, not a state or something else. */
export function checkPlanJson(data: unknown, source = "plan"): PlanJson {
  const fail = (path: string, message: string): never => {
    throw new ValidationError([{ path: `${source}${path}`, message }]);
  };
  if (!isObject(data)) return fail("", "must be a JSON object: the output of `tofu show -json <planfile>`");
  if (typeof data.format_version !== "string" || !/^1\./.test(data.format_version)) {
    return fail("/format_version", "must be a 1.x plan format version: the output of `tofu show -json <planfile>`");
  }
  if (!("resource_changes" in data) && !("planned_values" in data)) {
    return fail("", "has no resource_changes or planned_values: this is a state, not a plan; run `tofu plan -out=<planfile>` then `tofu show -json <planfile>`");
  }
  if (data.errored === true) return fail("/errored", "the plan failed to complete; fix the plan errors before reviewing it");
  const changes = data.resource_changes ?? [];
  if (!Array.isArray(changes)) return fail("/resource_changes", "must be an array");
  changes.forEach((rc, i) => {
    // Ephemeral entries carry no before or after and their shape differs between engines: they are read leniently, never refused.
    if (isObject(rc) && rc.mode === "ephemeral") return;
    if (!isObject(rc) || typeof rc.address !== "string" || typeof rc.type !== "string") {
      fail(`/resource_changes/${i}`, "must be an object with string address and type");
    }
    const change = (rc as Record<string, unknown>).change;
    if (!isObject(change) || !Array.isArray(change.actions)) fail(`/resource_changes/${i}/change/actions`, "must be an array of actions");
  });
  const drift = data.resource_drift;
  if (drift !== undefined && !Array.isArray(drift)) return fail("/resource_drift", "must be an array");
  return {
    ...(data as unknown as PlanJson),
    resource_changes: changes.flatMap(readableChange),
    ...(drift === undefined ? {} : { resource_drift: drift.flatMap(readableChange) }),
  };
}

/**
 * An entry as the review reads it: one with an address, a type and an
 * actions array as it is; an ephemeral one given an empty change when it
 * has none; anything else left out.
 */
function readableChange(rc: unknown): ResourceChange[] {
  if (!isObject(rc) || typeof rc.address !== "string" || typeof rc.type !== "string") return [];
  if (isObject(rc.change) && Array.isArray(rc.change.actions)) return [rc as unknown as ResourceChange];
  if (rc.mode !== "ephemeral") return [];
  return [{ ...(rc as unknown as ResourceChange), change: { actions: [], before: null, after: null } }];
}
