package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/gitlab/gitlabtest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

const marker = "<!-- launchplane:plan cfg -->"

// backend is the stand-in as the conformance suite sees it.
type backend struct{ srv *gitlabtest.Server }

func (b backend) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	switch op {
	case providertest.OpComment:
		b.srv.FailNext("GET /projects/:id/merge_requests/:iid/notes", http.StatusForbidden, message)
	case providertest.OpStatus:
		// A 500 to a POST is not retried: the status may have been set.
		b.srv.FailNext("POST /projects/:id/statuses/:sha", http.StatusInternalServerError, message)
	case providertest.OpReviewed:
		b.srv.FailNext("GET /projects/:id/repository/commits/:sha/merge_requests", http.StatusForbidden, message)
	default:
		t.Fatalf("gitlab has no operation %s", op)
	}
}

func (b backend) Comments(t *testing.T, pr int) []string {
	var out []string
	for _, n := range b.srv.Notes(pr) {
		out = append(out, n.Body)
	}
	return out
}

func (b backend) Status(t *testing.T, sha, name string) string {
	return b.srv.Status(sha, name).State
}

func (b backend) Seed(t *testing.T, pr int, mine bool, bodies ...string) {
	for _, body := range bodies {
		b.srv.Seed(pr, mine, body)
	}
}

func (b backend) Hold(t *testing.T) func() { return b.srv.Hold() }

func (b backend) SeedMerged(t *testing.T, pr int, sha string, commits ...string) {
	b.srv.SeedMergeRequest(gitlabtest.MergeRequest{IID: pr, State: "merged", SHA: strings.Repeat("e", 40), MergeCommitSHA: sha, Commits: commits})
}

func (b backend) SeedOpen(t *testing.T, pr int, sha string) {
	b.srv.SeedMergeRequest(gitlabtest.MergeRequest{IID: pr, State: "opened", SHA: sha})
}

func (b backend) SeedCommit(t *testing.T, sha string) { b.srv.SeedCommit(sha) }

func server(t *testing.T, tokens ...string) *gitlabtest.Server {
	t.Helper()
	srv := gitlabtest.New(tokens[0], tokens[1:]...)
	t.Cleanup(srv.Close)
	return srv
}

