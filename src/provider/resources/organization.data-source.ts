import { defineDataSource } from "../framework/resource";
import { defineSchema } from "../framework/schema";
import type { ProviderContext } from "./context";

const schema = defineSchema({
  description: "The Postscale organization that the provider's API key belongs to.",
  attributes: {
    id: { type: "string", computed: true, description: "The organization's id." },
    name: { type: "string", computed: true, description: "The organization's name." },
    created_at: { type: "string", computed: true, description: "When the organization was created (RFC 3339)." },
  },
});

/** `postscale_organization`: the organization the provider's credential belongs to. */
export const organizationDataSource = defineDataSource<ProviderContext, typeof schema.attributes>({
  name: "postscale_organization",
  schema,

  // Served from GET /v1/me, already fetched when the provider was configured: no request.
  async read(ctx) {
    const { id, name, created_at } = ctx.caller.organization;
    return { state: { id, name, created_at } };
  },
});
