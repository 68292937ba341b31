# Creating a member sends the invitation; deleting the block offboards them
# (their domain access and member-owned keys go with them).
resource "postscale_team_member" "ops" {
  email = "ops@example.com"
  role  = "admin"
}

resource "postscale_team_member" "dev" {
  email = "dev@example.com"
  role  = "member"
}
