/**
 * JSON schemas shared by the routes. Requests are strict (no unknown
 * fields, bounded strings, formats whose rules come from src/policy);
 * responses list exactly the fields that may leave, so hashes and secrets
 * cannot leak by accident. The OpenAPI document is generated from these.
 *
 * Input that is not text never reaches the database: {@link textProblem}
 * is the one rule (no control characters, no lone UTF-16 surrogates), and
 * problem.ts's checkRequestText applies it to every path parameter, query
 * field, API header and body string before any schema or handler runs.
 */
import { ACCESS_LEVELS, ASSIGNABLE_ROLES, MAX_DOMAIN_LENGTH, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MEMBER_STATUSES, ROLES, isValidDomain, isValidEmail } from "../policy";
import type { FieldError } from "../errors";

type Schema = Record<string, unknown>;

// Cc (C0, DEL, C1) control characters, and UTF-16 surrogates that are not half of a pair.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string is not acceptable text, or undefined when it is. */
export function textProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return "must not contain control characters (U+0000 to U+001F, U+007F to U+009F)";
  if (LONE_SURROGATE.test(value)) return "must be valid Unicode (it contains a lone UTF-16 surrogate)";
  return undefined;
}

/** One JSON pointer segment (RFC 6901). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

const MAX_TEXT_ERRORS = 20;

/**
 * Every string in a parsed JSON value (object keys too) that is not
 * acceptable text, as field errors with JSON pointers under `base`.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export function textErrors(value: unknown, base = ""): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[value, base]];
  while (stack.length > 0 && errors.length < MAX_TEXT_ERRORS) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      const problem = textProblem(v);
      if (problem) errors.push({ path, message: problem });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`]);
    } else if (v !== null && typeof v === "object") {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        const keyProblem = textProblem(key);
        if (keyProblem) errors.push({ path: `${path}/${escapePointer(key)}`, message: `is not an allowed field name: a field name ${keyProblem}` });
        else stack.push([(v as Record<string, unknown>)[key], `${path}/${escapePointer(key)}`]);
      }
    }
  }
  return errors;
}

/** The annotation on a path parameter's schema naming what a bad value fails to find. */
export const NOT_FOUND_KEYWORD = "x-not-found";

