/**
 * The audit against a scripted API that shows every kind of finding at
 * once, so a clean audit in the fault runs means the checks looked (and
 * not that they could not see).
 */
import { createServer, type Server } from "node:http";
import { audit } from "./audit";
import type { StateResource } from "./engine";

const OWNER_KEY = "ps_owner";
const key = (id: string, name: string) => ({ id, name, prefix: "ps_", owner: "organization", member_id: null, scope: "organization", domains: [], created_at: "", created_by: null, expires_at: null, last_used_at: null });
const member = (id: string, email: string, role = "member", domainAccess: { domain: string; access: string }[] = []) => ({ id, email, role, status: "invited", name: null, invited_at: "", joined_at: null, domain_access: domainAccess });

describe("audit", () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const token = req.headers.authorization?.replace(/^Bearer /, "");
      const path = req.url?.split("?")[0];
      if (req.method === "POST" && path === "/v1/api-keys") return reply(409, { status: 409, detail: "A request with this Idempotency-Key is still being processed; retry shortly." });
      if (path === "/v1/me") {
        if (token === OWNER_KEY) return reply(200, { key: { id: "key_boot" } });
        if (token === "ps_good") return reply(200, { key: { id: "key_ci" } });
        if (token === "ps_other") return reply(200, { key: { id: "key_ci_dup" } });
        return reply(401, { detail: "The token is not valid" });
      }
      if (path === "/v1/team/members") {
        return reply(200, {
          data: [member("mem_owner", "owner@acme.test", "owner"), member("mem_a", "a@example.com", "member", [{ domain: "acme.dev", access: "read" }, { domain: "acme.com", access: "read" }]), member("mem_a2", "A@example.com")],
          next_cursor: null,
        });
      }
      if (path === "/v1/api-keys") return reply(200, { data: [key("key_boot", "bootstrap"), key("key_ci", "ci"), key("key_ci_dup", "ci"), key("key_other", "other")], next_cursor: null });
      reply(404, {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("counts duplicates, orphans, lost secrets, stuck replays and missing objects", async () => {
    const state: StateResource[] = [
      { address: "postscale_team_member.a", mode: "managed", type: "postscale_team_member", values: { id: "mem_a" } },
      { address: "postscale_team_member.gone", mode: "managed", type: "postscale_team_member", values: { id: "mem_gone" } },
      { address: "postscale_domain_access.a_dev", mode: "managed", type: "postscale_domain_access", values: { member_id: "mem_a", domain: "acme.dev" } },
      { address: "postscale_api_key.ci", mode: "managed", type: "postscale_api_key", values: { id: "key_ci", secret: "ps_good" } },
      { address: "postscale_api_key.other", mode: "managed", type: "postscale_api_key", values: { id: "key_other", secret: "ps_other" } },
      { address: "postscale_api_key.imported", mode: "managed", type: "postscale_api_key", values: { id: "key_ci_dup", secret: null } },
    ];
    const posts = [{ key: "idem-1", path: "/v1/api-keys", body: Buffer.from('{"name":"ci"}'), authorization: `Bearer ${OWNER_KEY}`, attempts: 2, fates: ["reset_after" as const, "pass" as const], statuses: [201] }];
    const result = await audit({ serverUrl: url, ownerKey: OWNER_KEY, state, posts });
    expect(result).toMatchObject({ duplicates: 2, orphans: 2, lost: 2, stuck: 1, missing: 1, replays: { "409": 1 } });
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^duplicate: member a@example.com: 2 objects/),
        expect.stringMatching(/^duplicate: key "ci" of the organization: 2 objects/),
        "orphan: member A@example.com (mem_a2, invited, role member)",
        "orphan: grant a@example.com on acme.com (read)",
        "missing: postscale_team_member.gone (mem_gone) is not on the server",
        "lost: postscale_api_key.other: its secret authenticates as key key_ci_dup, not key_other",
        "lost: postscale_api_key.imported (key_ci_dup) has no secret in state",
        expect.stringMatching(/^stuck: replay of POST \/v1\/api-keys .* answers 409: A request with this Idempotency-Key is still being processed/),
      ]),
    );
  });
});
