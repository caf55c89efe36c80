// Package npmplus manages proxy hosts in Nginx Proxy Manager and NPMplus:
// an Ingress with one proxy host per domain, marked as Launchplane's in
// the host's meta, or, on a newer NPMplus without meta, in the first line
// of its advanced_config. It follows the servers' shapes: forward_host
// and forward_port, or npmplus_upstream_servers (NPMplus' load-balancing
// line, whose PUT has no enabled); nginx status in meta or in
// npmplus_nginx_online. Supported: Nginx Proxy Manager v2.15.1 and
// NPMplus releases of 2026 (with and without meta).
//
// It logs in lazily, once per instance, with POST /api/tokens and detects
// the server's style: a token in the answer (Nginx Proxy Manager, sent as
// Bearer) or only {expires} and a Secure __Host-Http-token cookie (newer
// NPMplus, kept in a cookie jar, which needs an https url). An expired
// session (NPM: 400 "Token has expired", 500 for another JWT error;
// NPMplus: 403 "Invalid or expired token", or 401) is replaced by one new
// login and the call repeated. An account with a second factor is
// refused at login. The admin API's certificate is pinned with
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
    "insecureSkipVerify": {"type": "boolean", "description": "skip TLS verification of the admin API; prefer caFile"},
    "certificate": {"type": "string", "minLength": 1, "description": "TLS certificate of the proxy hosts: \"new\" (NPM requests a Let's Encrypt certificate for each domain, with the account email of the user's profile) or the name (nice_name) of a certificate already in NPM, e.g. a wildcard; default none"},
    "sslForced": {"type": "boolean", "description": "with certificate: redirect HTTP to HTTPS (default false)"}
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
