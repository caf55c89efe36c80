package policy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MaxTokenLifetime is the longest life (exp - iat) a token sent with a
// request may have: GitHub's Actions tokens live 5 minutes, and a
// request's token is a one-off credential, not a session.
const MaxTokenLifetime = 15 * time.Minute

// Trust is the issuer and audience a policy trusts (spec.oidc), with the
// defaults filled in. Nothing in the environment changes it.
func Trust(p *Policy) (issuer, audience string) {
	issuer, audience = DefaultIssuer, Audience
	if p != nil && p.Spec.OIDC != nil {
		if p.Spec.OIDC.Issuer != "" {
			issuer = p.Spec.OIDC.Issuer
		}
		if p.Spec.OIDC.Audience != "" {
			audience = p.Spec.OIDC.Audience
		}
	}
	return issuer, audience
}

// MintActionsToken asks the runner for the job's OIDC token for aud (the
// job needs permissions: id-token: write) and returns it unverified: the
// tenant side of a request only forwards it, the config repository
// verifies it. Errors never contain the token or the request token.
func MintActionsToken(ctx context.Context, getenv func(string) string, aud string, client *http.Client) (string, error) {
	reqURL, reqToken := getenv(requestURLEnv), getenv(requestTokenEnv)
	if getenv("GITHUB_ACTIONS") != "true" || reqURL == "" || reqToken == "" {
		return "", errors.New("no GitHub Actions OIDC token: run this in a workflow job with permissions: id-token: write (pull requests from forks never get one)")
	}
	if client == nil {
		client = defaultClient
	}
	raw, err := requestToken(ctx, client, reqURL, reqToken, aud)
	if err != nil {
		return "", redactErr(err, reqToken, raw)
	}
	return raw, nil
}

// Token is what VerifyToken established about a token.
type Token struct {
	Identity Identity
	ID       string // jti
	IssuedAt time.Time
	Expiry   time.Time
}

// VerifyToken verifies a token someone else minted (a request's), against
// issuer and audience exactly as given: signature by a key the issuer
// publishes, issuer, audience, expiry (clock now), a lifetime of at most
// MaxTokenLifetime and a token id (jti) to spend once. The error never
// contains the token.
func VerifyToken(ctx context.Context, raw, issuer, audience string, now func() time.Time, client *http.Client) (*Token, error) {
	if client == nil {
		client = defaultClient
	}
	if now == nil {
		now = time.Now
	}
	id, err := verify(ctx, client, issuer, audience, now, raw)
	if err != nil {
		return nil, redactErr(err, raw)
	}
	// Verified: the payload can be read as it is.
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("the token's payload is not base64url")
	}
	var c struct {
		JTI string `json:"jti"`
		IAT *int64 `json:"iat"`
		EXP *int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("the token's claims: %v", err)
	}
	if c.JTI == "" {
		return nil, errors.New("the token has no id (jti): it cannot be used once only")
	}
	if c.IAT == nil || c.EXP == nil {
		return nil, errors.New("the token has no iat or exp claim")
	}
	t := &Token{Identity: id, ID: c.JTI, IssuedAt: time.Unix(*c.IAT, 0).UTC(), Expiry: time.Unix(*c.EXP, 0).UTC()}
	if life := t.Expiry.Sub(t.IssuedAt); life > MaxTokenLifetime {
		return nil, fmt.Errorf("the token lives %s (iat to exp), longer than the %s a request's token may", life, MaxTokenLifetime)
	}
	if t.IssuedAt.After(now().Add(time.Minute)) {
		return nil, fmt.Errorf("the token was issued at %s, in the future", t.IssuedAt.Format(time.RFC3339))
	}
	if issuer != DefaultIssuer {
		t.Identity.Issuer = issuer
	}
	return t, nil
}
