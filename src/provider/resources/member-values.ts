import type { Member } from "../../api/types";
import type { CtyType, ObjectValue } from "../protocol/types";

/** cty type of one domain grant in data source results. */
export const GRANT_TYPE: CtyType = ["object", { domain: "string", access: "string" }];

/** cty type of a member in data source results. */
export const MEMBER_TYPE: CtyType = [
  "object",
  { id: "string", email: "string", role: "string", status: "string", name: "string", invited_at: "string", joined_at: "string", domain_access: ["list", GRANT_TYPE] },
];

/** A member as a data source value: every attribute present, grants sorted by domain. */
export function memberValue(m: Member): ObjectValue {
  return {
    id: m.id,
    email: m.email,
    role: m.role,
    status: m.status,
    name: m.name,
    invited_at: m.invited_at,
    joined_at: m.joined_at,
    domain_access: [...(m.domain_access ?? [])].sort((a, b) => a.domain.localeCompare(b.domain)).map((g) => ({ domain: g.domain, access: g.access })),
  };
}
