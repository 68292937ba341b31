import type { ResourceChange } from "./plan-json";

/** Which side of a change to read: the state before, or the planned state after. */
export type Side = "before" | "after";

/**
 * One attribute as the plan knows it. Sensitive and unknown are states of
 * their own so that no caller can print a sensitive value by accident: only
 * `known` carries a value.
 */
export type AttributeValue =
  | { state: "known"; value: unknown }
  | { state: "unknown" }
  | { state: "sensitive" }
  | { state: "absent" };

export const UNKNOWN_TEXT = "(known after apply)";
export const SENSITIVE_TEXT = "(sensitive)";

/** Whether a sensitivity or unknown map marks anything inside `marks` (true, or a nested true). */
function marksAnything(marks: unknown): boolean {
  if (marks === true) return true;
  if (Array.isArray(marks)) return marks.some(marksAnything);
  if (typeof marks === "object" && marks !== null) return Object.values(marks).some(marksAnything);
  return false;
}

/** The mark for one attribute: the whole object may be marked, or just the attribute. */
function markFor(marks: unknown, name: string): unknown {
  if (marks === true) return true;
  if (typeof marks === "object" && marks !== null && !Array.isArray(marks)) return (marks as Record<string, unknown>)[name];
  return undefined;
}

/**
 * Reads a top-level attribute from one side of a resource change. A value
 * partly unknown (a set with one unknown element) counts as unknown, and
 * partly sensitive counts as sensitive: the review never shows half a value.
 */
export function readAttribute(rc: ResourceChange, side: Side, name: string): AttributeValue {
  const values = rc.change[side];
  if (side === "after" && marksAnything(markFor(rc.change.after_unknown, name))) return { state: "unknown" };
  if (values === null || values === undefined) return { state: "absent" };
  const sensitive = side === "before" ? rc.change.before_sensitive : rc.change.after_sensitive;
  if (marksAnything(markFor(sensitive, name))) return { state: "sensitive" };
  if (!(name in values)) return { state: "absent" };
  return { state: "known", value: values[name] };
}

/** A known string value, or undefined for anything else. */
export function knownString(attr: AttributeValue): string | undefined {
  return attr.state === "known" && typeof attr.value === "string" ? attr.value : undefined;
}

/** How an attribute that is not plainly known reads in a review cell. */
export function placeholder(attr: AttributeValue): string | undefined {
  if (attr.state === "unknown") return UNKNOWN_TEXT;
  if (attr.state === "sensitive") return SENSITIVE_TEXT;
  return undefined;
}
