/**
 * JSON schemas shared by the routes. Requests are strict (no unknown
 * fields, bounded strings, formats whose rules come from src/policy);
 * responses list exactly the fields that may leave, so hashes and secrets
 * cannot leak by accident. The OpenAPI document is generated from these.
 */
import { ACCESS_LEVELS, ASSIGNABLE_ROLES, MAX_DOMAIN_LENGTH, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MEMBER_STATUSES, ROLES } from "../policy";

type Schema = Record<string, unknown>;

export const emailSchema = { type: "string", format: "email", maxLength: MAX_EMAIL_LENGTH } as const;
export const domainNameSchema = { type: "string", format: "hostname", maxLength: MAX_DOMAIN_LENGTH } as const;
export const nameSchema = { type: "string", minLength: 1, maxLength: MAX_NAME_LENGTH } as const;
export const idSchema = { type: "string", minLength: 1, maxLength: 64 } as const;
export const tokenSchema = { type: "string", minLength: 1, maxLength: 128 } as const;
export const accessSchema = { type: "string", enum: [...ACCESS_LEVELS] } as const;
export const dateTime = { type: "string", format: "date-time" } as const;
const nullableDateTime = { type: ["string", "null"], format: "date-time" } as const;

/** A strict request object. */
export function object(properties: Record<string, unknown>, required: string[] = [], extra: Schema = {}): Schema {
  return { type: "object", additionalProperties: false, properties, required, ...extra };
}

/** A response object: every field declared, all present. */
export function record(properties: Record<string, unknown>, optional: string[] = []): Schema {
  return { type: "object", properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) };
}

export const problemSchema = {
  type: "object",
  description: "RFC 9457 problem details.",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    rule: { type: "string" },
    errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } }, required: ["path", "message"] } },
  },
  required: ["type", "title", "status"],
} as const;

/** Response map of a route: its success bodies plus problem bodies for errors. */
export function responses(success: Record<number, unknown>): Schema {
  return { ...success, "4xx": problemSchema, "5xx": problemSchema };
}

export const noContent = { type: "null", description: "No content" } as const;

export const grantSchema = record({ domain: { type: "string" }, access: accessSchema });

export const memberSchema = record(
  {
    id: { type: "string" },
    email: { type: "string" },
    role: { type: "string", enum: [...ROLES] },
    status: { type: "string", enum: [...MEMBER_STATUSES] },
    name: { type: ["string", "null"] },
    invited_at: dateTime,
    joined_at: nullableDateTime,
    domain_access: { type: "array", items: grantSchema },
  },
  ["domain_access"],
);

export const organizationSchema = record({
  id: { type: "string" },
  name: { type: "string" },
  settings: record({ timezone: { type: "string" }, require_two_factor: { type: "boolean" } }),
  created_at: dateTime,
  updated_at: dateTime,
});

export const apiKeySchema = record({
  id: { type: "string" },
  name: { type: "string" },
  prefix: { type: "string" },
  owner: { type: "string", enum: ["organization", "member"] },
  member_id: { type: ["string", "null"] },
  scope: { type: "string", enum: ["organization", "domains"] },
  domains: { type: "array", items: { type: "string" } },
  created_at: dateTime,
  expires_at: nullableDateTime,
  last_used_at: nullableDateTime,
});

export const createdApiKeySchema = { ...apiKeySchema, properties: { ...(apiKeySchema.properties as Schema), secret: { type: "string", description: "The key itself: shown this once, stored only as a hash." } }, required: [...(apiKeySchema.required as string[]), "secret"] };

export const domainSchema = record({
  id: { type: "string" },
  name: { type: "string" },
  status: { type: "string", enum: ["pending", "verified"] },
  verified_at: nullableDateTime,
  open_tracking: { type: "boolean" },
  click_tracking: { type: "boolean" },
  tls_policy: { type: "string", enum: ["opportunistic", "required"] },
  access: accessSchema,
  created_at: dateTime,
  updated_at: dateTime,
});

/** `{data, next_cursor}` of a list endpoint. */
export function page(item: unknown): Schema {
  return record({ data: { type: "array", items: item }, next_cursor: { type: ["string", "null"] } });
}

export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;

/** `?limit=&cursor=` of list endpoints, plus any extra query fields. */
export function listQuery(extra: Record<string, unknown> = {}): Schema {
  return object({
    limit: { type: "integer", minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT },
    cursor: { type: "string", minLength: 1, maxLength: 256 },
    ...extra,
  });
}

const domainParam = { type: "string", minLength: 1, maxLength: MAX_DOMAIN_LENGTH } as const;
export const domainParams = { type: "object", additionalProperties: false, properties: { domain: domainParam }, required: ["domain"] } as const;
export const memberParams = object({ id: idSchema }, ["id"]);

export { ASSIGNABLE_ROLES };
