import { grantRows } from "./grant-rows";
import { API_KEY, keyRows } from "./key-rows";
import { DOMAIN_ACCESS, MemberDirectory, TEAM_MEMBER } from "./member-directory";
import { memberRows } from "./member-rows";
import type { ResourceChange } from "./plan-json";
import type { ReviewRow } from "./review-model";

/** The resource types whose changes are rows of the review: people, grants and keys. */
export const ACCESS_TYPES: readonly string[] = [TEAM_MEMBER, DOMAIN_ACCESS, API_KEY];

/** The review rows of one managed resource change (none for data sources, ephemeral resources and other types). */
export function accessRows(rc: ResourceChange, directory: MemberDirectory): ReviewRow[] {
  if (rc.mode === "data" || rc.mode === "ephemeral") return [];
  if (rc.type === TEAM_MEMBER) return memberRows(rc);
  if (rc.type === DOMAIN_ACCESS) return grantRows(rc, directory);
  if (rc.type === API_KEY) return keyRows(rc, directory);
  return [];
}

/** The row a resource would be if it were created now: what it is, for imports and lists. */
export function describe(rc: ResourceChange, directory: MemberDirectory): ReviewRow | undefined {
  return accessRows({ ...rc, mode: "managed", change: { ...rc.change, actions: ["create"], before: null } }, directory)[0];
}
