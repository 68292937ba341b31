/**
 * Cancellation: a client-wide signal (what a provider aborts when the
 * engine goes away) and a per-call one. A cancelled request stops at once,
 * in flight or between retries, and fails with a "cancelled" error.
 */
import { getEventListeners } from "node:events";
import { PostscaleClient } from "../../src/api";
import { closeAfterEach, json, problem, recordingSleep, rejection, startScriptedServer, until, type Handler } from "./scripted-server";

const opened = closeAfterEach();

/** Never answers; counts connections closed by the client. */
function silent(): { handler: Handler; closed: () => number } {
  let closed = 0;
  return {
    handler: (_request, _response, raw) => raw.socket.once("close", () => closed++),
    closed: () => closed,
  };
}

describe("cancellation", () => {
  it("aborts the attempt in flight when the client's signal fires, and does not retry", async () => {
    const { handler, closed } = silent();
    const server = (opened.server = await startScriptedServer(handler));
    const stop = new AbortController();
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, apiKey: "ps_x", signal: stop.signal, timeoutMs: 60_000 }));
    const pending = rejection(client.updateMember("mem_x", { role: "admin" }));
    await until(() => server.requests.length === 1);
    const started = Date.now();
    stop.abort("the engine went away");
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.message).toBe("PATCH /v1/team/members/mem_x: cancelled (the engine went away)");
    expect(error.failure).toBe("cancelled");
    expect(error.code).toBe("POSTSCALE_E_NETWORK");
    expect(error.attempts).toEqual([{ failure: "cancelled", ms: expect.any(Number) }]);
    await until(() => closed() === 1);
    expect(server.requests).toHaveLength(1);
  });

  it("cancels every request of the client and its withToken clones at once", async () => {
    const server = (opened.server = await startScriptedServer(silent().handler));
    const stop = new AbortController();
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, apiKey: "ps_x", signal: stop.signal }));
    const other = client.withToken("ps_y");
    const pending = [
      rejection(client.getOrganization()),
      rejection(other.listMembers()),
      rejection(client.createApiKey({ name: "ci", owner: "organization" })),
      rejection(other.setDomainAccess("mem_x", "a.example.com", "read_write")),
    ];
    await until(() => server.requests.length === 4);
    stop.abort();
    const errors = await Promise.all(pending);
    expect(errors.map((e) => e.failure)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(errors[0].message).toBe("GET /v1/organization: cancelled");
  });

  it("stops waiting between retries at once, listing the attempts made", async () => {
    const server = (opened.server = await startScriptedServer(problem(503, "Service Unavailable", "x", { "retry-after": "30" })));
    const stop = new AbortController();
    // The real sleep: the 30 s wait must end when the signal fires.
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, signal: stop.signal }));
    const pending = rejection(client.updateApiKey("k1", { name: "x" }));
    await until(() => server.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    stop.abort(new Error("provider stopping"));
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.message).toMatch(/^PATCH \/v1\/api-keys\/k1 cancelled \(provider stopping\) after 1 attempt over \d+ ms: 503$/);
    expect(error.attempts).toEqual([{ status: 503, ms: expect.any(Number) }]);
    expect(server.requests).toHaveLength(1);
  });

  it("stops waiting even when an injected sleep ignores the signal", async () => {
    const server = (opened.server = await startScriptedServer(problem(503, "Service Unavailable", "x")));
    const stop = new AbortController();
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, signal: stop.signal, sleep: () => new Promise<void>(() => undefined) }));
    const pending = rejection(client.getOrganization());
    await until(() => server.requests.length === 1);
    stop.abort();
    expect((await pending).failure).toBe("cancelled");
  });

  it("sends nothing when the signal has already fired", async () => {
    const server = (opened.server = await startScriptedServer(json(200, {})));
    const { sleep, delays } = recordingSleep();
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, signal: AbortSignal.abort(), sleep }));
    const error = await rejection(client.deleteDomain("a.example.com"));
    expect(error.message).toBe("DELETE /v1/domains/a.example.com: cancelled");
    expect(error.attempts).toEqual([]);
    expect(server.requests).toHaveLength(0);
    expect(delays).toEqual([]);
  });

  it("cancels one call through request()'s signal and leaves the others running", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = (opened.server = await startScriptedServer((request, response, raw) => void gate.then(() => json(200, { ok: true })(request, response, raw))));
    const client = (opened.client = new PostscaleClient({ endpoint: server.url }));
    const one = new AbortController();
    const cancelled = rejection(client.request("PUT", "/v1/organization/billing", { body: {}, signal: one.signal }));
    const kept = client.request("PUT", "/v1/organization/billing", { body: {} });
    await until(() => server.requests.length === 2);
    one.abort();
    expect((await cancelled).message).toBe("PUT /v1/organization/billing: cancelled");
    release();
    await expect(kept).resolves.toEqual({ ok: true });
  });

  it("combines the client's signal with a call's own", async () => {
    const server = (opened.server = await startScriptedServer(silent().handler));
    const stop = new AbortController();
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, signal: stop.signal }));
    const pending = rejection(client.request("GET", "/v1/me", { signal: new AbortController().signal }));
    await until(() => server.requests.length === 1);
    stop.abort("shutdown");
    expect((await pending).message).toBe("GET /v1/me: cancelled (shutdown)");
  });

  it("keeps a coalesced read going while one of its callers still waits, and aborts it when none does", async () => {
    const { handler, closed } = silent();
    let answer: (() => void) | undefined;
    const server = (opened.server = await startScriptedServer((request, response, raw) => {
      handler(request, response, raw);
      answer = () => json(200, { id: "org_1" })(request, response, raw);
    }));
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, apiKey: "ps_x" }));
    const first = new AbortController();
    const second = new AbortController();
    const a = rejection(client.request("GET", "/v1/organization", { signal: first.signal }));
    const b = client.request("GET", "/v1/organization", { signal: second.signal });
    await until(() => server.requests.length === 1);
    first.abort();
    expect((await a).failure).toBe("cancelled");
    answer!();
    await expect(b).resolves.toEqual({ id: "org_1" });
    expect(server.requests).toHaveLength(1);

    const c = new AbortController();
    const d = new AbortController();
    const both = [rejection(client.request("GET", "/v1/me", { signal: c.signal })), rejection(client.request("GET", "/v1/me", { signal: d.signal }))];
    await until(() => server.requests.length === 2);
    c.abort();
    d.abort();
    expect((await Promise.all(both)).map((e) => e.failure)).toEqual(["cancelled", "cancelled"]);
    await until(() => closed() >= 1);
    // A new caller does not join the abandoned request: it gets its own.
    const e = client.request("GET", "/v1/me");
    await until(() => server.requests.length === 3);
    answer!();
    await expect(e).resolves.toEqual({ id: "org_1" });
  });

  it("adds one listener to a caller's signal however many requests use it (no listener-leak warning)", async () => {
    const server = (opened.server = await startScriptedServer(silent().handler));
    const stop = new AbortController();
    const perCall = new AbortController();
    const client = (opened.client = new PostscaleClient({ endpoint: server.url, signal: stop.signal }));
    const pending = [
      ...Array.from({ length: 20 }, (_, i) => rejection(client.getMember(`m${i}`))),
      ...Array.from({ length: 20 }, (_, i) => rejection(client.request("PATCH", `/v1/team/members/n${i}`, { body: {}, signal: perCall.signal }))),
    ];
    await until(() => server.requests.length === 40);
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(1);
    expect(getEventListeners(perCall.signal, "abort")).toHaveLength(1);
    stop.abort();
    expect((await Promise.all(pending)).every((e) => e.failure === "cancelled")).toBe(true);
  });
});
