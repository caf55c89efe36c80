package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// Refusal is a service's refusal said plainly, for adapters built on a
// vendor client rather than Client: Msg is the whole message; it unwraps
// to the *providers.APIError, whose Body is the service's redacted
// message.
type Refusal struct {
	Msg string
	API *providers.APIError
}

func (e *Refusal) Error() string { return e.Msg }
func (e *Refusal) Unwrap() error { return e.API }

// Head sets ae.Sentinel from ae.Status (401: providers.ErrUnauthorized,
// 404: providers.ErrNotFound) and returns how a refusal's message names
// the answer: the status, then ae.Body or, when that is empty, the
// status text ("403 Forbidden").
func Head(ae *providers.APIError) string {
	switch ae.Status {
	case http.StatusUnauthorized:
		ae.Sentinel = providers.ErrUnauthorized
	case http.StatusNotFound:
		ae.Sentinel = providers.ErrNotFound
	}
	head := fmt.Sprint(ae.Status)
	if ae.Body != "" {
		return head + " " + ae.Body
	}
	return head + " " + http.StatusText(ae.Status)
}

// Excerpt is a service's message s redacted by red, on one line, and
// at most MaxErrorBody bytes of it, cut on a character boundary and
// marked "…" when cut.
func Excerpt(red *redact.Redactor, s string) string {
	s = strings.Join(strings.Fields(red.String(s)), " ")
	if len(s) > MaxErrorBody {
		s = strings.ToValidUTF8(s[:MaxErrorBody], "") + "…"
	}
	return s
}
