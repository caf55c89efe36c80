package schema

import (
	"strings"
	"testing"

	"github.com/launchplane/launchplane/diag"
)

const goodRequest = `{
  "apiVersion": "launchplane.dev/v1",
  "kind": "Request",
  "action": "preview",
  "product": "shop",
  "pullRequest": 7,
  "image": "ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111",
  "checks": {"tests": "pass"},
  "token": "aaaa.bbbb.cccc"
}`

// TestValidateRequest: facts pass; a host, provider, env or slug a caller
// adds is an unknown field, and so is anything the schema does not name.
func TestValidateRequest(t *testing.T) {
	if ds := ValidateRequest("client_payload", []byte(goodRequest)); len(ds) != 0 {
		t.Fatalf("valid request: %v", ds)
	}
	for _, extra := range []string{`"host": "evil.example.com"`, `"provider": "dokploy-main"`, `"env": {"A": "b"}`, `"slug": "x"`} {
		src := strings.Replace(goodRequest, `"kind": "Request",`, `"kind": "Request", `+extra+`,`, 1)
		ds := ValidateRequest("client_payload", []byte(src))
		key := strings.Trim(strings.SplitN(extra, ":", 2)[0], `"`)
		if !ds.HasErrors() || !strings.Contains(text(ds), key+": unknown field") {
			t.Errorf("%s: want an unknown-field error, got %v", extra, ds)
		}
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"preview without pr": {`"pullRequest": 7,`, ``, "pullRequest: required field is missing"},
		"tag not digest":     {`@sha256:1111111111111111111111111111111111111111111111111111111111111111`, `:latest`, "image: must be pinned by digest"},
		"unknown action":     {`"action": "preview"`, `"action": "apply"`, "action: must be one of"},
		"token not a jwt":    {`"aaaa.bbbb.cccc"`, `"aaaa bbbb"`, "token: must be a JWT"},
		"bad check result":   {`"tests": "pass"`, `"tests": "green"`, "must be one of"},
	} {
		ds := ValidateRequest("client_payload", []byte(strings.Replace(goodRequest, c.from, c.to, 1)))
		if !strings.Contains(text(ds), c.want) {
			t.Errorf("%s: want %q, got %v", name, c.want, ds)
		}
	}
}

func text(ds diag.Diagnostics) string {
	var b strings.Builder
	ds.Print(&b, false, ".")
	return b.String()
}
