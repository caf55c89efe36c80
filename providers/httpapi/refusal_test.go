package httpapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

func TestHeadAndExcerpt(t *testing.T) {
	ae := &providers.APIError{Status: 404}
	if h := Head(ae); h != "404 Not Found" || !errors.Is(ae, providers.ErrNotFound) {
		t.Fatalf("Head = %q, sentinel %v", h, ae.Sentinel)
	}
	ae = &providers.APIError{Status: 401, Body: "Bad credentials"}
	if h := Head(ae); h != "401 Bad credentials" || !errors.Is(&Refusal{Msg: "x", API: ae}, providers.ErrUnauthorized) {
		t.Fatalf("Head = %q, sentinel %v", h, ae.Sentinel)
	}
	red := redact.New()
	red.Add("hunter2canary")
	got := Excerpt(red, "token\n hunter2canary "+strings.Repeat("é", MaxErrorBody))
	if strings.Contains(got, "hunter2canary") || strings.Contains(got, "\n") || !strings.HasSuffix(got, "…") || len(got) > MaxErrorBody+len("…") || strings.ContainsRune(got, '\uFFFD') {
		t.Fatalf("Excerpt = %q", got)
	}
}
