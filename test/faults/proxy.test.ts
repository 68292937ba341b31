/**
 * The fault proxy itself, against a tiny upstream that counts what reaches
 * it: each fate does what it says (and only that), fates repeat for a seed,
 * and down/up refuse and accept connections on the same port.
 */
import { createServer, request, type Server } from "node:http";
import { FaultProxy, NO_FAULTS, type FaultRates } from "./proxy";

interface Answer {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  error?: string;
  ms: number;
}

function send(url: string, method: string, headers: Record<string, string> = {}, body = ""): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}/v1/things`, { method, headers: { ...headers, "content-type": "application/json" }, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text, ms: performance.now() - started }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, ms: performance.now() - started }));
    req.end(body);
  });
}

const only = (fate: keyof FaultRates): FaultRates => ({ ...NO_FAULTS, [fate]: 1 });

describe("FaultProxy", () => {
  let upstream: Server;
  let upstreamUrl: string;
  let seen: string[];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(201, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: `thing${seen.length}` }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const address = upstream.address();
    upstreamUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });

  afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  beforeEach(() => {
    seen = [];
  });

  async function withProxy(faults: FaultRates, run: (proxy: FaultProxy) => Promise<void>): Promise<void> {
    const proxy = new FaultProxy({ upstream: upstreamUrl, seed: 1, faults, delayMs: [150, 150] });
    await proxy.up();
    try {
      await run(proxy);
    } finally {
      await proxy.close();
    }
  }

  test("pass relays the answer and records the POST's Idempotency-Key", () =>
    withProxy(NO_FAULTS, async (proxy) => {
      const answer = await send(proxy.url, "POST", { "idempotency-key": "k1", authorization: "Bearer t" }, '{"a":1}');
      expect(answer).toMatchObject({ status: 201, body: '{"id":"thing1"}' });
      expect(seen).toEqual(['POST /v1/things {"a":1}']);
      expect(proxy.posts.get("k1")).toMatchObject({ path: "/v1/things", authorization: "Bearer t", attempts: 1, fates: ["pass"], statuses: [201] });
      expect(proxy.stats).toMatchObject({ requests: 1, forwarded: 1, statuses: { "201": 1 } });
    }));

  test("429 comes with Retry-After and never reaches the server; so does 503", async () => {
    await withProxy(only("rateLimited"), async (proxy) => {
      const answer = await send(proxy.url, "POST");
      expect(answer.status).toBe(429);
      expect(answer.headers?.["retry-after"]).toBe("1");
    });
    await withProxy(only("unavailable"), async (proxy) => {
      expect((await send(proxy.url, "PUT")).status).toBe(503);
    });
    expect(seen).toEqual([]);
  });

  test("a reset before forwarding: the client's connection breaks and the server saw nothing", () =>
    withProxy(only("resetBefore"), async (proxy) => {
      expect((await send(proxy.url, "POST")).error).toBe("ECONNRESET");
      expect(seen).toEqual([]);
    }));

  test("a reset after the server answered: the request ran, the reply is lost", () =>
    withProxy(only("resetAfter"), async (proxy) => {
      expect((await send(proxy.url, "POST", { "idempotency-key": "k2" }, "{}")).error).toBe("ECONNRESET");
      expect(seen).toEqual(["POST /v1/things {}"]);
      expect(proxy.posts.get("k2")?.statuses).toEqual([201]);
    }));

  test("a delayed request is forwarded after the pause", () =>
    withProxy(only("delayed"), async (proxy) => {
      const answer = await send(proxy.url, "GET");
      expect(answer.status).toBe(201);
      expect(answer.ms).toBeGreaterThanOrEqual(140);
    }));

  test("fates repeat for a seed and differ between seeds", () => {
    const mix: FaultRates = { rateLimited: 0.1, unavailable: 0.1, resetBefore: 0.1, resetAfter: 0.1, delayed: 0.1 };
    const fates = (seed: number) => Array.from({ length: 200 }, (_, i) => new FaultProxy({ upstream: upstreamUrl, seed, faults: mix }).fateOf(i + 1).fate);
    expect(fates(7)).toEqual(fates(7));
    expect(fates(7)).not.toEqual(fates(8));
    const counts = fates(7).reduce<Record<string, number>>((c, f) => ({ ...c, [f]: (c[f] ?? 0) + 1 }), {});
    expect(counts.pass).toBeGreaterThan(60);
    expect(counts.pass).toBeLessThan(140);
  });

  test("an answer listener can drop the reply (a kill between commit and reply)", () =>
    withProxy(NO_FAULTS, async (proxy) => {
      proxy.onAnswer((req, status) => (req.method === "POST" && status === 201 ? "drop" : undefined));
      expect((await send(proxy.url, "POST")).error).toBe("ECONNRESET");
      expect(seen).toHaveLength(1);
      expect(proxy.stats.droppedAnswers).toBe(1);
    }));

  test("down refuses connections, up listens again on the same port", () =>
    withProxy(NO_FAULTS, async (proxy) => {
      const url = proxy.url;
      await proxy.down();
      expect((await send(url, "GET")).error).toBe("ECONNREFUSED");
      await proxy.up();
      expect(proxy.url).toBe(url);
      expect((await send(url, "GET")).status).toBe(201);
    }));
});
