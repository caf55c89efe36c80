package planner

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/secrets"
)

func (fx *fixture) planChecked(t *testing.T, key *secrets.FingerprintKey) *plan.Plan {
	t.Helper()
	cfg := fx.Load()
	p, _, err := PlanWith(cfg, fx.Snap(), nil, Secrets{Getenv: func(k string) string { return fx.Env[k] }, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testKey is the fingerprint key LAUNCHPLANE_FINGERPRINT_KEY=k gives.
func testKey(t *testing.T, k string) *secrets.FingerprintKey {
	t.Helper()
	key, err := secrets.LoadFingerprintKey(func(name string) string {
		if name == secrets.FingerprintKeyEnv {
			return k
		}
		return ""
	}, nil, false)
	if err != nil || key == nil {
		t.Fatal(key, err)
	}
	return key
}

func appChange(p *plan.Plan, target string) *plan.Change {
	for i := range p.Changes {
		if p.Changes[i].Address == target+"/app" {
			return &p.Changes[i]
		}
	}
	return nil
}

// A rotated value is an update naming the key, a new key is a note and
// never a rotation, and unreadable values leave rotation unchecked.
func TestFingerprintRotation(t *testing.T) {
	fx := newFixture(t)
	key := testKey(t, "test-key-one")
	cfg := fx.Load()
	p := fx.planChecked(t, key)
	if !p.SecretsChecked {
		t.Fatalf("secrets not checked: %v", p.Diagnostics)
	}
	fp, _ := appChange(p, "shop/prod").After["secrets"].(map[string]any)["DATABASE_URL"].(map[string]any)
	if !regexp.MustCompile(`^hmac-sha256:[0-9a-f]{32}$`).MatchString(str(fp, "fingerprint")) || str(fp, "keyed_by") != key.KeyedBy {
		t.Fatalf("secret entry %v", fp)
	}
	o := fx.options(cfg, p)
	if _, err := apply.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if p := fx.planChecked(t, key); p.HasChanges() {
		t.Fatalf("changes right after apply: %v", appChange(p, "shop/prod"))
	}

	fx.Env["SHOP_DB_URL"] = testfixture.Canary + "-rotated"
	p = fx.planChecked(t, key)
	for _, target := range []string{"shop/prod", "shop/testing"} {
		c := appChange(p, target)
		if c.Action != plan.Update || c.Reason != "secret rotated: DATABASE_URL" {
			t.Errorf("%s: %s (%s)", target, c.Action, c.Reason)
		}
	}
	if b := plan.Canonical(p.Changes); strings.Contains(string(b), "CANARY") {
		t.Error("a secret value is in the plan")
	}

	other := testKey(t, "test-key-two")
	p = fx.planChecked(t, other)
	if p.HasChanges() {
		t.Errorf("a new key is a change: %s", appChange(p, "shop/prod").Reason)
	}
	if d := strings.Join(p.Diagnostics, "\n"); !strings.Contains(d, "the fingerprint key changed since API_TOKEN, DATABASE_URL was fingerprinted: not a rotation") {
		t.Errorf("no note of the key change: %s", d)
	}

	delete(fx.Env, "SHOP_API_TOKEN")
	p = fx.planChecked(t, key)
	if p.SecretsChecked || p.HasChanges() {
		t.Errorf("unreadable secret: checked %v, changes %v", p.SecretsChecked, p.HasChanges())
	}
	if d := strings.Join(p.Diagnostics, "\n"); !strings.Contains(d, "secret rotation was not checked: shop/prod secret API_TOKEN cannot be read") {
		t.Errorf("diagnostics: %s", d)
	}
}
