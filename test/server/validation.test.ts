/**
 * Bad input on every endpoint with a body: malformed JSON, wrong types,
 * unknown fields, over-long strings and invalid emails, domains, access
 * levels and roles get 422 problem+json naming the field, and a read
 * afterwards proves nothing was written.
 */
import { Caller, HttpResponse, expectProblem, ok } from "../helpers/http";
import { APP, BACKENDS, STAGING, TestServer, uniqueEmail, useServer } from "../helpers/server";
import { aliasBody, inboundRuleBody } from "../helpers/fixtures";

/** Ids and tokens the bad requests aim at. */
interface Context {
  s: TestServer;
  memberId: string;
  keyId: string;
  aliasId: string;
  ruleId: string;
  invitationToken: string;
  invitedId: string;
  verifyToken: string;
  unverifiedId: string;
}

/** Marks a case whose body is sent verbatim. */
const MALFORMED = { raw: '{"oops": ' };
const LONG = "x".repeat(5000);

interface Endpoint {
  method: "POST" | "PUT" | "PATCH";
  path(ctx: Context): string;
  /** The state the endpoint could change; must be equal before and after a refused request. */
  state(ctx: Context): Promise<unknown>;
  /** Anonymous endpoints (sign-up, login) are called without a credential. */
  anonymous?: boolean;
  cases: Array<[label: string, body: unknown, field: string]>;
}

async function get(caller: Caller, path: string): Promise<unknown> {
  return ok(await caller.get(path), `GET ${path}`);
}

