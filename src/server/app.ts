import Fastify, { FastifyInstance, FastifyRequest, FastifyServerOptions } from "fastify";
import swagger from "@fastify/swagger";
import { decideOrganizationAction, isValidDomain, isValidEmail } from "../policy";
import { Authenticator } from "./auth";
import type { AppDeps } from "./context";
import { registerIdempotency } from "./idempotency";
import { Outbox } from "./mail";
import { HttpProblem, fromViolation, handleError, notFound, sendProblem } from "./problem";
import { RateLimiter } from "./rate-limit";
import { ReadCache } from "./read-cache";
import { registerRoutes } from "./routes";
import { sha256 } from "./security";

const BODY_LIMIT = 256 * 1024;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Email and domain formats are the policy's rules, so the API rejects exactly
 * what the provider and constructs reject. Named `formatsPlugin` on purpose:
 * @fastify/ajv-compiler otherwise adds ajv-formats after our plugins, and its
 * looser "email" and "hostname" (upper case, no dot) would replace ours.
 */
function formatsPlugin(ajv: { addFormat(name: string, format: unknown): unknown }) {
  ajv.addFormat("email", { type: "string", validate: isValidEmail });
  ajv.addFormat("hostname", { type: "string", validate: isValidDomain });
  ajv.addFormat("date-time", { type: "string", validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}

/** Request log lines without secrets: invitation tokens in paths are masked. */
function requestSerializer(request: FastifyRequest) {
  return { method: request.method, url: request.url.replace(/(\/v1\/invitations\/)[^/?]+/, "$1***"), remoteAddress: request.ip };
}

/** Services every route plugin receives. */
export interface Services {
  deps: AppDeps & { outbox: Outbox };
  cache: ReadCache;
}

/**
 * The Postscale API as a Fastify instance that never listens: call
 * `listen()` (see startServer) or drive it with `app.inject()`.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ? { level: "info", stream: process.stderr, serializers: { req: requestSerializer } } : false,
    bodyLimit: BODY_LIMIT,
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, verbose: true, useDefaults: true },
      // Typed loosely: ajv's own types are not a dependency of this package.
      plugins: [formatsPlugin] as unknown as NonNullable<FastifyServerOptions["ajv"]>["plugins"],
    },
  });
  const outbox = deps.outbox ?? new Outbox(deps.config.dev);
  const services: Services = { deps: { ...deps, outbox }, cache: new ReadCache(deps.db) };
  const authenticator = new Authenticator(deps.db);
  const limiter = deps.config.rateLimit ? new RateLimiter(deps.config.rateLimit.max, deps.config.rateLimit.windowMs) : null;

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => sendProblem(reply, notFound(`${request.method} ${request.url.split("?")[0]}`)));

  // Empty bodies are "no body" (POST actions without input); anything else must be JSON.
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HttpProblem(422, `The body is not valid JSON: ${(err as Error).message}`, { errors: [{ path: "", message: `must be valid JSON (${(err as Error).message})` }] }), undefined);
    }
  });

  app.addHook("onRequest", async (request) => {
    const config = request.routeOptions.config;
    if (limiter && !config.noRateLimit) {
      const m = /^Bearer\s+(\S{1,512})$/i.exec(request.headers.authorization ?? "");
      if (m) request.tokenHash = sha256(m[1]);
      const wait = limiter.hit(m ? `t:${request.tokenHash}` : `ip:${request.ip}`);
      if (wait > 0) {
        throw new HttpProblem(429, `Rate limit of ${limiter.max} requests per ${limiter.windowMs / 1000}s exceeded; retry after ${wait}s.`, { headers: { "retry-after": String(wait) } });
      }
    }
    if (config.auth === "none" || request.is404) return;
    request.caller = await authenticator.authenticate(request);
    if (config.orgAction) {
      const decision = decideOrganizationAction(request.caller.principal, config.orgAction);
      if (!decision.allowed) throw fromViolation(decision);
    }
  });

  app.addHook("preValidation", async (request) => {
    if (request.routeOptions.config.emptyBody && (request.body === undefined || request.body === null)) request.body = {};
    // Query strings are text; integer query fields are converted here because body coercion stays off.
    const props = (request.routeOptions.schema?.querystring as { properties?: Record<string, { type?: string }> } | undefined)?.properties;
    const query = request.query as Record<string, unknown> | undefined;
    if (props && query) {
      for (const [name, schema] of Object.entries(props)) {
        const v = query[name];
        if (schema.type === "integer" && typeof v === "string" && /^-?\d{1,15}$/.test(v)) query[name] = Number(v);
      }
    }
  });

  registerIdempotency(app, deps.db);
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Postscale API", version: "1.0.0", description: "Team accounts, domains and API keys. Errors are RFC 9457 problem+json." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key (ps_...) or a session token from POST /v1/auth/login." } } },
      security: [{ bearer: [] }],
    },
  });
  app.register(async (scope) => registerRoutes(scope, services));
  return app;
}
