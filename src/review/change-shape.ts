import { AttributeValue, SENSITIVE_TEXT, UNKNOWN_TEXT, Side, readAttribute } from "./attribute";
import { NOTHING, ReviewRow } from "./review-model";
import type { ResourceChange } from "./plan-json";

/** How a resource change reads, from its actions. */
export type ChangeShape = "create" | "delete" | "update" | "replace" | "none";

/** `delete`+`create` in either order is a replace; `no-op`, `read` and `forget` change no access. */
export function changeShape(rc: ResourceChange): ChangeShape {
  const actions = rc.change.actions;
  const creates = actions.includes("create");
  const deletes = actions.includes("delete");
  if (creates && deletes) return "replace";
  if (creates) return "create";
  if (deletes) return "delete";
  if (actions.includes("update")) return "update";
  return "none";
}

/** How one kind of resource reads as review rows, side by side. */
export interface RowReader<S> {
  /** What one side of the change says. */
  read(side: Side): S;
  added(rc: ResourceChange, s: S): ReviewRow;
  removed(rc: ResourceChange, s: S): ReviewRow;
  /** Whether the two sides are different things (another person, domain or holder): then one leaves and one arrives. */
  moved(before: S, after: S): boolean;
  /** Rows for the same thing changed in place or replaced. */
  changed(rc: ResourceChange, before: S, after: S, shape: "update" | "replace"): ReviewRow[];
}

/** The rows of one change: a create adds, a delete removes, a move is both, anything else is `changed`. */
export function rowsOf<S>(rc: ResourceChange, reader: RowReader<S>): ReviewRow[] {
  const shape = changeShape(rc);
  if (shape === "create") return [reader.added(rc, reader.read("after"))];
  if (shape === "delete") return [reader.removed(rc, reader.read("before"))];
  if (shape === "none") return [];
  const before = reader.read("before");
  const after = reader.read("after");
  if (reader.moved(before, after)) return [reader.removed(rc, before), reader.added(rc, after)];
  return reader.changed(rc, before, after, shape);
}

/** A cell for one attribute value: the value, a placeholder for unknown or sensitive, `—` for null. */
export function cell(attr: AttributeValue): string {
  switch (attr.state) {
    case "unknown":
      return UNKNOWN_TEXT;
    case "sensitive":
      return SENSITIVE_TEXT;
    case "absent":
      return NOTHING;
    case "known":
      if (attr.value === null || attr.value === undefined) return NOTHING;
      return typeof attr.value === "string" ? attr.value : JSON.stringify(attr.value);
  }
}

/** Reads an attribute straight into a cell. */
export function cellOf(rc: ResourceChange, side: Side, name: string): string {
  return cell(readAttribute(rc, side, name));
}
