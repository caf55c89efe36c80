package github

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/github/githubtest"
)

// TestProposeOpensThenUpdates: the first proposal creates the branch and
// the pull request; the second forces the branch back to the base, so it
// holds one commit, and updates the same pull request.
func TestProposeOpensThenUpdates(t *testing.T) {
	srv := githubtest.New("tok-canary-77")
	defer srv.Close()
	old := []byte("image: a@sha256:1\n")
	base := srv.SeedBranch("acme/platform", "main", map[string]string{"launchplane/t.yaml": string(old)})
	p, err := New(Options{Repository: "acme/platform", Token: "tok-canary-77", APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	c := providers.Proposal{Base: base, BaseBranch: "main", Branch: "launchplane/bump-shop-testing", Path: "launchplane/t.yaml",
		Old: old, New: []byte("image: a@sha256:2\n"), Message: "bump 2", Title: "shop: 2", Body: "two"}
	pr, err := p.Propose(context.Background(), c)
	if err != nil || !pr.Created || pr.Number == 0 {
		t.Fatalf("first: %+v %v", pr, err)
	}
	c.New, c.Message, c.Title = []byte("image: a@sha256:3\n"), "bump 3", "shop: 3"
	pr2, err := p.Propose(context.Background(), c)
	if err != nil || pr2.Created || pr2.Number != pr.Number {
		t.Fatalf("second: %+v %v", pr2, err)
	}
	if got, _ := srv.File("acme/platform", c.Branch, c.Path); got != "image: a@sha256:3\n" {
		t.Fatalf("file on the branch: %q", got)
	}
	if log := srv.BranchLog("acme/platform", c.Branch); len(log) != 2 || log[0] != "bump 3" {
		t.Fatalf("branch log: %v", log)
	}
	if pulls := srv.Pulls("acme/platform"); len(pulls) != 1 || pulls[0].Title != "shop: 3" {
		t.Fatalf("pulls: %+v", pulls)
	}
	if main, _ := srv.File("acme/platform", "main", c.Path); main != string(old) {
		t.Fatalf("main changed: %q", main)
	}
	// A stale Old is GitHub's 409, named.
	c.Old = []byte("something else\n")
	if _, err := p.Propose(context.Background(), c); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("stale old: %v", err)
	}
}

// TestDispatch: one repository_dispatch with the payload; GitHub's limit
// of 10 top-level properties is a refusal.
func TestDispatch(t *testing.T) {
	srv := githubtest.New("tok-canary-78")
	defer srv.Close()
	p, err := New(Options{Repository: "acme/platform", Token: "tok-canary-78", APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Dispatch(context.Background(), "launchplane-request", json.RawMessage(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if d := srv.Dispatches("acme/platform"); len(d) != 1 || d[0].EventType != "launchplane-request" || string(d[0].ClientPayload) != `{"a":1}` {
		t.Fatalf("dispatches: %+v", d)
	}
	big := `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`
	if err := p.Dispatch(context.Background(), "launchplane-request", json.RawMessage(big)); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("11 properties: %v", err)
	}
}
