/**
 * Valid request bodies for endpoints whose fields the server defines
 * (domain settings, aliases, inbound rules, billing; their schemas are in
 * docs/openapi.json), and the table
 * of domain sub-resources with the access each needs. One place, so the
 * suites agree on what "a valid write" is.
 */

/** A valid PATCH /v1/domains/{domain} body. */
export const DOMAIN_PATCH = { open_tracking: false, click_tracking: true };

/** A valid POST /v1/domains/{domain}/aliases body. */
export function aliasBody(n: number): Record<string, unknown> {
  return { address: `support${n}`, forward_to: [`team${n}@corp.example.net`] };
}

/** A valid PATCH /v1/domains/{domain}/aliases/{id} body. */
export const ALIAS_PATCH = { forward_to: ["desk@corp.example.net"] };

/** A valid POST /v1/domains/{domain}/inbound-rules body. */
export function inboundRuleBody(n: number): Record<string, unknown> {
  return { match: `invoices-${n}`, action: "webhook", destination: `https://hooks.example.net/inbound/${n}`, priority: n };
}

/** A valid PATCH /v1/domains/{domain}/inbound-rules/{id} body. */
export const INBOUND_RULE_PATCH = { destination: "https://hooks.example.net/inbound/changed" };

/** A valid PUT /v1/organization/billing body. */
export const BILLING_PUT = { plan: "pro", billing_email: "billing@example.com" };

/** A valid PATCH /v1/organization body (the name is restored by tests that care). */
export const ORGANIZATION_PATCH = { name: "Example Incorporated" };

/** One request against a domain; `{domain}`, `{alias}` and `{rule}` are filled in by the test. */
export interface DomainRoute {
  label: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  /** A body, or a maker of one for creates that must not collide with earlier ones. */
  body?: Record<string, unknown> | (() => Record<string, unknown>);
}

let created = 1000;

/** The body to send for a route: a fresh one each time for creates. */
export function routeBody(route: DomainRoute): Record<string, unknown> | undefined {
  return typeof route.body === "function" ? route.body() : route.body;
}

/** Every read the announcement names: a read grant must reach all of them. */
export const DOMAIN_READS: DomainRoute[] = [
  { label: "domain", method: "GET", path: "/v1/domains/{domain}" },
  { label: "dns", method: "GET", path: "/v1/domains/{domain}/dns" },
  { label: "dkim", method: "GET", path: "/v1/domains/{domain}/dkim" },
  { label: "stats", method: "GET", path: "/v1/domains/{domain}/stats" },
  { label: "dmarc", method: "GET", path: "/v1/domains/{domain}/dmarc" },
  { label: "warming", method: "GET", path: "/v1/domains/{domain}/warming" },
  { label: "aliases list", method: "GET", path: "/v1/domains/{domain}/aliases" },
  { label: "alias", method: "GET", path: "/v1/domains/{domain}/aliases/{alias}" },
  { label: "inbound rules list", method: "GET", path: "/v1/domains/{domain}/inbound-rules" },
  { label: "inbound rule", method: "GET", path: "/v1/domains/{domain}/inbound-rules/{rule}" },
];

/** Every write the announcement names: read/write only. Deletes come last so ids stay valid. */
export const DOMAIN_WRITES: DomainRoute[] = [
  { label: "domain settings", method: "PATCH", path: "/v1/domains/{domain}", body: DOMAIN_PATCH },
  { label: "verify", method: "POST", path: "/v1/domains/{domain}/verify" },
  { label: "dkim rotate", method: "POST", path: "/v1/domains/{domain}/dkim/rotate" },
  { label: "warming start", method: "POST", path: "/v1/domains/{domain}/warming", body: { action: "start" } },
  { label: "warming pause", method: "POST", path: "/v1/domains/{domain}/warming", body: { action: "pause" } },
  { label: "alias create", method: "POST", path: "/v1/domains/{domain}/aliases", body: () => aliasBody(++created) },
  { label: "alias patch", method: "PATCH", path: "/v1/domains/{domain}/aliases/{alias}", body: ALIAS_PATCH },
  { label: "inbound rule create", method: "POST", path: "/v1/domains/{domain}/inbound-rules", body: () => inboundRuleBody(++created) },
  { label: "inbound rule patch", method: "PATCH", path: "/v1/domains/{domain}/inbound-rules/{rule}", body: INBOUND_RULE_PATCH },
  { label: "alias delete", method: "DELETE", path: "/v1/domains/{domain}/aliases/{alias}" },
  { label: "inbound rule delete", method: "DELETE", path: "/v1/domains/{domain}/inbound-rules/{rule}" },
];

/** Fills a route's placeholders. */
export function routePath(route: DomainRoute, ids: { domain: string; alias: string; rule: string }): string {
  return route.path.replace("{domain}", ids.domain).replace("{alias}", ids.alias).replace("{rule}", ids.rule);
}
