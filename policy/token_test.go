package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/policy/oidctest"
)

// TestVerifyToken: a request's token is verified against the issuer and
// audience given (the policy's), must be short-lived and carry an id.
func TestVerifyToken(t *testing.T) {
	iss := oidctest.NewIssuer()
	defer iss.Close()
	other := oidctest.NewIssuer()
	defer other.Close()
	now := time.Now()
	iss.SetNow(func() time.Time { return now })
	claims := oidctest.Claims("acme/shop", "refs/pull/7/merge", "pull_request")
	ctx := context.Background()

	tok, err := policy.VerifyToken(ctx, iss.Mint(oidctest.Token{Claims: claims}), iss.URL(), "launchplane", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Identity.Repository != "acme/shop" || tok.ID == "" || tok.Identity.Issuer != iss.URL() {
		t.Fatalf("token: %+v", tok)
	}

	noJTI := map[string]any{"jti": ""}
	for k, v := range claims {
		noJTI[k] = v
	}
	noJTI["jti"] = ""
	for name, c := range map[string]struct {
		raw, issuer, aud, want string
	}{
		"other issuer":   {other.Mint(oidctest.Token{Claims: claims}), iss.URL(), "launchplane", "not by the trusted issuer"},
		"iss claim":      {iss.Mint(oidctest.Token{Claims: claims, Issuer: other.URL()}), iss.URL(), "launchplane", "issued by"},
		"other audience": {iss.Mint(oidctest.Token{Claims: claims, Audience: []string{"https://github.com/acme"}}), iss.URL(), "launchplane", "audience"},
		"expired":        {iss.Mint(oidctest.Token{Claims: claims, IssuedAt: now.Add(-time.Hour), Expiry: now.Add(-55 * time.Minute)}), iss.URL(), "launchplane", "expired"},
		"long-lived":     {iss.Mint(oidctest.Token{Claims: claims, IssuedAt: now, Expiry: now.Add(2 * time.Hour)}), iss.URL(), "launchplane", "longer than"},
		"no id":          {iss.Mint(oidctest.Token{Claims: noJTI}), iss.URL(), "launchplane", "no id (jti)"},
		"forged key":     {iss.Mint(oidctest.Token{Claims: claims, UnknownKey: true, ForgeKeyID: true}), iss.URL(), "launchplane", "unknown signing key"},
	} {
		_, err := policy.VerifyToken(ctx, c.raw, c.issuer, c.aud, nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error with %q, got %v", name, c.want, err)
		}
		if err != nil && strings.Contains(err.Error(), strings.Split(c.raw, ".")[1]) {
			t.Errorf("%s: the error holds the token", name)
		}
	}
}

// TestTrust: the policy's spec.oidc, else GitHub's issuer and launchplane.
func TestTrust(t *testing.T) {
	if i, a := policy.Trust(nil); i != policy.DefaultIssuer || a != "launchplane" {
		t.Fatalf("defaults: %s %s", i, a)
	}
	p := &config.Policy{Spec: config.PolicySpec{OIDC: &config.PolicyOIDC{Issuer: "https://ghes.example.com/_services/token"}}}
	if i, a := policy.Trust(p); i != "https://ghes.example.com/_services/token" || a != "launchplane" {
		t.Fatalf("issuer only: %s %s", i, a)
	}
}
