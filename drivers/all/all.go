// Package all imports every driver for the binary.
package all

import (
	_ "github.com/launchplane/launchplane/drivers/odoo"
	_ "github.com/launchplane/launchplane/drivers/web"
)
