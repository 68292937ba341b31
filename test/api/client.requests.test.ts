import { Agent } from "undici";
import { DEFAULT_PAGE_LIMIT, PostscaleClient, type RequestInfo } from "../../src/api";
import { json, noContent, startScriptedServer, type Handler, type ScriptedServer } from "./scripted-server";

let server: ScriptedServer | undefined;
let client: PostscaleClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setUp(handler: Handler, options: { apiKey?: string; onRequest?: (i: RequestInfo) => void; coalesceReads?: boolean } = {}) {
  server = await startScriptedServer(handler);
  client = new PostscaleClient({ endpoint: server.url, retries: 0, ...options });
  return { server, client };
}

describe("requests", () => {
  it("sends the Bearer credential, JSON body and user agent", async () => {
    const { server, client } = await setUp(json(200, { id: "m1", role: "admin" }), { apiKey: "ps_abc" });
    await client.updateMember("m1", { role: "admin" });
    const [request] = server.requests;
    expect(request.method).toBe("PATCH");
    expect(request.url).toBe("/v1/team/members/m1");
    expect(request.headers.authorization).toBe("Bearer ps_abc");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["user-agent"]).toBe("postscale-cdktf-client");
    expect(request.headers["idempotency-key"]).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({ role: "admin" });
  });

  it("sends no credential for invitation and sign-up calls, and none when the client has none", async () => {
    const { server, client } = await setUp(json(200, { token: "sess" }));
    const member = client.withToken("ps_member");
    await member.acceptInvitation("tok", { name: "Ada", password: "correct horse" });
    await member.login("ada@example.com", "pw");
    await member.verifyEmail("vtok");
    await client.getOrganization();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined, undefined, undefined]);
    expect(server.requests.map((r) => r.url)).toEqual(["/v1/invitations/tok/accept", "/v1/auth/login", "/v1/auth/verify-email", "/v1/organization"]);
  });

  it("withToken shares the pool but sends its own credential; closing the clone keeps the pool open", async () => {
    const { server, client } = await setUp(json(200, {}), { apiKey: "ps_owner" });
    const member = client.withToken("sess_member");
    await member.me();
    await member.close();
    await client.me();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer sess_member", "Bearer ps_owner"]);
  });

  it("reuses keep-alive connections: 20 sequential requests open at most 2", async () => {
    const ports = new Set<number>();
    const { client } = await setUp((_req, res, raw) => {
      ports.add(raw.socket.remotePort ?? 0);
      json(200, {})(_req, res, raw);
    });
    for (let i = 0; i < 20; i++) await client.getOrganization();
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it("encodes path segments and serializes the query in sorted order", async () => {
    const { server, client } = await setUp(json(200, {}));
    await client.getMember("a/b c");
    await client.request("GET", "/v1/x", { query: { z: 1, a: true, skip: undefined, s: "x y" } });
    expect(server.requests.map((r) => r.url)).toEqual(["/v1/team/members/a%2Fb%20c", "/v1/x?a=true&s=x+y&z=1"]);
  });

  it("resolves 204 as undefined", async () => {
    const { client } = await setUp(noContent);
    await expect(client.removeDomainAccess("m1", "a.example.com")).resolves.toBeUndefined();
    await expect(client.deleteApiKey("k1")).resolves.toBeUndefined();
  });

  it("keeps a path prefix of the endpoint", async () => {
    server = await startScriptedServer(json(200, {}));
    client = new PostscaleClient({ endpoint: `${server.url}/api/`, retries: 0 });
    await client.getOrganization();
    expect(server.requests[0].url).toBe("/api/v1/organization");
  });

  it("uses a caller-supplied dispatcher and leaves it open on close", async () => {
    const agent = new Agent();
    server = await startScriptedServer(json(200, {}));
    client = new PostscaleClient({ endpoint: server.url, dispatcher: agent });
    await client.close();
    expect(agent.closed).toBe(false);
    await agent.close();
  });
});

