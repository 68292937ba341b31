# Imported by the organization's id (see the postscale_organization data
# source). Creating the resource does the same: neither removes anything.
tofu import postscale_undeclared_access.team org_0123456789abcdef
