// Package caddy manages routes through the Caddy admin API.
package caddy

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["admin", "upstreamHost"],
  "properties": {
    "admin": {"$ref": "#/$defs/httpURL", "description": "admin API address, e.g. http://localhost:2019"},
    "server": {"type": "string", "minLength": 1, "description": "name under apps.http.servers holding the routes (default srv0)"},
    "upstreamHost": {"type": "string", "minLength": 1, "description": "host the proxied apps listen on"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "caddy",
		Roles:        []providers.Role{providers.RoleIngress},
		Doc:          "routes in Caddy's admin API, addressed by @id",
		ConfigSchema: json.RawMessage(configSchema),
	})
}
