import { defineDataSource } from "../framework/resource";
import { defineSchema } from "../framework/schema";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, domainAttributeErrors } from "./diagnostics";

const schema = defineSchema({
  description: "One domain of the organization, looked up by name. Fails when the domain does not exist or is not visible to the provider's credential (Postscale does not tell the two apart).",
  attributes: {
    name: { type: "string", required: true, description: "The domain name, lower case (e.g. `staging.example.com`)." },
    status: { type: "string", computed: true, description: "The domain's setup status, as Postscale reports it." },
    created_at: { type: "string", computed: true, description: "When the domain was added (RFC 3339)." },
  },
});

/** `postscale_domain`: one domain of the organization, by name. */
export const domainDataSource = defineDataSource<ProviderContext, typeof schema.attributes>({
  name: "postscale_domain",
  schema,

  validate(config) {
    return domainAttributeErrors(config.name, "name");
  },

  async read(ctx, config) {
    const name = config.name;
    try {
      const domains = await ctx.snapshot.allDomains();
      const domain = domains.find((d) => d.name === name);
      if (domain === undefined) {
        const known = domains.map((d) => d.name).join(", ") || "none";
        return { state: null, diagnostics: [attributeError(["name"], "Domain Not Found", `No domain "${name}" is visible to the provider's credential. Domains it sees: ${known}.`)] };
      }
      return { state: { name: domain.name, status: domain.status, created_at: domain.created_at } };
    } catch (err) {
      return { state: null, diagnostics: apiErrorDiagnostics(err, `Reading domain ${name}`, ["name"]) };
    }
  },
});
