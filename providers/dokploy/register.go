// Package dokploy is the Dokploy adapter: applications and compose
// services, env, image, deploys, domains, schedules as jobs and backups.
package dokploy

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
)

const configSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["url", "apiKey", "environmentId"],
  "properties": {
    "url": {"$ref": "#/$defs/httpURL", "description": "base URL of the Dokploy instance"},
    "apiKey": {"$ref": "#/$defs/secretRef", "description": "API key, sent as x-api-key"},
    "environmentId": {"type": "string", "minLength": 1, "description": "environment that holds the services"},
    "serverId": {"type": "string", "minLength": 1, "description": "remote server to create services on"},
    "serviceType": {"enum": ["application", "compose"], "description": "kind of Dokploy service to manage (default application)"},
    "timeout": {"$ref": "#/$defs/duration", "description": "how long to wait for a deployment (default 10m)"},
    "pollInterval": {"$ref": "#/$defs/duration", "description": "how often to read a deployment's status while waiting (default 2s)"},
    "composeService": {"type": "string", "minLength": 1, "description": "with serviceType compose: the service of the compose file that serves HTTP and runs jobs (default app)"},
    "https": {"type": "boolean", "description": "serve domains over HTTPS (default true)"},
    "certificateType": {"enum": ["letsencrypt", "none", "custom"], "description": "certificate of HTTPS domains (default letsencrypt)"},
    "registry": {
      "type": "object",
      "additionalProperties": false,
      "required": ["username", "password"],
      "description": "credentials Dokploy pulls private images with",
      "properties": {
        "url": {"type": "string", "minLength": 1, "description": "registry host, e.g. ghcr.io"},
        "username": {"type": "string", "minLength": 1},
        "password": {"$ref": "#/$defs/secretRef"}
      }
    },
    "backup": {
      "type": "object",
      "additionalProperties": false,
      "required": ["destinationId"],
      "description": "where and how backups are taken",
      "properties": {
        "destinationId": {"type": "string", "minLength": 1, "description": "S3 destination (Dokploy destination) backups are written to"},
        "databaseType": {"enum": ["postgres", "mysql", "mariadb", "mongo"], "description": "engine of the database (default postgres)"},
        "databaseId": {"type": "string", "minLength": 1, "description": "Dokploy database service (postgresId, mysqlId…) that holds the targets' databases"},
        "serviceName": {"type": "string", "minLength": 1, "description": "with serviceType compose and no databaseId: the database service inside each target's compose file"},
        "prefix": {"type": "string", "minLength": 1, "description": "folder in the destination (default launchplane); each target and database gets <prefix>/<object name>/<database>"},
        "keepLatestCount": {"type": "integer", "minimum": 1, "description": "let Dokploy keep only this many backups per target and database (default: keep all)"},
        "databaseUser": {"type": "string", "minLength": 1, "description": "with serviceName: the database user Dokploy dumps as (postgres, mariadb, mongo); Dokploy builds a compose service's dump command from it"},
        "databasePassword": {"$ref": "#/$defs/secretRef", "description": "with serviceName: the password of databaseUser (mariadb, mongo) or of root (mysql)"}
      }
    }
  }
}`

func init() {
	providers.Register(providers.Info{
		Type:         "dokploy",
		Roles:        []providers.Role{providers.RoleDeployer, providers.RoleIngress, providers.RoleJobs, providers.RoleBackups},
		Doc:          "Dokploy applications or compose services, their domains, schedules and backups",
		ConfigSchema: json.RawMessage(configSchema),
		New:          newProvider,
	})
}
