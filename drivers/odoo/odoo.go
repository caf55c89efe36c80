// Package odoo is the Odoo driver: generic-web plus backup gates, module
// updates, sanitizing of non-prod databases and restore-aware rollback.
package odoo

import (
	"encoding/json"

	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/drivers/web"
	"github.com/launchplane/launchplane/plan"
)

// ID is the driver id products name in spec.driver.
const ID = "odoo"

// SettingsKey is the Product spec block the driver reads.
const SettingsKey = "odoo"

// settingsSchema is the JSON Schema of spec.odoo.
const settingsSchema = `{
  "type": "object",
  "description": "Odoo tenant settings",
  "additionalProperties": false,
  "required": ["database"],
  "properties": {
    "database": {
      "type": "string",
      "description": "PostgreSQL database of the tenant",
      "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$",
      "x-messages": {"pattern": "must be a database name: letters, digits, '_', '.', '-', at most 63 characters"}
    },
    "modules": {
      "type": "array",
      "description": "modules updated by the post-deploy job (odoo -u)",
      "uniqueItems": true,
      "items": {
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9_]*$",
        "x-messages": {"pattern": "must be an Odoo module name: lowercase letters, digits and '_'"}
      }
    },
    "settings": {
      "type": "object",
      "description": "system parameters (ir.config_parameter) applied after the module update",
      "propertyNames": {"pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"},
      "additionalProperties": {
        "anyOf": [{"type": "string"}, {"$ref": "#/$defs/secretRef"}],
        "x-messages": {"anyOf": "must be a string or a secret reference ({fromEnv: NAME} or {fromFile: PATH})"}
      }
    },
    "backup": {
      "type": "object",
      "description": "where backups of the tenant are kept",
      "additionalProperties": false,
      "required": ["root"],
      "properties": {"root": {"type": "string", "minLength": 1}}
    }
  }
}`

// Descriptor is generic-web's descriptor extended with odoo's capabilities,
// actions and settings.
func Descriptor() drivers.Descriptor {
	d := web.Descriptor()
	d.ID = ID
	d.Base = web.ID
	d.Doc = "an Odoo tenant: generic-web plus backup gates, module updates, sanitizing and safe rollback"
	d.Capabilities = append(d.Capabilities, drivers.CapBackup, "module-update", "sanitize", "settings")
	d.Actions = append(d.Actions,
		drivers.Action{Name: "backup", Safety: drivers.SafetySafeWrite, Doc: "take a backup that gates the next prod deployment", Step: plan.KindBackup},
		drivers.Action{Name: "module-update", Safety: drivers.SafetyMutation, Doc: "run odoo -u for the product's modules, then apply settings", Step: plan.KindPostDeploy},
		drivers.Action{Name: "sanitize", Safety: drivers.SafetyDestructive, Doc: "neutralize a non-prod database restored or cloned from prod, before its app starts", Step: plan.KindSanitize},
		drivers.Action{Name: "clone", Safety: drivers.SafetyDestructive, Doc: "replace a non-prod database with a prod backup, then sanitize it (launchplane clone)"},
		drivers.Action{Name: "restore", Safety: drivers.SafetyDestructive, Doc: "restore the gate's backup before rolling back the image", Step: plan.KindRestore},
	)
	d.SettingsKey = SettingsKey
	d.Settings = json.RawMessage(settingsSchema)
	return d
}

func init() {
	drivers.Register(driver{web.New(Descriptor(), web.Hooks{
		AppAttrs:      appAttrs,
		ExtraSteps:    extraSteps,
		Preflight:     preflight,
		BeforeDeploy:  map[plan.Kind]drivers.StepFunc{plan.KindBackup: backupStep, plan.KindRestore: restoreStep},
		AfterDeploy:   map[plan.Kind]drivers.StepFunc{plan.KindPostDeploy: postDeploy, plan.KindSanitize: sanitizeStep},
		OnRollback:    onRollback,
		RollbackSteps: rollbackSteps,
	})})
}
