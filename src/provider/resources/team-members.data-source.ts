import type { DataSourceType } from "../protocol/types";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics } from "./diagnostics";
import { MEMBER_TYPE, memberValue } from "./member-values";

/** `postscale_team_members`: everyone in the organization. */
export const teamMembersDataSource: DataSourceType<ProviderContext> = {
  name: "postscale_team_members",

  schema: {
    version: 0,
    block: {
      description: "Everyone in the organization (owner, admins, members; invited, active or expired), ordered by email, each with their domain access.",
      attributes: {
        members: {
          type: ["list", MEMBER_TYPE],
          computed: true,
          description: "The members, ordered by email: `id`, `email`, `role`, `status`, `name`, `invited_at`, `joined_at` and `domain_access` (a list of `domain` and `access`).",
        },
      },
    },
  },

  async read(ctx) {
    try {
      return { state: { members: (await ctx.snapshot.allMembers()).map(memberValue) } };
    } catch (err) {
      return { state: null, diagnostics: apiErrorDiagnostics(err, "Listing team members", []) };
    }
  },
};
