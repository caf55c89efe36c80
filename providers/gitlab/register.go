package gitlab

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "project": {"type": "string", "pattern": "^([0-9]+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+)$", "description": "numeric id or group/project path (default $CI_PROJECT_ID)"},
    "apiUrl": {"$ref": "#/$defs/httpURL", "description": "REST API v4 base (default $CI_API_V4_URL, else https://gitlab.com/api/v4)"},
    "token": {"$ref": "#/$defs/secretRef", "description": "project, group or personal access token with the api scope (default {fromEnv: GITLAB_TOKEN}); CI_JOB_TOKEN cannot post notes"}
  }
}`

// The gitlab provider registers itself: adding it to the binary is one
// import in providers/all, and nothing else names it.
func init() {
	providers.Register(providers.Info{
		Type:         "gitlab",
		Roles:        []providers.Role{providers.RoleFeedback},
		Doc:          "one plan note per config dir on the merge request, and commit statuses",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
		CI:           readCI,
	})
}
