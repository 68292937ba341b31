import type { FastifyInstance } from "fastify";
import type { Services } from "../context";
import { registerApiKeyRoutes } from "./api-keys";
import { registerAuditRoutes } from "./audit";
import { registerAuthRoutes } from "./auth";
import { registerDevRoutes } from "./dev";
import { registerDomainResourceRoutes } from "./domain-resources";
import { registerDomainRoutes } from "./domains";
import { registerHealthRoutes } from "./health";
import { registerAliasRoutes } from "./aliases";
import { registerInboundRuleRoutes } from "./inbound-rules";
import { registerOrganizationRoutes } from "./organization";
import { registerTeamRoutes } from "./team";

/** Every route: the v1 API and health (docs/openapi.json documents them), the OpenAPI document itself and (with --dev) the mail outbox. */
export function registerRoutes(app: FastifyInstance, services: Services): void {
  registerHealthRoutes(app);
  registerOrganizationRoutes(app, services);
  registerTeamRoutes(app, services);
  registerAuthRoutes(app, services);
  registerDomainRoutes(app, services);
  registerDomainResourceRoutes(app, services);
  registerAliasRoutes(app, services);
  registerInboundRuleRoutes(app, services);
  registerApiKeyRoutes(app, services);
  registerAuditRoutes(app, services);
  if (services.deps.config.dev) registerDevRoutes(app, services);
}
