import type { FastifyPluginAsync } from "fastify";
import type { RoutePluginOptions } from "../../services";
import { registerDomainAccessRoutes } from "./domain-access.routes";
import { registerMemberRoutes } from "./member.routes";

/** The team: members and invitations, and each member's domain access (owner, admin). */
export const teamRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  registerMemberRoutes(app, services);
  registerDomainAccessRoutes(app, services);
};
