package github

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// Cause links point at the PR's head commit, with every path segment
// escaped, so a file name cannot break out of the link.
func TestWebFileURL(t *testing.T) {
	w := web{server: "https://github.com", repo: "acme/platform"}
	if got := w.FileURL("abc", "launchplane/targets/shop prod.yaml", 7); got != "https://github.com/acme/platform/blob/abc/launchplane/targets/shop%20prod.yaml#L7" {
		t.Errorf("FileURL = %q", got)
	}
	if got := w.FileURL("abc", "launchplane/a.yaml", 0); got != "https://github.com/acme/platform/blob/abc/launchplane/a.yaml" {
		t.Errorf("FileURL without a line = %q", got)
	}
	if got := w.FileURL("", "a.yaml", 3); got != "" {
		t.Errorf("FileURL without a commit = %q, want none", got)
	}
	if got := w.CommitURL("abc"); got != "https://github.com/acme/platform/commit/abc" {
		t.Errorf("CommitURL = %q", got)
	}
}

// The CI reader: sure under GitHub Actions, a guess elsewhere; no token
// is no Feedback (never a silent success), and the token is registered
// with the redactor.
func TestReadCI(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "event.json")
	if err := os.WriteFile(ev, []byte(`{"pull_request": {"number": 12, "head": {"sha": "`+strings.Repeat("c", 40)+`"}}, "repository": {"full_name": "acme/platform"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": ev, "GITHUB_EVENT_NAME": "pull_request"}
	getenv := func(k string) string { return vars[k] }
	red := redact.New()
	job, m := readCI(providers.CIEnv{Getenv: getenv, Redactor: red})
	if m != providers.CIThis || job.Feedback != nil || !job.Required || !strings.Contains(job.Unavailable, "GITHUB_TOKEN") {
		t.Fatalf("no token: match %d, job %+v", m, job)
	}
	vars["GITHUB_TOKEN"] = "ghs-canary-token-0042"
	job, _ = readCI(providers.CIEnv{Getenv: getenv, Redactor: red})
	if job.Feedback == nil || job.Change != 12 || job.ChangeRef != "acme/platform#12" || job.SHA != strings.Repeat("c", 40) {
		t.Fatalf("job %+v", job)
	}
	if got := red.String("x ghs-canary-token-0042 y"); strings.Contains(got, "canary") {
		t.Errorf("token not registered with the redactor: %q", got)
	}
	// A push to the default branch is about no pull request, but gets
	// the provider to look up the pull request its commit, GITHUB_SHA,
	// came from.
	if err := os.WriteFile(ev, []byte(`{"ref": "refs/heads/main", "after": "`+strings.Repeat("d", 40)+`", "repository": {"full_name": "acme/platform"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	vars["GITHUB_EVENT_NAME"], vars["GITHUB_SHA"] = "push", strings.Repeat("d", 40)
	job, _ = readCI(providers.CIEnv{Getenv: getenv, Redactor: red})
	if _, ok := job.Feedback.(providers.PlanLookup); job.Change != 0 || !ok || job.Event != "push" || job.SHA != strings.Repeat("d", 40) {
		t.Fatalf("push: %+v", job)
	}
	delete(vars, "GITHUB_ACTIONS")
	if _, m := readCI(providers.CIEnv{Getenv: getenv, Redactor: red}); m != providers.CIMaybe {
		t.Errorf("outside Actions: match %d, want CIMaybe", m)
	}
}
