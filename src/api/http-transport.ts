/**
 * One keep-alive connection pool and the retry loop around it. Shared by a
 * client and all its `withToken` clones, so coalescing and pooling span
 * every credential that talks to the same endpoint.
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { PostscaleError, type AttemptRecord } from "../errors";
import { parseRetryAfterMs, retryDelayMs, type BackoffSettings } from "./backoff";
import { cancelledError, networkError, responseError, type TransportContext, type Tried } from "./response-error";
import { classifyNetworkError, isRepeatSafe, isRetryableNetworkError, isRetryableStatus, type HttpMethod } from "./retry-policy";
import { SingleFlight } from "./single-flight";

/** Query string values; `undefined` leaves the parameter out. */
export type QueryParams = Record<string, string | number | boolean | undefined>;

/** What the metrics hook hears after every attempt. */
export interface RequestInfo {
  method: string;
  /** The request path without query string, with secrets in it replaced by placeholders. */
  path: string;
  /** The response status, or 0 when no response arrived. */
  status: number;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  durationMs: number;
}

/** Settings of a transport, every default already applied. */
export interface TransportSettings extends BackoffSettings {
  endpoint: string;
  retries: number;
  timeoutMs: number;
  userAgent: string;
  coalesceReads: boolean;
  dispatcher?: Dispatcher;
  onRequest?: (info: RequestInfo) => void;
  /** Pauses between attempts; should end early when `signal` fires (the transport stops waiting then anyway). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

/** One logical request; the transport may send it several times. */
export interface OutgoingRequest {
  method: HttpMethod;
  path: string;
  query?: QueryParams;
  body?: unknown;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  /** Bearer credential; undefined sends no Authorization header. */
  token?: string;
  /** The path as errors and the metrics hook show it; defaults to `path`. */
  displayPath?: string;
  /**
   * Cancel the request when any of these fire: the attempt in flight is
   * aborted, no retry follows, and the request fails with a "cancelled"
   * PostscaleError (`failure: "cancelled"`).
   */
  signals?: readonly AbortSignal[];
}

type AttemptOutcome =
  | { kind: "response"; status: number; retryAfter: string | undefined; text: string }
  | { kind: "failure"; error: unknown }
  | { kind: "cancelled" };

/** The default pause between attempts; ends early (without error) when `signal` fires. */
export const realSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).then(
    () => undefined,
    () => undefined,
  );

export class HttpTransport {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly where: TransportContext;
  private readonly reads = new SingleFlight();

  constructor(private readonly settings: TransportSettings) {
    let url: URL;
    try {
      url = new URL(settings.endpoint);
    } catch (cause) {
      throw new PostscaleError("POSTSCALE_E_CONFIG", `endpoint: "${settings.endpoint}" is not an absolute URL (e.g. http://127.0.0.1:4000)`, { cause });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new PostscaleError("POSTSCALE_E_CONFIG", `endpoint: protocol must be http or https, got "${url.protocol}"`);
    }
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.where = { endpoint: this.origin + this.basePath, timeoutMs: settings.timeoutMs };
    this.ownsDispatcher = settings.dispatcher === undefined;
    this.dispatcher = settings.dispatcher ?? newAgent();
  }

  /**
   * Sends a request, retrying what is safe to retry, and resolves with the
   * parsed JSON body (undefined for 204 or an empty body). Plain GETs that
   * overlap with an identical GET under the same credential share its
   * response (see SingleFlight).
   */
  send<T>(request: OutgoingRequest): Promise<T> {
    const target = this.basePath + request.path + queryString(request.query);
    const link = linkSignals(request.signals ?? []);
    let sent: Promise<T>;
    if (request.method === "GET" && this.settings.coalesceReads && request.headers === undefined) {
      const key = `${request.token ?? ""}\n${target}`;
      const displayPath = request.displayPath ?? request.path;
      sent = this.reads.run(key, (shared) => this.sendWithRetries<T>(request, target, shared), link.signal, () =>
        cancelledError(request.method, displayPath, link.signal?.reason),
      );
    } else {
      sent = this.sendWithRetries<T>(request, target, link.signal);
    }
    if (link.unlink === undefined) return sent;
    return sent.finally(link.unlink);
  }

