// Package oidctest is a GitHub Actions OIDC issuer for tests: an
// httptest server with discovery (/.well-known/openid-configuration), a
// JWKS (/.well-known/jwks), RS256 token minting, and a token endpoint
// that behaves like the runner's ACTIONS_ID_TOKEN_REQUEST_URL.
//
// A typical test:
//
//	iss := oidctest.NewIssuer()
//	defer iss.Close()
//	g := iss.Grant(oidctest.Token{Claims: oidctest.Claims("acme/platform", "refs/heads/main", "push")})
//	env := g.Env() // GITHUB_ACTIONS, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN
//
// The issuer a verifier trusts is the policy's (spec.oidc.issuer: g.IssuerURL),
// never an environment variable.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Paths the issuer serves.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks"
	// TokenPath is the token endpoint; like the runner's URL, the request
	// URL a Grant gives already has a query string.
	TokenPath = "/_apis/idtoken"
)

// Key ids of the published key and of the key the JWKS does not hold.
const (
	KeyID        = "oidctest-key"
	UnknownKeyID = "oidctest-unknown"
)

// Token describes a token to mint. Zero fields take defaults.
type Token struct {
	// Claims are the token's claims besides iss, aud, iat, nbf, exp,
	// which the fields below set; a key given here wins.
	Claims map[string]any
	// Issuer is the iss claim; "" means the issuer's URL.
	Issuer string
	// Audience is the aud claim. Minted directly, nil means "launchplane";
	// through a Grant, nil means the audience the request asked for.
	Audience []string
	// IssuedAt defaults to the issuer's clock; Expiry to 5 minutes later,
	// as GitHub's tokens.
	IssuedAt time.Time
	Expiry   time.Time
	// UnknownKey signs with a key the JWKS does not publish.
	UnknownKey bool
	// ForgeKeyID, with UnknownKey, names the published key's id in the
	// header, so the forgery claims to be signed by the trusted key.
	ForgeKeyID bool
}

// Issuer is a running test issuer. It is safe for concurrent use.
type Issuer struct {
	// Server is the underlying HTTP server; its URL is the issuer.
	Server *httptest.Server

	key, unknown *rsa.PrivateKey

	mu     sync.Mutex
	now    func() time.Time
	grants map[string]Token
	reqs   []Request
	disc   string // issuer the discovery document names; "" = URL
}

// Request is one call to the token endpoint, as the issuer saw it.
type Request struct {
	RequestToken string // the bearer sent
	Audience     string // the audience query parameter
	Status       int    // what the endpoint answered
}

// NewIssuer starts an issuer with fresh RSA keys. Close it when done.
func NewIssuer() *Issuer {
	iss := &Issuer{
		key:     mustKey(),
		unknown: mustKey(),
		now:     time.Now,
		grants:  map[string]Token{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, iss.serveDiscovery)
	mux.HandleFunc("GET "+JWKSPath, iss.serveJWKS)
	mux.HandleFunc("GET "+TokenPath, iss.serveToken)
	iss.Server = httptest.NewServer(mux)
	return iss
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("oidctest: generate key: %v", err))
	}
	return k
}

// URL is the issuer URL (no trailing slash).
func (i *Issuer) URL() string { return i.Server.URL }

// Close shuts the server down.
func (i *Issuer) Close() { i.Server.Close() }

// SetNow sets the clock minted tokens' iat and exp derive from.
func (i *Issuer) SetNow(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// SetDiscoveryIssuer makes the discovery document name another issuer,
// as a misconfigured or impostor issuer would; "" restores the URL.
func (i *Issuer) SetDiscoveryIssuer(s string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.disc = s
}

// Requests returns the token endpoint's calls so far.
func (i *Issuer) Requests() []Request {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Request(nil), i.reqs...)
}

// Mint signs a token as described.
func (i *Issuer) Mint(t Token) string {
	if t.Audience == nil {
		t.Audience = []string{"launchplane"}
	}
	return i.mint(t)
}

func (i *Issuer) mint(t Token) string {
	i.mu.Lock()
	now := i.now()
	i.mu.Unlock()
	iat := t.IssuedAt
	if iat.IsZero() {
		iat = now
	}
	exp := t.Expiry
	if exp.IsZero() {
		exp = iat.Add(5 * time.Minute)
	}
	iss := t.Issuer
	if iss == "" {
		iss = i.URL()
	}
	claims := map[string]any{
		"iss": iss,
		"aud": audience(t.Audience),
		"iat": iat.Unix(),
		"nbf": iat.Unix(),
		"exp": exp.Unix(),
		"jti": randomHex(),
	}
	for k, v := range t.Claims {
		claims[k] = v
	}
	key, kid := i.key, KeyID
	if t.UnknownKey {
		key, kid = i.unknown, UnknownKeyID
		if t.ForgeKeyID {
			kid = KeyID
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(fmt.Sprintf("oidctest: signer: %v", err))
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("oidctest: claims: %v", err))
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(fmt.Sprintf("oidctest: sign: %v", err))
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("oidctest: serialize: %v", err))
	}
	return s
}

