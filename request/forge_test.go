package request_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	_ "github.com/launchplane/launchplane/providers/github"
	"github.com/launchplane/launchplane/providers/github/githubtest"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/request"
)

// commentsOnly plays the Feedback role and nothing else.
type commentsOnly struct{}

func (commentsOnly) UpsertComment(context.Context, int, string, string) error { return nil }
func (commentsOnly) SetStatus(context.Context, string, string, string, string, string) error {
	return nil
}

func init() {
	providers.Register(providers.Info{
		Type: "comments-only", Roles: []providers.Role{providers.RoleFeedback}, ConfigSchema: json.RawMessage(`{"type":"object"}`),
		New: func(providers.Config) (any, error) { return commentsOnly{}, nil },
	})
}

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// A forge without the optional roles is refused by name, with the
// capability it lacks, before anything is sent.
func TestForgeWithoutTheRole(t *testing.T) {
	r := request.Repo{Type: "comments-only", Repository: "acme/platform", TokenEnv: "TOK", Getenv: getenv(map[string]string{"TOK": "t"})}
	if _, err := r.Feedback(); err != nil {
		t.Fatalf("Feedback: %v", err)
	}
	if _, err := r.Proposer(); err == nil || err.Error() != "provider comments-only cannot open a pull request: it has no Proposer role" {
		t.Errorf("Proposer: %v", err)
	}
	if _, err := r.Dispatcher(); err == nil || err.Error() != "provider comments-only cannot send a request: it has no Dispatcher role" {
		t.Errorf("Dispatcher: %v", err)
	}
	r.Type = "no-such-forge"
	if _, err := r.Dispatcher(); err == nil || !strings.Contains(err.Error(), `unknown provider type "no-such-forge"`) {
		t.Errorf("unknown type: %v", err)
	}
}

// The forge is opened through the registry with the repository, API and
// token env given; the redactor knows the token as soon as the provider
// is opened, before any call, and the calls use that token.
func TestForgeThroughTheRegistry(t *testing.T) {
	const token = "tok-canary-4417"
	srv := githubtest.New(token)
	defer srv.Close()
	red := redact.New()
	r := request.Repo{Repository: "acme/platform", APIURL: srv.URL, TokenEnv: "DISPATCH", Getenv: getenv(map[string]string{"DISPATCH": token}), Redactor: red}
	d, err := r.Dispatcher()
	if err != nil {
		t.Fatal(err)
	}
	if got := red.String("a " + token + " b"); strings.Contains(got, token) {
		t.Errorf("the token is not redacted once the forge is opened: %q", got)
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Errorf("opening made %d calls", n)
	}
	if err := d.Dispatch(context.Background(), request.EventType, json.RawMessage(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if ds := srv.Dispatches("acme/platform"); len(ds) != 1 || ds[0].EventType != request.EventType {
		t.Errorf("dispatches: %+v", ds)
	}
	if _, err := r.Proposer(); err != nil {
		t.Errorf("github as a Proposer: %v", err)
	}

	// A malformed repository is refused when opening, with the token
	// never in the error.
	r.Repository = "acme/" + token + "/x"
	if _, err := r.Feedback(); err == nil || !strings.Contains(err.Error(), "is not owner/name") || strings.Contains(err.Error(), token) {
		t.Errorf("malformed repository: %v", err)
	}
}
