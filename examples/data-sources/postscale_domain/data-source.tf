data "postscale_domain" "app" {
  name = "app.example.com"
}