describe("pagination", () => {
  const pages: Handler = (request, response, raw) => {
    const cursor = new URL(request.url, "http://x").searchParams.get("cursor");
    const page =
      cursor === null
        ? { data: [{ id: "m1" }, { id: "m2" }], next_cursor: "c2" }
        : cursor === "c2"
          ? { data: [{ id: "m3" }], next_cursor: "c3" }
          : { data: [{ id: "m4" }], next_cursor: null };
    json(200, page)(request, response, raw);
  };

  it("follows next_cursor across pages with the default limit", async () => {
    const { server, client } = await setUp(pages);
    const members = await client.listMembers({ includeDomainAccess: true });
    expect(members.map((m) => m.id)).toEqual(["m1", "m2", "m3", "m4"]);
    expect(server.requests.map((r) => r.url)).toEqual([
      `/v1/team/members?include=domain_access&limit=${DEFAULT_PAGE_LIMIT}`,
      `/v1/team/members?cursor=c2&include=domain_access&limit=${DEFAULT_PAGE_LIMIT}`,
      `/v1/team/members?cursor=c3&include=domain_access&limit=${DEFAULT_PAGE_LIMIT}`,
    ]);
  });

  it("lets the query choose the page size and iterates lazily", async () => {
    const { server, client } = await setUp(pages);
    const seen: string[] = [];
    for await (const item of client.paginate<{ id: string }>("/v1/api-keys", { limit: 2 })) {
      seen.push(item.id);
      if (item.id === "m2") break;
    }
    expect(seen).toEqual(["m1", "m2"]);
    expect(server.requests.map((r) => r.url)).toEqual(["/v1/api-keys?limit=2"]);
  });

  it("treats a bare array answer as the only page", async () => {
    const { server, client } = await setUp(json(200, [{ domain: "a.example.com", access: "read" }]));
    await expect(client.listDomainAccess("m1")).resolves.toEqual([{ domain: "a.example.com", access: "read" }]);
    expect(server.requests).toHaveLength(1);
  });
});

describe("request coalescing", () => {
  /** Holds every answer until `release()` so the calls overlap for sure. */
  function heldAnswer(body: unknown) {
    const waiting: Array<() => void> = [];
    const handler: Handler = (request, response, raw) => {
      waiting.push(() => json(200, body)(request, response, raw));
    };
    return { handler, waiting, release: () => waiting.splice(0).forEach((answer) => answer()) };
  }

  async function until(condition: () => boolean) {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  it("sends one request for N concurrent identical GETs and gives each caller its own copy", async () => {
    const held = heldAnswer({ data: [{ id: "m1", email: "a@example.com" }], next_cursor: null });
    const hits: RequestInfo[] = [];
    const { server, client } = await setUp(held.handler, { apiKey: "ps_owner", onRequest: (i) => hits.push(i) });
    const calls = Array.from({ length: 20 }, () => client.listMembers());
    await until(() => held.waiting.length === 1);
    held.release();
    const results = await Promise.all(calls);
    expect(server.requests).toHaveLength(1);
    expect(hits).toHaveLength(1);
    expect(results.every((r) => r.length === 1 && r[0].id === "m1")).toBe(true);
    results[0][0].email = "changed@example.com";
    expect(results[1][0].email).toBe("a@example.com");
  });

  it("does not share between credentials, queries or writes", async () => {
    const held = heldAnswer({ id: "x" });
    const { server, client } = await setUp(held.handler, { apiKey: "ps_owner" });
    const other = client.withToken("sess_member");
    const calls = [
      client.getDomain("a.example.com"),
      other.getDomain("a.example.com"),
      client.getDomain("b.example.com"),
      client.request("GET", "/v1/domains/a.example.com", { query: { x: 1 } }),
      client.setDomainAccess("m1", "a.example.com", "read"),
      client.setDomainAccess("m1", "a.example.com", "read"),
    ];
    await until(() => held.waiting.length === 6);
    held.release();
    await Promise.all(calls);
    expect(server.requests).toHaveLength(6);
  });

  it("asks the server again once the shared request has settled", async () => {
    const { server, client } = await setUp(json(200, {}));
    await client.getOrganization();
    await client.getOrganization();
    expect(server.requests).toHaveLength(2);
  });

  it("can be switched off", async () => {
    const held = heldAnswer({});
    const { server, client } = await setUp(held.handler, { coalesceReads: false });
    const calls = [client.getOrganization(), client.getOrganization()];
    await until(() => held.waiting.length === 2);
    held.release();
    await Promise.all(calls);
    expect(server.requests).toHaveLength(2);
  });
});
