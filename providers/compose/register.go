// Package compose renders a docker compose project per target and runs
// docker compose when a docker engine answers.
//
// Each target's app becomes the project <dir>/<name>/ (name: the
// target's provider object name, which must be a valid compose project
// name) holding compose.yaml, one service "app" running the
// digest-pinned image, and .env (mode 0600), the app's env and the only
// place its secret values are written.
//
// In mode deploy (the default) every operation needs a docker engine
// (DOCKER_HOST=dockerHost when set): deploys run `docker compose up -d
// --wait --remove-orphans`, and a deploy that fails puts the previous
// project back (its files, and its containers through the engine);
// observations read `docker compose ps` and `docker inspect`; jobs run
// `docker compose run --rm -T`; Stop and Start (the Stopper role a
// clone needs) run `docker stop` on the app container and `docker
// compose start --wait app`. An engine that does not answer is an
// error, never a silent render.
//
// Mode render-only is declared in the Provider (`mode: render-only`):
// deploys render the files and run nothing, observations read the files
// back, jobs fail, and Limitation makes apply record the deploy as
// rendered and skip health checks rather than pass them.
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
    "mode": {"enum": ["deploy", "render-only"], "description": "deploy (default): run docker compose, and fail when no engine answers; render-only: write the files and run nothing (outcome rendered, health skipped)"},
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
		Doc:          "docker compose projects rendered per target and run with docker compose (mode render-only: rendered, never run)",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
	})
}
