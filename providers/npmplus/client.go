package npmplus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
)

// refreshBefore is how long before the session's announced expiry the
// adapter renews it with GET /api/tokens.
const refreshBefore = 5 * time.Minute

// tokenResponse is the body of POST and GET /api/tokens: {token, expires}
// from Nginx Proxy Manager, {expires} alone from newer NPMplus (the token
// is then in a cookie), or a 2FA challenge.
type tokenResponse struct {
	Token          string `json:"token"`
	Expires        string `json:"expires"`
	Requires2FA    bool   `json:"requires_2fa"`
	ChallengeToken string `json:"challenge_token"`
	// NPMplus answers a second factor with {requiresTotp, expires} (or
	// requires2fa) and a __Host-Http-challenge_token cookie
	// (backend/routes/tokens.js): a challenge, not a session.
	RequiresTotp bool `json:"requiresTotp"`
	Requires2fa  bool `json:"requires2fa"`
}

// loginError is a refused login. Its message names the status and the
// API's own message, never the request.
type loginError struct {
	Status  int
	Message string
	api     *providers.APIError
}

func (e *loginError) Error() string {
	return fmt.Sprintf("npmplus login failed: HTTP %d: %s", e.Status, e.Message)
}

// Unwrap gives ErrUnauthorized (the platform refused the credentials) and
// the API error.
func (e *loginError) Unwrap() []error { return []error{providers.ErrUnauthorized, e.api} }

