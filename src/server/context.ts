import type { OrganizationAction, Principal } from "../policy";
import type { Database } from "./db/adapter";
import type { Outbox } from "./mail";
import type { KeyRow, MemberRow } from "./records";

/** Runtime settings of one app instance. */
export interface AppConfig {
  /** Keep mail in the dev outbox and serve GET /_dev/mail. */
  dev: boolean;
  invitationTtlSeconds: number;
  /** How long a stored Idempotency-Key response is replayed. */
  idempotencyTtlSeconds?: number;
  rateLimit: { max: number; windowMs: number } | false;
  /** Failed logins per target email per window (then 429 for that email); default 10 per 15 min, false: off. */
  loginFailureLimit?: { max: number; windowMs: number } | false;
}

/** What {@link buildApp} needs: the database, settings and the outbox. */
export interface AppDeps {
  db: Database;
  config: AppConfig;
  outbox?: Outbox;
  /** Fastify logger: true logs JSON lines to stderr. Default false. */
  logger?: boolean;
}

/** How the caller authenticated. */
export type Credential = { kind: "session"; id: string } | { kind: "api_key"; id: string; key: KeyRow };

/** The authenticated caller of one request, loaded fresh (or from a cache that is exactly current). */
export interface Caller {
  orgId: string;
  principal: Principal;
  credential: Credential;
  /** The person behind the credential; null for organization-owned keys. */
  member: MemberRow | null;
}

/** How a route is protected; read by the auth hook. */
export interface RouteAuthConfig {
  /** "none" for public routes (health, invitations, login). Default: required. */
  auth?: "none" | "required";
  /** An organization action the caller's role must allow before the body is even read. */
  orgAction?: OrganizationAction;
  /** POST routes without a body: an absent body counts as `{}`. */
  emptyBody?: boolean;
  /** Not rate limited (health checks). */
  noRateLimit?: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    caller?: Caller;
    /** SHA-256 of the bearer token, computed once per request. */
    tokenHash?: string;
    idempotency?: import("./idempotency").IdempotencyClaim;
  }
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyContextConfig extends RouteAuthConfig {}
}

/** The caller of an authenticated route (the auth hook guarantees it). */
export function callerOf(request: import("fastify").FastifyRequest): Caller {
  if (!request.caller) throw new Error("route is missing authentication");
  return request.caller;
}
