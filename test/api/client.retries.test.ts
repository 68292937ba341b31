import { PostscaleClient, type RequestInfo } from "../../src/api";
import { json, problem, recordingSleep, rejection, resetConnection, startScriptedServer, type ScriptedServer } from "./scripted-server";

let server: ScriptedServer | undefined;
let client: PostscaleClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function clientFor(url: string, extra: Partial<ConstructorParameters<typeof PostscaleClient>[0]> = {}) {
  const recorder = recordingSleep();
  const attempts: RequestInfo[] = [];
  client = new PostscaleClient({
    endpoint: url,
    apiKey: "ps_test_secret",
    sleep: recorder.sleep,
    random: () => 0.5,
    onRequest: (info) => attempts.push(info),
    ...extra,
  });
  return { client, delays: recorder.delays, attempts };
}

describe("retries", () => {
  it("retries a GET on 503 with exponential jittered backoff until it succeeds", async () => {
    server = await startScriptedServer(problem(503, "Service Unavailable", "x"), problem(502, "Bad Gateway", "x"), problem(504, "Gateway Timeout", "x"), json(200, { id: "org_1" }));
    const { client, delays, attempts } = clientFor(server.url);
    await expect(client.getOrganization()).resolves.toEqual({ id: "org_1" });
    expect(server.requests).toHaveLength(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 503], [2, 502], [3, 504], [4, 200]]);
  });

  it("gives up after `retries` retries and throws the last answer", async () => {
    server = await startScriptedServer(problem(503, "Service Unavailable", "down for maintenance"));
    const { client, delays } = clientFor(server.url, { retries: 2, maxBackoffMs: 300 });
    const error = await rejection(client.listDomains());
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([100, 150]);
    expect(error.code).toBe("POSTSCALE_E_SERVER");
    expect(error.status).toBe(503);
  });

  it("honours Retry-After in seconds on 429", async () => {
    server = await startScriptedServer(problem(429, "Too Many Requests", "slow down", { "retry-after": "2" }), json(200, { id: "m1" }));
    const { client, delays } = clientFor(server.url);
    await expect(client.getMember("m1")).resolves.toEqual({ id: "m1" });
    expect(delays).toEqual([2000]);
  });

  it("honours Retry-After as an HTTP-date", async () => {
    const at = new Date(Date.now() + 3000).toUTCString();
    server = await startScriptedServer(problem(429, "Too Many Requests", "slow down", { "retry-after": at }), json(200, {}));
    const { client, delays } = clientFor(server.url);
    await client.getOrganization();
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(1000);
    expect(delays[0]).toBeLessThanOrEqual(3000);
  });

  it("caps a long Retry-After at maxRetryAfterMs", async () => {
    server = await startScriptedServer(problem(429, "Too Many Requests", "x", { "retry-after": "86400" }), json(200, {}));
    const { client, delays } = clientFor(server.url, { maxRetryAfterMs: 750 });
    await client.getOrganization();
    expect(delays).toEqual([750]);
  });

  it("really waits for Retry-After with the default sleep", async () => {
    server = await startScriptedServer(problem(429, "Too Many Requests", "x", { "retry-after": "1" }), json(200, {}));
    client = new PostscaleClient({ endpoint: server.url });
    const started = Date.now();
    await client.getOrganization();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it.each([400, 401, 403, 404, 409, 422, 500])("does not retry %i", async (status) => {
    server = await startScriptedServer(problem(status, "Nope", "x"), json(200, {}));
    const { client, delays } = clientFor(server.url);
    const error = await rejection(client.getOrganization());
    expect(error.status).toBe(status);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("retries PATCH on 502/503/504 with the same body: the API's PATCHes set absolute values", async () => {
    server = await startScriptedServer(problem(503, "Service Unavailable", "x"), problem(502, "Bad Gateway", "x"), problem(504, "Gateway Timeout", "x"), json(200, { id: "m1", role: "admin" }));
    const { client } = clientFor(server.url);
    await expect(client.updateMember("m1", { role: "admin" })).resolves.toMatchObject({ role: "admin" });
    expect(server.requests.map((r) => [r.method, r.body])).toEqual(Array(4).fill(["PATCH", '{"role":"admin"}']));
  });

  it("does not retry PATCH on 500", async () => {
    server = await startScriptedServer(problem(500, "Internal Server Error", "x"), json(200, {}));
    const { client } = clientFor(server.url);
    const error = await rejection(client.updateMember("m1", { role: "admin" }));
    expect(error.status).toBe(500);
    expect(server.requests).toHaveLength(1);
  });

  it("retries PATCH on 429: the server did not process it", async () => {
    server = await startScriptedServer(problem(429, "Too Many Requests", "x", { "retry-after": "0" }), json(200, { id: "m1", role: "admin" }));
    const { client } = clientFor(server.url);
    await expect(client.updateMember("m1", { role: "admin" })).resolves.toMatchObject({ role: "admin" });
    expect(server.requests.map((r) => r.method)).toEqual(["PATCH", "PATCH"]);
  });

  it("retries a POST on 503 with the same Idempotency-Key and body", async () => {
    server = await startScriptedServer(problem(503, "Service Unavailable", "x"), resetConnection, json(201, { id: "m9", email: "a@example.com" }));
    const { client } = clientFor(server.url);
    await client.inviteMember({ email: "a@example.com", role: "member" });
    expect(server.requests).toHaveLength(3);
    const keys = server.requests.map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
  });

  it("generates a fresh Idempotency-Key per POST call and uses a given one as is", async () => {
    server = await startScriptedServer(json(201, {}));
    const { client } = clientFor(server.url);
    await client.createDomain("a.example.com");
    await client.createDomain("a.example.com");
    await client.createApiKey({ name: "ci", owner: "organization" }, { idempotencyKey: "tf-key-ci" });
    const keys = server.requests.map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).not.toEqual(keys[1]);
    expect(keys[2]).toBe("tf-key-ci");
  });

  it("retries a GET after a connection reset", async () => {
    server = await startScriptedServer(resetConnection, json(200, { id: "org_1" }));
    const { client, attempts } = clientFor(server.url);
    await expect(client.getOrganization()).resolves.toEqual({ id: "org_1" });
    expect(attempts.map((a) => a.status)).toEqual([0, 200]);
  });

  it("retries a PATCH after a connection reset", async () => {
    server = await startScriptedServer(resetConnection, json(200, { id: "k1", name: "x" }));
    const { client, attempts } = clientFor(server.url);
    await expect(client.updateApiKey("k1", { name: "x" })).resolves.toEqual({ id: "k1", name: "x" });
    expect(attempts.map((a) => a.status)).toEqual([0, 200]);
  });

  it("retries a refused connection for a GET and reports a network error in the end", async () => {
    server = await startScriptedServer(json(200, {}));
    const url = server.url;
    await server.close();
    server = undefined;
    const { client, delays } = clientFor(url, { retries: 2 });
    const error = await rejection(client.getOrganization());
    expect(error.code).toBe("POSTSCALE_E_NETWORK");
    expect(error.message).toMatch(/^GET \/v1\/organization failed after 3 attempts over .*: refused, refused, refused\. Last: Cannot reach the Postscale API at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(error.failure).toBe("unreachable");
    expect(error.cause).toMatchObject({ code: "ECONNREFUSED", syscall: "connect", address: "127.0.0.1", port: Number(new URL(url).port) });
    expect(delays).toHaveLength(2);
  });

  it("times out a slow attempt and retries it", async () => {
    server = await startScriptedServer(() => undefined, json(200, { id: "org_1" }));
    const { client, attempts } = clientFor(server.url, { timeoutMs: 150 });
    await expect(client.getOrganization()).resolves.toEqual({ id: "org_1" });
    expect(attempts.map((a) => a.status)).toEqual([0, 200]);
  });
});
