import { Annotations, IAspect } from "cdktf";
import { IConstruct } from "constructs";
import { ValidationError } from "../errors";
import { ApiKey } from "./api-key";
import { Team } from "./team";

/**
 * Organization policy as CDKTF aspects: `Aspects.of(stack).add(new MaxAdmins(3))`.
 * A violation is an error annotation on the offending construct, so
 * `cdktf synth` fails and names it.
 */

/** At most `max` admins per team. */
export class MaxAdmins implements IAspect {
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 0) {
      throw new ValidationError([{ path: "max", message: `must be a whole number >= 0, got ${max}` }], `MaxAdmins: max must be a whole number >= 0, got ${max}.`);
    }
  }

  visit(node: IConstruct): void {
    if (!(node instanceof Team)) return;
    const admins = node.admins;
    if (admins.length <= this.max) return;
    Annotations.of(node).addError(
      `team ${node.node.id} declares ${admins.length} admins (${admins.map((a) => a.email).join(", ")}), more than the organization policy allows (MaxAdmins ${this.max}). ` +
        `Make ${admins.length - this.max} of them members with domain access instead.`,
    );
  }
}

/** No key may reach the whole organization: every key names its domains. */
export class NoOrganizationWideKeys implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof ApiKey) || !node.reachesOrganization) return;
    const whose = node.holder === undefined ? `service key "${node.name}"` : `API key "${node.name}" of ${node.holder.email} (an admin)`;
    Annotations.of(node).addError(
      `${whose} would reach every domain of the organization, which the organization policy forbids (NoOrganizationWideKeys). Pass domains: [...] to scope it.`,
    );
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

/** Every key has an `expiresAt`, optionally at most `maxDays` away. */
export class KeysMustExpire implements IAspect {
  private readonly maxDays?: number;
  private readonly now: Date;

  constructor(options: KeysMustExpireOptions = {}) {
    if (options.maxDays !== undefined && !(options.maxDays > 0)) {
      throw new ValidationError([{ path: "maxDays", message: `must be > 0, got ${options.maxDays}` }], `KeysMustExpire: maxDays must be > 0, got ${options.maxDays}.`);
    }
    this.maxDays = options.maxDays;
    this.now = options.now ?? new Date();
  }

  visit(node: IConstruct): void {
    if (!(node instanceof ApiKey)) return;
    const whose = node.holder === undefined ? `service key "${node.name}"` : `API key "${node.name}" of ${node.holder.email}`;
    if (node.expiresAt === undefined) {
      Annotations.of(node).addError(`${whose} never expires, which the organization policy forbids (KeysMustExpire). Pass expiresAt.`);
      return;
    }
    if (this.maxDays === undefined) return;
    const limit = new Date(this.now.getTime() + this.maxDays * 86_400_000);
    if (new Date(node.expiresAt) > limit) {
      Annotations.of(node).addError(
        `${whose} expires at ${node.expiresAt}, later than the organization policy allows (KeysMustExpire maxDays ${this.maxDays}: by ${limit.toISOString()}). Pass an earlier expiresAt.`,
      );
    }
  }
}
