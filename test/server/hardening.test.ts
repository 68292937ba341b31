/**
 * Bad input from the attacker's side (issue 9, rules 6 and 10): control
 * characters, NUL and lone surrogates in path parameters, queries, headers
 * and bodies; impossible dates; bogus ids of any shape; blank names; unknown
 * time zones; case-duplicate email lists; oversized bodies; malformed HTTP.
 * None of it is a 5xx: path ids answer the 404 an absent object answers,
 * everything else a 422 problem naming the field, and a snapshot of the
 * organization (audit log included) taken before and after proves nothing
 * was written. Domain names of 253 characters work on every {domain} route,
 * and hidden and absent objects answer byte-identical 404 bodies.
 */
import { connect } from "node:net";
import { HttpResponse, Method, expectProblem, ok } from "../helpers/http";
import { APP, BACKENDS, MISSING_DOMAIN, PROD, STAGING, TestServer, type Person, useServer } from "../helpers/server";
import { aliasBody, inboundRuleBody } from "../helpers/fixtures";
import { refusedWithoutWrites, snapshot } from "../helpers/snapshot";

const cursorOf = (after: string) => Buffer.from(JSON.stringify({ after })).toString("base64url");

/** A valid domain name of exactly 253 characters (four labels of at most 63). */
const LONGEST_DOMAIN = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(53)}.example`;

interface Ctx {
  s: TestServer;
  member: Person;
  other: Person;
  admin: Person;
  keyId: string;
  ownerKeyId: string;
  aliasId: string;
  ruleId: string;
  stagingAliasId: string;
  stagingRuleId: string;
  invitationToken: string;
}

/** Path-parameter values that are no id of anything. */
const BOGUS_IDS: Array<[label: string, encoded: string]> = [
  ["NUL", "%00"],
  ["NUL inside an id", "mem_1%00x"],
  ["a control character", "key%01"],
  ["DEL", "x%7F"],
  ["a C1 control character", "x%C2%85"],
  ["a space", "a%20b"],
  ["a quote and angle brackets", "%22%3Cscript%3E"],
  ["non-ASCII", "m%C3%A9m"],
  ["65 characters", "m".repeat(65)],
  ["600 characters", "m".repeat(600)],
  ["3000 characters", "m".repeat(3000)],
  ["invalid percent-encoding", "%zz"],
  ["an encoded slash", "a%2Fb"],
];

/** Domain-parameter values that name no domain. */
const BOGUS_DOMAINS: Array<[label: string, encoded: string]> = [
  ["NUL", "%00"],
  ["NUL inside a name", "app.example.com%00"],
  ["a control character", "app%01.example.com"],
  ["upper case", "APP.example.com"],
  ["no dot", "localhost"],
  ["254 characters", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(54)}.example`],
  ["3000 characters", "a".repeat(3000)],
  ["invalid percent-encoding", "%E0%A4%A"],
];

