package planner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
)

// TestDesiredJoinsErrorsInConfigOrder: targets expand in parallel, yet
// the error lists every failing target in config order, as expanding one
// after another would, and the targets that expanded are kept.
func TestDesiredJoinsErrorsInConfigOrder(t *testing.T) {
	cfg := &config.Config{}
	var want []string
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("p%03d", i)
		drv := "generic-web"
		if i%7 == 3 {
			drv = "missing-" + name
			want = append(want, fmt.Sprintf("%s/prod: driver %s is not built into this binary", name, drv))
		}
		cfg.Products = append(cfg.Products, &config.Product{Name: name, Spec: config.ProductSpec{Driver: drv, Port: 8080}})
		cfg.Targets = append(cfg.Targets, &config.Target{Name: name + "-prod", Spec: config.TargetSpec{Product: name, Lane: "prod",
			Image: "r.example/" + name + "@sha256:" + strings.Repeat("a", 64), Deploy: config.ProviderRef{Provider: "local"}}})
	}
	for range 5 {
		d, err := Desired(cfg, nil)
		if err == nil || err.Error() != strings.Join(want, "\n") {
			t.Fatalf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
		}
		if got := len(d.Targets); got != 200-len(want) {
			t.Fatalf("%d targets expanded, want %d", got, 200-len(want))
		}
	}
}

// TestMayHaveSecretsAgreesWithAppOf: whenever mayHaveSecrets says no,
// AppOf finds no secret (or fails), so skipping it changes nothing.
func TestMayHaveSecretsAgreesWithAppOf(t *testing.T) {
	for _, secrets := range []any{
		nil, "absent", map[string]any{}, map[string]any{"K": map[string]any{"fromEnv": "E"}},
		map[string]any{"K": "bad"}, "bad", []any{}, map[string]string{}, map[string]map[string]any{},
	} {
		attrs := map[string]any{"name": "a", "image": "i", "port": 1}
		if secrets != "absent" {
			attrs["secrets"] = secrets
		}
		app, err := plan.AppOf(attrs)
		found := err == nil && len(app.Secrets) > 0
		if found && !mayHaveSecrets(attrs) {
			t.Errorf("secrets %#v: AppOf finds %v, mayHaveSecrets says none", secrets, app.Secrets)
		}
	}
	if mayHaveSecrets(map[string]any{"secrets": map[string]any{}}) {
		t.Error("an empty secrets object may have secrets")
	}
}
