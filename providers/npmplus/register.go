// Package npmplus manages proxy hosts in Nginx Proxy Manager and NPMplus.
package npmplus

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["url", "email", "password", "forwardHost"],
  "properties": {
    "url": {"$ref": "#/$defs/httpURL", "description": "admin API base URL, e.g. https://npm.example.com:81"},
    "email": {"type": "string", "minLength": 3, "description": "login identity"},
    "password": {"$ref": "#/$defs/secretRef", "description": "login secret"},
    "forwardHost": {"type": "string", "minLength": 1, "maxLength": 255, "description": "host the proxied apps listen on"},
    "forwardScheme": {"enum": ["http", "https"], "description": "scheme to the apps (default http)"},
    "caFile": {"type": "string", "minLength": 1, "description": "PEM CA to trust for the admin API (NPMplus uses a self-signed certificate)"},
    "insecureSkipVerify": {"type": "boolean", "description": "skip TLS verification of the admin API; prefer caFile"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "npmplus",
		Roles:        []providers.Role{providers.RoleIngress},
		Doc:          "proxy hosts in Nginx Proxy Manager or NPMplus",
		ConfigSchema: json.RawMessage(configSchema),
	})
}
