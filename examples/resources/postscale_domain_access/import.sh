# Domain access is imported as <email>/<domain> (or <member id>/<domain>).
tofu import postscale_domain_access.dev_app dev@example.com/app.example.com
