# The code is the whole truth: members, grants and keys that exist in
# Postscale but are not declared below show in every plan, and with
# remove = true apply removes them. The owner, the person running the apply
# and the key it runs with are never touched.
resource "postscale_undeclared_access" "team" {
  declared_members = [postscale_team_member.dev.email]
  declared_grants = [
    "${postscale_team_member.dev.email}/app.example.com",
    "${postscale_team_member.dev.email}/staging.example.com",
  ]
  declared_keys = [
    "${postscale_team_member.dev.email}/ci",
    "organization/mailer",
  ]
  # A robot account managed elsewhere, and the key CI deploys with.
  exempt = ["robot@example.com", "organization/terraform"]
  remove = true

  # Applied after what it declares, so nothing declared is ever seen as extra.
  depends_on = [
    postscale_domain_access.dev_app,
    postscale_domain_access.dev_staging,
    postscale_api_key.dev_ci,
    postscale_api_key.mailer,
  ]
}
