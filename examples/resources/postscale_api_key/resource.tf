# A member's key: limited to domains the member can write. depends_on makes
# sure the grant lands before the key that needs it.
resource "postscale_api_key" "dev_ci" {
  name       = "ci"
  owner      = "member"
  member_id  = postscale_team_member.dev.id
  domains    = ["app.example.com"]
  expires_at = "2027-06-30T00:00:00Z"
  depends_on = [postscale_domain_access.dev_app]
}

# An organization-owned service key: survives when people leave.
resource "postscale_api_key" "mailer" {
  name    = "mailer"
  owner   = "organization"
  domains = ["app.example.com"]
}

output "dev_ci_secret" {
  value     = postscale_api_key.dev_ci.secret
  sensitive = true
}
