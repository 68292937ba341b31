/**
 * What a failed request says: every attempt after retries, and words that
 * tell an unreachable API, a reset connection and a slow answer apart.
 */
import { errors as undiciErrors } from "undici";
import { PostscaleClient } from "../../src/api";
import { attemptLabel, formatDuration, networkError } from "../../src/api/response-error";
import { closeAfterEach, json, problem, recordingSleep, rejection, resetConnection, startScriptedServer } from "./scripted-server";

const opened = closeAfterEach();

function clientFor(url: string, extra: Partial<ConstructorParameters<typeof PostscaleClient>[0]> = {}): PostscaleClient {
  const client = (opened.client = new PostscaleClient({ endpoint: url, apiKey: "ps_test_secret", sleep: recordingSleep().sleep, random: () => 0.5, ...extra }));
  return client;
}

const RESET_WORDS = "The connection to the Postscale API was reset (the server may have restarted or a proxy dropped it)";

describe("errors after retries", () => {
  it("list every attempt in the message and in `attempts`, and keep the last answer's code, status and problem", async () => {
    const server = (opened.server = await startScriptedServer(
      problem(503, "Service Unavailable", "x"),
      problem(503, "Service Unavailable", "x"),
      problem(429, "Too Many Requests", "slow down", { "retry-after": "0" }),
      resetConnection,
      problem(503, "Service Unavailable", "down for maintenance"),
    ));
    const error = await rejection(clientFor(server.url).updateMember("mem_x", { role: "admin" }));
    expect(server.requests).toHaveLength(5);
    expect(error.message).toMatch(
      /^PATCH \/v1\/team\/members\/mem_x failed after 5 attempts over \d+ ms: 503, 503, 429, reset, 503\. Last: 503 Service Unavailable: down for maintenance$/,
    );
    expect(error.code).toBe("POSTSCALE_E_SERVER");
    expect(error.status).toBe(503);
    expect(error.problem?.detail).toBe("down for maintenance");
    expect(error.attempts).toEqual([
      { status: 503, ms: expect.any(Number) },
      { status: 503, ms: expect.any(Number) },
      { status: 429, ms: expect.any(Number) },
      { failure: "reset", code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/), ms: expect.any(Number) },
      { status: 503, ms: expect.any(Number) },
    ]);
  });

  it("count the time spent waiting between attempts", async () => {
    const server = (opened.server = await startScriptedServer(problem(503, "Service Unavailable", "x")));
    const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const error = await rejection(clientFor(server.url, { retries: 1, sleep: () => wait(1100) }).getOrganization());
    expect(error.message).toMatch(/^GET \/v1\/organization failed after 2 attempts over 1\.\d s: 503, 503\. Last: 503 Service Unavailable: x$/);
  });

  it("end with the transport failure when the last attempt got no answer", async () => {
    const server = (opened.server = await startScriptedServer(problem(502, "Bad Gateway", "x"), resetConnection));
    const error = await rejection(clientFor(server.url, { retries: 2 }).removeMember("mem_x"));
    expect(error.message).toMatch(/^DELETE \/v1\/team\/members\/mem_x failed after 3 attempts over .+: 502, reset, reset\. Last: The connection to the Postscale API was reset/);
    expect(error.code).toBe("POSTSCALE_E_NETWORK");
    expect(error.failure).toBe("reset");
  });

  it("list the attempts when a retry is answered with an error that is not retried", async () => {
    const server = (opened.server = await startScriptedServer(problem(503, "Service Unavailable", "x"), problem(404, "Not Found", "no such member")));
    const error = await rejection(clientFor(server.url).getMember("mem_x"));
    expect(error.message).toMatch(/^GET \/v1\/team\/members\/mem_x failed after 2 attempts over .+: 503, 404\. Last: 404 Not Found: no such member$/);
    expect(error.code).toBe("POSTSCALE_E_NOT_FOUND");
  });

  it("keep today's message shape for a single attempt, with the attempt recorded", async () => {
    const server = (opened.server = await startScriptedServer(problem(503, "Service Unavailable", "x")));
    const error = await rejection(clientFor(server.url, { retries: 0 }).updateMember("mem_x", { role: "admin" }));
    expect(error.message).toBe("PATCH /v1/team/members/mem_x: 503 Service Unavailable: x");
    expect(error.attempts).toEqual([{ status: 503, ms: expect.any(Number) }]);
  });

  it("format durations and attempt labels", () => {
    expect(formatDuration(12_345)).toBe("12.3 s");
    expect(formatDuration(350.4)).toBe("350 ms");
    expect(
      [
        { status: 429, ms: 1 },
        { failure: "unreachable" as const, code: "ECONNREFUSED", ms: 1 },
        { failure: "unreachable" as const, code: "ENOTFOUND", ms: 1 },
        { failure: "unreachable" as const, code: "UND_ERR_CONNECT_TIMEOUT", ms: 1 },
        { failure: "reset" as const, code: "UND_ERR_SOCKET", ms: 1 },
        { failure: "timeout" as const, code: "TimeoutError", ms: 1 },
        { failure: "cancelled" as const, ms: 1 },
        { failure: "other" as const, code: "ERR_TLS_CERT_ALTNAME_INVALID", ms: 1 },
      ].map(attemptLabel),
    ).toEqual(["429", "refused", "DNS failure", "connect timeout", "reset", "timeout", "cancelled", "ERR_TLS_CERT_ALTNAME_INVALID"]);
  });
});

