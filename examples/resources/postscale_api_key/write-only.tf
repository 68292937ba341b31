# Write-only key material (OpenTofu 1.11+ or Terraform 1.11+): the secret
# comes from an ephemeral value, Postscale stores only its hash, and neither
# plan nor state holds it (`secret` stays null). Older engines refuse
# secret_wo rather than store it.
#
# The material usually comes from `ephemeral "random_password"` and goes to
# a secret manager's write-only attribute too (AWS secret_string_wo); see
# docs/secrets.md.
variable "payments_key_material" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "postscale_api_key" "payments" {
  name    = "payments"
  owner   = "organization"
  domains = ["app.example.com"]

  secret_wo = var.payments_key_material
  # Bump together with new material to rotate in place.
  secret_wo_version = 1
}