// open builds the adapter the way apply does: through the registry, with
// a Resolve that registers what it returns with the run's Redactor.
func open(t *testing.T, srv *gitlabtest.Server, token string) *Provider {
	t.Helper()
	red := redact.New()
	raw, _ := json.Marshal(map[string]any{"project": gitlabtest.ProjectPath, "apiUrl": srv.APIURL, "token": map[string]string{"fromEnv": "LP_TEST_GITLAB_TOKEN"}})
	inst, err := providers.Open("gitlab", providers.Config{Name: "gitlab-conf", Raw: raw, Redactor: red,
		Resolve: func(ref providers.SecretRef) (string, error) {
			if ref.FromEnv != "LP_TEST_GITLAB_TOKEN" {
				return "", errors.New("unexpected secret reference " + ref.String())
			}
			red.Add(token)
			return token, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	p := inst.(*Provider)
	p.retryMax = 1
	return p
}

// Both adapters run the same PlanLookup suite.
func TestPlanLookupConformance(t *testing.T) {
	providertest.RunPlanLookup(t, providertest.PlanLookupSetup{Setup: providertest.Setup[providers.Feedback]{
		Provider: "gitlab-conf",
		New: func(t *testing.T) (providers.Feedback, providertest.Backend) {
			srv := server(t, providertest.CredentialCanary)
			return open(t, srv, providertest.CredentialCanary), backend{srv}
		},
	}})
}

func TestConformance(t *testing.T) {
	providertest.RunFeedback(t, providertest.FeedbackSetup{
		FailedState: "failed",
		Setup: providertest.Setup[providers.Feedback]{
			Provider: "gitlab-conf",
			New: func(t *testing.T) (providers.Feedback, providertest.Backend) {
				srv := server(t, providertest.CredentialCanary)
				return open(t, srv, providertest.CredentialCanary), backend{srv}
			},
		},
	})
}

// The gitlab provider registers itself with the Feedback role and a CI
// reader: adding it to the binary needs only the import in providers/all.
func TestRegistersItself(t *testing.T) {
	info, ok := providers.Lookup("gitlab")
	if !ok || !info.Has(providers.RoleFeedback) || info.CI == nil || info.New == nil {
		t.Fatalf("gitlab registration %+v", info)
	}
	all, err := os.ReadFile("../all/all.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(all), `_ "github.com/launchplane/launchplane/providers/gitlab"`) {
		t.Errorf("providers/all does not import gitlab")
	}
}

// A Maintainer token may edit anyone's note, so the adapter must pick
// only its own: another member's note with the marker (in plain text,
// as GitLab would let it be overwritten) stays as it was, and a system
// note is never touched.
func TestUpsertOnlyOwnNotes(t *testing.T) {
	srv := server(t, "glpat-own-token-1", "glpat-alice-token-2")
	foreign := srv.Seed(5, false, marker+"\nalice's fake plan: all good")
	system := srv.SeedNote(5, gitlabtest.Note{AuthorID: gitlabtest.BotID, System: true, Body: "changed the description " + marker})
	p := open(t, srv, "glpat-own-token-1")
	if err := p.UpsertComment(context.Background(), 5, marker, marker+"\nthe plan"); err != nil {
		t.Fatal(err)
	}
	notes := srv.Notes(5)
	if len(notes) != 3 || notes[0].ID != foreign || notes[0].Body != marker+"\nalice's fake plan: all good" || notes[1].ID != system || !strings.Contains(notes[1].Body, "changed the description") {
		t.Fatalf("notes %+v", notes)
	}
	if notes[2].AuthorID != gitlabtest.BotID || notes[2].Body != marker+"\nthe plan" {
		t.Fatalf("new note %+v", notes[2])
	}
	if n := srv.Calls("PUT /projects/:id/merge_requests/:iid/notes/:note_id"); n != 0 {
		t.Errorf("%d PUT calls, want none", n)
	}
	// The stand-in follows GitLab: the Maintainer token could have edited
	// alice's note. Prove it, so the test above means something.
	req, _ := http.NewRequest(http.MethodPut, srv.APIURL+"/projects/42/merge_requests/5/notes/"+itoa(foreign), strings.NewReader(`{"body":"overwritten"}`))
	req.Header.Set("PRIVATE-TOKEN", "glpat-own-token-1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a Maintainer's PUT on another's note: %d, want 200 as on GitLab", resp.StatusCode)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// 150 notes: the bot's earlier plan note is the 140th, on page 2 at 100
// a page and page 7 at GitLab's default 20; later duplicates stay.
func TestUpsertPastPageOne(t *testing.T) {
	srv := server(t, "glpat-page-token")
	for i := 1; i <= 150; i++ {
		switch i {
		case 140:
			srv.Seed(5, true, marker+"\nold plan")
		case 150:
			srv.Seed(5, true, marker+"\nduplicate")
		default:
			srv.Seed(5, i%2 == 0, "review")
		}
	}
	p := open(t, srv, "glpat-page-token")
	if err := p.UpsertComment(context.Background(), 5, marker, marker+"\nnew plan"); err != nil {
		t.Fatal(err)
	}
	notes := srv.Notes(5)
	if len(notes) != 150 || notes[139].Body != marker+"\nnew plan" || notes[149].Body != marker+"\nduplicate" {
		t.Fatalf("%d notes; 140th %q, 150th %q", len(notes), notes[139].Body, notes[149].Body)
	}
	if n := srv.Calls("GET /projects/:id/merge_requests/:iid/notes"); n != 2 {
		t.Errorf("%d list calls, want 2 (pages 1 and 2, then stop)", n)
	}
	// The same body again: nothing is written.
	if err := p.UpsertComment(context.Background(), 5, marker, marker+"\nnew plan"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls("PUT /projects/:id/merge_requests/:iid/notes/:note_id"); n != 1 {
		t.Errorf("%d PUT calls, want 1", n)
	}
	if n := srv.Calls("GET /user"); n != 1 {
		t.Errorf("%d GET /user calls, want 1 (read once)", n)
	}
}

// A 403 names the provider, what failed and what the token needs, with
// GitLab's message redacted; nothing is posted.
func TestRefusals(t *testing.T) {
	const tok = "glpat-refused-token-77"
	for _, tt := range []struct {
		status   int
		endpoint string
		want     []string
		sentinel error
	}{
		{http.StatusForbidden, "POST /projects/:id/merge_requests/:iid/notes", []string{"GitLab denied the call (403 ", "no access for [REDACTED]", "Reporter role", "create a note on acme/platform!5"}, nil},
		{http.StatusUnauthorized, "GET /user", []string{"GitLab refused the token", "CI/CD job token"}, providers.ErrUnauthorized},
		{http.StatusNotFound, "GET /projects/:id/merge_requests/:iid/notes", []string{"404", "does not exist"}, providers.ErrNotFound},
	} {
		srv := server(t, tok)
		srv.FailNext(tt.endpoint, tt.status, "no access for "+tok)
		p := open(t, srv, tok)
		err := p.UpsertComment(context.Background(), 5, marker, marker+"\nplan")
		if err == nil {
			t.Fatalf("%d: no error", tt.status)
		}
		for _, w := range append(tt.want, "gitlab-conf", "comment") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: error %q does not say %q", tt.status, err, w)
			}
		}
		if strings.Contains(err.Error(), tok) {
			t.Errorf("%d: token in error %q", tt.status, err)
		}
		var ae *providers.APIError
		if !errors.As(err, &ae) || ae.Status != tt.status {
			t.Errorf("%d: not an APIError with the status: %v", tt.status, err)
		}
		if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
			t.Errorf("%d: error does not wrap %v", tt.status, tt.sentinel)
		}
		if n := len(srv.Notes(5)); n != 0 {
			t.Errorf("%d: %d notes posted", tt.status, n)
		}
	}
}

// A CI/CD job token is not accepted by the notes endpoints (GitLab's job
// token allowlist has no Notes API): the adapter sends PRIVATE-TOKEN, so
// a job token given as the token is refused with 401 and said so.
func TestJobTokenRefused(t *testing.T) {
	srv := server(t, "glpat-real")
	p := open(t, srv, "job-token-not-a-pat")
	err := p.UpsertComment(context.Background(), 5, marker, "x")
	if !errors.Is(err, providers.ErrUnauthorized) || !strings.Contains(err.Error(), "CI/CD job token") {
		t.Fatalf("error %v", err)
	}
}

// Statuses: the role's failure is GitLab's failed; the name, target URL
// and redacted description reach GitLab; the ref comes from the CI job.
func TestSetStatus(t *testing.T) {
	srv := server(t, "glpat-status")
	p, err := New(Options{Project: "42", APIURL: srv.APIURL, Token: "glpat-status", Ref: "feature"})
	if err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("e", 40)
	if err := p.SetStatus(context.Background(), sha, "failure", "launchplane/plan: cfg", "invalid config glpat-status", "https://gitlab.example.com/p/-/pipelines/9"); err != nil {
		t.Fatal(err)
	}
	st := srv.Status(sha, "launchplane/plan: cfg")
	if st.State != "failed" || st.TargetURL != "https://gitlab.example.com/p/-/pipelines/9" || st.Ref != "feature" || strings.Contains(st.Description, "glpat-status") || !strings.HasPrefix(st.Description, "invalid config") {
		t.Fatalf("status %+v", st)
	}
}

// Self-managed GitLab: the API base comes from CI_API_V4_URL, else
// CI_SERVER_URL + /api/v4.
func TestAPIURLFromEnv(t *testing.T) {
	for _, tt := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"CI_API_V4_URL": "https://git.example.com/gitlab/api/v4", "CI_SERVER_URL": "https://ignored"}, "https://git.example.com/gitlab/api/v4"},
		{map[string]string{"CI_SERVER_URL": "https://git.example.com/"}, "https://git.example.com/api/v4"},
		{nil, DefaultAPIURL},
	} {
		if got := apiURLFromEnv(func(k string) string { return tt.vars[k] }); got != tt.want {
			t.Errorf("apiURLFromEnv(%v) = %q, want %q", tt.vars, got, tt.want)
		}
	}
}

