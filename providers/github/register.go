// Package github posts plan comments and commit statuses on GitHub.
package github

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "repository": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", "description": "owner/name (default $GITHUB_REPOSITORY)"},
    "apiUrl": {"$ref": "#/$defs/httpURL", "description": "REST API base (default https://api.github.com, or $GITHUB_API_URL)"},
    "token": {"$ref": "#/$defs/secretRef", "description": "token (default {fromEnv: GITHUB_TOKEN})"},
    "author": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]*(\\[bot\\])?$", "description": "login the token comments as; only its comments are taken for the plan comment (default $LAUNCHPLANE_GITHUB_AUTHOR, else GET /user's login, else github-actions[bot] for an installation token)"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "github",
		Roles:        []providers.Role{providers.RoleFeedback},
		Doc:          "one plan comment per config dir on the pull request, and commit statuses",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
		CI:           readCI,
	})
}