const ENDPOINTS: Record<string, Endpoint> = {
  "POST /v1/team/members": {
    method: "POST",
    path: () => "/v1/team/members",
    state: async ({ s }) => [await get(s.owner, "/v1/team/members?limit=1000&include=domain_access"), (await s.mail()).length],
    cases: [
      ["email of the wrong type", { email: 42, role: "member" }, "/email"],
      ["invalid email", { email: "not-an-email", role: "member" }, "/email"],
      ["over-long email", { email: `${"a".repeat(250)}@example.com`, role: "member" }, "/email"],
      ["missing email", { role: "member" }, "/email"],
      ["invalid role", { email: "ok@example.com", role: "superuser" }, "/role"],
      ["unknown field", { email: "ok@example.com", role: "member", nickname: "x" }, "/nickname"],
      ["invalid access", { email: "ok@example.com", role: "member", domain_access: [{ domain: APP, access: "write" }] }, "/domain_access/0/access"],
      ["invalid domain", { email: "ok@example.com", role: "member", domain_access: [{ domain: "Not A Domain", access: "read" }] }, "/domain_access/0/domain"],
      ["domain_access of the wrong type", { email: "ok@example.com", role: "member", domain_access: APP }, "/domain_access"],
    ],
  },
  "PATCH /v1/team/members/{id}": {
    method: "PATCH",
    path: (c) => `/v1/team/members/${c.memberId}`,
    state: async (c) => get(c.s.owner, `/v1/team/members/${c.memberId}?include=domain_access`),
    cases: [
      ["role of the wrong type", { role: 5 }, "/role"],
      ["invalid role", { role: "superuser" }, "/role"],
      ["over-long role", { role: LONG }, "/role"],
      ["unknown field", { role: "admin", email: "new@example.com" }, "/email"],
    ],
  },
  "PUT /v1/team/members/{id}/domain-access/{domain}": {
    method: "PUT",
    path: (c) => `/v1/team/members/${c.memberId}/domain-access/${APP}`,
    state: async (c) => get(c.s.owner, `/v1/team/members/${c.memberId}/domain-access`),
    cases: [
      ["invalid access", { access: "write" }, "/access"],
      ["access of the wrong type", { access: 1 }, "/access"],
      ["missing access", {}, "/access"],
      ["unknown field", { access: "read", expires: "never" }, "/expires"],
    ],
  },
  "POST /v1/domains": {
    method: "POST",
    path: () => "/v1/domains",
    state: async ({ s }) => get(s.owner, "/v1/domains?limit=1000"),
    cases: [
      ["name of the wrong type", { name: 5 }, "/name"],
      ["invalid domain", { name: "Not A Domain" }, "/name"],
      ["upper-case domain", { name: "Upper.Example.com" }, "/name"],
      ["over-long domain", { name: `${"a".repeat(250)}.example.com` }, "/name"],
      ["missing name", {}, "/name"],
      ["unknown field", { name: "fine.example.com", region: "eu" }, "/region"],
    ],
  },
  "PATCH /v1/domains/{domain}": {
    method: "PATCH",
    path: () => `/v1/domains/${APP}`,
    state: async ({ s }) => get(s.owner, `/v1/domains/${APP}`),
    cases: [
      ["setting of the wrong type", { open_tracking: "yes" }, "/open_tracking"],
      ["invalid setting value", { tls_policy: "never" }, "/tls_policy"],
      ["unknown field", { name: "renamed.example.com" }, "/name"],
    ],
  },
  "POST /v1/api-keys": {
    method: "POST",
    path: () => "/v1/api-keys",
    state: async ({ s }) => get(s.owner, "/v1/api-keys?limit=1000"),
    cases: [
      ["name of the wrong type", { name: 5, owner: "organization" }, "/name"],
      ["empty name", { name: "", owner: "organization" }, "/name"],
      ["over-long name", { name: LONG, owner: "organization" }, "/name"],
      ["invalid owner", { name: "k", owner: "team" }, "/owner"],
      ["domains of the wrong type", { name: "k", owner: "organization", domains: APP }, "/domains"],
      ["invalid domain", { name: "k", owner: "organization", domains: ["Not A Domain"] }, "/domains/0"],
      ["invalid expiry", { name: "k", owner: "organization", expires_at: "tomorrow" }, "/expires_at"],
      ["unknown field", { name: "k", owner: "organization", secret: "ps_mine" }, "/secret"],
    ],
  },
  "PATCH /v1/api-keys/{id}": {
    method: "PATCH",
    path: (c) => `/v1/api-keys/${c.keyId}`,
    state: async (c) => get(c.s.owner, `/v1/api-keys/${c.keyId}`),
    cases: [
      ["name of the wrong type", { name: 5 }, "/name"],
      ["over-long name", { name: LONG }, "/name"],
      ["domain of the wrong type", { domains: [5] }, "/domains/0"],
      ["invalid domain", { domains: ["bad_domain"] }, "/domains/0"],
      ["unknown field", { owner: "member" }, "/owner"],
    ],
  },
  "PATCH /v1/organization": {
    method: "PATCH",
    path: () => "/v1/organization",
    state: async ({ s }) => get(s.owner, "/v1/organization"),
    cases: [
      ["name of the wrong type", { name: 5 }, "/name"],
      ["over-long name", { name: LONG }, "/name"],
      ["empty name", { name: "" }, "/name"],
      ["setting of the wrong type", { settings: { require_two_factor: "yes" } }, "/settings/require_two_factor"],
      ["unknown field", { id: "org_other" }, "/id"],
    ],
  },
  "PUT /v1/organization/billing": {
    method: "PUT",
    path: () => "/v1/organization/billing",
    state: async ({ s }) => get(s.owner, "/v1/organization/billing"),
    cases: [
      ["plan of the wrong type", { plan: 5 }, "/plan"],
      ["invalid plan", { plan: LONG }, "/plan"],
      ["invalid billing email", { plan: "pro", billing_email: "nope" }, "/billing_email"],
      ["unknown field", { plan: "pro", discount: 100 }, "/discount"],
    ],
  },
  "POST /v1/organization/transfer-ownership": {
    method: "POST",
    path: () => "/v1/organization/transfer-ownership",
    state: async ({ s }) => get(s.owner, "/v1/team/members?limit=1000"),
    cases: [
      ["member_id of the wrong type", { member_id: 5 }, "/member_id"],
      ["missing member_id", {}, "/member_id"],
      ["over-long member_id", { member_id: LONG }, "/member_id"],
      ["unknown field", { member_id: "m", keep_role: true }, "/keep_role"],
    ],
  },
  "POST /v1/invitations/{token}/accept": {
    method: "POST",
    anonymous: true,
    path: (c) => `/v1/invitations/${c.invitationToken}/accept`,
    state: async (c) => [await get(c.s.owner, `/v1/team/members/${c.invitedId}`), await get(c.s.anonymous, `/v1/invitations/${c.invitationToken}`)],
    cases: [
      ["name of the wrong type", { name: 5, password: "a-long-password-1" }, "/name"],
      ["over-long name", { name: LONG, password: "a-long-password-1" }, "/name"],
      ["password of the wrong type", { name: "N", password: 12345678 }, "/password"],
      ["empty password", { name: "N", password: "" }, "/password"],
      ["over-long password", { name: "N", password: LONG }, "/password"],
      ["missing password", { name: "N" }, "/password"],
      ["unknown field", { name: "N", password: "a-long-password-1", role: "admin" }, "/role"],
    ],
  },
  "POST /v1/auth/verify-email": {
    method: "POST",
    anonymous: true,
    path: () => "/v1/auth/verify-email",
    state: async (c) => get(c.s.owner, `/v1/team/members/${c.unverifiedId}`),
    cases: [
      ["token of the wrong type", { token: 5 }, "/token"],
      ["missing token", {}, "/token"],
      ["over-long token", { token: LONG }, "/token"],
      ["unknown field", { token: "t", redirect_to: "/onboarding" }, "/redirect_to"],
    ],
  },
  "POST /v1/auth/login": {
    method: "POST",
    anonymous: true,
    path: () => "/v1/auth/login",
    state: async ({ s }) => (await s.mail()).length,
    cases: [
      ["invalid email", { email: "nope", password: "a-long-password-1" }, "/email"],
      ["email of the wrong type", { email: 5, password: "a-long-password-1" }, "/email"],
      ["over-long email", { email: `${"a".repeat(250)}@example.com`, password: "a-long-password-1" }, "/email"],
      ["password of the wrong type", { email: "ok@example.com", password: 5 }, "/password"],
      ["unknown field", { email: "ok@example.com", password: "a-long-password-1", remember: true }, "/remember"],
    ],
  },
  "POST /v1/domains/{domain}/aliases": {
    method: "POST",
    path: () => `/v1/domains/${APP}/aliases`,
    state: async ({ s }) => get(s.owner, `/v1/domains/${APP}/aliases?limit=1000`),
    cases: [
      ["address of the wrong type", { ...aliasBody(1), address: 5 }, "/address"],
      ["over-long address", { ...aliasBody(1), address: LONG }, "/address"],
      ["forward_to of the wrong type", { ...aliasBody(1), forward_to: "a@example.net" }, "/forward_to"],
      ["invalid forward email", { ...aliasBody(1), forward_to: ["not-an-email"] }, "/forward_to/0"],
      ["unknown field", { ...aliasBody(1), catch_all: true }, "/catch_all"],
    ],
  },
  "PATCH /v1/domains/{domain}/aliases/{id}": {
    method: "PATCH",
    path: (c) => `/v1/domains/${APP}/aliases/${c.aliasId}`,
    state: async (c) => get(c.s.owner, `/v1/domains/${APP}/aliases/${c.aliasId}`),
    cases: [
      ["forward_to of the wrong type", { forward_to: 5 }, "/forward_to"],
      ["invalid forward email", { forward_to: ["not-an-email"] }, "/forward_to/0"],
      ["unknown field", { domain: STAGING }, "/domain"],
    ],
  },
  "POST /v1/domains/{domain}/inbound-rules": {
    method: "POST",
    path: () => `/v1/domains/${APP}/inbound-rules`,
    state: async ({ s }) => get(s.owner, `/v1/domains/${APP}/inbound-rules?limit=1000`),
    cases: [
      ["invalid action", { ...inboundRuleBody(1), action: "explode" }, "/action"],
      ["priority of the wrong type", { ...inboundRuleBody(1), priority: "high" }, "/priority"],
      ["over-long match", { ...inboundRuleBody(1), match: LONG }, "/match"],
      ["unknown field", { ...inboundRuleBody(1), stop: true }, "/stop"],
    ],
  },
  "PATCH /v1/domains/{domain}/inbound-rules/{id}": {
    method: "PATCH",
    path: (c) => `/v1/domains/${APP}/inbound-rules/${c.ruleId}`,
    state: async (c) => get(c.s.owner, `/v1/domains/${APP}/inbound-rules/${c.ruleId}`),
    cases: [
      ["invalid action", { action: "explode" }, "/action"],
      ["destination of the wrong type", { destination: 5 }, "/destination"],
      ["unknown field", { enabled: "yes" }, "/enabled"],
    ],
  },
  "POST /v1/domains/{domain}/warming": {
    method: "POST",
    path: () => `/v1/domains/${APP}/warming`,
    state: async ({ s }) => get(s.owner, `/v1/domains/${APP}/warming`),
    cases: [
      ["invalid action", { action: "explode" }, "/action"],
      ["action of the wrong type", { action: 1 }, "/action"],
      ["missing action", {}, "/action"],
      ["unknown field", { action: "start", speed: "fast" }, "/speed"],
    ],
  },
};

