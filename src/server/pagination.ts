import { invalid } from "./problem";
import { textProblem } from "./schemas";

/** Opaque cursor: the sort key of the last row of the previous page. */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString("base64url");
}

/**
 * The sort key a cursor carries, or a 422 naming `/cursor`. A cursor is
 * client input like any other: one that decodes to something this API never
 * wrote (not text, control characters, lone surrogates) is refused here,
 * before any query.
 */
export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after?: unknown };
    if (value !== null && typeof value.after === "string" && value.after.length <= 512 && !textProblem(value.after)) return value.after;
  } catch {
    // fall through to the 422 below
  }
  throw invalid([{ path: "/cursor", message: "is not a cursor this API returned; pass next_cursor from the previous page" }]);
}

/** Cuts `limit + 1` fetched rows into a page and the cursor of the next one. */
export function toPage<R, T>(rows: R[], limit: number, keyOf: (row: R) => string, map: (row: R) => T): { data: T[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return { data: shown.map(map), next_cursor: more ? encodeCursor(keyOf(shown[shown.length - 1])) : null };
}
