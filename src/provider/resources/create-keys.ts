import { createHmac } from "node:crypto";

/**
 * Idempotency-Keys for creates that are the same in every run: derived from
 * what is being created (the resource type and its create request), keyed
 * with the provider's own API key. A create whose reply was lost, or whose
 * run was killed (server, provider or engine), is repeated by the next run
 * with the same key, and the server replays the original response (for a
 * key: its secret) for as long as it keeps the record (24 h by default)
 * and the object still exists. Keyed with the credential, so someone who
 * reads the server's idempotency store cannot derive the key that unseals
 * a stored response from public facts like an email address.
 */
export function createIdempotencyKey(credential: string, kind: string, request: Readonly<Record<string, unknown>>): string {
  const content = Object.keys(request)
    .sort()
    .map((k) => `${k}=${JSON.stringify(request[k] ?? null)}`)
    .join("\n");
  return `tf-${kind}-${createHmac("sha256", credential).update(`${kind}\n${content}`).digest("base64url")}`;
}