// RFC 3339 date-time, checked field by field: Date.parse alone accepts 2099-02-30.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** A real instant in RFC 3339 form: no February 30th, no hour 24, no year 0. */
export function isValidDateTime(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (year < 1 || days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

let timeZones: Set<string> | undefined;

/** An IANA time zone name this runtime knows ("Europe/Berlin", "UTC"); offsets and abbreviations are not. */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== "string" || !/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/.test(value)) return false;
  timeZones ??= new Set(["UTC", ...Intl.supportedValuesOf("timeZone")]);
  if (timeZones.has(value)) return true;
  try {
    // Links such as "US/Eastern" or "Europe/Kiev" are valid too; the runtime resolves them.
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Custom keyword: array items that are strings must differ ignoring case (email lists). */
export const UNIQUE_IGNORING_CASE = "x-unique-ignoring-case";

interface AjvLike {
  addFormat(name: string, format: unknown): unknown;
  addKeyword(definition: Schema): unknown;
}

/**
 * The ajv plugin of the API's validator. Email and domain formats are the
 * policy's rules, so the API rejects exactly what the provider and
 * constructs reject. Named `formatsPlugin` on purpose: @fastify/ajv-compiler
 * otherwise adds ajv-formats after our plugins, and its looser "email" and
 * "hostname" (upper case, no dot) would replace ours.
 */
export function formatsPlugin(ajv: AjvLike): AjvLike {
  ajv.addFormat("email", { type: "string", validate: isValidEmail });
  ajv.addFormat("hostname", { type: "string", validate: isValidDomain });
  ajv.addFormat("date-time", { type: "string", validate: isValidDateTime });
  ajv.addFormat("time-zone", { type: "string", validate: isTimeZone });
  ajv.addKeyword({ keyword: NOT_FOUND_KEYWORD, schemaType: "string" });
  const unique = (enabled: boolean, data: unknown[]): boolean => {
    if (!enabled) return true;
    const seen = new Map<string, number>();
    for (const [i, item] of data.entries()) {
      if (typeof item !== "string") continue;
      const folded = item.trim().toLowerCase();
      const first = seen.get(folded);
      if (first !== undefined) {
        unique.errors = [{ keyword: UNIQUE_IGNORING_CASE, message: `must not list the same address twice (items ${first} and ${i} differ only in case)`, params: { i: first, j: i } }];
        return false;
      }
      seen.set(folded, i);
    }
    return true;
  };
  unique.errors = null as unknown;
  ajv.addKeyword({ keyword: UNIQUE_IGNORING_CASE, type: "array", schemaType: "boolean", errors: true, validate: unique });
  return ajv;
}

/** Messages for the custom formats, used in 422 bodies instead of "must be a valid <format>". */
export const FORMAT_MESSAGES: Record<string, string> = {
  "date-time": 'must be an RFC 3339 date-time that exists, e.g. "2030-01-31T00:00:00Z"',
  "time-zone": 'must be an IANA time zone name, e.g. "Europe/Berlin" or "UTC"',
};

/** A pattern for strings that must say something: at least one character that is not blank. */
export const NOT_BLANK = "[^\\s\\u200B-\\u200D\\u2060\\uFEFF]";
/** Messages for the patterns above, used in 422 bodies instead of the regular expression. */
export const PATTERN_MESSAGES: Record<string, string> = { [NOT_BLANK]: "must not be empty or only spaces" };

export const emailSchema = { type: "string", format: "email", maxLength: MAX_EMAIL_LENGTH } as const;
export const domainNameSchema = { type: "string", format: "hostname", maxLength: MAX_DOMAIN_LENGTH } as const;
export const nameSchema = { type: "string", minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: NOT_BLANK } as const;
/** Ids are opaque, but the server only issues these characters. */
export const ID_PATTERN = "^[A-Za-z0-9_-]+$";
export const idSchema = { type: "string", minLength: 1, maxLength: 64, pattern: ID_PATTERN } as const;
export const tokenSchema = { type: "string", minLength: 1, maxLength: 128 } as const;
export const accessSchema = { type: "string", enum: [...ACCESS_LEVELS] } as const;
export const dateTime = { type: "string", format: "date-time" } as const;
export const timeZoneSchema = { type: "string", format: "time-zone", maxLength: 64, description: 'An IANA time zone name, e.g. "Europe/Berlin" or "UTC"' } as const;
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
    invited_by: { type: ["string", "null"], description: "Member id of whoever invited them (null for the organization's first owner)." },
    joined_at: nullableDateTime,
    domain_access: { type: "array", items: grantSchema },
  },
  ["domain_access", "invited_by"],
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
  created_by: { type: ["string", "null"], description: "Member id of the person whose credential created the key (null only for keys made before this was recorded)." },
  expires_at: nullableDateTime,
  last_used_at: nullableDateTime,
  rotated_at: { ...dateTime, description: "When the key's current secret was set: the creation time until the first rotation (PUT /v1/api-keys/{id}/secret)." },
  previous_valid_until: { ...nullableDateTime, description: "Until when the secret replaced by the last rotation still authenticates; null when it no longer does." },
  origin: { type: "string", enum: ["generated", "supplied"], description: 'Who made the current secret: Postscale ("generated") or the client ("supplied", bring your own; Postscale has only ever held its hash).' },
});

export const createdApiKeySchema = {
  ...apiKeySchema,
  properties: {
    ...(apiKeySchema.properties as Schema),
    secret: { type: ["string", "null"], description: "The key itself: shown this once, stored only as a hash; null when the client brought it." },
  },
  required: [...(apiKeySchema.required as string[]), "secret"],
};

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
    // A cursor encodes the last item (a domain name is up to 253 characters), so it can be longer than the name.
    cursor: { type: "string", minLength: 1, maxLength: 1024 },
    ...extra,
  });
}

/** A path parameter: any value that fails its schema is the 404 of `kind`, exactly as an absent one. */
function pathParam<T extends Schema>(kind: string, schema: T): T & { [NOT_FOUND_KEYWORD]: string } {
  return { ...schema, [NOT_FOUND_KEYWORD]: kind };
}

const domainParam = pathParam("Domain", domainNameSchema);
export const domainParams = { type: "object", additionalProperties: false, properties: { domain: domainParam }, required: ["domain"] } as const;
export const memberParams = object({ id: pathParam("Member", idSchema) }, ["id"]);
export const keyParams = object({ id: pathParam("API key", idSchema) }, ["id"]);
export const grantParams = object({ id: pathParam("Member", idSchema), domain: domainParam }, ["id", "domain"]);
export const aliasParams = object({ domain: domainParam, id: pathParam("Alias", idSchema) }, ["domain", "id"]);
export const ruleParams = object({ domain: domainParam, id: pathParam("Inbound rule", idSchema) }, ["domain", "id"]);
export const invitationParams = object({ token: pathParam("Invitation", { ...tokenSchema, pattern: ID_PATTERN }) }, ["token"]);

export { ASSIGNABLE_ROLES };
