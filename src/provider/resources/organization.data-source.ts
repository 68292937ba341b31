import type { DataSourceType } from "../protocol/types";
import type { ProviderContext } from "./context";

/** `postscale_organization`: the organization the provider's credential belongs to. */
export const organizationDataSource: DataSourceType<ProviderContext> = {
  name: "postscale_organization",

  schema: {
    version: 0,
    block: {
      description: "The Postscale organization that the provider's API key belongs to.",
      attributes: {
        id: { type: "string", computed: true, description: "The organization's id." },
        name: { type: "string", computed: true, description: "The organization's name." },
        created_at: { type: "string", computed: true, description: "When the organization was created (RFC 3339)." },
      },
    },
  },

  // Served from GET /v1/me, already fetched when the provider was configured: no request.
  async read(ctx) {
    const { id, name, created_at } = ctx.caller.organization;
    return { state: { id, name, created_at } };
  },
};
