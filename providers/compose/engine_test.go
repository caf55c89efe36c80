package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/drivers/odoo"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/compose/enginetest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

// openEngine builds the provider over the real docker stack of
// enginetest (skipped where the machine cannot run it, outside CI).
func openEngine(t *testing.T) (*Provider, *enginetest.Stack) {
	t.Helper()
	s := enginetest.Shared(t)
	// docker finds the compose plugin through DOCKER_CONFIG.
	t.Setenv("DOCKER_CONFIG", s.DockerConfig)
	raw, err := json.Marshal(map[string]any{"dir": "projects", "dockerHost": s.Host, "network": enginetest.Network, "waitTimeout": "60s"})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := providers.Open("compose", providers.Config{Name: providerName, Raw: raw, ConfigDir: t.TempDir(),
		Redactor: redact.New(providertest.CredentialCanary)})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Provider), s
}

// engineState is the app container's id and status on the engine.
func engineState(t *testing.T, s *enginetest.Stack, name string) (id, status string) {
	t.Helper()
	out, err := s.Docker(t.Context(), "inspect", "--format", "{{.Id}} {{.State.Status}}", name+"-app-1")
	if err != nil {
		t.Fatal(err)
	}
	id, status, _ = strings.Cut(strings.TrimSpace(out), " ")
	return id, status
}

// The clone flow on compose: the app is stopped, the odoo driver's
// exact neutralize command runs as a one-off container of the app's
// image (the recorder prints its arguments) while the app stays
// stopped, then Start brings the same container back, healthy.
func TestEngineStopNeutralizeStart(t *testing.T) {
	p, s := openEngine(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	const target, name = "erpstop/testing", "erpstop-testing"
	ref := providers.AppRef{Target: target, Name: name}
	t.Cleanup(func() { _ = p.Destroy(context.Background(), ref) })

	// Nothing deployed: stopping is not an error, starting is.
	if err := p.Stop(ctx, ref); err != nil {
		t.Fatalf("stop of a missing app: %v", err)
	}
	if err := p.Start(ctx, ref); !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("start of a missing app: %v, want ErrNotFound", err)
	}

	app := providers.App{AppRef: ref, Image: s.Images[enginetest.Recorder], Port: 8080,
		Env:        map[string]string{"PGPASSWORD": "pg-" + providertest.Canary, "LOG_LEVEL": "info"},
		SecretKeys: []string{"PGPASSWORD"}, IdempotencyKey: "0123456789abcdef0123456789abcdef", Title: "deployment-stop-test"}
	if _, _, err := p.Deploy(ctx, app); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	id, status := engineState(t, s, name)
	if status != "running" {
		t.Fatalf("after deploy: app %s", status)
	}

	for i := 0; i < 2; i++ { // stopping a stopped app is not an error
		if err := p.Stop(ctx, ref); err != nil {
			t.Fatalf("stop (%d): %v", i+1, err)
		}
	}
	if _, status := engineState(t, s, name); status != "exited" {
		t.Fatalf("after stop: app %s, want exited", status)
	}
	st, err := p.Observe(ctx, ref)
	if err != nil || !st.Exists || st.IdempotencyKey != "" {
		t.Fatalf("observe of a stopped app: %+v, %v (want it to exist, not taken as deployed)", st, err)
	}

	cmd := odoo.NeutralizeCommand("erp")
	res, err := p.RunJob(ctx, providers.Job{Target: target, AppName: name, Name: "sanitize", Command: cmd})
	if err != nil {
		t.Fatalf("neutralize job: %v", err)
	}
	want, _ := json.Marshal(cmd)
	if !strings.Contains(res.Output, fmt.Sprintf("args: %s\n", want)) {
		t.Fatalf("the job's output does not record %s:\n%s", want, res.Output)
	}
	providertest.CheckNoSecret(t, "job output", res.Output)
	// The one-off container ran without starting the app, and is gone.
	if _, status := engineState(t, s, name); status != "exited" {
		t.Fatalf("after the neutralize job: app %s, want still exited", status)
	}
	out, err := s.Docker(ctx, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+name, "--filter", "label=com.docker.compose.oneoff=True")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("one-off containers left: %q, %v", out, err)
	}

	if err := p.Start(ctx, ref); err != nil {
		t.Fatalf("start: %v", err)
	}
	id2, status := engineState(t, s, name)
	if status != "running" || id2 != id {
		t.Fatalf("after start: container %s %s, want %s running (the deployed one, not recreated)", id2, status, id)
	}
	st, err = p.Observe(ctx, ref)
	if err != nil || st.IdempotencyKey != app.IdempotencyKey || st.Image != app.Image {
		t.Fatalf("observe after start: %+v, %v", st, err)
	}
}

// TestEngineConformanceStopper runs the Stopper suite on the real
// engine: the suite's app is the recorder image, deployed by Prepare.
func TestEngineConformanceStopper(t *testing.T) {
	providertest.RunStopper(t, providertest.Setup[providers.Deployer]{Provider: providerName,
		New: func(t *testing.T) (providers.Deployer, providertest.Backend) {
			p, _ := openEngine(t)
			t.Cleanup(func() {
				_ = p.Destroy(context.Background(), providers.AppRef{Target: "conf/testing", Name: "conf-testing"})
			})
			return p, nil
		},
		Prepare: func(t *testing.T, d providers.Deployer, target string) {
			s := enginetest.Shared(t)
			ref := providers.AppRef{Target: target, Name: providers.ObjectName(target)}
			if _, _, err := d.Deploy(t.Context(), providers.App{AppRef: ref, Image: s.Images[enginetest.Recorder], Port: 8080,
				Env: map[string]string{}, IdempotencyKey: "conformance-stopper-0000000000000"}); err != nil {
				t.Fatal(err)
			}
		}})
}
