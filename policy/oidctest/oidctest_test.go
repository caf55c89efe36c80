package oidctest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

func TestMintVerifies(t *testing.T) {
	iss := NewIssuer()
	defer iss.Close()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	iss.SetNow(func() time.Time { return now })
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, iss.URL())
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: "launchplane", Now: func() time.Time { return now }})

	tok, err := v.Verify(ctx, iss.Mint(Token{Claims: Claims("acme/platform", "refs/heads/main", "push")}))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Repository string `json:"repository"`
		Event      string `json:"event_name"`
	}
	if err := tok.Claims(&c); err != nil || c.Repository != "acme/platform" || c.Event != "push" {
		t.Errorf("claims = %+v, %v", c, err)
	}
	if want := now.Add(5 * time.Minute); !tok.Expiry.Equal(want) {
		t.Errorf("expiry = %s, want %s", tok.Expiry, want)
	}
	if _, err := v.Verify(ctx, iss.Mint(Token{UnknownKey: true})); err == nil {
		t.Error("a token signed with the unknown key verified")
	}
}

func TestTokenEndpoint(t *testing.T) {
	iss := NewIssuer()
	defer iss.Close()
	g := iss.Grant(Token{Claims: Claims("acme/platform", "refs/heads/main", "push")})
	get := func(url, bearer string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Value string }
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v.Value
	}
	if code, _ := get(g.RequestURL+"&audience=launchplane", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("unknown request token: status %d, want 401", code)
	}
	if code, _ := get(g.RequestURL+"&audience=launchplane", ""); code != http.StatusUnauthorized {
		t.Errorf("no request token: status %d, want 401", code)
	}
	if code, _ := get(g.RequestURL, g.RequestToken); code != http.StatusBadRequest {
		t.Errorf("no audience: status %d, want 400", code)
	}
	code, jwt := get(g.RequestURL+"&audience=my-aud", g.RequestToken)
	if code != http.StatusOK || strings.Count(jwt, ".") != 2 {
		t.Fatalf("status %d, token %q", code, jwt)
	}
	if got := iss.Requests(); len(got) != 4 || got[3].Audience != "my-aud" || got[3].Status != http.StatusOK {
		t.Errorf("requests = %+v", got)
	}
	if g.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") != g.RequestToken || g.Getenv("GITHUB_ACTIONS") != "true" || g.IssuerURL != iss.URL() {
		t.Errorf("Env() = %v", g.Env())
	}
}
