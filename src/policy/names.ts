/**
 * Input rules for the names people type: emails, domain names, key names.
 * Shared so the server, the provider and the constructs reject exactly the
 * same values with the same words.
 */

export const MAX_EMAIL_LENGTH = 254;
export const MAX_DOMAIN_LENGTH = 253;
export const MAX_NAME_LENGTH = 100;

// Deliberately strict: one @, a dotted host, no spaces or quotes.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TLD = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Emails compare case-insensitively; we store them lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Domain names compare case-insensitively and without a trailing dot. */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

/** Why `email` is not acceptable, or undefined when it is. */
export function emailProblem(email: unknown): string | undefined {
  if (typeof email !== "string") return "must be a string";
  if (email.length === 0) return "must not be empty";
  if (email.length > MAX_EMAIL_LENGTH) return `must be at most ${MAX_EMAIL_LENGTH} characters`;
  if (!EMAIL.test(email)) return `must be a valid email address like "dev@example.com", got "${email}"`;
  return undefined;
}

/** Why `domain` is not an acceptable domain name, or undefined when it is. */
export function domainProblem(domain: unknown): string | undefined {
  if (typeof domain !== "string") return "must be a string";
  if (domain.length === 0) return "must not be empty";
  if (domain.length > MAX_DOMAIN_LENGTH) return `must be at most ${MAX_DOMAIN_LENGTH} characters`;
  const labels = domain.split(".");
  const valid =
    domain === domain.toLowerCase() &&
    labels.length >= 2 &&
    labels.every((l) => LABEL.test(l)) &&
    TLD.test(labels[labels.length - 1]);
  if (!valid) return `must be a lower-case domain name like "mail.example.com", got "${domain}"`;
  return undefined;
}

/** Why a display name (member name, key name) is not acceptable, or undefined. */
export function nameProblem(name: unknown, max = MAX_NAME_LENGTH): string | undefined {
  if (typeof name !== "string") return "must be a string";
  if (name.trim().length === 0) return "must not be empty";
  if (name.length > max) return `must be at most ${max} characters`;
  return undefined;
}

export function isValidEmail(email: unknown): email is string {
  return emailProblem(email) === undefined;
}

export function isValidDomain(domain: unknown): domain is string {
  return domainProblem(domain) === undefined;
}