  /** Closes the pool if this transport created it; a caller-supplied dispatcher stays open. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async sendWithRetries<T>(request: OutgoingRequest, target: string, signal: AbortSignal | undefined): Promise<T> {
    const displayPath = request.displayPath ?? request.path;
    // Every POST carries a key, reused by every attempt, so a retried POST
    // is answered with the first response instead of creating twice.
    const idempotencyKey = request.method === "POST" ? (request.idempotencyKey ?? randomUUID()) : request.idempotencyKey;
    const repeatSafe = isRepeatSafe(request.method, idempotencyKey !== undefined);
    const headers = this.headersFor(request, idempotencyKey);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const started = performance.now();
    const attempts: AttemptRecord[] = [];
    const tried = (): Tried => ({ attempts, elapsedMs: performance.now() - started });

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw cancelledError(request.method, displayPath, signal.reason, tried());
      const attemptStarted = performance.now();
      const outcome = await this.attempt(request.method, target, headers, body, displayPath, attempt, signal);
      attempts.push(attemptRecord(outcome, performance.now() - attemptStarted));
      const mayRetry = attempt <= this.settings.retries;
      if (outcome.kind === "cancelled") throw cancelledError(request.method, displayPath, signal?.reason, tried());
      if (outcome.kind === "response") {
        if (outcome.status >= 200 && outcome.status < 300) return parseSuccessBody<T>(request.method, displayPath, outcome.text);
        if (mayRetry && isRetryableStatus(outcome.status, repeatSafe)) {
          const retryAfterMs = parseRetryAfterMs(outcome.retryAfter, Date.now());
          await this.pause(retryDelayMs(attempt - 1, retryAfterMs, this.settings, this.settings.random), signal);
          continue;
        }
        throw responseError(request.method, displayPath, outcome.status, outcome.text, tried());
      }
      if (mayRetry && isRetryableNetworkError(outcome.error, repeatSafe)) {
        await this.pause(retryDelayMs(attempt - 1, undefined, this.settings, this.settings.random), signal);
        continue;
      }
      throw networkError(request.method, displayPath, outcome.error, this.where, tried());
    }
  }

  /** Waits `ms` between attempts, or until `signal` fires. */
  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) return this.settings.sleep(ms);
    if (signal.aborted) return;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([this.settings.sleep(ms, signal), aborted]);
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * One exchange, bounded by the attempt timeout and by `signal`. Which of
   * the two stopped it is told apart here, not guessed from the error.
   */
  private async attempt(
    method: HttpMethod,
    target: string,
    headers: Record<string, string>,
    body: string | undefined,
    displayPath: string,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const controller = new AbortController();
    const timeout = setTimeout(
      () => controller.abort(new DOMException(`attempt timed out after ${this.settings.timeoutMs} ms`, "TimeoutError")),
      this.settings.timeoutMs,
    );
    const cancel = (): void => controller.abort(signal?.reason);
    signal?.addEventListener("abort", cancel, { once: true });
    let outcome: AttemptOutcome;
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path: target,
        method,
        headers,
        body,
        signal: controller.signal,
      });
      // Reading the whole body also returns the socket to the pool.
      const text = await response.body.text();
      const retryAfter = response.headers["retry-after"];
      outcome = { kind: "response", status: response.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, text };
    } catch (error) {
      outcome = signal?.aborted ? { kind: "cancelled" } : { kind: "failure", error };
    } finally {
      clearTimeout(timeout);
      signal?.removeEventListener("abort", cancel);
    }
    this.settings.onRequest?.({
      method,
      path: displayPath,
      status: outcome.kind === "response" ? outcome.status : 0,
      attempt,
      durationMs: performance.now() - started,
    });
    return outcome;
  }

  private headersFor(request: OutgoingRequest, idempotencyKey: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      "user-agent": this.settings.userAgent,
      ...request.headers,
    };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
    return headers;
  }
}

/** `?a=1&b=x` with keys sorted (stable coalescing keys and logs), or "". */
export function queryString(query: QueryParams | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    if (value !== undefined) params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** What the error lists about one attempt. */
function attemptRecord(outcome: AttemptOutcome, ms: number): AttemptRecord {
  const rounded = Math.round(ms);
  if (outcome.kind === "response") return { status: outcome.status, ms: rounded };
  if (outcome.kind === "cancelled") return { failure: "cancelled", ms: rounded };
  const { failure, code } = classifyNetworkError(outcome.error);
  return code === undefined ? { failure, ms: rounded } : { failure, code, ms: rounded };
}

/** Each caller's signal and the transport's own follower of it (see {@link follower}). */
const followers = new WeakMap<AbortSignal, AbortSignal>();

/**
 * A signal of the transport's own that fires with `signal`, one per caller
 * signal. Every request in flight listens to its signal (an attempt, a
 * backoff, a coalesced read each add a listener); on the follower, not on
 * the caller's signal, so a client-wide signal shared by a hundred
 * concurrent requests carries one listener and Node does not warn of a
 * leak.
 */
function follower(signal: AbortSignal): AbortSignal {
  let follows = followers.get(signal);
  if (follows === undefined) {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
    follows = controller.signal;
    followers.set(signal, follows);
  }
  return follows;
}

/**
 * One signal that fires when any of `signals` does. Listeners, not
 * AbortSignal.any: a client-wide signal lives as long as the process, and
 * `unlink` drops this request's listeners from it once the request settles.
 */
function linkSignals(callerSignals: readonly AbortSignal[]): { signal?: AbortSignal; unlink?: () => void } {
  const signals = callerSignals.map(follower);
  if (signals.length === 0) return {};
  if (signals.length === 1) return { signal: signals[0] };
  const controller = new AbortController();
  const fired = signals.find((s) => s.aborted);
  if (fired) {
    controller.abort(fired.reason);
    return { signal: controller.signal };
  }
  const listeners = signals.map((s) => {
    const listener = (): void => controller.abort(s.reason);
    s.addEventListener("abort", listener, { once: true });
    return [s, listener] as const;
  });
  return { signal: controller.signal, unlink: () => listeners.forEach(([s, listener]) => s.removeEventListener("abort", listener)) };
}

function parseSuccessBody<T>(method: string, displayPath: string, text: string): T {
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new PostscaleError("POSTSCALE_E_SERVER", `${method} ${displayPath}: the server answered with a body that is not JSON`, { cause });
  }
}

/**
 * undici is loaded when the first transport is made, not when this module
 * is: a provider process loads the API client with its resources, but only
 * the process that configures the provider makes requests (the engine
 * starts two more per plan that never do).
 */
function newAgent(): Dispatcher {
  const { Agent } = require("undici") as typeof import("undici");
  return new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });
}
