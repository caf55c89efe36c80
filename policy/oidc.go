package policy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// GitHub Actions OIDC defaults (PROVIDER-APIS §4).
const (
	// DefaultIssuer is GitHub's Actions token issuer.
	DefaultIssuer = "https://token.actions.githubusercontent.com"
	// Audience is the audience Launchplane requests and requires.
	Audience = "launchplane"
)

// Variables the runner sets when the job has permissions: id-token: write.
const (
	requestURLEnv   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	requestTokenEnv = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// maxTokenResponse bounds the token endpoint's response body.
const maxTokenResponse = 64 << 10

// Verifier says how to obtain and verify the Actions OIDC token. The zero
// value is ready to use.
type Verifier struct {
	// Issuer is the one issuer trusted (the policy's spec.oidc.issuer);
	// "" means DefaultIssuer. Its keys are found by OIDC discovery. It
	// never comes from the environment: whoever runs the process could
	// name an issuer of their own.
	Issuer string
	// Audience is the audience requested and required; "" means Audience.
	Audience string
	// Client makes the token request, discovery and key requests; nil
	// means a client with a 30 s timeout.
	Client *http.Client
	// Now is the clock expiry is checked against; nil means time.Now.
	Now func() time.Time
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// actionsClaims are the claims of an Actions OIDC token that an Identity
// holds.
type actionsClaims struct {
	Repository     string `json:"repository"`
	RepositoryID   string `json:"repository_id"`
	Ref            string `json:"ref"`
	SHA            string `json:"sha"`
	EventName      string `json:"event_name"`
	Environment    string `json:"environment"`
	Workflow       string `json:"workflow"`
	WorkflowRef    string `json:"workflow_ref"`
	JobWorkflowRef string `json:"job_workflow_ref"`
	Actor          string `json:"actor"`
	RunID          string `json:"run_id"`
	RunAttempt     string `json:"run_attempt"`
}

// FromActions requests the job's OIDC token for the audience (GET
// $ACTIONS_ID_TOKEN_REQUEST_URL&audience=launchplane with the request
// token as bearer), verifies it with go-oidc (discovery of the issuer,
// signature against its published keys, issuer, audience, expiry) and
// returns the identity its claims describe.
//
// Errors say what failed and never contain the token or the request token.
func FromActions(ctx context.Context, getenv func(string) string, v Verifier) (Identity, error) {
	reqURL, reqToken := getenv(requestURLEnv), getenv(requestTokenEnv)
	if reqURL == "" || reqToken == "" {
		missing := requestURLEnv
		if reqURL != "" {
			missing = requestTokenEnv
		}
		return Identity{}, fmt.Errorf("running in GitHub Actions but %s is not set: the job needs permissions: id-token: write so launchplane can prove who runs it (pull requests from forks never get one)", missing)
	}
	issuer := v.Issuer
	if issuer == "" {
		issuer = DefaultIssuer
	}
	aud := v.Audience
	if aud == "" {
		aud = Audience
	}
	client := v.Client
	if client == nil {
		client = defaultClient
	}
	now := v.Now
	if now == nil {
		now = time.Now
	}
	raw, err := requestToken(ctx, client, reqURL, reqToken, aud)
	if err != nil {
		return Identity{}, redactErr(err, reqToken, raw)
	}
	id, err := verify(ctx, client, issuer, aud, now, raw)
	if err != nil {
		return Identity{}, redactErr(err, reqToken, raw)
	}
	return id, nil
}

// requestToken fetches the token from the runner's endpoint.
func requestToken(ctx context.Context, client *http.Client, reqURL, reqToken, aud string) (string, error) {
	u, err := url.Parse(reqURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%s is not an http(s) URL", requestURLEnv)
	}
	q := u.Query()
	q.Set("audience", aud)
	u.RawQuery = q.Encode()
	where := u.Scheme + "://" + u.Host // the path and query name the job: keep them out of errors
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("request the Actions OIDC token from %s: %w", where, err)
	}
	req.Header.Set("Authorization", "Bearer "+reqToken)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("request the Actions OIDC token from %s: %w", where, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return "", fmt.Errorf("request the Actions OIDC token from %s: read response: %w", where, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("request the Actions OIDC token from %s: %s: %s", where, resp.Status, snippet(body))
	}
	if len(body) > maxTokenResponse {
		return "", fmt.Errorf("request the Actions OIDC token from %s: response larger than %d bytes", where, maxTokenResponse)
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("request the Actions OIDC token from %s: response is not {\"value\": token}: %w", where, err)
	}
	if out.Value == "" {
		return "", fmt.Errorf("request the Actions OIDC token from %s: response has no token", where)
	}
	return out.Value, nil
}

// snippet is the start of a response body for an error message; the
// caller redacts it.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "empty response"
	}
	return s
}