// The CI reader: only under GITLAB_CI=true; the merge request, project
// and head commit from GitLab's predefined variables; no GITLAB_TOKEN is
// no Feedback, said, even with a CI_JOB_TOKEN; the token is registered
// with the redactor.
func TestReadCI(t *testing.T) {
	vars := map[string]string{
		"CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "acme/platform", "CI_PROJECT_URL": "https://git.example.com/acme/platform",
		"CI_MERGE_REQUEST_IID": "5", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_SHA": strings.Repeat("m", 40),
		"CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": strings.Repeat("c", 40), "CI_JOB_TOKEN": "job-token-123",
		"CI_PIPELINE_URL": "https://git.example.com/acme/platform/-/pipelines/9",
	}
	getenv := func(k string) string { return vars[k] }
	red := redact.New()
	if _, m := readCI(providers.CIEnv{Getenv: getenv, Redactor: red}); m != providers.CINone {
		t.Fatalf("without GITLAB_CI: match %d", m)
	}
	vars["GITLAB_CI"] = "true"
	job, m := readCI(providers.CIEnv{Getenv: getenv, Redactor: red})
	if m != providers.CIThis || job.Feedback != nil || !job.Required || !strings.Contains(job.Unavailable, "GITLAB_TOKEN is not set") || !strings.Contains(job.Unavailable, "CI_JOB_TOKEN") {
		t.Fatalf("no token: %+v", job)
	}
	vars["GITLAB_TOKEN"] = "glpat-ci-canary-9"
	job, _ = readCI(providers.CIEnv{Getenv: getenv, Redactor: red})
	if job.Feedback == nil || job.Change != 5 || job.ChangeRef != "acme/platform!5" || job.SHA != strings.Repeat("c", 40) {
		t.Fatalf("job %+v", job)
	}
	if got := job.Web.FileURL(job.SHA, "cfg/a b.yaml", 3); got != "https://git.example.com/acme/platform/-/blob/"+job.SHA+"/cfg/a%20b.yaml#L3" {
		t.Errorf("FileURL %q", got)
	}
	if got := job.Web.CommitURL("abc"); got != "https://git.example.com/acme/platform/-/commit/abc" {
		t.Errorf("CommitURL %q", got)
	}
	if strings.Contains(red.String("glpat-ci-canary-9"), "canary") {
		t.Errorf("token not registered with the redactor")
	}
	// A branch pipeline (the default branch's, after a merge) is about
	// no merge request, but gets the provider to look up the merge
	// request its commit, CI_COMMIT_SHA, came from.
	vars["CI_MERGE_REQUEST_IID"] = ""
	vars["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"] = ""
	vars["CI_PIPELINE_SOURCE"] = "push"
	job, _ = readCI(providers.CIEnv{Getenv: getenv, Redactor: red})
	if _, ok := job.Feedback.(providers.PlanLookup); job.Change != 0 || !ok || job.Event != "push" || job.SHA != strings.Repeat("m", 40) {
		t.Fatalf("branch pipeline: %+v", job)
	}
}

