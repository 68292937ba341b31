//go:build tools

// Package tools pins the Terraform engine (v1.5.7, the last MPL release) that
// the end-to-end suite runs beside OpenTofu to prove protocol compatibility.
package tools

import _ "github.com/hashicorp/terraform"
