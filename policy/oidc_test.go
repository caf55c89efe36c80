package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/policy/oidctest"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// recorder is a transport that remembers every token the token endpoint
// handed out, so tests can check no error repeats one.
type recorder struct {
	mu     sync.Mutex
	tokens []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != oidctest.TokenPath {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var v struct{ Value string }
	if json.Unmarshal(body, &v) == nil && v.Value != "" {
		r.mu.Lock()
		r.tokens = append(r.tokens, v.Value)
		r.mu.Unlock()
	}
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp, nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

type fixture struct {
	iss *oidctest.Issuer
	rec *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	iss := oidctest.NewIssuer()
	t.Cleanup(iss.Close)
	iss.SetNow(func() time.Time { return t0 })
	return &fixture{iss: iss, rec: &recorder{}}
}

// verifier checks at now, through the recording transport.
func (f *fixture) verifier(now time.Time) policy.Verifier {
	return policy.Verifier{Issuer: f.iss.URL(), Client: &http.Client{Transport: f.rec}, Now: func() time.Time { return now }}
}

// assertNoSecrets fails when err repeats a request token or any token
// (or a token's payload) the endpoint gave out.
func (f *fixture) assertNoSecrets(t *testing.T, err error, g oidctest.Grant) {
	t.Helper()
	msg := err.Error()
	if g.RequestToken != "" && strings.Contains(msg, g.RequestToken) {
		t.Errorf("error contains the request token: %s", msg)
	}
	for _, tok := range f.rec.all() {
		parts := strings.Split(tok, ".")
		if strings.Contains(msg, tok) || (len(parts) == 3 && (strings.Contains(msg, parts[1]) || strings.Contains(msg, parts[2]))) {
			t.Errorf("error contains the OIDC token: %s", msg)
		}
	}
}

func TestFromActionsValidToken(t *testing.T) {
	f := newFixture(t)
	claims := oidctest.Claims("acme/platform", "refs/heads/main", "push")
	claims["environment"] = "production"
	g := f.iss.Grant(oidctest.Token{Claims: claims})

	id, err := policy.FromActions(context.Background(), g.Getenv, f.verifier(t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Identity{
		Source:         policy.SourceGitHubOIDC,
		Repository:     "acme/platform",
		RepositoryID:   "123456",
		Ref:            "refs/heads/main",
		Event:          "push",
		Environment:    "production",
		Workflow:       "deploy",
		WorkflowRef:    "acme/platform/.github/workflows/deploy.yml@refs/heads/main",
		JobWorkflowRef: "acme/platform/.github/workflows/deploy.yml@refs/heads/main",
		Actor:          "octocat",
		SHA:            "0123456789abcdef0123456789abcdef01234567",
		RunID:          "42",
		RunAttempt:     "1",
		Subject:        "repo:acme/platform:ref:refs/heads/main",
		Issuer:         f.iss.URL(),
	}
	if id != want {
		t.Errorf("identity:\n got %+v\nwant %+v", id, want)
	}
	reqs := f.iss.Requests()
	if len(reqs) != 1 || reqs[0].Audience != "launchplane" || reqs[0].RequestToken != g.RequestToken || reqs[0].Status != http.StatusOK {
		t.Errorf("token requests = %+v, want one for audience launchplane with the request token", reqs)
	}
	if s := id.String(); strings.Contains(s, f.rec.all()[0]) || !strings.Contains(s, "acme/platform@refs/heads/main") {
		t.Errorf("String() = %q", s)
	}
}

// TestFromActionsPolicy is the flow the CLI runs: resolve, then evaluate.
func TestFromActionsPolicy(t *testing.T) {
	f := newFixture(t)
	p := &policy.Policy{Spec: config.PolicySpec{Rules: []config.PolicyRule{{
		Match: config.PolicyMatch{Repository: ptr("acme/platform"), Ref: ptr("refs/heads/main"), Event: ptr("push")},
		Allow: config.PolicyAllow{Products: []string{"*"}, Lanes: []string{"testing", "prod"}, Actions: []string{"apply"}},
	}}}}
	req := policy.Request{Action: policy.ActionApply, Product: "shop", Lane: "prod"}
	for _, tt := range []struct {
		ref, event string
		allowed    bool
	}{
		{"refs/heads/main", "push", true},
		{"refs/pull/7/merge", "pull_request", false},
	} {
		g := f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", tt.ref, tt.event)})
		id, err := policy.Resolve(context.Background(), g.Getenv, policy.Options{Verifier: f.verifier(t0)})
		if err != nil {
			t.Fatal(err)
		}
		if d := policy.Evaluate(p, id, req); d.Allowed != tt.allowed {
			t.Errorf("%s %s: allowed = %v, want %v (%s)", tt.event, tt.ref, d.Allowed, tt.allowed, d.Reason)
		}
	}
}

func TestFromActionsRejects(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture) (oidctest.Grant, policy.Verifier)
		want  []string
		is    error
	}{
		{
			name: "wrong audience",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				g := f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push"), Audience: []string{"https://github.com/acme"}})
				return g, f.verifier(t0)
			},
			want: []string{`is for audience ["https://github.com/acme"], not "launchplane"`},
		},
		{
			name: "verifier wants another audience",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				g := f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push"), Audience: []string{"launchplane"}})
				v := f.verifier(t0)
				v.Audience = "other"
				return g, v
			},
			want: []string{`not "other"`},
		},
		{
			name: "unknown signing key",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				return f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push"), UnknownKey: true}), f.verifier(t0)
			},
			want: []string{"unknown signing key", "not signed by any key "},
		},
		{
			name: "unknown key claiming the published key id",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				return f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push"), UnknownKey: true, ForgeKeyID: true}), f.verifier(t0)
			},
			want: []string{"unknown signing key"},
		},
		{
			name: "expired",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				return f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push")}), f.verifier(t0.Add(6 * time.Minute))
			},
			want: []string{"expired at 2026-05-01T12:05:00Z"},
		},
		{
			name: "token from another issuer",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				return f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push"), Issuer: policy.DefaultIssuer}), f.verifier(t0)
			},
			want: []string{`was issued by "https://token.actions.githubusercontent.com", not by the trusted issuer http://127.0.0.1`},
		},
		{
			name: "discovery names another issuer",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				f.iss.SetDiscoveryIssuer("https://impostor.example")
				return f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push")}), f.verifier(t0)
			},
			want: []string{`its discovery document names issuer "https://impostor.example"`},
		},
		{
			name: "token without repository",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				return f.iss.Grant(oidctest.Token{Claims: map[string]any{"sub": "repo:x"}}), f.verifier(t0)
			},
			want: []string{"has no repository claim"},
		},
		{
			name: "missing request URL",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				g := f.iss.Grant(oidctest.Token{})
				g.RequestURL = ""
				return g, f.verifier(t0)
			},
			want: []string{"ACTIONS_ID_TOKEN_REQUEST_URL is not set", "permissions: id-token: write"},
		},
		{
			name: "missing request token",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				g := f.iss.Grant(oidctest.Token{})
				g.RequestToken = ""
				return g, f.verifier(t0)
			},
			want: []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set"},
		},
		{
			name: "request token refused",
			setup: func(f *fixture) (oidctest.Grant, policy.Verifier) {
				g := f.iss.Grant(oidctest.Token{})
				g.RequestToken = "revoked-request-token-0123456789"
				return g, f.verifier(t0)
			},
			want: []string{"request the Actions OIDC token from http://127.0.0.1", "401 Unauthorized"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			g, v := tt.setup(f)
			getenv := func(k string) string {
				switch k {
				case "ACTIONS_ID_TOKEN_REQUEST_URL":
					return g.RequestURL
				case "ACTIONS_ID_TOKEN_REQUEST_TOKEN":
					return g.RequestToken
				}
				return ""
			}
			id, err := policy.FromActions(context.Background(), getenv, v)
			if err == nil {
				t.Fatalf("FromActions = %+v, want an error", id)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if id != (policy.Identity{}) {
				t.Errorf("identity %+v returned with the error", id)
			}
			f.assertNoSecrets(t, err, g)
		})
	}
}