describe.each(BACKENDS)("hardening on %s", (backend) => {
  const server = useServer(backend);
  let c: Ctx;

  beforeAll(async () => {
    const s = server();
    const member = await s.onboard("mona@example.com", "member", [
      { domain: APP, access: "read_write" },
      { domain: STAGING, access: "read" },
    ]);
    const other = await s.onboard("otto@example.com", "member", [{ domain: APP, access: "read" }]);
    const admin = await s.onboard("ada@example.com", "admin");
    const key = await s.createKey(member.api, { name: "mona's key", owner: "member" });
    const ownerKey = await s.createKey(s.owner, { name: "owner's second key", owner: "member" });
    const alias = ok(await s.owner.post(`/v1/domains/${APP}/aliases`, aliasBody(1)));
    const rule = ok(await s.owner.post(`/v1/domains/${APP}/inbound-rules`, inboundRuleBody(1)));
    const stagingAlias = ok(await s.owner.post(`/v1/domains/${STAGING}/aliases`, aliasBody(2)));
    const stagingRule = ok(await s.owner.post(`/v1/domains/${STAGING}/inbound-rules`, inboundRuleBody(2)));
    await s.invite("pending@example.com", "member");
    c = {
      s,
      member,
      other,
      admin,
      keyId: key.id,
      ownerKeyId: ownerKey.id,
      aliasId: alias.id,
      ruleId: rule.id,
      stagingAliasId: stagingAlias.id,
      stagingRuleId: stagingRule.id,
      invitationToken: (await s.lastMail("pending@example.com", "invitation")).token,
    };
  });

  describe("a path id of any shape is the 404 of an absent one, byte for byte, and writes nothing", () => {
    // Each route with its answer for a well-formed id that does not exist.
    const ID_ROUTES: Array<[method: Method, path: (id: string) => string, body?: unknown]> = [
      ["GET", (id) => `/v1/team/members/${id}`],
      ["PATCH", (id) => `/v1/team/members/${id}`, { role: "admin" }],
      ["DELETE", (id) => `/v1/team/members/${id}`],
      ["POST", (id) => `/v1/team/members/${id}/resend-invitation`],
      ["GET", (id) => `/v1/team/members/${id}/domain-access`],
      ["PUT", (id) => `/v1/team/members/${id}/domain-access/${APP}`, { access: "read" }],
      ["DELETE", (id) => `/v1/team/members/${id}/domain-access/${APP}`],
      ["GET", (id) => `/v1/api-keys/${id}`],
      ["PATCH", (id) => `/v1/api-keys/${id}`, { name: "renamed" }],
      ["DELETE", (id) => `/v1/api-keys/${id}`],
      ["GET", (id) => `/v1/domains/${APP}/aliases/${id}`],
      ["PATCH", (id) => `/v1/domains/${APP}/aliases/${id}`, { forward_to: ["x@corp.example.net"] }],
      ["DELETE", (id) => `/v1/domains/${APP}/aliases/${id}`],
      ["GET", (id) => `/v1/domains/${APP}/inbound-rules/${id}`],
      ["PATCH", (id) => `/v1/domains/${APP}/inbound-rules/${id}`, { priority: 5 }],
      ["DELETE", (id) => `/v1/domains/${APP}/inbound-rules/${id}`],
      ["GET", (id) => `/v1/invitations/${id}`],
      ["POST", (id) => `/v1/invitations/${id}/accept`, { name: "Mallory", password: "a-long-password-1" }],
    ];

    test.each(ID_ROUTES.map(([method, path, body]) => [`${method} ${path("{id}")}`, method, path, body] as const))("%s", async (_label, method, path, body) => {
      const s = server();
      const caller = path("x").startsWith("/v1/invitations/") ? s.anonymous : s.owner;
      const absent = await caller.request(method, path("mem_0000000000000000000000000"), body === undefined ? {} : { body });
      expectProblem(absent, 404);
      for (const [label, bogus] of BOGUS_IDS) {
        const res = await refusedWithoutWrites(s, () => caller.request(method, path(bogus), body === undefined ? {} : { body }));
        if (res.text !== absent.text || res.status !== 404) throw new Error(`${label}: expected the absent id's 404 (${absent.text}), got ${res.status} ${res.text}`);
        expect(res.contentType).toMatch(/^application\/problem\+json/);
      }
    });

    const DOMAIN_ROUTES: Array<[method: Method, path: (d: string) => string, body?: unknown]> = [
      ["GET", (d) => `/v1/domains/${d}`],
      ["PATCH", (d) => `/v1/domains/${d}`, { open_tracking: false }],
      ["DELETE", (d) => `/v1/domains/${d}`],
      ["GET", (d) => `/v1/domains/${d}/dns`],
      ["POST", (d) => `/v1/domains/${d}/verify`],
      ["POST", (d) => `/v1/domains/${d}/dkim/rotate`],
      ["GET", (d) => `/v1/domains/${d}/stats`],
      ["POST", (d) => `/v1/domains/${d}/warming`, { action: "start" }],
      ["GET", (d) => `/v1/domains/${d}/aliases`],
      ["POST", (d) => `/v1/domains/${d}/aliases`, aliasBody(9)],
      ["GET", (d) => `/v1/domains/${d}/inbound-rules/irl_0000000000000000000000000`],
    ];

    test.each(DOMAIN_ROUTES.map(([method, path, body]) => [`${method} ${path("{domain}")}`, method, path, body] as const))("%s", async (_label, method, path, body) => {
      const s = server();
      const absent = await s.owner.request(method, path(MISSING_DOMAIN), body === undefined ? {} : { body });
      expectProblem(absent, 404);
      for (const [label, bogus] of BOGUS_DOMAINS) {
        const res = await refusedWithoutWrites(s, () => s.owner.request(method, path(bogus), body === undefined ? {} : { body }));
        if (res.text !== absent.text || res.status !== 404) throw new Error(`${label}: expected the absent domain's 404 (${absent.text}), got ${res.status} ${res.text}`);
      }
    });

    test("a grant path with a bogus domain answers the absent domain's 404", async () => {
      const s = server();
      const absent = await s.owner.put(`/v1/team/members/${c.member.id}/domain-access/${MISSING_DOMAIN}`, { access: "read" });
      expectProblem(absent, 404);
      for (const [, bogus] of BOGUS_DOMAINS) {
        const res = await refusedWithoutWrites(s, () => s.owner.put(`/v1/team/members/${c.member.id}/domain-access/${bogus}`, { access: "read" }));
        expect([res.status, res.text]).toEqual([404, absent.text]);
      }
    });
  });

  describe("bad strings in queries, headers and bodies are 422 naming the field, and write nothing", () => {
    type Case = [label: string, send: (c: Ctx) => Promise<HttpResponse>, field: string];
    const owner = (c: Ctx) => c.s.owner;
    const CASES: Case[] = [
      // Queries: cursors are client input like any other.
      ...["/v1/team/members", "/v1/api-keys", "/v1/domains", "/v1/audit-events", `/v1/domains/${APP}/aliases`, `/v1/domains/${APP}/inbound-rules`].flatMap((list): Case[] => [
        [`${list}?cursor=NUL`, (c) => owner(c).get(`${list}?cursor=%00`), "/cursor"],
        [`${list}?cursor=<control character>`, (c) => owner(c).get(`${list}?cursor=ab%1Bcd`), "/cursor"],
        [`${list}?cursor=<a cursor carrying NUL>`, (c) => owner(c).get(`${list}?cursor=${cursorOf("mem_\u0000")}`), "/cursor"],
        [`${list}?cursor=<a cursor carrying a lone surrogate>`, (c) => owner(c).get(`${list}?cursor=${cursorOf("\ud800")}`), "/cursor"],
        [`${list}?cursor=<not a cursor>`, (c) => owner(c).get(`${list}?cursor=%E2%98%83`), "/cursor"],
      ]),
      ["member domain-access ?cursor=<a cursor carrying NUL>", (c) => owner(c).get(`/v1/team/members/${c.member.id}/domain-access?cursor=${cursorOf("\u0000")}`), "/cursor"],
      ["?include=NUL", (c) => owner(c).get("/v1/team/members?include=%00"), "/include"],
      ["?limit=NUL", (c) => owner(c).get("/v1/team/members?limit=1%00"), "/limit"],
      // Headers.
      ["Idempotency-Key with a tab", (c) => owner(c).post("/v1/domains", { name: "tab.example.com" }, { idempotencyKey: "a\tb" }), "/headers/idempotency-key"],
      ["Idempotency-Key with a C1 control character", (c) => owner(c).post("/v1/domains", { name: "c1.example.com" }, { headers: { "idempotency-key": "a\u0085b" } }), "/headers/idempotency-key"],
      // Bodies: control characters and lone surrogates in every kind of string.
      ["organization name with NUL", (c) => owner(c).patch("/v1/organization", { name: "Evil\u0000Corp" }), "/name"],
      ["organization name with an escape character", (c) => owner(c).patch("/v1/organization", { name: "Evil\u001b[31mCorp" }), "/name"],
      ["organization name with a lone high surrogate", (c) => owner(c).patch("/v1/organization", { name: "Evil\ud800" }), "/name"],
      ["organization name with a lone low surrogate (raw JSON)", (c) => owner(c).request("PATCH", "/v1/organization", { rawBody: '{"name":"x\\udc00y"}' }), "/name"],
      ["organization name of spaces only", (c) => owner(c).patch("/v1/organization", { name: "   " }), "/name"],
      ["organization name of tabs and no-break spaces", (c) => owner(c).patch("/v1/organization", { name: "\u00a0\u3000" }), "/name"],
      ["unknown time zone", (c) => owner(c).patch("/v1/organization", { settings: { timezone: "Mars/Olympus_Mons" } }), "/settings/timezone"],
      ["time zone that is an offset", (c) => owner(c).patch("/v1/organization", { settings: { timezone: "+25:00" } }), "/settings/timezone"],
      ["time zone with NUL", (c) => owner(c).patch("/v1/organization", { settings: { timezone: "UTC\u0000" } }), "/settings/timezone"],
      ["time zone with a path", (c) => owner(c).patch("/v1/organization", { settings: { timezone: "../../etc/passwd" } }), "/settings/timezone"],
      ["billing email with a lone surrogate", (c) => owner(c).put("/v1/organization/billing", { plan: "pro", billing_email: "b\ud83d@example.com" }), "/billing_email"],
      ["invite email with NUL", (c) => owner(c).post("/v1/team/members", { email: "new\u0000@example.com", role: "member" }), "/email"],
      ["invite grant domain with NUL", (c) => owner(c).post("/v1/team/members", { email: "new@example.com", role: "member", domain_access: [{ domain: `${APP}\u0000`, access: "read" }] }), "/domain_access/0/domain"],
      ["a field name with NUL", (c) => owner(c).post("/v1/domains", { "na\u0000me": "x.example.com" }), "/na\u0000me"],
      ["key name with NUL", (c) => owner(c).post("/v1/api-keys", { name: "ci\u0000", owner: "organization" }), "/name"],
      ["key name of spaces only", (c) => owner(c).post("/v1/api-keys", { name: "    ", owner: "organization" }), "/name"],
      ["key name of zero-width spaces only", (c) => owner(c).post("/v1/api-keys", { name: "\u200b\u200b", owner: "organization" }), "/name"],
      ["key expiry on February 30th", (c) => owner(c).post("/v1/api-keys", { name: "feb", owner: "organization", expires_at: "2099-02-30T00:00:00Z" }), "/expires_at"],
      ["key expiry on February 29th of a common year", (c) => owner(c).post("/v1/api-keys", { name: "feb", owner: "organization", expires_at: "2099-02-29T00:00:00Z" }), "/expires_at"],
      ["key expiry in month 13", (c) => owner(c).post("/v1/api-keys", { name: "m13", owner: "organization", expires_at: "2099-13-01T00:00:00Z" }), "/expires_at"],
      ["key expiry at hour 24", (c) => owner(c).post("/v1/api-keys", { name: "h24", owner: "organization", expires_at: "2099-01-01T24:00:00Z" }), "/expires_at"],
      ["key expiry at second 60", (c) => owner(c).post("/v1/api-keys", { name: "s60", owner: "organization", expires_at: "2099-01-01T23:59:60Z" }), "/expires_at"],
      ["key expiry with offset +24:00", (c) => owner(c).post("/v1/api-keys", { name: "o24", owner: "organization", expires_at: "2099-01-01T00:00:00+24:00" }), "/expires_at"],
      ["key expiry in year 0", (c) => owner(c).post("/v1/api-keys", { name: "y0", owner: "organization", expires_at: "0000-01-01T00:00:00Z" }), "/expires_at"],
      ["key expiry with NUL", (c) => owner(c).post("/v1/api-keys", { name: "nul", owner: "organization", expires_at: "2099-01-01T00:00:00Z\u0000" }), "/expires_at"],
      ["key member_id with NUL", (c) => owner(c).post("/v1/api-keys", { name: "k", owner: "member", member_id: "\u0000" }), "/member_id"],
      ["key member_id of another shape", (c) => owner(c).post("/v1/api-keys", { name: "k", owner: "member", member_id: "../../etc" }), "/member_id"],
      ["key member_id that does not exist", (c) => owner(c).post("/v1/api-keys", { name: "k", owner: "member", member_id: "mem_0000000000000000000000000" }), "/member_id"],
      ["key domain with NUL", (c) => owner(c).post("/v1/api-keys", { name: "k", owner: "organization", domains: [`${APP}\u0000`] }), "/domains/0"],
      ["key rename with a lone surrogate", (c) => owner(c).patch(`/v1/api-keys/${c.keyId}`, { name: "\udfff" }), "/name"],
      ["transfer to NUL", (c) => owner(c).post("/v1/organization/transfer-ownership", { member_id: "\u0000" }), "/member_id"],
      ["transfer to an id of another shape", (c) => owner(c).post("/v1/organization/transfer-ownership", { member_id: "a b" }), "/member_id"],
      ["transfer to an id that does not exist", (c) => owner(c).post("/v1/organization/transfer-ownership", { member_id: "mem_0000000000000000000000000" }), "/member_id"],
      ["alias address with NUL", (c) => owner(c).post(`/v1/domains/${APP}/aliases`, { address: "x\u0000", forward_to: ["a@corp.example.net"] }), "/address"],
      ["alias forward_to differing only in case", (c) => owner(c).post(`/v1/domains/${APP}/aliases`, { address: "dup", forward_to: ["Team@corp.example.net", "team@CORP.example.net"] }), "/forward_to"],
      ["alias patch forward_to differing only in case", (c) => owner(c).patch(`/v1/domains/${APP}/aliases/${c.aliasId}`, { forward_to: ["a@corp.example.net", "A@corp.example.net"] }), "/forward_to"],
      ["inbound rule match of spaces only", (c) => owner(c).post(`/v1/domains/${APP}/inbound-rules`, { match: "  ", action: "drop" }), "/match"],
      ["inbound rule match with NUL", (c) => owner(c).post(`/v1/domains/${APP}/inbound-rules`, { match: "a\u0000", action: "drop" }), "/match"],
      ["inbound rule webhook URL with NUL", (c) => owner(c).post(`/v1/domains/${APP}/inbound-rules`, { match: "*", action: "webhook", destination: "https://hooks.example.net/\u0000" }), "/destination"],
      ["inbound rule patch with a lone surrogate", (c) => owner(c).patch(`/v1/domains/${APP}/inbound-rules/${c.ruleId}`, { match: "\ud800" }), "/match"],
      ["domain settings with NUL", (c) => owner(c).patch(`/v1/domains/${APP}`, { tls_policy: "required\u0000" }), "/tls_policy"],
      ["warming action with NUL", (c) => owner(c).post(`/v1/domains/${APP}/warming`, { action: "start\u0000" }), "/action"],
      ["grant access with NUL", (c) => owner(c).put(`/v1/team/members/${c.member.id}/domain-access/${PROD}`, { access: "read\u0000" }), "/access"],
      ["role change with NUL", (c) => owner(c).patch(`/v1/team/members/${c.member.id}`, { role: "admin\u0000" }), "/role"],
      // Unauthenticated routes.
      ["login password with NUL", (c) => c.s.anonymous.post("/v1/auth/login", { email: c.member.email, password: `${c.member.password}\u0000` }), "/password"],
      ["login email with a lone surrogate", (c) => c.s.anonymous.post("/v1/auth/login", { email: "\ud800@example.com", password: "whatever-123" }), "/email"],
      ["verify-email token with NUL", (c) => c.s.anonymous.post("/v1/auth/verify-email", { token: "psv_\u0000" }), "/token"],
      ["verify-email password with NUL", (c) => c.s.anonymous.post("/v1/auth/verify-email", { token: "psv_x", password: "a-long-password\u0000" }), "/password"],
      ["accept name of spaces only", (c) => c.s.anonymous.post(`/v1/invitations/${c.invitationToken}/accept`, { name: "   ", password: "a-long-password-1" }), "/name"],
      ["accept name with NUL", (c) => c.s.anonymous.post(`/v1/invitations/${c.invitationToken}/accept`, { name: "Pat\u0000", password: "a-long-password-1" }), "/name"],
      ["accept password with a lone surrogate", (c) => c.s.anonymous.post(`/v1/invitations/${c.invitationToken}/accept`, { name: "Pat", password: "a-long-password\udc00" }), "/password"],
    ];

    test.each(CASES.map(([label, send, field]) => [label, send, field] as const))("%s", async (_label, send, field) => {
      const res = await refusedWithoutWrites(server(), () => send(c));
      expectProblem(res, 422, field);
    });

    test("after all that, the pending invitation still works", async () => {
      const s = server();
      ok(await s.anonymous.get(`/v1/invitations/${c.invitationToken}`));
    });

    test("valid time zones, including links, are accepted", async () => {
      const s = server();
      for (const timezone of ["Europe/Berlin", "America/Argentina/Buenos_Aires", "US/Eastern", "Etc/GMT+5", "UTC"]) {
        expect(ok(await s.owner.patch("/v1/organization", { settings: { timezone } })).settings.timezone).toBe(timezone);
      }
    });

    test("real dates are accepted: February 29th of a leap year, offsets, fractions", async () => {
      const s = server();
      for (const [i, expires_at] of ["2096-02-29T12:00:00Z", "2099-12-31T23:59:59.999+05:30", "2099-06-30T00:00:00-12:00"].entries()) {
        const key = await s.createKey(s.owner, { name: `dated ${i}`, owner: "organization", expires_at });
        expect(Date.parse(key.expires_at!)).toBe(Date.parse(expires_at));
      }
    });

    test("emails that differ in more than case are a valid list", async () => {
      const s = server();
      const alias = ok(await s.owner.post(`/v1/domains/${APP}/aliases`, { address: "pair", forward_to: ["Ann@corp.example.net", "bob@corp.example.net"] }));
      expect(alias.forward_to).toEqual(["ann@corp.example.net", "bob@corp.example.net"]);
    });
  });

  describe("malformed requests are problems, never a reset or 5xx", () => {
    test("an oversized body is a 413 problem, and the connection answers", async () => {
      const s = server();
      for (const [caller, path] of [
        [s.owner, "/v1/domains"],
        [s.anonymous, "/v1/auth/login"],
        [s.anonymous, `/v1/invitations/${c.invitationToken}/accept`],
      ] as const) {
        for (const size of [300 * 1024, 8 * 1024 * 1024]) {
          const res = await refusedWithoutWrites(s, () => caller.request("POST", path, { rawBody: JSON.stringify({ name: "x".repeat(size) }) }));
          expectProblem(res, 413);
        }
      }
    });

    test("a large body that is not JSON is a problem too, and the connection answers", async () => {
      const s = server();
      const res = await refusedWithoutWrites(s, async () => {
        const r = await fetch(`${s.url}/v1/domains`, { method: "POST", headers: { authorization: `Bearer ${s.ownerKey}`, "content-type": "text/plain" }, body: "x".repeat(4 * 1024 * 1024) });
        const text = await r.text();
        return { status: r.status, headers: r.headers, contentType: r.headers.get("content-type") ?? "", text, body: JSON.parse(text) };
      });
      // Too large is checked first (413); a small body that is not JSON is a 422.
      expectProblem(res, 413);
      expectProblem(await s.owner.request("POST", "/v1/domains", { rawBody: "x" }), 422, "");
    });

    test("NUL or a control character in a header is a 422 problem (from the HTTP parser), nothing written", async () => {
      const s = server();
      const url = new URL(s.url);
      for (const header of ["Idempotency-Key: a\u0000b", "Idempotency-Key: a\u0001b", "X-Note: \u0000"]) {
        const raw = await refusedWithoutWrites(s, async () => {
          const text = await rawHttp(url, `POST /v1/domains HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${s.ownerKey}\r\nContent-Type: application/json\r\nContent-Length: 26\r\n${header}\r\n\r\n{"name":"raw.example.com"}`);
          const [head, body] = text.split("\r\n\r\n");
          const status = Number(head.split(" ")[1]);
          const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? "";
          return { status, headers: new Headers(), contentType, text: body, body: JSON.parse(body) };
        });
        expectProblem(raw, 422, "/headers");
      }
    });
  });

  describe("domain names up to 253 characters work on every {domain} route", () => {
    test("create, read, change and delete everything under a 253-character domain", async () => {
      const s = server();
      expect(LONGEST_DOMAIN).toHaveLength(253);
      const d = LONGEST_DOMAIN;
      expect(ok(await s.owner.post("/v1/domains", { name: d })).name).toBe(d);
      ok(await s.owner.get(`/v1/domains/${d}`));
      ok(await s.owner.patch(`/v1/domains/${d}`, { open_tracking: false }));
      ok(await s.owner.get(`/v1/domains/${d}/dns`));
      ok(await s.owner.post(`/v1/domains/${d}/verify`));
      ok(await s.owner.get(`/v1/domains/${d}/dkim`));
      ok(await s.owner.post(`/v1/domains/${d}/dkim/rotate`));
      ok(await s.owner.get(`/v1/domains/${d}/stats`));
      ok(await s.owner.get(`/v1/domains/${d}/dmarc`));
      ok(await s.owner.post(`/v1/domains/${d}/warming`, { action: "start" }));
      ok(await s.owner.get(`/v1/domains/${d}/warming`));
      const alias = ok(await s.owner.post(`/v1/domains/${d}/aliases`, aliasBody(50)));
      ok(await s.owner.get(`/v1/domains/${d}/aliases`));
      ok(await s.owner.get(`/v1/domains/${d}/aliases/${alias.id}`));
      ok(await s.owner.patch(`/v1/domains/${d}/aliases/${alias.id}`, { forward_to: ["z@corp.example.net"] }));
      const rule = ok(await s.owner.post(`/v1/domains/${d}/inbound-rules`, inboundRuleBody(50)));
      ok(await s.owner.get(`/v1/domains/${d}/inbound-rules`));
      ok(await s.owner.get(`/v1/domains/${d}/inbound-rules/${rule.id}`));
      ok(await s.owner.patch(`/v1/domains/${d}/inbound-rules/${rule.id}`, { priority: 3 }));
      ok(await s.owner.put(`/v1/team/members/${c.member.id}/domain-access/${d}`, { access: "read_write" }));
      expect(ok(await c.member.api.get(`/v1/domains/${d}`)).access).toBe("read_write");
      const key = await s.createKey(c.member.api, { name: "long domain key", owner: "member", domains: [d] });
      ok(await s.as(key.secret).get(`/v1/domains/${d}/aliases/${alias.id}`));
      expect(ok(await s.owner.get(`/v1/team/members/${c.member.id}/domain-access`)).data).toContainEqual({ domain: d, access: "read_write" });
      expect(ok(await s.owner.delete(`/v1/domains/${d}/aliases/${alias.id}`))).toBe("");
      ok(await s.owner.delete(`/v1/domains/${d}/inbound-rules/${rule.id}`));
      ok(await s.owner.delete(`/v1/team/members/${c.member.id}/domain-access/${d}`));
      ok(await s.owner.delete(`/v1/domains/${d}`));
      expectProblem(await s.owner.get(`/v1/domains/${d}`), 404);
    });
  });

  describe("invisible and absent objects answer byte-identical 404 bodies", () => {
    async function same(pairs: Array<[label: string, hidden: Promise<HttpResponse>, absent: Promise<HttpResponse>]>): Promise<void> {
      for (const [label, hiddenP, absentP] of pairs) {
        const [hidden, absent] = [await hiddenP, await absentP];
        expectProblem(absent, 404);
        if (hidden.status !== absent.status || hidden.text !== absent.text || hidden.contentType !== absent.contentType) {
          throw new Error(`${label}: hidden ${hidden.status} ${hidden.text} vs absent ${absent.status} ${absent.text}`);
        }
      }
    }

    test("domains and everything under them", async () => {
      const m = c.member.api;
      const routes: Array<[Method, string, unknown?]> = [
        ["GET", ""],
        ["PATCH", "", { open_tracking: true }],
        ["DELETE", ""],
        ["GET", "/dns"],
        ["POST", "/verify"],
        ["GET", "/dkim"],
        ["GET", "/warming"],
        ["POST", "/warming", { action: "pause" }],
        ["GET", "/aliases"],
        ["POST", "/aliases", aliasBody(70)],
        ["GET", "/inbound-rules"],
      ];
      await same(
        routes.map(([method, sub, body]) => [
          `${method} {domain}${sub}`,
          m.request(method, `/v1/domains/${PROD}${sub}`, body === undefined ? {} : { body }),
          m.request(method, `/v1/domains/${MISSING_DOMAIN}${sub}`, body === undefined ? {} : { body }),
        ]),
      );
    });

    test("aliases and inbound rules of another domain read like absent ones", async () => {
      const o = server().owner;
      await same([
        ["alias", o.get(`/v1/domains/${APP}/aliases/${c.stagingAliasId}`), o.get(`/v1/domains/${APP}/aliases/als_0000000000000000000000000`)],
        ["alias patch", o.patch(`/v1/domains/${APP}/aliases/${c.stagingAliasId}`, { forward_to: ["q@corp.example.net"] }), o.patch(`/v1/domains/${APP}/aliases/als_0000000000000000000000000`, { forward_to: ["q@corp.example.net"] })],
        ["alias delete", o.delete(`/v1/domains/${APP}/aliases/${c.stagingAliasId}`), o.delete(`/v1/domains/${APP}/aliases/als_0000000000000000000000000`)],
        ["rule", o.get(`/v1/domains/${APP}/inbound-rules/${c.stagingRuleId}`), o.get(`/v1/domains/${APP}/inbound-rules/irl_0000000000000000000000000`)],
        ["rule delete", o.delete(`/v1/domains/${APP}/inbound-rules/${c.stagingRuleId}`), o.delete(`/v1/domains/${APP}/inbound-rules/irl_0000000000000000000000000`)],
        // The member sees app but not prod: aliases under prod are absent to them.
        ["alias under a hidden domain", c.member.api.get(`/v1/domains/${PROD}/aliases/${c.aliasId}`), c.member.api.get(`/v1/domains/${MISSING_DOMAIN}/aliases/${c.aliasId}`)],
      ]);
    });

    test("another person's key reads like an absent key, whatever the id's shape", async () => {
      const m = c.member.api;
      const absent = "key_0000000000000000000000000";
      await same([
        ["owner's key", m.get(`/v1/api-keys/${c.ownerKeyId}`), m.get(`/v1/api-keys/${absent}`)],
        ["owner's key rename", m.patch(`/v1/api-keys/${c.ownerKeyId}`, { name: "mine now" }), m.patch(`/v1/api-keys/${absent}`, { name: "mine now" })],
        ["owner's key revoke", m.delete(`/v1/api-keys/${c.ownerKeyId}`), m.delete(`/v1/api-keys/${absent}`)],
        ["bogus id", m.get("/v1/api-keys/%00"), m.get(`/v1/api-keys/${absent}`)],
        ["other member reads mona's key", c.other.api.get(`/v1/api-keys/${c.keyId}`), c.other.api.get(`/v1/api-keys/${absent}`)],
      ]);
      ok(await server().owner.get(`/v1/api-keys/${c.ownerKeyId}`));
    });

    test("members and grants: a bogus id or a missing grant reads like an absent one", async () => {
      const a = c.admin.api;
      await same([
        ["member", a.get("/v1/team/members/%00"), a.get("/v1/team/members/mem_0000000000000000000000000")],
        ["grant of a domain not granted", a.delete(`/v1/team/members/${c.member.id}/domain-access/${PROD}`), a.delete(`/v1/team/members/${c.member.id}/domain-access/${MISSING_DOMAIN}`)],
      ]);
    });

    test("a member naming another member's id in member_id gets the answer for an unknown id", async () => {
      const s = server();
      const before = await snapshot(s);
      const other = await c.member.api.post("/v1/api-keys", { name: "for otto", owner: "member", member_id: c.other.id });
      const owner = await c.member.api.post("/v1/api-keys", { name: "for otto", owner: "member", member_id: c.admin.id });
      const unknown = await c.member.api.post("/v1/api-keys", { name: "for otto", owner: "member", member_id: "mem_0000000000000000000000000" });
      expectProblem(unknown, 422, "/member_id");
      expect([other.status, other.text]).toEqual([unknown.status, unknown.text]);
      expect([owner.status, owner.text]).toEqual([unknown.status, unknown.text]);
      expect(await snapshot(s)).toEqual(before);
    });
  });
});

/** One raw HTTP/1.1 exchange (for bytes fetch refuses to send); resolves with everything the server wrote. */
function rawHttp(url: URL, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(text));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
  });
}