/** Every endpoint also gets malformed JSON and a body that is not an object. */
const CASES = Object.entries(ENDPOINTS).flatMap(([name, endpoint]) => [
  ...endpoint.cases.map(([label, body, field]) => [name, label, body, field] as const),
  [name, "malformed JSON", MALFORMED, undefined] as const,
  [name, "an array instead of an object", [], undefined] as const,
]);

describe.each(BACKENDS)("bad input on %s", (backend) => {
  const server = useServer(backend);
  let ctx: Context;

  beforeAll(async () => {
    const s = server();
    const member = await s.invite(uniqueEmail("target"), "member", [{ domain: STAGING, access: "read" }]);
    const key = await s.createKey(s.owner, { name: "validation", owner: "organization", domains: [APP] });
    const alias = ok(await s.owner.post(`/v1/domains/${APP}/aliases`, aliasBody(7)));
    const rule = ok(await s.owner.post(`/v1/domains/${APP}/inbound-rules`, inboundRuleBody(7)));
    const invitedEmail = uniqueEmail("pending");
    const invited = await s.invite(invitedEmail, "member");
    const unverifiedEmail = uniqueEmail("unverified");
    const unverified = await s.invite(unverifiedEmail, "member");
    ok(await s.anonymous.post(`/v1/invitations/${(await s.lastMail(unverifiedEmail, "invitation")).token}/accept`, { name: "Unverified", password: "a-long-password-1" }));
    ctx = {
      s,
      memberId: member.id,
      keyId: key.id,
      aliasId: alias.id,
      ruleId: rule.id,
      invitationToken: (await s.lastMail(invitedEmail, "invitation")).token,
      invitedId: invited.id,
      verifyToken: (await s.lastMail(unverifiedEmail, "verify_email")).token,
      unverifiedId: unverified.id,
    };
  });

  test.each(CASES)("%s: %s → 422", async (name, _label, body, field) => {
    const endpoint = ENDPOINTS[name];
    const caller = endpoint.anonymous ? ctx.s.anonymous : ctx.s.owner;
    const before = await endpoint.state(ctx);
    const path = endpoint.path(ctx);
    const res: HttpResponse =
      body === MALFORMED ? await caller.request(endpoint.method, path, { rawBody: MALFORMED.raw }) : await caller.request(endpoint.method, path, { body });
    expectProblem(res, 422, field);
    expect(await endpoint.state(ctx)).toEqual(before);
  });

  test("after all the bad input the pending sign-ups still work", async () => {
    const s = ctx.s;
    ok(await s.anonymous.post(`/v1/invitations/${ctx.invitationToken}/accept`, { name: "Pending", password: "a-long-password-1" }));
    const verified = ok(await s.anonymous.post("/v1/auth/verify-email", { token: ctx.verifyToken }));
    expect(verified.member.id).toBe(ctx.unverifiedId);
  });
});
