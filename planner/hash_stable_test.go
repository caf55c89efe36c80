package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/secrets"
)

// planDigest is the plan hash and a digest of every change's before and
// after in canonical JSON: what the typed app attributes must keep byte
// for byte (the plan hash covers after only).
func planDigest(p *plan.Plan) (string, string) {
	h := sha256.New()
	for _, c := range p.Changes {
		h.Write([]byte(c.Address))
		h.Write(plan.Canonical(c.Before))
		h.Write(plan.Canonical(c.After))
		h.Write([]byte(c.IdempotencyKey))
		h.Write([]byte(c.Reason))
	}
	return p.Hash(), hex.EncodeToString(h.Sum(nil))[:16]
}

// TestPlanHashStable pins the plan hash and the canonical before/after of
// plans of the examples and of the shop fixture (create, rotation-checked
// update, destroy) to the values the untyped attributes gave: typing the
// app's attributes must not change a plan hash.
func TestPlanHashStable(t *testing.T) {
	fx := newFixture(t)
	getenv := func(k string) string {
		if k == secrets.FingerprintKeyEnv {
			return "pinned-fingerprint-key"
		}
		if v, ok := fx.Env[k]; ok {
			return v
		}
		return "value-of-" + k
	}
	key, err := secrets.LoadFingerprintKey(getenv, fx.Snap(), false)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, p *plan.Plan, wantHash, wantDigest string) {
		t.Helper()
		h, d := planDigest(p)
		if h != wantHash || d != wantDigest {
			t.Errorf("%s: plan hash %s digest %s, want %s %s", name, h, d, wantHash, wantDigest)
		}
	}
	for _, ex := range []struct{ dir, hash, digest string }{
		{"compose-caddy", "sha256:550bf217a53a80d5470aa4c5ade814f532ab79eea5301a29d73469a15c20043f", "98090c3a286e4110"},
		{"generic-web", "sha256:d81f71313bcc0e6f750641784e354b4143236f9e2ef2a14fee5a4c9b0beb2378", "33d0e25dcb682b69"},
		{"odoo", "sha256:ee73aefaf58c8ac712b6e5fef47b68cb484db9d90bc640b17379e7ea6d4b8ae9", "77b61a21e06b6969"},
		{"quickstart", "sha256:9ed3b6d5533c93b8c3df3ccddbe6fde69e5b261b44992c7f78ffb6159fc180dc", "2325ddabdab7c20b"},
	} {
		cfg, ds := schema.Load(filepath.Join("..", "examples", ex.dir))
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		p, _, err := PlanWith(cfg, fx.Snap(), nil, Secrets{Getenv: getenv, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		check(ex.dir, p, ex.hash, ex.digest)
	}

	cfg := fx.Load()
	fx.mustApply(cfg, nil)
	fx.Env["SHOP_API_TOKEN"] = "rotated-token-value-1"
	fx.SetImage("prod", testfixture.NewImg)
	cfg = fx.Load()
	p, _, err := PlanWith(cfg, fx.Snap(), nil, Secrets{Getenv: getenv, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	check("shop update", p, "sha256:de43a3cb52a3cd13d6a68a1ead33bc5a59556775973bbbb062f64ad03c72e1e1", "f0bdbe463c2a7dd3")
	p, _, err = PlanRefresh(t.Context(), cfg, fx.Snap(), nil, RefreshOptions{Getenv: getenv, Redactor: redact.New(), Secrets: Secrets{Getenv: getenv, Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	check("shop refresh", p, "sha256:de43a3cb52a3cd13d6a68a1ead33bc5a59556775973bbbb062f64ad03c72e1e1", "f0bdbe463c2a7dd3")
	if err := os.Remove(filepath.Join(fx.Dir, "prod.yaml")); err != nil {
		t.Fatal(err)
	}
	cfg = fx.Load()
	check("shop destroy", fx.plan(cfg, nil), "sha256:2e564ddcb628dcd8885a0a7d703cbafbe0391f7256f260f344932d11c8796fdb", "7ad86c096a3819be")
}
