/**
 * The typed Postscale API v1 client (the contract: docs/openapi.json).
 *
 * - Keep-alive pooling: one undici Agent per client, shared by `withToken` clones.
 * - Retries with exponential backoff and full jitter: 429 for every method
 *   (honouring `Retry-After`); 502/503/504, connection failures and
 *   timeouts for idempotent methods (GET, PUT, PATCH, DELETE: the API's
 *   PATCHes set absolute values) and POSTs. Every POST carries an
 *   `Idempotency-Key` (generated unless given) reused across its retries.
 * - Cancellation: a client-wide `signal` (inherited by `withToken` clones)
 *   and a per-call one in {@link RequestOptions}; a cancelled request stops
 *   at once and fails with `failure: "cancelled"`.
 * - Request coalescing: concurrent identical GETs (same path, query and
 *   credential) share one request in flight.
 * - Errors are PostscaleError with a stable `code`, the `status`, the
 *   `problem` body, `failure` for transport errors, and `attempts` listing
 *   every attempt (the message lists them too when there was more than one).
 */
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type { Access, AssignableRole } from "../policy";
import { HttpTransport, realSleep, type QueryParams, type RequestInfo } from "./http-transport";
import type { HttpMethod } from "./retry-policy";
import type {
  ApiKey,
  AuditEvent,
  CreateApiKeyInput,
  CreatedApiKey,
  RotateApiKeySecretInput,
  SuppliedSecretApiKey,
  Domain,
  DomainGrant,
  InviteMemberInput,
  MailMessage,
  Me,
  Member,
  Organization,
  UpdateApiKeyInput,
} from "./types";

