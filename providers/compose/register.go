// Package compose renders a docker compose project per target and runs
// docker compose when a docker engine answers.
//
// Each target's app becomes the project <dir>/<name>/ (name: the
// target's provider object name, which must be a valid compose project
// name) holding compose.yaml, one service "app" running the
// digest-pinned image, and .env (mode 0600), the app's env and the only
// place its secret values are written. When `docker version` reaches a
// server (DOCKER_HOST=dockerHost when set), deploys run `docker compose
// up -d --wait --remove-orphans`, observations read `docker compose ps`
// and `docker inspect`, jobs run `docker compose run --rm -T`. Without
// one the provider is render-only: deploys render the files and succeed,
// observations read them back, jobs fail, and Limitation makes apply
// skip health checks rather than pass them.
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
    "network": {"type": "string", "minLength": 1, "description": "external docker network the services join"},
    "docker": {"type": "string", "minLength": 1, "description": "docker binary (default docker from PATH); a relative path with a slash is relative to the config dir"},
    "waitTimeout": {"$ref": "#/$defs/duration", "description": "passed to docker compose up as --wait-timeout (default none: the apply's deadline)"}
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "compose",
		Roles:        []providers.Role{providers.RoleDeployer, providers.RoleJobs},
		Doc:          "docker compose projects rendered per target, run with docker compose when an engine answers",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
	})
}
