/**
 * One keep-alive connection pool and the retry loop around it. Shared by a
 * client and all its `withToken` clones, so coalescing and pooling span
 * every credential that talks to the same endpoint.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { Agent, type Dispatcher } from "undici";
import { PostscaleError } from "../errors";
import { parseRetryAfterMs, retryDelayMs, type BackoffSettings } from "./backoff";
import { networkError, responseError } from "./response-error";
import { isRepeatSafe, isRetryableNetworkError, isRetryableStatus, type HttpMethod } from "./retry-policy";
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
  sleep: (ms: number) => Promise<void>;
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
}

type AttemptOutcome =
  | { kind: "response"; status: number; retryAfter: string | undefined; text: string }
  | { kind: "failure"; error: unknown };

/** The default pause between attempts. */
export const realSleep = (ms: number): Promise<void> => delay(ms).then(() => undefined);

export class HttpTransport {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly origin: string;
  private readonly basePath: string;
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
    this.ownsDispatcher = settings.dispatcher === undefined;
    this.dispatcher = settings.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });
  }

  /**
   * Sends a request, retrying what is safe to retry, and resolves with the
   * parsed JSON body (undefined for 204 or an empty body). Plain GETs that
   * overlap with an identical GET under the same credential share its
   * response (see SingleFlight).
   */
  send<T>(request: OutgoingRequest): Promise<T> {
    const target = this.basePath + request.path + queryString(request.query);
    if (request.method === "GET" && this.settings.coalesceReads && request.headers === undefined) {
      const key = `${request.token ?? ""}\n${target}`;
      return this.reads.run(key, () => this.sendWithRetries<T>(request, target));
    }
    return this.sendWithRetries<T>(request, target);
  }

  /** Closes the pool if this transport created it; a caller-supplied dispatcher stays open. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async sendWithRetries<T>(request: OutgoingRequest, target: string): Promise<T> {
    const displayPath = request.displayPath ?? request.path;
    // Every POST carries a key, reused by every attempt, so a retried POST
    // is answered with the first response instead of creating twice.
    const idempotencyKey = request.method === "POST" ? (request.idempotencyKey ?? randomUUID()) : request.idempotencyKey;
    const repeatSafe = isRepeatSafe(request.method, idempotencyKey !== undefined);
    const headers = this.headersFor(request, idempotencyKey);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);

    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(request.method, target, headers, body, displayPath, attempt);
      const mayRetry = attempt <= this.settings.retries;
      if (outcome.kind === "response") {
        if (outcome.status >= 200 && outcome.status < 300) return parseSuccessBody<T>(request.method, displayPath, outcome.text);
        if (mayRetry && isRetryableStatus(outcome.status, repeatSafe)) {
          const retryAfterMs = parseRetryAfterMs(outcome.retryAfter, Date.now());
          await this.settings.sleep(retryDelayMs(attempt - 1, retryAfterMs, this.settings, this.settings.random));
          continue;
        }
        throw responseError(request.method, displayPath, outcome.status, outcome.text);
      }
      if (mayRetry && isRetryableNetworkError(outcome.error, repeatSafe)) {
        await this.settings.sleep(retryDelayMs(attempt - 1, undefined, this.settings, this.settings.random));
        continue;
      }
      throw networkError(request.method, displayPath, outcome.error);
    }
  }

  private async attempt(
    method: HttpMethod,
    target: string,
    headers: Record<string, string>,
    body: string | undefined,
    displayPath: string,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    let outcome: AttemptOutcome;
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path: target,
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      // Reading the whole body also returns the socket to the pool.
      const text = await response.body.text();
      const retryAfter = response.headers["retry-after"];
      outcome = { kind: "response", status: response.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, text };
    } catch (error) {
      outcome = { kind: "failure", error };
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

function parseSuccessBody<T>(method: string, displayPath: string, text: string): T {
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new PostscaleError("POSTSCALE_E_SERVER", `${method} ${displayPath}: the server answered with a body that is not JSON`, { cause });
  }
}
