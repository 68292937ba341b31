# A key for this run only: each phase (plan, apply) mints its own with a
# server-side expiry of ttl and revokes it when the phase ends. It is never
# written to plan or state. Needs OpenTofu >= 1.11 or Terraform >= 1.10.
ephemeral "postscale_api_key" "deploy" {
  owner   = "organization"
  domains = ["app.example.com"]
  ttl     = "15m"
}

# A second provider configuration that authenticates with that key, for
# this run only (endpoint from POSTSCALE_ENDPOINT, as for the default one).
provider "postscale" {
  alias   = "deploy"
  api_key = ephemeral.postscale_api_key.deploy.secret
}

data "postscale_domain" "app" {
  provider = postscale.deploy
  name     = "app.example.com"
}
