// Package httpapi is the JSON-over-HTTP client the provider adapters
// share: a deadline on every call, retries with backoff for idempotent
// reads, and failures turned into *providers.APIError with the response
// body redacted and cut short.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// MaxErrorBody is how much of a refused call's body an error keeps.
const MaxErrorBody = 1024

// Client calls one API.
type Client struct {
	Base     string       // scheme://host[:port][/prefix], no trailing slash
	HTTP     *http.Client // nil: a client with no timeout of its own (the call's deadline rules)
	Redactor *redact.Redactor
	// Header adds per-request headers (authentication); it may be nil.
	Header func(h http.Header) error
	// Timeout bounds one call when the context has no earlier deadline
	// (default 30s).
	Timeout time.Duration
	// Retries is how many times an idempotent read is tried again after a
	// network error, 429 or 5xx (default 3); Backoff is the first wait
	// (default 200ms), doubled each time.
	Retries int
	Backoff time.Duration
}

// Request is one call.
type Request struct {
	Method string
	Path   string     // joined to Base; may not hold a query
	Query  url.Values // ids and filters only, never secrets
	Body   any        // encoded as JSON when non-nil
	Header http.Header
	// Idempotent makes a failed call retried; GET and HEAD always are.
	Idempotent bool
}

// Response is a finished call with a 2xx status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do performs req and decodes a 2xx JSON body into out (when out is non-nil
// and the body is not empty). A non-2xx answer is a *providers.APIError.
func (c *Client) Do(ctx context.Context, req Request, out any) (*Response, error) {
	resp, err := c.Raw(ctx, req)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, fmt.Errorf("%s %s: decode response: %v (body: %s)", req.Method, req.Path, err, c.cut(resp.Body))
		}
	}
	return resp, nil
}

// Raw performs req and returns the 2xx response undecoded.
func (c *Client) Raw(ctx context.Context, req Request) (*Response, error) {
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	var payload []byte
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", req.Method, req.Path, err)
		}
		payload = b
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	retries := c.Retries
	if retries == 0 {
		retries = 3
	}
	idempotent := req.Idempotent || req.Method == http.MethodGet || req.Method == http.MethodHead
	if !idempotent {
		retries = 0
	}
	wait := c.Backoff
	if wait == 0 {
		wait = 200 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		resp, err, retry := c.once(ctx, req, payload)
		if err == nil {
			return resp, nil
		}
		if !retry || attempt >= retries || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait *= 2
	}
}

func (c *Client) once(ctx context.Context, req Request, payload []byte) (*Response, error, bool) {
	u := c.Base + req.Path
	if len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, err), false
	}
	hr.Header.Set("Accept", "application/json")
	if payload != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if c.Header != nil {
		if err := c.Header(hr.Header); err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, err), false
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		// A context error stays visible to errors.Is; the URL of a
		// *url.Error is replaced by the path, which holds no secret.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, ctxErr), false
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %s", req.Method, req.Path, c.red().String(err.Error())), true
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, ctxErr), false
		}
		return nil, fmt.Errorf("%s %s: read response: %s", req.Method, req.Path, c.red().String(err.Error())), true
	}
	if resp.StatusCode/100 == 2 {
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil, false
	}
	ae := &providers.APIError{Method: req.Method, Path: req.Path, Status: resp.StatusCode, Body: c.cut(b)}
	switch resp.StatusCode {
	case http.StatusNotFound:
		ae.Sentinel = providers.ErrNotFound
	case http.StatusUnauthorized:
		ae.Sentinel = providers.ErrUnauthorized
	}
	retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return nil, ae, retry
}

func (c *Client) red() *redact.Redactor {
	if c.Redactor == nil {
		return redact.New()
	}
	return c.Redactor
}

// cut redacts b and keeps at most MaxErrorBody bytes of it, on one line.
func (c *Client) cut(b []byte) string {
	return OneLine(c.red().String(string(b)), MaxErrorBody)
}

// OneLine puts a service's message on one line (runs of white space
// become one space) and keeps at most max bytes of it, marking a cut
// with "…". It does not redact: pass it text already redacted.
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// Message extracts a human message from a JSON error body: the first of
// "message", "error.message" or "error" found; else the body itself.
func Message(body string) string {
	var v struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal([]byte(body), &v) != nil {
		return body
	}
	if v.Message != "" {
		return v.Message
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil && s != "" {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(v.Error, &o) == nil && o.Message != "" {
		return o.Message
	}
	return body
}