// clientLocked builds the HTTP clients on first use: reading caFile is
// I/O, which a factory must not do. p.mu is held.
func (p *Provider) clientLocked() error {
	if p.api != nil {
		return nil
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case p.conf.InsecureSkipVerify:
		tlsConf.InsecureSkipVerify = true
	case p.caFile != "":
		pemBytes, err := os.ReadFile(p.caFile)
		if err != nil {
			return fmt.Errorf("read caFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return fmt.Errorf("caFile %s holds no PEM certificate", p.conf.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	// NPMplus keeps its session in a Secure cookie: the jar sends it back
	// over https only, which is why cookie sessions need an https url.
	jar, err := cookiejar.New(nil)
	if err != nil {
		return fmt.Errorf("cookie jar: %w", err)
	}
	p.jar = jar
	hc := &http.Client{Transport: tr, Jar: jar}
	// No Origin or Sec-Fetch-Site header is ever set: NPMplus refuses
	// foreign ones, and Go sends neither by itself.
	p.loginAPI = &httpapi.Client{Base: p.base, HTTP: hc, Redactor: p.red}
	p.api = &httpapi.Client{Base: p.base, HTTP: hc, Redactor: p.red, Header: p.authHeader}
	return nil
}

// authHeader adds the Bearer token of an upstream-style session; cookie
// sessions ride on the jar.
func (p *Provider) authHeader(h http.Header) error {
	p.mu.Lock()
	tok := p.token
	p.mu.Unlock()
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

func (p *Provider) acquire(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Provider) release() { <-p.sem }

// session makes sure a session exists (logging in lazily, once per
// instance) and is not about to expire, and returns its generation.
func (p *Provider) session(ctx context.Context) (int, error) {
	if err := p.acquire(ctx); err != nil {
		return 0, err
	}
	defer p.release()
	p.mu.Lock()
	gen, exp, sticky := p.gen, p.expires, p.loginErr
	p.mu.Unlock()
	if sticky != nil {
		return 0, sticky
	}
	if gen > 0 {
		if exp.IsZero() || p.now().Before(exp.Add(-refreshBefore)) {
			return gen, nil
		}
		if err := p.refresh(ctx); err == nil {
			return gen, nil
		} else if ctx.Err() != nil {
			return 0, err
		}
		// A session that cannot be renewed is replaced by a new login.
	}
	return p.login(ctx)
}

// relogin replaces session gen, which the server called expired, unless
// another call already did; it returns the new generation.
func (p *Provider) relogin(ctx context.Context, gen int) (int, error) {
	if err := p.acquire(ctx); err != nil {
		return 0, err
	}
	defer p.release()
	p.mu.Lock()
	cur, sticky := p.gen, p.loginErr
	p.mu.Unlock()
	if sticky != nil {
		return 0, sticky
	}
	if cur != gen {
		return cur, nil
	}
	return p.login(ctx)
}

// password resolves the password reference on first use.
func (p *Provider) password() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pw != "" {
		return p.pw, nil
	}
	pw, err := p.cfg.Secret(p.conf.Password)
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", fmt.Errorf("password from %s is empty", p.conf.Password)
	}
	p.red.Add(pw)
	p.pw = pw
	return pw, nil
}

// login logs in with POST /api/tokens; the caller holds p.sem. It detects
// the server's style: a token in the body (Nginx Proxy Manager, sent back
// as Bearer) or only {expires} with the __Host-Http-token cookie (newer
// NPMplus, sent back by the jar). A refusal of the credentials sticks to
// the instance, so a run never hammers NPMplus' login rate limit.
func (p *Provider) login(ctx context.Context) (int, error) {
	pw, err := p.password()
	if err != nil {
		return 0, fmt.Errorf("npmplus login: %w", err)
	}
	p.mu.Lock()
	err = p.clientLocked()
	api := p.loginAPI
	p.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("npmplus login: %w", err)
	}
	var out tokenResponse
	_, err = api.Do(ctx, httpapi.Request{Method: http.MethodPost, Path: "/api/tokens",
		Body: map[string]string{"identity": p.conf.Email, "secret": pw}}, &out)
	if err != nil {
		var ae *providers.APIError
		if errors.As(err, &ae) {
			le := &loginError{Status: ae.Status, Message: httpapi.Message(ae.Body), api: ae}
			switch ae.Status {
			case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
				p.stick(le)
			}
			return 0, le
		}
		return 0, fmt.Errorf("npmplus login failed: %w", err)
	}
	if out.Requires2FA || out.RequiresTotp || out.Requires2fa || out.ChallengeToken != "" {
		return 0, p.stick(errors.New("npmplus login failed: this account needs 2FA: use a token/account without it (launchplane cannot enter a second factor)"))
	}
	if out.Token == "" {
		// NPMplus: the session is the cookie the jar now holds, and the
		// jar sends a Secure cookie over https only.
		if p.baseURL.Scheme != "https" {
			return 0, p.stick(fmt.Errorf("npmplus login failed: the server answered no token and keeps its session in a Secure cookie, which is only sent over https: use an https url"))
		}
		cookies := p.jar.Cookies(p.baseURL)
		if len(cookies) == 0 {
			return 0, fmt.Errorf("npmplus login failed: the server answered neither a token nor a session cookie")
		}
		for _, c := range cookies {
			p.red.Add(c.Value)
		}
	} else {
		p.red.Add(out.Token)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.token = out.Token
	p.cookies = out.Token == ""
	p.expires = parseExpires(out.Expires)
	p.gen++
	return p.gen, nil
}

func (p *Provider) stick(err error) error {
	p.mu.Lock()
	p.loginErr = err
	p.mu.Unlock()
	return err
}

// refresh renews the session with GET /api/tokens; the caller holds p.sem.
func (p *Provider) refresh(ctx context.Context) error {
	var out tokenResponse
	if _, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: "/api/tokens"}, &out); err != nil {
		return err
	}
	if out.Token != "" {
		p.red.Add(out.Token)
	} else {
		for _, c := range p.jar.Cookies(p.baseURL) {
			p.red.Add(c.Value)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if out.Token != "" {
		p.token = out.Token
	}
	p.expires = parseExpires(out.Expires)
	return nil
}

func parseExpires(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// expired reports whether err is the API calling the session over: NPM
// answers an expired token with AuthError, HTTP 400 ("Token has
// expired"), and any other JWT error with 500 "Internal Error"
// (backend/models/token.js, backend/app.js); NPMplus answers an expired
// or invalid token with 403 "Invalid or expired token" and a request
// without its cookie with 401.
func (p *Provider) expired(err error) bool {
	var ae *providers.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(httpapi.Message(ae.Body))
	switch ae.Status {
	case http.StatusUnauthorized:
		return true
	case http.StatusBadRequest:
		return strings.Contains(msg, "token")
	case http.StatusForbidden:
		return strings.Contains(msg, "invalid or expired token")
	case http.StatusInternalServerError:
		p.mu.Lock()
		bearer := p.token != ""
		p.mu.Unlock()
		return bearer && msg == "internal error"
	}
	return false
}

// call performs an authenticated request. When the server calls the
// session expired it logs in again, once, and repeats the request: NPM
// checks the token before anything else, so the first attempt changed
// nothing.
func (p *Provider) call(ctx context.Context, req httpapi.Request, out any) error {
	gen, err := p.session(ctx)
	if err != nil {
		return err
	}
	_, err = p.api.Do(ctx, req, out)
	if err != nil && p.expired(err) {
		if _, lerr := p.relogin(ctx, gen); lerr != nil {
			return lerr
		}
		_, err = p.api.Do(ctx, req, out)
	}
	return tidy(err)
}

// tidy shortens an API error's body to the message of NPM's error shape
// {"error": {"code", "message"}}, keeping the error's type and sentinel.
func tidy(err error) error {
	var ae *providers.APIError
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	c := *ae
	c.Body = httpapi.Message(ae.Body)
	return &c
}

// decodeHosts decodes a list answer; it tolerates a {"result": [...]}
// envelope.
func decodeHosts(raw json.RawMessage) ([]proxyHost, error) {
	var hosts []proxyHost
	if err := json.Unmarshal(raw, &hosts); err == nil {
		return hosts, nil
	}
	var env struct {
		Result []proxyHost `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decode proxy hosts: %w", err)
	}
	return env.Result, nil
}

// baseOf checks the configured url and returns the base the API paths
// (/api/...) are joined to.
func baseOf(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("url %q: want http(s)://host[:port]", u.Redacted())
	}
	if u.User != nil {
		return nil, "", fmt.Errorf("url %q holds credentials: use email and password", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, "", fmt.Errorf("url %q: no query or fragment allowed", u.Redacted())
	}
	path := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api")
	base := u.Scheme + "://" + u.Host + path
	root := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
	return root, base, nil
}
