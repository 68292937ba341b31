# Domain access is for role member only: admins already reach every domain.
resource "postscale_domain_access" "dev_app" {
  member_id = postscale_team_member.dev.id
  domain    = "app.example.com"
  access    = "read_write"
}

resource "postscale_domain_access" "dev_staging" {
  member_id = postscale_team_member.dev.id
  domain    = "staging.example.com"
  access    = "read"
}
