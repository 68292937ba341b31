import type { FastifyPluginAsync } from "fastify";
import type { RoutePluginOptions } from "../services";
import { emailSchema, object, record } from "../schemas";

const mailSchema = record({
  id: { type: "string" },
  to: { type: "string" },
  subject: { type: "string" },
  text: { type: "string" },
  kind: { type: "string", enum: ["invitation", "verify_email"] },
  token: { type: "string" },
  sent_at: { type: "string", format: "date-time" },
});

/** GET /_dev/mail: the dev outbox, only registered with --dev. */
export const devRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services: { deps } }) => {
  app.get<{ Querystring: { to?: string } }>(
    "/_dev/mail",
    {
      config: { auth: "none" },
      // Hidden from the OpenAPI document: it is no part of the API, and the document stays the same with and without --dev.
      schema: { hide: true, summary: "Dev outbox: mail the server would have sent, oldest first", security: [], querystring: object({ to: emailSchema }), response: { 200: { type: "array", items: mailSchema } } },
    },
    async (request) => deps.outbox.list(request.query.to?.toLowerCase()),
  );
};
