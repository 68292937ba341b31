import { TerraformElement, TerraformStack } from "cdktf";
import { PostscaleError } from "../errors";
import { KEY_OWNER } from "../policy";

/**
 * Logical ids come from what a resource *is* (an email, a domain name, a key
 * name), never from where it sits in the code, so reordering statements or
 * moving a member between files never replaces anything.
 */
export function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/@/g, "_at_")
    .replace(/\+/g, "_plus_")
    .replace(/[^a-z0-9_-]/g, "_");
}

export function memberLogicalId(email: string): string {
  return `member_${slug(email)}`;
}

export function domainLogicalId(domain: string): string {
  return `domain_${slug(domain)}`;
}

export function accessLogicalId(email: string, domain: string): string {
  return `access_${slug(email)}__${slug(domain)}`;
}

/** `owner` is the holder's email, or undefined for an organization-owned key. */
export function keyLogicalId(owner: string | undefined, name: string): string {
  return `key_${owner === undefined ? KEY_OWNER.organization : slug(owner)}__${slug(name)}`;
}

const claimed = new WeakMap<TerraformStack, Map<string, string>>();

/**
 * Gives `element` the logical id `logicalId`, and fails when two different
 * things in one stack would share it (two spellings that slug alike).
 */
export function claimLogicalId(element: TerraformElement, logicalId: string, what: string): void {
  const stack = TerraformStack.of(element);
  let ids = claimed.get(stack);
  if (ids === undefined) {
    ids = new Map();
    claimed.set(stack, ids);
  }
  const previous = ids.get(logicalId);
  if (previous !== undefined) {
    throw new PostscaleError(
      "POSTSCALE_E_CONFLICT",
      `${what} would get the logical id "${logicalId}", already used by ${previous} in stack ${stack.node.id}. ` +
        `Each member, grant and key must be declared once; if these are different names that differ only in punctuation, rename one.`,
    );
  }
  ids.set(logicalId, what);
  element.overrideLogicalId(logicalId);
}

