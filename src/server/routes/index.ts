import type { FastifyPluginAsync } from "fastify";
import type { RoutePluginOptions } from "../services";
import { aliasRoutes } from "./aliases";
import { apiKeyRoutes } from "./api-keys";
import { auditRoutes } from "./audit";
import { authRoutes } from "./auth";
import { devRoutes } from "./dev";
import { domainResourceRoutes } from "./domain-resources";
import { domainRoutes } from "./domains";
import { healthRoutes } from "./health";
import { inboundRuleRoutes } from "./inbound-rules";
import { organizationRoutes } from "./organization";
import { teamRoutes } from "./team";

/**
 * Every route, one plugin per area: the v1 API and health
 * (docs/openapi.json documents them, in this order), the OpenAPI document
 * itself and (with --dev) the mail outbox.
 */
export const routes: FastifyPluginAsync<RoutePluginOptions> = async (app, options) => {
  await app.register(healthRoutes);
  await app.register(organizationRoutes, options);
  await app.register(teamRoutes, options);
  await app.register(authRoutes, options);
  await app.register(domainRoutes, options);
  await app.register(domainResourceRoutes, options);
  await app.register(aliasRoutes, options);
  await app.register(inboundRuleRoutes, options);
  await app.register(apiKeyRoutes, options);
  await app.register(auditRoutes, options);
  if (options.services.deps.config.dev) await app.register(devRoutes, options);
};