describe("transport failures in words", () => {
  it("a refused connection: the API cannot be reached at the endpoint", async () => {
    const server = (opened.server = await startScriptedServer(json(200, {})));
    const url = server.url;
    await server.close();
    const error = await rejection(clientFor(url, { retries: 0 }).getOrganization());
    expect(error.message).toMatch(new RegExp(`^GET /v1/organization: Cannot reach the Postscale API at ${url}: .*ECONNREFUSED`));
    expect(error.code).toBe("POSTSCALE_E_NETWORK");
    expect(error.failure).toBe("unreachable");
    expect(error.attempts).toEqual([{ failure: "unreachable", code: "ECONNREFUSED", ms: expect.any(Number) }]);
  });

  it("a DNS failure and a connect timeout: the API cannot be reached", () => {
    const where = { endpoint: "http://postscale.invalid", timeoutMs: 30_000 };
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND postscale.invalid"), { code: "ENOTFOUND" });
    expect(networkError("GET", "/v1/me", dns, where).message).toBe("GET /v1/me: Cannot reach the Postscale API at http://postscale.invalid: getaddrinfo ENOTFOUND postscale.invalid");
    const connect = networkError("GET", "/v1/me", new undiciErrors.ConnectTimeoutError(), where);
    expect(connect.message).toMatch(/^GET \/v1\/me: Cannot reach the Postscale API at http:\/\/postscale\.invalid: /);
    expect(connect.failure).toBe("unreachable");
  });

  it("a reset while the server is up: the connection was reset, not 'cannot reach'", async () => {
    const server = (opened.server = await startScriptedServer(resetConnection));
    const error = await rejection(clientFor(server.url, { retries: 0 }).updateApiKey("k1", { name: "x" }));
    expect(error.message.startsWith(`PATCH /v1/api-keys/k1: ${RESET_WORDS}`)).toBe(true);
    expect(error.message).not.toMatch(/cannot reach/i);
    expect(error.failure).toBe("reset");
    expect(error.code).toBe("POSTSCALE_E_NETWORK");
  });

  it("a connection closed after the server began answering is a reset too", async () => {
    const server = (opened.server = await startScriptedServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      response.write('{"id":');
      setTimeout(() => response.socket?.destroy(), 20);
    }));
    const error = await rejection(clientFor(server.url, { retries: 0 }).getOrganization());
    expect(error.message.startsWith(`GET /v1/organization: ${RESET_WORDS}`)).toBe(true);
    expect(error.failure).toBe("reset");
  });

  it("no answer in time: says so, with the timeout", async () => {
    const server = (opened.server = await startScriptedServer(() => undefined));
    const error = await rejection(clientFor(server.url, { retries: 0, timeoutMs: 150 }).getOrganization());
    expect(error.message).toBe(`GET /v1/organization: No answer from the Postscale API at ${server.url} within 150 ms (the client's timeoutMs)`);
    expect(error.failure).toBe("timeout");
    expect(error.attempts).toEqual([{ failure: "timeout", code: "TimeoutError", ms: expect.any(Number) }]);
  });

  it("names the endpoint with its base path and never a credential", async () => {
    const server = (opened.server = await startScriptedServer(json(200, {})));
    const url = server.url;
    await server.close();
    const error = await rejection(clientFor(`${url}/base/`, { retries: 0 }).getOrganization());
    expect(error.message).toContain(`Cannot reach the Postscale API at ${url}/base:`);
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain("ps_test_secret");
  });
});
