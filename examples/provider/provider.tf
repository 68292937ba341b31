terraform {
  required_providers {
    postscale = {
      source  = "postscale/postscale"
      version = "~> 0.1"
    }
  }
}

# endpoint and api_key fall back to POSTSCALE_ENDPOINT and POSTSCALE_API_KEY
# (an owner's or admin's key); prefer the environment over literals.
provider "postscale" {
  endpoint = "http://127.0.0.1:4000"
}
