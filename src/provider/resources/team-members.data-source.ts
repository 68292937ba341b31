import { defineDataSource } from "../framework/resource";
import { defineSchema } from "../framework/schema";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics } from "./diagnostics";
import { MEMBER_TYPE, memberValue } from "./member-values";

const schema = defineSchema({
  description: "Everyone in the organization (owner, admins, members; invited, active or expired), ordered by email, each with their domain access.",
  attributes: {
    members: {
      type: ["list", MEMBER_TYPE],
      computed: true,
      description: "The members, ordered by email: `id`, `email`, `role`, `status`, `name`, `invited_at`, `joined_at` and `domain_access` (a list of `domain` and `access`).",
    },
  },
});

/** `postscale_team_members`: everyone in the organization. */
export const teamMembersDataSource = defineDataSource<ProviderContext, typeof schema.attributes>({
  name: "postscale_team_members",
  schema,

  async read(ctx) {
    try {
      return { state: { members: (await ctx.snapshot.allMembers()).map(memberValue) } };
    } catch (err) {
      return { state: null, diagnostics: apiErrorDiagnostics(err, "Listing team members", []) };
    }
  },
});
