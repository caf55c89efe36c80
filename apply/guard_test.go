package apply

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// The last guard refuses structured data holding a resolved secret value
// in any common encoding, names the file and the secret's source (never
// the value), and leaves short and public values alone.
func TestGuardSecrets(t *testing.T) {
	const v = `pa55/word+"long"`
	secrets := map[string]string{v: "env SHOP_DB_PASSWORD", "mint": "env SHORT", "hello.example.com": "env PUBLIC"}
	public := map[string]bool{"hello.example.com": true}
	for name, data := range map[string]string{
		"raw":        "x " + v + " y",
		"json":       `{"a": "pa55/word+\"long\""}`,
		"base64":     `{"a": "` + base64.StdEncoding.EncodeToString([]byte(v)) + `"}`,
		"base64url":  base64.RawURLEncoding.EncodeToString([]byte(v)),
		"urlencoded": "u=" + url.QueryEscape(v),
	} {
		err := guardSecrets([]state.Change{{Path: "targets/shop/prod.json", Data: []byte(data)}}, secrets, public)
		if !errors.Is(err, ErrSecretInState) {
			t.Errorf("%s: got %v, want ErrSecretInState", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "targets/shop/prod.json") || !strings.Contains(msg, "env SHOP_DB_PASSWORD") || strings.Contains(msg, "pa55") {
			t.Errorf("%s: %q", name, msg)
		}
	}
	clean := []state.Change{
		{Path: "targets/hello/prod.json", Data: []byte(`{"image": "mint", "domain": "hello.example.com"}`)},
		{Path: "records/x.json", Delete: true},
	}
	if err := guardSecrets(clean, secrets, public); err != nil {
		t.Errorf("short or public values refused: %v", err)
	}
}

func appChange(p *plan.Plan, target string) *plan.Change {
	for i := range p.Changes {
		if p.Changes[i].Address == target+"/app" {
			return &p.Changes[i]
		}
	}
	return nil
}

// The last guard: a secret value that reached structured data fails the
// apply loudly and never lands in the state repository.
func TestRunRefusesSecretInState(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	p := fx.plan(cfg, nil)
	c := appChange(p, "shop/prod")
	after := map[string]any{}
	for k, v := range c.After {
		after[k] = v
	}
	after["env"] = map[string]any{"LOG_LEVEL": "info", "LEAKED": testfixture.CanaryToken} // a bug copying a value in
	c.After = after
	_, err := Run(context.Background(), fx.options(cfg, p))
	if !errors.Is(err, ErrSecretInState) {
		t.Fatalf("got %v, want ErrSecretInState", err)
	}
	if strings.Contains(err.Error(), testfixture.CanaryToken) || !strings.Contains(err.Error(), "env SHOP_API_TOKEN") {
		t.Errorf("error %q", err)
	}
	fx.eachObject(func(what string, data []byte) {
		if s := containsAny(data, testfixture.CanaryToken, "CANARY"); s != "" {
			t.Errorf("%s holds %q", what, s)
		}
	})
}
