package fake

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

// backend injects faults by editing the world file, as tests of the CLI do
// between runs: the provider is closed first, so the file is complete.
type backend struct {
	path string
	p    *Provider
}

func (b backend) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	if err := b.p.Close(); err != nil {
		t.Fatal(err)
	}
	w := World{}
	if raw, err := os.ReadFile(b.path); err == nil {
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
	}
	w.Faults = append(w.Faults, &Fault{Op: string(op), Times: 1, Error: message})
	raw, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (b backend) world(t *testing.T) World {
	t.Helper()
	if err := b.p.Close(); err != nil {
		t.Fatal(err)
	}
	w := World{}
	raw, err := os.ReadFile(b.path)
	if err != nil {
		return w
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func (b backend) Comments(t *testing.T, pr int) []string {
	var out []string
	for k, body := range b.world(t).Comments {
		var n int
		if _, err := fmt.Sscanf(k, "%d/", &n); err == nil && n == pr {
			out = append(out, body)
		}
	}
	return out
}

func (b backend) Status(t *testing.T, sha, context string) string {
	return b.world(t).Statuses[sha+"/"+context]
}

func open(t *testing.T) (*Provider, backend) {
	dir := t.TempDir()
	raw, _ := json.Marshal(config{Path: "world.json"})
	inst, err := newProvider(providers.Config{Name: "fake-conf", Raw: raw, ConfigDir: dir, Redactor: redact.New(providertest.CredentialCanary)})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Provider), backend{path: filepath.Join(dir, "world.json"), p: inst.(*Provider)}
}

func TestConformance(t *testing.T) {
	t.Run("deployer", func(t *testing.T) {
		providertest.RunDeployer(t, providertest.Setup[providers.Deployer]{Provider: "fake-conf",
			New: func(t *testing.T) (providers.Deployer, providertest.Backend) { return open(t) }})
	})
	t.Run("ingress", func(t *testing.T) {
		providertest.RunIngress(t, providertest.Setup[providers.Ingress]{Provider: "fake-conf",
			New: func(t *testing.T) (providers.Ingress, providertest.Backend) { return open(t) }})
	})
	prepare := func(t *testing.T, target string, p *Provider) {
		if _, _, err := p.Deploy(t.Context(), providers.App{AppRef: providers.AppRef{Target: target, Name: "x"}, Image: providertest.Image1}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("jobs", func(t *testing.T) {
		providertest.RunJobs(t, providertest.Setup[providers.Jobs]{Provider: "fake-conf",
			New:     func(t *testing.T) (providers.Jobs, providertest.Backend) { return open(t) },
			Prepare: func(t *testing.T, j providers.Jobs, target string) { prepare(t, target, j.(*Provider)) }})
	})
	t.Run("backups", func(t *testing.T) {
		providertest.RunBackups(t, providertest.Setup[providers.Backups]{Provider: "fake-conf",
			New:     func(t *testing.T) (providers.Backups, providertest.Backend) { return open(t) },
			Prepare: func(t *testing.T, b providers.Backups, target string) { prepare(t, target, b.(*Provider)) }})
	})
	t.Run("stopper", func(t *testing.T) {
		providertest.RunStopper(t, providertest.Setup[providers.Deployer]{Provider: "fake-conf",
			New: func(t *testing.T) (providers.Deployer, providertest.Backend) { return open(t) }})
	})
	t.Run("feedback", func(t *testing.T) {
		providertest.RunFeedback(t, providertest.FeedbackSetup{FailedState: "failure", Setup: providertest.Setup[providers.Feedback]{Provider: "fake-conf",
			New: func(t *testing.T) (providers.Feedback, providertest.Backend) { return open(t) }}})
	})
}