// What counts as the merge request that merged a commit: merged, and the
// commit is its merge commit, its squash commit, or (a fast-forward
// merge without squash, which makes neither) its head; never an open or
// closed one, nor a merged one that made another commit.
func TestMergedBy(t *testing.T) {
	sha, other := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, c := range []struct {
		mr   mergeRequest
		want bool
	}{
		{mergeRequest{State: "merged", SHA: other, MergeCommitSHA: sha}, true},
		{mergeRequest{State: "merged", SHA: other, MergeCommitSHA: other, SquashCommitSHA: sha}, true},
		{mergeRequest{State: "merged", SHA: sha}, true},
		{mergeRequest{State: "merged", SHA: sha, MergeCommitSHA: other}, false},
		{mergeRequest{State: "merged", SHA: other, SquashCommitSHA: other}, false},
		{mergeRequest{State: "opened", SHA: sha}, false},
		{mergeRequest{State: "closed", SHA: other, MergeCommitSHA: sha}, false},
		{mergeRequest{State: "locked", SHA: sha}, false},
	} {
		if got := mergedBy(c.mr, sha); got != c.want {
			t.Errorf("mergedBy(%+v) = %v, want %v", c.mr, got, c.want)
		}
	}
}

// A fast-forward merge and a squash merge both bind; the merge requests
// are read past GitLab's first page of 20.
func TestReviewedCommentFastForwardAndPages(t *testing.T) {
	const tok = "glpat-ff-1"
	srv := server(t, tok)
	p := open(t, srv, tok)
	sha := strings.Repeat("c", 40)
	for i := 1; i <= 30; i++ { // open merge requests holding the commit, listed first
		srv.SeedMergeRequest(gitlabtest.MergeRequest{IID: 100 + i, State: "opened", SHA: strings.Repeat("d", 40), Commits: []string{sha}})
	}
	srv.SeedMergeRequest(gitlabtest.MergeRequest{IID: 5, State: "merged", SHA: sha})
	srv.Seed(5, true, marker+"\nff plan")
	r, err := p.ReviewedComment(context.Background(), sha, marker)
	if err != nil || r.Change != 5 || r.Body != marker+"\nff plan" || r.ChangeRef != "acme/platform!5" {
		t.Fatalf("got %+v, %v", r, err)
	}
	if n := srv.Calls("GET /projects/:id/repository/commits/:sha/merge_requests"); n != 2 {
		t.Fatalf("%d calls listing merge requests, want 2 pages", n)
	}
	squash := strings.Repeat("e", 40)
	srv.SeedMergeRequest(gitlabtest.MergeRequest{IID: 6, State: "merged", SHA: strings.Repeat("f", 40), SquashCommitSHA: squash})
	srv.Seed(6, true, marker+"\nsquash plan")
	if r, err := p.ReviewedComment(context.Background(), squash, marker); err != nil || r.Change != 6 {
		t.Fatalf("squash: %+v, %v", r, err)
	}
	// a commit GitLab does not hold: 404, an error, not a verdict
	_, err = p.ReviewedComment(context.Background(), strings.Repeat("9", 40), marker)
	if err == nil || errors.Is(err, providers.ErrNotReviewed) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown commit: %v", err)
	}
}
