/**
 * A fault-injecting HTTP proxy between the provider and the Postscale
 * server. Each request draws its fate from the seed and its arrival number
 * (the n-th request of a run meets the same fate for the same seed):
 *
 * - `rate_limited`: answered 429 with `Retry-After`, never forwarded;
 * - `unavailable`: answered 503, never forwarded;
 * - `reset_before`: the connection is reset before anything is forwarded;
 * - `reset_after`: forwarded, the server answers (the request ran), then the
 *   connection is reset instead of relaying the answer: a lost reply;
 * - `delayed`: forwarded after a pause;
 * - `pass`: forwarded as is.
 *
 * It counts what it did, and keeps every POST that carried an
 * `Idempotency-Key` (with its credential, in memory only) so the audit can
 * replay them. `down()`/`up()` stop and restart listening on the same port,
 * so while the server is killed the provider meets a refused connection, as
 * it would without the proxy.
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { deriveSeed, prng } from "./random";

export type Fate = "pass" | "rate_limited" | "unavailable" | "reset_before" | "reset_after" | "delayed";

export const FATES: readonly Fate[] = ["pass", "rate_limited", "unavailable", "reset_before", "reset_after", "delayed"];

/** Per-request probabilities of each fault (the rest pass). */
export interface FaultRates {
  rateLimited: number;
  unavailable: number;
  resetBefore: number;
  resetAfter: number;
  delayed: number;
}

export const NO_FAULTS: FaultRates = { rateLimited: 0, unavailable: 0, resetBefore: 0, resetAfter: 0, delayed: 0 };

/** The mix of the proxy runs: about one request in three meets a fault. */
export const DEFAULT_FAULTS: FaultRates = { rateLimited: 0.06, unavailable: 0.06, resetBefore: 0.06, resetAfter: 0.06, delayed: 0.1 };

export interface ProxyOptions {
  /** Where requests go, e.g. http://127.0.0.1:4000. */
  upstream: string;
  seed: number;
  faults?: FaultRates;
  /** Port to listen on (0 picks one; kept across down/up). */
  port?: number;
  /** The Retry-After of injected 429s, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /** Pause of a delayed request, drawn in [min, max] ms. @default [50, 600] */
  delayMs?: [number, number];
}

/** A request the proxy sent on to the server. */
export interface ForwardedRequest {
  seq: number;
  method: string;
  path: string;
}

/** A POST with an Idempotency-Key, as first seen. */
export interface IdempotentPost {
  key: string;
  path: string;
  body: Buffer;
  authorization: string | undefined;
  /** How often it was sent (the client's retries reuse the key). */
  attempts: number;
  /** Fates of the attempts. */
  fates: Fate[];
  /** Statuses the server answered (relayed or lost). */
  statuses: number[];
}

export interface ProxyStats {
  requests: number;
  fates: Record<Fate, number>;
  forwarded: number;
  /** Forwarded requests that got no answer from the server (it was killed or down). */
  upstreamFailures: number;
  /** Statuses the server answered, by code. */
  statuses: Record<string, number>;
  /** Answers 409 "still being processed" (an Idempotency-Key claim not finished). */
  inProgressConflicts: number;
  /** Answers withheld by an {@link FaultProxy.onAnswer} listener (a kill between the server's commit and its reply). */
  droppedAnswers: number;
}

/** Text of the server's answer to a replay whose first request never finished. */
export const IN_PROGRESS = /still being processed|in progress/i;

