import { AttributeValue, SENSITIVE_TEXT, UNKNOWN_TEXT, Side, readAttribute } from "./attribute";
import { NOTHING } from "./review-model";
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
