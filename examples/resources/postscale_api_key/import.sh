# A key is imported by id. The secret is shown only once, at creation, so an
# imported key has a null secret in state.
tofu import postscale_api_key.mailer key_0123456789abcdef
