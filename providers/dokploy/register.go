// Package dokploy is the Dokploy adapter: applications and compose
// services, env, image, deploys, domains, schedules as jobs and backups.
package dokploy

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["url", "apiKey", "environmentId"],
  "properties": {
    "url": {"$ref": "#/$defs/httpURL", "description": "base URL of the Dokploy instance"},
    "apiKey": {"$ref": "#/$defs/secretRef", "description": "API key, sent as x-api-key"},
    "environmentId": {"type": "string", "minLength": 1, "description": "environment that holds the services"},
    "serverId": {"type": "string", "minLength": 1, "description": "remote server to create services on"},
    "serviceType": {"enum": ["application", "compose"], "description": "kind of Dokploy service to manage (default application)"},
    "timeout": {"$ref": "#/$defs/duration", "description": "how long to wait for a deployment (default 10m)"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "dokploy",
		Roles:        []providers.Role{providers.RoleDeployer, providers.RoleIngress, providers.RoleJobs, providers.RoleBackups},
		Doc:          "Dokploy applications or compose services, their domains, schedules and backups",
		ConfigSchema: json.RawMessage(configSchema),
	})
}
