import { IAspect } from "cdktf";
import { IConstruct } from "constructs";
import { Duration } from "../duration";
import { ValidationError } from "../errors";
import { InvariantRule, checkInvariants } from "../policy";
import { DeclaredAccess, declaredAccess, keyAccess, reportViolations } from "./access-rules";
import { ApiKey } from "./api-key";
import { Team } from "./team";

/**
 * Organization policy as CDKTF aspects: `Aspects.of(stack).add(new MaxAdmins(3))`.
 * Each is one rule of the access invariant engine (see `AccessRules`,
 * which also checks plans and the live organization), applied to the
 * constructs it visits. A violation is an error annotation on the
 * offending construct, so `cdktf synth` fails and names it.
 */

/** Checks one rule against what a visited construct declares; violations land on it (or on the person or key concerned). */
function enforce(rule: InvariantRule, declared: DeclaredAccess, at: IConstruct, now?: Date): void {
  reportViolations(checkInvariants(declared.snapshot, [rule], { now }), declared, at);
}

/** At most `max` admins per team (the engine's `at_most` rule, named MaxAdmins). */
export class MaxAdmins implements IAspect {
  private readonly rule: InvariantRule;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 0) {
      throw new ValidationError([{ path: "max", message: `must be a whole number >= 0, got ${max}` }], `MaxAdmins: max must be a whole number >= 0, got ${max}.`);
    }
    this.rule = { name: "MaxAdmins", kind: "at_most", role: "admin", max, message: `the organization policy allows at most ${max} admin${max === 1 ? "" : "s"} per team` };
  }

  visit(node: IConstruct): void {
    if (!(node instanceof Team)) return;
    // The team itself: the count is its fault, not one admin's.
    const declared = declaredAccess([node]);
    enforce(this.rule, { ...declared, people: new Map() }, node);
  }
}

/** No key may reach the whole organization: every key names its domains (the engine's `no_organization_wide_keys`). */
export class NoOrganizationWideKeys implements IAspect {
  private readonly rule: InvariantRule = { name: "NoOrganizationWideKeys", kind: "no_organization_wide_keys", message: "the organization policy forbids keys that reach every domain" };

  visit(node: IConstruct): void {
    if (node instanceof ApiKey) enforce(this.rule, oneKey(node), node);
  }
}

/** Options of `KeysMustExpire`. */
export interface KeysMustExpireOptions {
  /**
   * The longest a key may live, in days from synth.
   * @default - any expiry is accepted, as long as there is one
   */
  readonly maxDays?: number;
  /**
   * The moment "from synth" is measured from.
   * @default - the current time
   */
  readonly now?: Date;
}

/** Every key has an `expiresAt`, optionally at most `maxDays` away (the engine's `keys_expire`). */
export class KeysMustExpire implements IAspect {
  private readonly rule: InvariantRule;
  private readonly now: Date;

  constructor(options: KeysMustExpireOptions = {}) {
    if (options.maxDays !== undefined && !(options.maxDays > 0)) {
      throw new ValidationError([{ path: "maxDays", message: `must be > 0, got ${options.maxDays}` }], `KeysMustExpire: maxDays must be > 0, got ${options.maxDays}.`);
    }
    const within = options.maxDays === undefined ? undefined : Duration.seconds(Math.round(options.maxDays * 86_400)).toString();
    this.rule = { name: "KeysMustExpire", kind: "keys_expire", ...(within === undefined ? {} : { within }), message: `the organization policy requires keys to expire${options.maxDays === undefined ? "" : ` within ${options.maxDays} days`}` };
    this.now = options.now ?? new Date();
  }

  visit(node: IConstruct): void {
    if (node instanceof ApiKey) enforce(this.rule, oneKey(node), node, this.now);
  }
}

/** A snapshot of one key alone, reported on that key. */
function oneKey(key: ApiKey): DeclaredAccess {
  return { snapshot: { domains: [], people: [], keys: [keyAccess(key)] }, people: new Map(), keys: new Map() };
}