/** Hop-by-hop headers, never relayed. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length"]);

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private upstream: URL;
  private faults: FaultRates;
  private seq = 0;
  private listeners: ((request: ForwardedRequest) => void)[] = [];
  private answerListeners: ((request: ForwardedRequest, status: number) => "drop" | void)[] = [];
  readonly posts = new Map<string, IdempotentPost>();
  readonly stats: ProxyStats = {
    requests: 0,
    fates: Object.fromEntries(FATES.map((f) => [f, 0])) as Record<Fate, number>,
    forwarded: 0,
    upstreamFailures: 0,
    statuses: {},
    inProgressConflicts: 0,
    droppedAnswers: 0,
  };
  port: number;

  constructor(private readonly options: ProxyOptions) {
    this.upstream = new URL(options.upstream);
    this.faults = options.faults ?? NO_FAULTS;
    this.port = options.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening (again, on the same port after {@link down}). */
  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    if (typeof address === "object" && address) this.port = address.port;
    this.server = server;
  }

  /** Stops listening and resets every open connection: what a killed server looks like to its clients. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    await closed;
  }

  async close(): Promise<void> {
    await this.down();
    this.agent.destroy();
  }

  setUpstream(url: string): void {
    this.upstream = new URL(url);
  }

  setFaults(faults: FaultRates): void {
    this.faults = faults;
  }

  /** Calls `listener` whenever a request is sent on to the server. */
  onForward(listener: (request: ForwardedRequest) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Calls `listener` when the server answered a forwarded request, before
   * the answer is relayed; returning "drop" resets the client's connection
   * instead (the request ran, its reply is lost).
   */
  onAnswer(listener: (request: ForwardedRequest, status: number) => "drop" | void): () => void {
    this.answerListeners.push(listener);
    return () => {
      this.answerListeners = this.answerListeners.filter((l) => l !== listener);
    };
  }

  /** The fate of the `seq`-th request, and its pause when delayed. */
  fateOf(seq: number): { fate: Fate; delayMs: number } {
    const random = prng(deriveSeed(this.options.seed, seq));
    const draw = random();
    const [min, max] = this.options.delayMs ?? [50, 600];
    const delayMs = min + Math.floor(random() * (max - min + 1));
    const f = this.faults;
    let edge = 0;
    const order: [Fate, number][] = [
      ["rate_limited", f.rateLimited],
      ["unavailable", f.unavailable],
      ["reset_before", f.resetBefore],
      ["reset_after", f.resetAfter],
      ["delayed", f.delayed],
    ];
    for (const [fate, p] of order) {
      edge += p;
      if (draw < edge) return { fate, delayMs };
    }
    return { fate: "pass", delayMs };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => undefined);
    req.on("end", () => {
      void this.dispatch(req, res, Buffer.concat(chunks)).catch(() => req.socket.destroy());
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const seq = ++this.seq;
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const { fate, delayMs } = this.fateOf(seq);
    this.stats.requests++;
    this.stats.fates[fate]++;
    const post = this.recordPost(req, method, path, body, fate);

    switch (fate) {
      case "rate_limited":
        return problem(res, 429, "Too Many Requests", { "retry-after": String(this.options.retryAfterSeconds ?? 1) });
      case "unavailable":
        return problem(res, 503, "Service Unavailable", {});
      case "reset_before":
        req.socket.resetAndDestroy();
        return;
      case "delayed":
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        break;
      default:
        break;
    }

    const answer = await this.forward(seq, method, path, req.headers, body);
    if (!answer) {
      // The server died (or is down) with the request in flight: its client sees the connection break.
      this.stats.upstreamFailures++;
      req.socket.resetAndDestroy();
      return;
    }
    this.stats.statuses[answer.status] = (this.stats.statuses[answer.status] ?? 0) + 1;
    post?.statuses.push(answer.status);
    if (answer.status === 409 && IN_PROGRESS.test(answer.body.toString("utf8"))) this.stats.inProgressConflicts++;
    let drop = false;
    for (const listener of this.answerListeners) if (listener({ seq, method, path }, answer.status) === "drop") drop = true;
    if (drop) this.stats.droppedAnswers++;
    if (fate === "reset_after" || drop) {
      req.socket.resetAndDestroy();
      return;
    }
    if (res.destroyed) return;
    res.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
    res.end(answer.body);
  }

  private recordPost(req: IncomingMessage, method: string, path: string, body: Buffer, fate: Fate): IdempotentPost | undefined {
    const key = req.headers["idempotency-key"];
    if (method !== "POST" || typeof key !== "string") return undefined;
    let post = this.posts.get(key);
    if (!post) {
      post = { key, path, body, authorization: req.headers.authorization, attempts: 0, fates: [], statuses: [] };
      this.posts.set(key, post);
    }
    post.attempts++;
    post.fates.push(fate);
    return post;
  }

  private forward(
    seq: number,
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer } | undefined> {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = value;
    if (body.length > 0 || !["GET", "HEAD", "DELETE"].includes(method)) out["content-length"] = String(body.length);
    return new Promise((resolve) => {
      const upstream = httpRequest(
        { agent: this.agent, hostname: this.upstream.hostname, port: this.upstream.port, method, path, headers: out },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => chunks.push(chunk));
          answer.on("error", () => resolve(undefined));
          answer.on("close", () => {
            if (!answer.complete) resolve(undefined);
          });
          answer.on("end", () => {
            const relayed: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_HEADERS.has(name)) relayed[name] = value;
            resolve({ status: answer.statusCode ?? 502, headers: relayed, body: Buffer.concat(chunks) });
          });
        },
      );
      upstream.on("error", () => resolve(undefined));
      upstream.end(body);
      this.stats.forwarded++;
      for (const listener of this.listeners) listener({ seq, method, path });
    });
  }
}

function problem(res: ServerResponse, status: number, title: string, headers: Record<string, string>): void {
  const body = JSON.stringify({ type: "about:blank", title, status, detail: "injected by the fault proxy (test/faults/proxy.ts)" });
  res.writeHead(status, { ...headers, "content-type": "application/problem+json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}
