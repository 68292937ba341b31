//go:build tools

// Package tools pins the OpenTofu engine used by tests, benchmarks and the demo.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