// audience is aud as GitHub writes it: a string for one audience.
func audience(aud []string) any {
	if len(aud) == 1 {
		return aud[0]
	}
	return aud
}

func randomHex() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("oidctest: random: %v", err))
	}
	return hex.EncodeToString(b)
}

// Grant is what the runner gives a job with permissions: id-token: write:
// a request URL and the bearer token that unlocks it.
type Grant struct {
	IssuerURL    string
	RequestURL   string
	RequestToken string
}

// Grant registers a request token whose calls to the token endpoint mint
// t (with the requested audience unless t.Audience is set).
func (i *Issuer) Grant(t Token) Grant {
	tok := "oidctest-request-" + randomHex()
	i.mu.Lock()
	i.grants[tok] = t
	i.mu.Unlock()
	return Grant{
		IssuerURL:    i.URL(),
		RequestURL:   i.URL() + TokenPath + "?api-version=2.0",
		RequestToken: tok,
	}
}

// Env is the environment of a GitHub Actions job holding g, as
// "KEY=value" strings: GITHUB_ACTIONS=true, ACTIONS_ID_TOKEN_REQUEST_URL
// and ACTIONS_ID_TOKEN_REQUEST_TOKEN. The issuer to trust is not in it:
// that is the policy's to say.
func (g Grant) Env() []string {
	return []string{
		"GITHUB_ACTIONS=true",
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + g.RequestURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + g.RequestToken,
	}
}

// Getenv looks keys up in g.Env, for code that takes a getenv function.
func (g Grant) Getenv(key string) string {
	for _, kv := range g.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// Claims is a typical claim set of a job of repository (owner/repo) on
// ref triggered by event, as GitHub issues them: sub, repository ids,
// workflow refs, actor, sha, run id.
func Claims(repository, ref, event string) map[string]any {
	owner, _, _ := strings.Cut(repository, "/")
	sub := "repo:" + repository + ":ref:" + ref
	if event == "pull_request" {
		sub = "repo:" + repository + ":pull_request"
	}
	refType := "branch"
	if strings.HasPrefix(ref, "refs/tags/") {
		refType = "tag"
	}
	wf := repository + "/.github/workflows/deploy.yml@" + ref
	return map[string]any{
		"sub":                   sub,
		"repository":            repository,
		"repository_id":         "123456",
		"repository_owner":      owner,
		"repository_owner_id":   "654321",
		"repository_visibility": "private",
		"ref":                   ref,
		"ref_type":              refType,
		"sha":                   "0123456789abcdef0123456789abcdef01234567",
		"workflow":              "deploy",
		"workflow_ref":          wf,
		"workflow_sha":          "0123456789abcdef0123456789abcdef01234567",
		"job_workflow_ref":      wf,
		"job_workflow_sha":      "0123456789abcdef0123456789abcdef01234567",
		"event_name":            event,
		"actor":                 "octocat",
		"actor_id":              "1",
		"run_id":                "42",
		"run_number":            "7",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
	}
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	iss := i.disc
	i.mu.Unlock()
	if iss == "" {
		iss = i.URL()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              i.URL() + JWKSPath,
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_id", "event_name", "environment", "workflow", "workflow_ref", "job_workflow_ref", "actor", "sha", "run_id"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &i.key.PublicKey, KeyID: KeyID, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// serveToken mimics the runner's token endpoint: a known bearer request
// token and an audience parameter are required; the answer is
// {"value": JWT}.
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	aud := r.URL.Query().Get("audience")
	i.mu.Lock()
	t, known := i.grants[bearer]
	i.mu.Unlock()
	status := http.StatusOK
	switch {
	case !ok || !known:
		status = http.StatusUnauthorized
	case aud == "" || r.URL.Query().Get("api-version") == "":
		status = http.StatusBadRequest
	}
	i.mu.Lock()
	i.reqs = append(i.reqs, Request{RequestToken: bearer, Audience: aud, Status: status})
	i.mu.Unlock()
	switch status {
	case http.StatusUnauthorized:
		writeJSON(w, status, map[string]string{"message": "invalid or missing request token"})
		return
	case http.StatusBadRequest:
		writeJSON(w, status, map[string]string{"message": "audience and api-version query parameters are required"})
		return
	}
	if t.Audience == nil {
		t.Audience = []string{aud}
	}
	writeJSON(w, http.StatusOK, map[string]string{"value": i.mint(t)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