/** Options of {@link PostscaleClient}. */
export interface ClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:4000`. */
  endpoint: string;
  /** Bearer credential: an API key (`ps_...`) or a session token. @default - no Authorization header */
  apiKey?: string;
  /** Retries after the first attempt. @default 4 */
  retries?: number;
  /** Ceiling of the first retry's jittered delay, doubling per retry. @default 200 */
  minBackoffMs?: number;
  /** Ceiling of any jittered delay. @default 5000 */
  maxBackoffMs?: number;
  /** Longest `Retry-After` honoured; longer values are cut to this. @default 60000 */
  maxRetryAfterMs?: number;
  /** Timeout of one attempt, headers and body. @default 30000 */
  timeoutMs?: number;
  /** @default "postscale-cdktf-client" */
  userAgent?: string;
  /** Connection pool to use; the caller keeps ownership. @default - an undici keep-alive Agent owned by the client */
  dispatcher?: Dispatcher;
  /** Called after every attempt (benchmarks count HTTP requests with it). */
  onRequest?: (info: RequestInfo) => void;
  /** Share one in-flight request among concurrent identical GETs. @default true */
  coalesceReads?: boolean;
  /** Pause between attempts; tests inject a recorder. The client stops waiting when a request is cancelled, whatever this does. @default - a real timer */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * Cancels every request of this client and its `withToken` clones when it
   * fires (a provider aborts it when the engine goes away): attempts in
   * flight are aborted, no retry follows, and each request fails with a
   * PostscaleError whose `failure` is "cancelled".
   */
  signal?: AbortSignal;
}

/** Options of {@link PostscaleClient.request}. */
export interface RequestOptions {
  body?: unknown;
  query?: QueryParams;
  /** For POST: the key to send instead of a generated one (to make a repeat call idempotent). */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  /** Cancels this request (in addition to the client's `signal`). */
  signal?: AbortSignal;
}

/** Page size the pagination helpers ask for unless the query names one. */
export const DEFAULT_PAGE_LIMIT = 1000;

/** The typed client. Construct once per endpoint; derive per-credential clients with {@link withToken}. */
export class PostscaleClient {
  private readonly transport: HttpTransport;
  private readonly token: string | undefined;
  private readonly signals: readonly AbortSignal[];
  private readonly ownsTransport: boolean;
  private readonly options: ClientOptions;

  constructor(options: ClientOptions);
  /** @internal used by withToken */
  constructor(options: ClientOptions, shared: HttpTransport);
  constructor(options: ClientOptions, shared?: HttpTransport) {
    this.token = options.apiKey;
    this.signals = options.signal ? [options.signal] : [];
    this.ownsTransport = shared === undefined;
    this.transport =
      shared ??
      new HttpTransport({
        endpoint: options.endpoint,
        retries: options.retries ?? 4,
        minBackoffMs: options.minBackoffMs ?? 200,
        maxBackoffMs: options.maxBackoffMs ?? 5000,
        maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
        timeoutMs: options.timeoutMs ?? 30_000,
        userAgent: options.userAgent ?? "postscale-cdktf-client",
        coalesceReads: options.coalesceReads ?? true,
        dispatcher: options.dispatcher,
        onRequest: options.onRequest,
        sleep: options.sleep ?? realSleep,
        random: options.random ?? Math.random,
      });
    this.options = options;
  }

  /**
   * A client for another credential on the same pool, retry settings and
   * coalescing. Closing the clone does nothing; close the original.
   */
  withToken(token: string): PostscaleClient {
    return new PostscaleClient({ ...this.options, apiKey: token }, this.transport);
  }

  /**
   * Sends one API request and resolves with its JSON body (undefined for
   * 204). Throws PostscaleError for non-2xx answers and network failures.
   */
  request<T>(method: Exclude<HttpMethod, "HEAD">, path: string, options: RequestOptions = {}): Promise<T> {
    const { signal, ...rest } = options;
    return this.transport.send<T>({ method, path, token: this.token, ...rest, signals: signal ? [...this.signals, signal] : this.signals });
  }

  /**
   * Every item of a list endpoint, page by page: follows `next_cursor` with
   * `?cursor=`, asking for {@link DEFAULT_PAGE_LIMIT} items per page unless
   * `query.limit` is set. An endpoint that answers a bare array is one page.
   */
  async *paginate<T>(path: string, query: QueryParams = {}): AsyncIterable<T> {
    let cursor: string | undefined;
    do {
      const page = await this.request<{ data: T[]; next_cursor?: string | null } | T[]>("GET", path, {
        query: { limit: DEFAULT_PAGE_LIMIT, ...query, cursor },
      });
      if (Array.isArray(page)) {
        yield* page;
        return;
      }
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** All items of a list endpoint, every page fetched (see {@link paginate}). */
  async listAll<T>(path: string, query?: QueryParams): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this.paginate<T>(path, query)) items.push(item);
    return items;
  }

  // organization

  getOrganization(): Promise<Organization> {
    return this.request("GET", "/v1/organization");
  }

  updateOrganization(patch: Record<string, unknown>): Promise<Organization> {
    return this.request("PATCH", "/v1/organization", { body: patch });
  }

  deleteOrganization(): Promise<void> {
    return this.request("DELETE", "/v1/organization");
  }

  getBilling(): Promise<Record<string, unknown>> {
    return this.request("GET", "/v1/organization/billing");
  }

  updateBilling(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.request("PUT", "/v1/organization/billing", { body });
  }

  transferOwnership(memberId: string): Promise<unknown> {
    return this.request("POST", "/v1/organization/transfer-ownership", { body: { member_id: memberId } });
  }

  /** The caller: member record, role, domain access, and for a key its scope. */
  me(): Promise<Me> {
    return this.request("GET", "/v1/me");
  }

  // team

  /** Every member, all pages; with `includeDomainAccess` each carries `domain_access` (one request per page, not per member). */
  listMembers(options: { includeDomainAccess?: boolean } = {}): Promise<Member[]> {
    return this.listAll("/v1/team/members", { include: options.includeDomainAccess ? "domain_access" : undefined });
  }

  getMember(id: string): Promise<Member> {
    return this.request("GET", `/v1/team/members/${segment(id)}`);
  }

  /** Invites a member (status "invited"); pass an `idempotencyKey` to make repeating this call safe. */
  inviteMember(input: InviteMemberInput, options: { idempotencyKey?: string } = {}): Promise<Member> {
    return this.request("POST", "/v1/team/members", { body: input, idempotencyKey: options.idempotencyKey });
  }

  updateMember(id: string, patch: { role: AssignableRole }): Promise<Member> {
    return this.request("PATCH", `/v1/team/members/${segment(id)}`, { body: patch });
  }

  removeMember(id: string): Promise<void> {
    return this.request("DELETE", `/v1/team/members/${segment(id)}`);
  }

  resendInvitation(id: string): Promise<Member> {
    return this.request("POST", `/v1/team/members/${segment(id)}/resend-invitation`);
  }

  listDomainAccess(memberId: string): Promise<DomainGrant[]> {
    return this.listAll(`/v1/team/members/${segment(memberId)}/domain-access`);
  }

  setDomainAccess(memberId: string, domain: string, access: Access): Promise<DomainGrant> {
    return this.request("PUT", `/v1/team/members/${segment(memberId)}/domain-access/${segment(domain)}`, { body: { access } });
  }

  removeDomainAccess(memberId: string, domain: string): Promise<void> {
    return this.request("DELETE", `/v1/team/members/${segment(memberId)}/domain-access/${segment(domain)}`);
  }

  // domains

  listDomains(): Promise<Domain[]> {
    return this.listAll("/v1/domains");
  }

  getDomain(name: string): Promise<Domain> {
    return this.request("GET", `/v1/domains/${segment(name)}`);
  }

  createDomain(name: string): Promise<Domain> {
    return this.request("POST", "/v1/domains", { body: { name } });
  }

  deleteDomain(name: string): Promise<void> {
    return this.request("DELETE", `/v1/domains/${segment(name)}`);
  }

  // api keys

  listApiKeys(): Promise<ApiKey[]> {
    return this.listAll("/v1/api-keys");
  }

  getApiKey(id: string): Promise<ApiKey> {
    return this.request("GET", `/v1/api-keys/${segment(id)}`);
  }

  /**
   * Creates a key; the `secret` is in this response only. With
   * `input.secret` (bring your own, see the policy's keyMaterialProblem)
   * Postscale stores only its hash and answers `secret: null`.
   */
  createApiKey(input: CreateApiKeyInput & { secret: string }, options?: { idempotencyKey?: string }): Promise<SuppliedSecretApiKey>;
  createApiKey(input: CreateApiKeyInput, options?: { idempotencyKey?: string }): Promise<CreatedApiKey>;
  createApiKey(input: CreateApiKeyInput & { secret?: string }, options: { idempotencyKey?: string } = {}): Promise<CreatedApiKey | SuppliedSecretApiKey> {
    return this.request("POST", "/v1/api-keys", { body: input, idempotencyKey: options.idempotencyKey });
  }

  /**
   * Rotates a key's secret in place (same id): a generated secret, returned
   * this once, or the caller's own (`input.secret`; answered as null). The
   * replaced secret keeps working for `overlap_seconds`. Always sent with an
   * Idempotency-Key (generated unless given), so a retry never rotates twice.
   */
  rotateApiKeySecret(id: string, input: RotateApiKeySecretInput & { secret: string }, options?: { idempotencyKey?: string }): Promise<SuppliedSecretApiKey>;
  rotateApiKeySecret(id: string, input?: Omit<RotateApiKeySecretInput, "secret">, options?: { idempotencyKey?: string }): Promise<CreatedApiKey>;
  rotateApiKeySecret(id: string, input: RotateApiKeySecretInput = {}, options: { idempotencyKey?: string } = {}): Promise<CreatedApiKey | SuppliedSecretApiKey> {
    return this.request("PUT", `/v1/api-keys/${segment(id)}/secret`, { body: input, idempotencyKey: options.idempotencyKey ?? randomUUID() });
  }

  updateApiKey(id: string, input: UpdateApiKeyInput): Promise<ApiKey> {
    return this.request("PATCH", `/v1/api-keys/${segment(id)}`, { body: input });
  }

  deleteApiKey(id: string): Promise<void> {
    return this.request("DELETE", `/v1/api-keys/${segment(id)}`);
  }

  // invitations and auth: the token travels in the path, so errors and the metrics hook show a placeholder

  getInvitation(token: string): Promise<Record<string, unknown>> {
    return this.transport.send({ method: "GET", path: `/v1/invitations/${segment(token)}`, displayPath: "/v1/invitations/{token}", signals: this.signals });
  }

  acceptInvitation(token: string, input: { name: string; password: string }): Promise<Record<string, unknown>> {
    return this.transport.send({
      method: "POST",
      path: `/v1/invitations/${segment(token)}/accept`,
      displayPath: "/v1/invitations/{token}/accept",
      body: input,
      signals: this.signals,
    });
  }

  verifyEmail(token: string): Promise<{ token: string; redirect_to: string; member: Member }> {
    return this.transport.send({ method: "POST", path: "/v1/auth/verify-email", body: { token }, signals: this.signals });
  }

  login(email: string, password: string): Promise<{ token: string }> {
    return this.transport.send({ method: "POST", path: "/v1/auth/login", body: { email, password }, signals: this.signals });
  }

  /** Ends the session this client's token belongs to. */
  logout(): Promise<void> {
    return this.request("POST", "/v1/auth/logout");
  }

  listAuditEvents(): Promise<AuditEvent[]> {
    return this.listAll("/v1/audit-events");
  }

  /** The dev outbox (server started with `--dev`), oldest first. */
  devMail(): Promise<MailMessage[]> {
    return this.request("GET", "/_dev/mail");
  }

  /** Releases the connection pool; a no-op on `withToken` clones and for a caller-supplied dispatcher. */
  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
  }
}

/** One path segment: ids, domain names and tokens never change the path's shape. */
function segment(value: string): string {
  return encodeURIComponent(value);
}
