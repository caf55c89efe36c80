// Package caddy manages routes through the Caddy admin API.
//
// Each routed domain is one route in the server's route list, addressed by
// its @id "launchplane-<object name>-<n>" (the target's provider object
// name, SPEC §3, and a small number free for that target):
//
//	{"@id": "launchplane-shop-prod-1",
//	 "match": [{"host": ["shop.example.com"]}],
//	 "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "<upstreamHost>:<port>"}]}],
//	 "terminal": true}
//
// New routes go before the server's first catch-all route (one without a
// matcher), so that it keeps answering only the hosts nobody routes. Every
// write carries If-Match with the Etag of the route list it was computed
// from, and is computed again when another editor changed the list in
// between. Routes Launchplane did not create are never changed: a domain
// one of them already routes is refused.
//
// Config: admin (the admin API URL; when Caddy's admin listens on a
// specific host, the URL's host must be one of its allowed origins, else
// Caddy answers 403 "host not allowed"), server (default srv0),
// upstreamHost (the host routes dial; "{upstream}" in it stands for the
// app's provider object name, so "{upstream}" dials a container by name
// on a Docker network), listen (the addresses of the server when
// Launchplane has to create it, default [":443"]).
//
// Caddy versions: 2.6 sends the Etag of GET /config/ as an HTTP trailer,
// later versions as a header; both are read. Without an Etag (Caddy
// before 2.6) writes go unconditionally and are read back to check they
// landed. Caddy 2.6 accepts duplicate @ids, so ids are picked free
// across the whole config. Caddy replaces its admin server on every
// config load and resets the connections the old one held, so a write
// whose connection failed is computed again from a fresh read, never
// blindly resent; the client keeps no connection alive between calls.
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
    "admin": {"$ref": "#/$defs/httpURL", "description": "admin API address, e.g. http://localhost:2019 (its Host must be one of Caddy's allowed admin origins)"},
    "server": {"type": "string", "minLength": 1, "description": "name under apps.http.servers holding the routes (default srv0)"},
    "upstreamHost": {"type": "string", "minLength": 1, "description": "host the proxied apps listen on; {upstream} is replaced by the app's provider object name (<product>-<lane>), e.g. for Docker DNS"},
    "listen": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}, "description": "addresses of the server when Launchplane has to create it (default [\":443\"])"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "caddy",
		Roles:        []providers.Role{providers.RoleIngress},
		Doc:          "routes in Caddy's admin API, addressed by @id",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
	})
}
