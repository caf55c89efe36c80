package dokploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/dokploy/dokploytest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

const provider = "dokploy-conf"

// keyEnv is the environment variable the tests' apiKey reference names.
const keyEnv = "DOKPLOY_API_KEY"

// open builds the adapter as apply does (a fresh Redactor; Resolve
// registers what it returns) over a fresh stand-in, with cfg merged into
// the base config.
func open(t *testing.T, cfg map[string]any) (*Provider, *dokploytest.Server) {
	t.Helper()
	srv := dokploytest.New(providertest.CredentialCanary)
	t.Cleanup(srv.Close)
	return openAt(t, srv, map[string]string{keyEnv: providertest.CredentialCanary}, cfg), srv
}

// openAt builds the adapter over srv; secrets holds the values of the
// fromEnv references the config may name.
func openAt(t *testing.T, srv *dokploytest.Server, secrets map[string]string, cfg map[string]any) *Provider {
	t.Helper()
	base := map[string]any{
		"url":           srv.URL,
		"apiKey":        map[string]string{"fromEnv": keyEnv},
		"environmentId": dokploytest.EnvironmentID,
		"pollInterval":  "1ms",
		"backup":        map[string]any{"destinationId": dokploytest.DestinationID, "databaseId": dokploytest.PostgresID},
	}
	for k, v := range cfg {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	raw, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	red := redact.New()
	p, err := New(providers.Config{Name: provider, Raw: raw, Redactor: red, Resolve: func(ref providers.SecretRef) (string, error) {
		v, ok := secrets[ref.FromEnv]
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", ref.FromEnv)
		}
		red.Add(v)
		return v, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// backend makes the stand-in fail the way Dokploy fails.
type backend struct {
	srv  *dokploytest.Server
	kind string // application or compose
}

func (b backend) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	domains := "domain.byApplicationId"
	if b.kind == "compose" {
		domains = "domain.byComposeId"
	}
	switch op {
	case providertest.OpDeploy:
		b.srv.FailNextDeploy("", "error", message)
	case providertest.OpObserve:
		b.srv.FailNext(b.kind+".one", http.StatusBadRequest, message)
	case providertest.OpDestroy:
		b.srv.FailNext(b.kind+".delete", http.StatusBadRequest, message)
	case providertest.OpListRoutes:
		b.srv.FailNext(domains, http.StatusBadRequest, message)
	case providertest.OpEnsureRoute:
		b.srv.FailNext("domain.create", http.StatusBadRequest, message)
	case providertest.OpDeleteRoute:
		b.srv.FailNext("domain.delete", http.StatusInternalServerError, message)
	case providertest.OpRunJob:
		b.srv.FailNextRun("", message)
	case providertest.OpBackup:
		endpoint := "backup.manualBackupPostgres"
		if b.kind == "compose" {
			endpoint = "backup.manualBackupCompose"
		}
		b.srv.FailNext(endpoint, http.StatusBadRequest, message)
	default:
		t.Fatalf("the dokploy backend cannot fail %s", op)
	}
}

// prepare deploys target's app with the env the jobs suite passes, as
// Launchplane does before running jobs.
func prepare(t *testing.T, p *Provider, target string) {
	t.Helper()
	app := providers.App{AppRef: providers.AppRef{Target: target, Name: providers.ObjectName(target)}, Image: providertest.Image1,
		Env:        map[string]string{"LP_SETTING_TOKEN": providertest.Canary, "LP_MODE": "update"},
		SecretKeys: []string{"LP_SETTING_TOKEN"}, IdempotencyKey: "prepare", Title: "prepare"}
	if _, _, err := p.Deploy(t.Context(), app); err != nil {
		t.Fatalf("prepare %s: %v", target, err)
	}
}

func TestConformance(t *testing.T) {
	for _, c := range []struct {
		kind string
		cfg  map[string]any
	}{
		{"application", nil},
		{"compose", map[string]any{"serviceType": "compose",
			"backup": map[string]any{"destinationId": dokploytest.DestinationID, "serviceName": "db", "databaseUser": "odoo"}}},
	} {
		t.Run(c.kind, func(t *testing.T) {
			newP := func(t *testing.T) (*Provider, backend) {
				p, srv := open(t, c.cfg)
				return p, backend{srv: srv, kind: c.kind}
			}
			t.Run("deployer", func(t *testing.T) {
				providertest.RunDeployer(t, providertest.Setup[providers.Deployer]{Provider: provider,
					New: func(t *testing.T) (providers.Deployer, providertest.Backend) { return newP(t) }})
			})
			t.Run("ingress", func(t *testing.T) {
				providertest.RunIngress(t, providertest.Setup[providers.Ingress]{Provider: provider,
					New: func(t *testing.T) (providers.Ingress, providertest.Backend) { return newP(t) }})
			})
			t.Run("jobs", func(t *testing.T) {
				providertest.RunJobs(t, providertest.Setup[providers.Jobs]{Provider: provider,
					New:     func(t *testing.T) (providers.Jobs, providertest.Backend) { return newP(t) },
					Prepare: func(t *testing.T, j providers.Jobs, target string) { prepare(t, j.(*Provider), target) }})
			})
			t.Run("backups", func(t *testing.T) {
				providertest.RunBackups(t, providertest.Setup[providers.Backups]{Provider: provider,
					New:     func(t *testing.T) (providers.Backups, providertest.Backend) { return newP(t) },
					Prepare: func(t *testing.T, b providers.Backups, target string) { prepare(t, b.(*Provider), target) }})
			})
		})
	}
}
