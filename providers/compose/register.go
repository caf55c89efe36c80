// Package compose renders a docker compose project per target and runs
// docker compose when a docker engine answers.
package compose

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["dir"],
  "properties": {
    "dir": {"type": "string", "minLength": 1, "description": "directory the projects are rendered into, relative to the config dir"},
    "dockerHost": {"type": "string", "minLength": 1, "description": "DOCKER_HOST to run docker compose against"},
    "network": {"type": "string", "minLength": 1, "description": "external docker network the services join"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "compose",
		Roles:        []providers.Role{providers.RoleDeployer, providers.RoleJobs},
		Doc:          "docker compose projects rendered per target, run with docker compose when an engine answers",
		ConfigSchema: json.RawMessage(configSchema),
	})
}
