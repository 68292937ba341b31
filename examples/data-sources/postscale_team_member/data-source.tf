data "postscale_team_member" "ops" {
  email = "ops@example.com"
}
