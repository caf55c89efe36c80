// Package npmplus manages proxy hosts in Nginx Proxy Manager and NPMplus:
// an Ingress with one proxy host per domain, marked as Launchplane's in
// the host's meta.
//
// It logs in lazily, once per instance, with POST /api/tokens and detects
// the server's style: a token in the answer (Nginx Proxy Manager, sent as
// Bearer) or only {expires} and a Secure __Host-Http-token cookie (newer
// NPMplus, kept in a cookie jar, which needs an https url). An expired
// session (HTTP 400 "Token has expired", or 401) is replaced by one new
// login and the call repeated. The admin API's certificate is pinned with
// caFile, or trusted blindly with insecureSkipVerify. Writes send only
// the core fields, and every write is read back: NPM answers 201/200 even
// when nginx rejected the config, which only meta.nginx_online shows.
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
    "forwardHost": {"type": "string", "minLength": 1, "maxLength": 255, "description": "host the proxied apps listen on; the placeholder {upstream} is replaced by the app's provider object name (<product>-<lane>, e.g. a docker DNS name), e.g. \"{upstream}\" or \"{upstream}.internal\""},
    "forwardScheme": {"enum": ["http", "https"], "description": "scheme to the apps (default http)"},
    "caFile": {"type": "string", "minLength": 1, "description": "PEM CA (or the self-signed certificate itself) to trust for the admin API, instead of the system roots; relative to the config directory (NPMplus uses a self-signed certificate)"},
    "insecureSkipVerify": {"type": "boolean", "description": "skip TLS verification of the admin API; prefer caFile"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "npmplus",
		Roles:        []providers.Role{providers.RoleIngress},
		Doc:          "proxy hosts in Nginx Proxy Manager or NPMplus",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
	})
}