func TestFromActionsExpiredIsTyped(t *testing.T) {
	f := newFixture(t)
	g := f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push")})
	_, err := policy.FromActions(context.Background(), g.Getenv, f.verifier(t0.Add(time.Hour)))
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Errorf("err = %v, want a *oidc.TokenExpiredError in the chain", err)
	}
}

// TestFromActionsRedactsEndpointErrors: an endpoint that echoes what it
// was sent must not get the request token into an error.
func TestFromActionsRedactsEndpointErrors(t *testing.T) {
	const reqToken = "super-secret-request-token-4242"
	const jwtish = "eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOiJwYXlsb2FkLXBheWxvYWQifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
	for _, tt := range []struct {
		name   string
		status int
		body   func(r *http.Request) string
	}{
		{"echoing 500", http.StatusInternalServerError, func(r *http.Request) string { return "bad: " + r.Header.Get("Authorization") }},
		{"malformed token", http.StatusOK, func(*http.Request) string { return `{"value": "` + jwtish + `"}` }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body(r))
			}))
			defer srv.Close()
			iss := oidctest.NewIssuer()
			defer iss.Close()
			env := map[string]string{
				"ACTIONS_ID_TOKEN_REQUEST_URL":   srv.URL + "/idtoken?api-version=2.0",
				"ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqToken,
			}
			_, err := policy.FromActions(context.Background(), func(k string) string { return env[k] }, policy.Verifier{Issuer: iss.URL()})
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			for _, secret := range append([]string{reqToken, jwtish}, strings.Split(jwtish, ".")[1:]...) {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains a secret %q", msg, secret)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	g := f.iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/shop", "refs/pull/7/merge", "pull_request")})
	// GITHUB_* variables claim a main-branch push; only the token counts.
	env := map[string]string{
		"GITHUB_REPOSITORY": "acme/platform",
		"GITHUB_REF":        "refs/heads/main",
		"GITHUB_EVENT_NAME": "push",
		"GITHUB_ACTOR":      "admin",
		"USER":              "runner",
	}
	for _, kv := range g.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	opts := policy.Options{Verifier: f.verifier(t0), Hostname: func() (string, error) { return "host", nil }}

	id, err := policy.Resolve(context.Background(), getenv, opts)
	if err != nil {
		t.Fatal(err)
	}
	if id.Source != policy.SourceGitHubOIDC || id.Repository != "acme/shop" || id.Ref != "refs/pull/7/merge" || id.Event != "pull_request" || id.Actor != "octocat" {
		t.Errorf("in Actions: identity %+v, want the token's claims", id)
	}

	// In Actions without the token: an error, never a local identity.
	delete(env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	id, err = policy.Resolve(context.Background(), getenv, opts)
	if err == nil || !strings.Contains(err.Error(), "id-token: write") || id.Source != "" {
		t.Errorf("in Actions without a token: %+v, %v; want the permissions error", id, err)
	}

	// Outside Actions: local.
	env["GITHUB_ACTIONS"] = "false"
	opts.Repository, opts.Ref = "acme/platform", "refs/heads/main"
	id, err = policy.Resolve(context.Background(), getenv, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Identity{Source: policy.SourceLocal, Actor: "runner@host", Repository: "acme/platform", Ref: "refs/heads/main"}
	if id != want {
		t.Errorf("outside Actions: %+v, want %+v", id, want)
	}
}

func ptr(s string) *string { return &s }

// TestFromActionsIgnoresIssuerFromEnvironment: an issuer anyone can run,
// named in the environment, adds nothing to what the verifier trusts; its
// token is refused as issued by another issuer.
func TestFromActionsIgnoresIssuerFromEnvironment(t *testing.T) {
	f := newFixture(t)
	forged := oidctest.NewIssuer()
	defer forged.Close()
	forged.SetNow(func() time.Time { return t0 })
	g := forged.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push")})
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   g.RequestURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": g.RequestToken,
		"LAUNCHPLANE_OIDC_ISSUER":        forged.URL(),
		"LAUNCHPLANE_OIDC_AUDIENCE":      "launchplane",
	}
	id, err := policy.FromActions(context.Background(), func(k string) string { return env[k] }, f.verifier(t0))
	if err == nil {
		t.Fatalf("FromActions = %+v, want a refusal", id)
	}
	if want := "issued by \"" + forged.URL() + "\", not by the trusted issuer " + f.iss.URL(); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
