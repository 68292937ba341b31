import { isUnknown, type Unknown } from "../protocol/types";

/** A known value: not UNKNOWN. */
export function isKnown<T>(v: T | Unknown): v is T {
  return !isUnknown(v);
}

/** Two string sets (sorted arrays) hold the same elements. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * An RFC 3339 timestamp as configurations write it: UTC, without
 * milliseconds when there are none ("2027-01-31T00:00:00Z", what the
 * constructs write), where the server answers "2027-01-31T00:00:00.000Z".
 */
export function configTimestamp(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().replace(".000Z", "Z");
}

/** Two RFC 3339 timestamps denote the same instant (the server may reformat what it was given). */
export function sameInstant(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  const x = Date.parse(a);
  const y = Date.parse(b);
  return Number.isNaN(x) || Number.isNaN(y) ? a === b : x === y;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Why `value` is not an RFC 3339 timestamp, or undefined when it is. */
export function timestampProblem(value: string): string | undefined {
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    return `must be an RFC 3339 timestamp like "2027-01-31T00:00:00Z", got "${value}"`;
  }
  return undefined;
}
