// Package fake is a real, file-backed implementation of every provider
// role, for tests and demos: its whole state and injected faults live in
// one JSON file, so separate processes see the same world.
package fake

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "state and fault file, relative to the config dir"},
    "without": {
      "type": "array",
      "uniqueItems": true,
      "items": {"enum": ["health", "backups", "restore"]},
      "description": "capabilities the fake leaves out, to show how a platform without them is treated"
    }
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "fake",
		Roles:        []providers.Role{providers.RoleDeployer, providers.RoleIngress, providers.RoleJobs, providers.RoleBackups, providers.RoleFeedback},
		Doc:          "a file-backed world for tests and demos; every role, with fault injection",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
	})
}
