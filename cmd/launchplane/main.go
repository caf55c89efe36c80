// Command launchplane is a declarative GitOps runner for web products and
// Odoo tenants on self-hosted platforms. See README.md.
package main

import "os"

func main() { os.Exit(Main()) }
