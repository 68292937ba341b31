# Rotation in place: the key keeps its id, name and scope; only the secret
# (and prefix) change, and the old secret keeps working for rotation_overlap
# so clients can switch without downtime.

# On a schedule: any plan after 90 days shows an in-place update that
# rotates. Run plan/apply regularly (e.g. a daily CI job) for it to happen.
resource "postscale_api_key" "deploy" {
  name             = "deploy"
  owner            = "organization"
  domains          = ["app.example.com"]
  rotate_every     = "90d"
  rotation_overlap = "10m"
}

# By hand or from another resource: change rotation_trigger to rotate (for
# example to time_rotating.<name>.id, a date, or a ticket number).
resource "postscale_api_key" "billing" {
  name             = "billing"
  owner            = "organization"
  domains          = ["app.example.com"]
  rotation_trigger = "2026-07"
  rotation_overlap = "1h"
}
