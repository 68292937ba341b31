import type { FastifyPluginAsync } from "fastify";
import { record, responses } from "../schemas";

/** Liveness and the OpenAPI document. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    "/healthz",
    { config: { auth: "none", noRateLimit: true }, schema: { summary: "Liveness: 200 once the server is ready", security: [], response: responses({ 200: record({ status: { type: "string" } }) }) } },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/v1/openapi.json",
    { config: { auth: "none" }, schema: { summary: "This OpenAPI 3.1 document", security: [], hide: true } },
    async () => (app as unknown as { swagger(): unknown }).swagger(),
  );
};
