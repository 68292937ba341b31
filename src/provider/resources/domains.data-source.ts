import { defineDataSource } from "../framework/resource";
import { defineSchema } from "../framework/schema";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics } from "./diagnostics";

const schema = defineSchema({
  description: "Every domain of the organization that the provider's credential can see, ordered by name.",
  attributes: {
    names: { type: ["list", "string"], computed: true, description: "The domain names, ordered (handy for `for_each`)." },
    domains: {
      type: ["list", ["object", { name: "string", status: "string", created_at: "string" }]],
      computed: true,
      description: "The domains, ordered by name: `name`, `status` and `created_at` of each.",
    },
  },
});

/** `postscale_domains`: every domain visible to the provider's credential. */
export const domainsDataSource = defineDataSource<ProviderContext, typeof schema.attributes>({
  name: "postscale_domains",
  schema,

  async read(ctx) {
    try {
      const domains = await ctx.snapshot.allDomains();
      return {
        state: {
          names: domains.map((d) => d.name),
          domains: domains.map((d) => ({ name: d.name, status: d.status, created_at: d.created_at })),
        },
      };
    } catch (err) {
      return { state: null, diagnostics: apiErrorDiagnostics(err, "Listing domains", []) };
    }
  },
});