// verify checks raw and turns its claims into an Identity.
func verify(ctx context.Context, client *http.Client, issuer, aud string, now func() time.Time, raw string) (Identity, error) {
	ctx = oidc.ClientContext(ctx, client)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return Identity{}, fmt.Errorf("discover OIDC issuer %s: its discovery document names issuer %q: %w", issuer, mismatch.Discovered, err)
		}
		return Identity{}, fmt.Errorf("discover OIDC issuer %s: %w", issuer, err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: aud, Now: now})
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, explainVerify(err, raw, issuer, aud)
	}
	var c actionsClaims
	if err := tok.Claims(&c); err != nil {
		return Identity{}, fmt.Errorf("the Actions OIDC token's claims: %w", err)
	}
	if c.Repository == "" {
		return Identity{}, fmt.Errorf("the Actions OIDC token from %s has no repository claim", issuer)
	}
	id := Identity{
		Source:         SourceGitHubOIDC,
		Repository:     c.Repository,
		RepositoryID:   c.RepositoryID,
		Ref:            c.Ref,
		Event:          c.EventName,
		Environment:    c.Environment,
		Workflow:       c.Workflow,
		WorkflowRef:    c.WorkflowRef,
		JobWorkflowRef: c.JobWorkflowRef,
		Actor:          c.Actor,
		SHA:            c.SHA,
		RunID:          c.RunID,
		RunAttempt:     c.RunAttempt,
		Subject:        tok.Subject,
	}
	if issuer != DefaultIssuer {
		id.Issuer = issuer
	}
	return id, nil
}

// explainVerify words a go-oidc verification failure. go-oidc checks the
// signature first, then issuer, audience and expiry; the unverified claims
// only make the message specific, the decision is go-oidc's.
func explainVerify(err error, raw, issuer, aud string) error {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return fmt.Errorf("the Actions OIDC token expired at %s: %w", expired.Expiry.UTC().Format(time.RFC3339), err)
	}
	c := unverifiedClaims(raw)
	if c != nil && c.Issuer != issuer {
		return fmt.Errorf("the Actions OIDC token was issued by %q, not by the trusted issuer %s (the policy's spec.oidc.issuer): %w", c.Issuer, issuer, err)
	}
	if strings.HasPrefix(err.Error(), "failed to verify signature") {
		return fmt.Errorf("the Actions OIDC token is not signed by any key %s publishes (unknown signing key): %w", issuer, err)
	}
	switch {
	case c == nil:
		return fmt.Errorf("the Actions OIDC token is malformed: %w", err)
	case !slices.Contains(c.Audience, aud):
		return fmt.Errorf("the Actions OIDC token is for audience %q, not %q: %w", c.Audience, aud, err)
	}
	return fmt.Errorf("verify the Actions OIDC token from %s: %w", issuer, err)
}

type looseClaims struct {
	Issuer   string
	Audience []string
}

// unverifiedClaims reads iss and aud from a JWT without checking it, for
// error messages only; nil when raw is not a JWT.
func unverifiedClaims(raw string) *looseClaims {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil
	}
	out := &looseClaims{Issuer: c.Iss}
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		out.Audience = []string{one}
	} else {
		_ = json.Unmarshal(c.Aud, &out.Audience)
	}
	return out
}

// redactedError keeps the wrapped chain for errors.Is/As while its text
// has the secrets replaced.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr removes every non-empty secret from err's text, and each
// part of any JWT among them (a library may quote only the payload).
func redactErr(err error, secrets ...string) error {
	for _, s := range secrets {
		if parts := strings.Split(s, "."); len(parts) == 3 {
			for _, p := range parts {
				if len(p) >= 16 {
					secrets = append(secrets, p)
				}
			}
		}
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
