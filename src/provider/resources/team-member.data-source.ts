import { defineDataSource } from "../framework/resource";
import { defineSchema } from "../framework/schema";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, emailAttributeErrors } from "./diagnostics";
import { GRANT_TYPE, memberValue } from "./member-values";

const schema = defineSchema({
  description: "One person in the organization, looked up by email (compared case-insensitively), with their domain access.",
  attributes: {
    email: { type: "string", required: true, description: "The person's email address." },
    id: { type: "string", computed: true, description: "The member's id." },
    role: { type: "string", computed: true, description: '"owner", "admin" or "member".' },
    status: { type: "string", computed: true, description: '"invited", "active" or "expired".' },
    name: { type: "string", computed: true, description: "The person's name; null until they accept the invitation." },
    invited_at: { type: "string", computed: true, description: "When the latest invitation was sent (RFC 3339)." },
    joined_at: { type: "string", computed: true, description: "When the person joined (RFC 3339); null while invited." },
    domain_access: { type: ["list", GRANT_TYPE], computed: true, description: "The member's domain grants, ordered by domain: `domain` and `access` (read or read_write). Empty for owners and admins, who reach every domain." },
  },
});

/** `postscale_team_member`: one person in the organization, by email. */
export const teamMemberDataSource = defineDataSource<ProviderContext, typeof schema.attributes>({
  name: "postscale_team_member",
  schema,

  validate(config) {
    return emailAttributeErrors(config.email, "email");
  },

  async read(ctx, config) {
    const email = config.email;
    try {
      const member = await ctx.snapshot.memberByEmail(email);
      if (member === undefined) {
        return { state: null, diagnostics: [attributeError(["email"], "Team Member Not Found", `No member with email "${email}" in the organization. Check the address, or invite them with a postscale_team_member resource.`)] };
      }
      // The email stays as configured: the data source's input must come back unchanged.
      return { state: { ...memberValue(member), email } };
    } catch (err) {
      return { state: null, diagnostics: apiErrorDiagnostics(err, `Reading team member ${email}`, ["email"]) };
    }
  },
});
