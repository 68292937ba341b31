/**
 * Plain HTTP for the black-box server suite: global fetch, no project client,
 * so a bug in src/api cannot hide a bug in src/server (or the other way).
 */

/** What a test sees of one exchange. `body` is parsed JSON when the answer was JSON, else the text. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
  // Tests read arbitrary fields of arbitrary answers; the assertions are the types.
  body: any;
}

export interface RequestOptions {
  /** Bearer token: an API key secret or a session token. */
  token?: string;
  /** JSON body, serialized for you. */
  body?: unknown;
  /** A body sent as-is with content-type application/json (for malformed JSON). */
  rawBody?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One request against `baseUrl`. Never throws on an HTTP status. */
export async function request(baseUrl: string, method: Method, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: "application/json, application/problem+json", ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  let payload: string | undefined;
  if (options.rawBody !== undefined) payload = options.rawBody;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(new URL(path, baseUrl), { method, headers, body: payload });
  const text = await res.text();
  const contentType = res.headers.get("content-type") ?? "";
  let body: unknown = text;
  if (/json/.test(contentType) && text.length > 0) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, contentType, text, body };
}

/** Requests bound to a base URL and one credential. */
export class Caller {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
  ) {}

  request(method: Method, path: string, options: Omit<RequestOptions, "token"> = {}): Promise<HttpResponse> {
    return request(this.baseUrl, method, path, { ...options, token: this.token });
  }
  get(path: string): Promise<HttpResponse> {
    return this.request("GET", path);
  }
  post(path: string, body?: unknown, options: Omit<RequestOptions, "token" | "body"> = {}): Promise<HttpResponse> {
    return this.request("POST", path, { ...options, body });
  }
  put(path: string, body?: unknown): Promise<HttpResponse> {
    return this.request("PUT", path, { body });
  }
  patch(path: string, body?: unknown): Promise<HttpResponse> {
    return this.request("PATCH", path, { body });
  }
  delete(path: string): Promise<HttpResponse> {
    return this.request("DELETE", path);
  }
}

/** Fails with the whole exchange in the message, so a failing test shows what the server said. */
export function expectStatus(res: HttpResponse, expected: number | number[], what = ""): HttpResponse {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(res.status)) {
    throw new Error(`${what ? `${what}: ` : ""}expected HTTP ${allowed.join(" or ")}, got ${res.status}: ${res.text.slice(0, 800)}`);
  }
  return res;
}

/** Like expectStatus for a 2xx answer; returns the parsed body. */
export function ok(res: HttpResponse, what = ""): any {
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${what ? `${what}: ` : ""}expected a 2xx answer, got ${res.status}: ${res.text.slice(0, 800)}`);
  }
  return res.body;
}

const CODES: Record<number, string> = {
  401: "POSTSCALE_E_UNAUTHENTICATED",
  403: "POSTSCALE_E_FORBIDDEN",
  404: "POSTSCALE_E_NOT_FOUND",
  409: "POSTSCALE_E_CONFLICT",
  422: "POSTSCALE_E_VALIDATION",
  429: "POSTSCALE_E_RATE_LIMITED",
};

/**
 * Asserts an RFC 9457 problem answer with the given status: the media type,
 * type/title/status/detail, and the stable code for the status. With
 * `field`, the validation errors must name that JSON pointer (or one below it).
 */
export function expectProblem(res: HttpResponse, status: number, field?: string): void {
  expectStatus(res, status);
  expect(res.contentType).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    }),
  );
  if (CODES[status]) expect(res.body.code).toBe(CODES[status]);
  if (field !== undefined) {
    expect(Array.isArray(res.body.errors)).toBe(true);
    const paths: string[] = res.body.errors.map((e: { path: string; message: string }) => {
      expect(typeof e.message).toBe("string");
      expect(e.message.length).toBeGreaterThan(0);
      return e.path;
    });
    if (!paths.some((p) => p === field || p.startsWith(`${field}/`))) {
      throw new Error(`expected a validation error at ${field}, got ${JSON.stringify(res.body.errors)}`);
    }
  }
}

/** The parts of a problem that must not differ between "hidden" and "missing" (detail may name the path). */
export function problemShape(res: HttpResponse): Record<string, unknown> {
  const body = res.body ?? {};
  return {
    status: res.status,
    contentType: res.contentType.split(";")[0],
    keys: Object.keys(body).sort(),
    type: body.type,
    title: body.title,
    code: body.code,
    problemStatus: body.status,
  };
}
