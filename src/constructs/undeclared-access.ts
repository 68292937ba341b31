import { Lazy, TerraformResource, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { PostscaleError, ValidationError } from "../errors";
import { emailProblem, nameProblem } from "../policy";
import { UndeclaredAccess as L1UndeclaredAccess } from "./generated/undeclared-access";
import type { Team } from "./team";

/** Properties of an `UndeclaredAccess`. */
export interface UndeclaredAccessProps {
  /** The team whose declarations are the whole truth. */
  readonly team: Team;
  /** Whether apply removes what is not declared (false: only report it). */
  readonly remove: boolean;
  /**
   * Emails (the person, their grants and keys) and keys
   * (`"<email>/<name>"`, `"organization/<name>"`) never reported nor removed.
   * @default - none
   */
  readonly exempt?: readonly string[];
}

const exclusiveStacks = new WeakMap<TerraformStack, string>();

/**
 * Authoritative mode for a `Team` (`postscale_undeclared_access`): its
 * declared members, grants, member keys and service keys, computed at synth
 * from everything the team declares, are the whole truth. Created by
 * `new Team(scope, id, { exclusive })`; one per stack, since two teams each
 * claiming to be the whole truth would remove each other's people.
 */
export class UndeclaredAccess extends Construct {
  /** The underlying `postscale_undeclared_access` resource (escape hatch). */
  readonly resource: L1UndeclaredAccess;

  constructor(scope: Construct, id: string, props: UndeclaredAccessProps) {
    super(scope, id);
    const team = props.team;
    const stack = TerraformStack.of(this);
    const other = exclusiveStacks.get(stack);
    if (other !== undefined) {
      throw new PostscaleError(
        "POSTSCALE_E_CONFLICT",
        `Team ${team.node.path} is exclusive, and so is team ${other} in the same stack: each would remove the other's people. Declare everyone in one exclusive team, or drop exclusive from one.`,
      );
    }
    exclusiveStacks.set(stack, team.node.path);
    const exempt = [...new Set(props.exempt ?? [])].sort();
    exempt.forEach((ref, i) => {
      if (emailProblem(ref) !== undefined && !isKeyRef(ref)) {
        throw new ValidationError(
          [{ path: `exempt/${i}`, message: "must be an email or a key" }],
          `Team ${team.node.path}: exempt "${ref}" is neither an email nor a key. Write an email ("robot@example.com"), a member's key ("dev@example.com/ci") or a service key ("organization/mailer").`,
        );
      }
    });
    const list = (produce: () => string[]) => Lazy.listValue({ produce: () => [...new Set(produce())].sort() });
    this.resource = new L1UndeclaredAccess(this, "resource", {
      declaredMembers: list(() => team.members.map((m) => m.email)),
      declaredGrants: list(() => team.members.flatMap((m) => m.accesses.map((a) => `${m.email}/${a.domain}`))),
      declaredKeys: list(() => [...team.members.flatMap((m) => m.apiKeys.map((k) => `${m.email}/${k.name}`)), ...team.keys.map((k) => `organization/${k.name}`)]),
      exempt: exempt.length > 0 ? exempt : undefined,
      remove: props.remove,
      provider: team.provider,
    });
    // Applied after everything the team declares, so what this apply creates is never taken for undeclared.
    // Plain addresses: depends_on takes references, not "${...}" interpolations.
    this.resource.dependsOn = Lazy.listValue(
      {
        produce: () =>
          [
            ...team.members.flatMap((m) => [m.resource, ...m.accesses.map((a) => a.resource), ...m.apiKeys.map((k) => k.resource)]),
            ...team.keys.map((k) => k.resource),
          ].map(address),
      },
      { omitEmpty: true },
    );
    this.resource.overrideLogicalId("undeclared_access");
  }
}

function address(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

/** `"organization/<name>"` or `"<email>/<name>"` (an email's local part may hold a slash, its domain may not). */
function isKeyRef(ref: string): boolean {
  if (ref.startsWith("organization/")) return nameProblem(ref.slice("organization/".length)) === undefined;
  const slash = ref.indexOf("/", ref.indexOf("@"));
  return ref.includes("@") && slash > 0 && emailProblem(ref.slice(0, slash)) === undefined && nameProblem(ref.slice(slash + 1)) === undefined;
}
