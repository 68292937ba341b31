# A member is imported by email, or by id.
tofu import postscale_team_member.dev dev@example.com
