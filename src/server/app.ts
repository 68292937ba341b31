import Fastify, { FastifyInstance, FastifyRequest, FastifyServerOptions } from "fastify";
import swagger from "@fastify/swagger";
import { decideOrganizationAction } from "../policy";
import { Authenticator } from "./auth";
import type { AppDeps } from "./context";
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, registerIdempotency } from "./idempotency";
import { Outbox } from "./mail";
import { HttpProblem, checkRequestText, fromViolation, handleClientError, handleError, handleFrameworkError, literalPercents, notFound, sendProblem } from "./problem";
import { createRateLimiter, limitFailedAuthentication, limitRequest } from "./rate-limit";
import { ReadCache } from "./read-cache";
import { routes } from "./routes";
import { formatsPlugin } from "./schemas";
import type { Services } from "./services";
import { Writer } from "./write";

const BODY_LIMIT = 256 * 1024;
// Any parameter that fits in a request line (Node's header limit, 16 KiB) reaches its route, whose schema answers the 404 of its kind.
const MAX_PARAM_LENGTH = 16 * 1024;

/** Request log lines without secrets: invitation tokens in paths are masked. */
function requestSerializer(request: FastifyRequest) {
  return { method: request.method, url: request.url.replace(/(\/v1\/invitations\/)[^/?]+/, "$1***"), remoteAddress: request.ip };
}


/**
 * The Postscale API as a Fastify instance that never listens: call
 * `listen()` (see startServer) or drive it with `app.inject()`.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ? { level: "info", stream: process.stderr, serializers: { req: requestSerializer } } : false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    rewriteUrl: literalPercents,
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, verbose: true, useDefaults: true },
      // Typed loosely: ajv's own types are not a dependency of this package.
      plugins: [formatsPlugin] as unknown as NonNullable<FastifyServerOptions["ajv"]>["plugins"],
    },
  });
  const outbox = deps.outbox ?? new Outbox(deps.config.dev);
  const authenticator = new Authenticator(deps.db);
  const writer = new Writer(deps.db, authenticator, deps.config.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS);
  const services: Services = { deps: { ...deps, outbox }, cache: new ReadCache(deps.db), writer };
  const limiter = deps.config.rateLimit ? createRateLimiter(deps.db, deps.config.rateLimit) : null;

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
    if (limiter && !config.noRateLimit) await limitRequest(limiter, request);
    if (config.auth === "none" || request.is404) return;
    request.caller = await authenticator.authenticate(request).catch(async (err: unknown) => {
      throw limiter && !config.noRateLimit ? await limitFailedAuthentication(limiter, request, err) : err;
    });
    if (config.orgAction) {
      const decision = decideOrganizationAction(request.caller.principal, config.orgAction);
      if (!decision.allowed) throw fromViolation(decision);
    }
  });

  app.addHook("preValidation", async (request) => {
    checkRequestText(request);
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

  registerIdempotency(app);
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Postscale API", version: "1.0.0", description: "Team accounts, domains and API keys. Errors are RFC 9457 problem+json." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key (ps_...) or a session token from POST /v1/auth/login." } } },
      security: [{ bearer: [] }],
    },
  });
  app.register(routes, { services });
  return app;
}
