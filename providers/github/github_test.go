package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/github/githubtest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

const (
	repo   = "acme/shop"
	marker = "<!-- launchplane:plan -->"
)

// backend is githubtest as the conformance suite's FeedbackBackend.
type backend struct{ srv *githubtest.Server }

func (b backend) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	switch op {
	case providertest.OpComment:
		// The first call of an upsert lists comments; a 403 is not
		// retried.
		b.srv.Fail(githubtest.ListComments, http.StatusForbidden, message)
	case providertest.OpStatus:
		b.srv.Fail(githubtest.CreateStatus, http.StatusInternalServerError, message)
	case providertest.OpReviewed:
		b.srv.Fail(githubtest.CommitPulls, http.StatusForbidden, message)
	default:
		t.Fatalf("github has no operation %s", op)
	}
}

// Seed puts comments on pr: the GITHUB_TOKEN's bot's (mine) or alice's.
func (b backend) Seed(t *testing.T, pr int, mine bool, bodies ...string) {
	author := "alice"
	if mine {
		author = githubtest.DefaultLogin
	}
	b.srv.Seed(repo, pr, author, bodies...)
}

func (b backend) Hold(t *testing.T) func() { return b.srv.Hold() }

func (b backend) SeedMerged(t *testing.T, pr int, sha string, commits ...string) {
	b.srv.SeedPull(githubtest.Pull{Number: pr, Repo: repo, Merged: true, MergeCommitSHA: sha, Commits: append([]string{strings.Repeat("e", 40)}, commits...)})
}

func (b backend) SeedOpen(t *testing.T, pr int, sha string) {
	b.srv.SeedPull(githubtest.Pull{Number: pr, Repo: repo, MergeCommitSHA: sha, Commits: []string{sha}})
}

func (b backend) SeedCommit(t *testing.T, sha string) { b.srv.SeedCommit(repo, sha) }

func (b backend) Comments(t *testing.T, pr int) []string {
	var out []string
	for _, c := range b.srv.Comments(repo, pr) {
		out = append(out, c.Body)
	}
	return out
}

func (b backend) Status(t *testing.T, sha, context string) string {
	for _, st := range b.srv.Statuses(repo, sha) { // newest first
		if st.Context == context {
			return st.State
		}
	}
	return ""
}

// server starts a githubtest server accepting token, for a GitHub
// Actions job ($GITHUB_ACTIONS=true) whose token is the GITHUB_TOKEN
// (the server's default Login), with no configured author.
func server(t *testing.T, token string) *githubtest.Server {
	t.Helper()
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv(AuthorEnv, "")
	srv := githubtest.New(token)
	t.Cleanup(srv.Close)
	return srv
}

// open builds the adapter the way apply does: through the registry, with
// a Resolve that registers what it returns with the run's Redactor.
func open(t *testing.T, srv *githubtest.Server, token string) *Provider {
	t.Helper()
	red := redact.New()
	raw, err := json.Marshal(map[string]any{"repository": repo, "apiUrl": srv.URL, "token": map[string]string{"fromEnv": "LP_TEST_GITHUB_TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := providers.Open("github", providers.Config{
		Name:     "github-conf",
		Raw:      raw,
		Redactor: red,
		Resolve: func(ref providers.SecretRef) (string, error) {
			if ref.FromEnv != "LP_TEST_GITHUB_TOKEN" {
				return "", fmt.Errorf("unexpected secret ref %s", ref)
			}
			red.Add(token)
			return token, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := inst.(*Provider)
	p.retryBackoff = 1 // nanosecond: retries do not wait in tests
	return p
}

// newDirect builds the adapter as the CLI does, without a config file.
func newDirect(t *testing.T, srv *githubtest.Server, token string, mod func(*Options)) *Provider {
	t.Helper()
	o := Options{Name: "gh", Repository: repo, APIURL: srv.URL, Token: token}
	if mod != nil {
		mod(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	p.retryBackoff = 1
	return p
}

func TestConformance(t *testing.T) {
	providertest.RunFeedback(t, providertest.FeedbackSetup{
		// Built through the registry, github finds the token's identity
		// and counts only its comments (see TestUpsertAuthor).
		FailedState: "failure",
		Setup: providertest.Setup[providers.Feedback]{
			Provider: "github-conf",
			New: func(t *testing.T) (providers.Feedback, providertest.Backend) {
				srv := server(t, providertest.CredentialCanary)
				return open(t, srv, providertest.CredentialCanary), backend{srv}
			},
		},
	})
}

// Both adapters run the same PlanLookup suite.
func TestPlanLookupConformance(t *testing.T) {
	providertest.RunPlanLookup(t, providertest.PlanLookupSetup{Setup: providertest.Setup[providers.Feedback]{
		Provider: "github-conf",
		New: func(t *testing.T) (providers.Feedback, providertest.Backend) {
			srv := server(t, providertest.CredentialCanary)
			return open(t, srv, providertest.CredentialCanary), backend{srv}
		},
	}})
}

func bodies(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", prefix, i+1)
	}
	return out
}

func TestUpsertFindsMarkerOnSecondPage(t *testing.T) {
	const tok = "ghs_page_token_1"
	srv := server(t, tok)
	// 250 comments, 3 pages of 100: the marker comment is the 151st (page
	// 2); a later duplicate is the 250th (page 3).
	srv.Seed(repo, 7, "alice", bodies("review", 150)...)
	id := srv.Seed(repo, 7, githubtest.DefaultLogin, marker+"\nold plan")[0]
	srv.Seed(repo, 7, "bob", bodies("reply", 98)...)
	dup := srv.Seed(repo, 7, githubtest.DefaultLogin, marker+"\nduplicate")[0]
	srv.Seed(repo, 8, githubtest.DefaultLogin, marker+"\nother pull request")

	p := newDirect(t, srv, tok, nil)
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nnew plan"); err != nil {
		t.Fatal(err)
	}
	if c, _ := srv.Comment(id); c.Body != marker+"\nnew plan" {
		t.Errorf("marker comment on page 2: %q", c.Body)
	}
	if c, _ := srv.Comment(dup); c.Body != marker+"\nduplicate" {
		t.Errorf("later duplicate changed: %q", c.Body)
	}
	if n := len(srv.Comments(repo, 7)); n != 250 {
		t.Errorf("%d comments, want 250 (none created)", n)
	}
	if cs := srv.Comments(repo, 8); cs[0].Body != marker+"\nother pull request" {
		t.Errorf("another pull request's comment changed: %q", cs[0].Body)
	}
	// Pages 1 and 2 of 100 were read; page 3 was not needed.
	for ep, want := range map[githubtest.Endpoint]int{githubtest.ListComments: 2, githubtest.UpdateComment: 1, githubtest.CreateComment: 0} {
		if got := srv.Calls(ep); got != want {
			t.Errorf("%s: %d calls, want %d", ep, got, want)
		}
	}
	h := srv.Header(githubtest.UpdateComment)
	if h.Get("Authorization") != "Bearer "+tok || h.Get("X-GitHub-Api-Version") != "2022-11-28" || !strings.HasPrefix(h.Get("User-Agent"), "launchplane") {
		t.Errorf("request headers: %v", h)
	}
}

func TestUpsertCreatesAfterLastPage(t *testing.T) {
	const tok = "ghs_create_token_1"
	srv := server(t, tok)
	srv.Seed(repo, 7, "alice", bodies("review", 120)...)
	// A reply quoting the marker is not Launchplane's comment.
	quoted := srv.Seed(repo, 7, "carol", "> "+marker+"\n> old plan\n\nwhy?")[0]
	srv.Seed(repo, 7, "bob", bodies("reply", 129)...)

	p := newDirect(t, srv, tok, nil)
	body := marker + "\nplan"
	if err := p.UpsertComment(context.Background(), 7, marker, body); err != nil {
		t.Fatal(err)
	}
	cs := srv.Comments(repo, 7)
	if len(cs) != 251 || cs[250].Body != body || cs[250].Author != githubtest.DefaultLogin {
		t.Fatalf("%d comments, last %+v", len(cs), cs[len(cs)-1])
	}
	if c, _ := srv.Comment(quoted); c.Body != "> "+marker+"\n> old plan\n\nwhy?" {
		t.Errorf("quoting comment changed: %q", c.Body)
	}
	for ep, want := range map[githubtest.Endpoint]int{githubtest.ListComments: 3, githubtest.UpdateComment: 0, githubtest.CreateComment: 1} {
		if got := srv.Calls(ep); got != want {
			t.Errorf("%s: %d calls, want %d", ep, got, want)
		}
	}
}

func TestUpsertUnchangedBodyMakesNoEdit(t *testing.T) {
	srv := server(t, "tok-unchanged")
	p := newDirect(t, srv, "tok-unchanged", nil)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := p.UpsertComment(ctx, 7, marker, marker+"\nsame"); err != nil {
			t.Fatal(err)
		}
	}
	if c, u := srv.Calls(githubtest.CreateComment), srv.Calls(githubtest.UpdateComment); c != 1 || u != 0 {
		t.Errorf("creates %d updates %d, want 1 and 0", c, u)
	}
	if err := p.UpsertComment(ctx, 7, marker, marker+"\nchanged"); err != nil {
		t.Fatal(err)
	}
	if u := srv.Calls(githubtest.UpdateComment); u != 1 {
		t.Errorf("updates %d, want 1", u)
	}
}

// forgers are comments by other users carrying the marker: anyone who
// may comment on the pull request can post them, and a login that
// looks like the bot's without "[bot]" (user logins cannot hold
// brackets) is another user.
var forgers = []string{"alice", "github-actions", "github-actions-bot", "mallory[bot]"}

// seedForged puts one marked comment by each forger on pr, before any
// of Launchplane's, and returns their ids.
func seedForged(srv *githubtest.Server, pr int) []int64 {
	var ids []int64
	for _, who := range forgers {
		ids = append(ids, srv.Seed(repo, pr, who, marker+"\nNo changes. (forged by "+who+")")[0])
	}
	return ids
}

// checkUntouched fails the test if a comment in ids changed.
func checkUntouched(t *testing.T, srv *githubtest.Server, ids []int64) {
	t.Helper()
	for _, id := range ids {
		c, _ := srv.Comment(id)
		if !strings.Contains(c.Body, "forged by") || c.Updated != c.Created {
			t.Errorf("comment %d by %s was edited: %q", id, c.Author, c.Body)
		}
	}
}

func TestUpsertAuthor(t *testing.T) {
	for _, tt := range []struct {
		name   string
		login  string // the token's: a "[bot]" is an installation token
		author string // Options.Author
	}{
		{"actions-token", githubtest.DefaultLogin, ""},
		{"actions-token-configured", githubtest.DefaultLogin, "GitHub-Actions[bot]"}, // logins compare case-insensitively
		{"user-token", "octo-ci", ""},
		{"app-token-configured", "deployer[bot]", "deployer[bot]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, "tok-author")
			srv.Login = tt.login
			forged := seedForged(srv, 7)
			mine := srv.Seed(repo, 7, tt.login, marker+"\nold")[0]
			p := newDirect(t, srv, "tok-author", func(o *Options) { o.Author = tt.author })
			for _, body := range []string{"new", "newer"} {
				if err := p.UpsertComment(context.Background(), 7, marker, marker+"\n"+body); err != nil {
					t.Fatal(err)
				}
			}
			checkUntouched(t, srv, forged)
			if c, _ := srv.Comment(mine); c.Body != marker+"\nnewer" {
				t.Errorf("own comment: %q", c.Body)
			}
			if n := len(srv.Comments(repo, 7)); n != len(forged)+1 {
				t.Errorf("%d comments, want %d (none created)", n, len(forged)+1)
			}
			// The identity is found once per provider; a configured one
			// needs no GET /user.
			want := 1
			if tt.author != "" {
				want = 0
			}
			if n := srv.Calls(githubtest.GetUser); n != want {
				t.Errorf("GET /user: %d calls, want %d", n, want)
			}
		})
	}
}

// Only forged comments: the plan gets a comment of its own, and the
// forged ones stay as they are.
func TestUpsertIgnoresForgedMarker(t *testing.T) {
	for _, login := range []string{githubtest.DefaultLogin, "octo-ci"} {
		t.Run(login, func(t *testing.T) {
			srv := server(t, "tok-forged")
			srv.Login = login
			forged := seedForged(srv, 7)
			p := open(t, srv, "tok-forged") // through the registry, as plan --comment
			if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan"); err != nil {
				t.Fatal(err)
			}
			checkUntouched(t, srv, forged)
			cs := srv.Comments(repo, 7)
			if len(cs) != len(forged)+1 || cs[len(forged)].Body != marker+"\nplan" || cs[len(forged)].Author != login {
				t.Fatalf("comments %+v, want the forged ones and the plan by %s", cs, login)
			}
		})
	}
}

// An installation token whose login cannot be known fails closed: no
// comment is listed, edited or written, and the error says what to set.
func TestUpsertUnknownIdentity(t *testing.T) {
	srv := server(t, "tok-unknown")
	t.Setenv("GITHUB_ACTIONS", "") // not a workflow: an app's token, say
	forged := seedForged(srv, 7)
	p := open(t, srv, "tok-unknown")
	err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan")
	providertest.CheckError(t, err, "github-conf", "comment", "")
	for _, want := range []string{"installation token", "Resource not accessible by integration", AuthorEnv, "[bot]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	for _, ep := range []githubtest.Endpoint{githubtest.ListComments, githubtest.CreateComment, githubtest.UpdateComment} {
		if n := srv.Calls(ep); n != 0 {
			t.Errorf("%s: %d calls", ep, n)
		}
	}
	checkUntouched(t, srv, forged)

	// Set through the env, it is used.
	t.Setenv(AuthorEnv, githubtest.DefaultLogin)
	p = open(t, srv, "tok-unknown")
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan"); err != nil {
		t.Fatal(err)
	}
	if cs := srv.Comments(repo, 7); len(cs) != len(forged)+1 {
		t.Fatalf("comments %+v", cs)
	}
}

// GET /user failing (other than the installation token's 403) is an
// error: nothing is written.
func TestUpsertIdentityLookupFails(t *testing.T) {
	srv := server(t, "tok-whoami")
	srv.Login = "octo-ci"
	srv.Fail(githubtest.GetUser, http.StatusForbidden, "Must have admin rights to Repository.")
	p := newDirect(t, srv, "tok-whoami", nil)
	err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan")
	providertest.CheckError(t, err, "gh", "comment", "")
	if err == nil || !strings.Contains(err.Error(), "GET /user") || !strings.Contains(err.Error(), AuthorEnv) {
		t.Errorf("error %v", err)
	}
	if n := srv.Calls(githubtest.CreateComment) + srv.Calls(githubtest.ListComments); n != 0 {
		t.Errorf("%d comment calls after the identity lookup failed", n)
	}
	// Not kept: the next call finds it.
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan"); err != nil {
		t.Fatal(err)
	}
}

// A GitHub App's installation token in a workflow, its login not set:
// Launchplane takes it for the GITHUB_TOKEN. The comment it creates is
// the app's, so the next run would not find it: the first run says so,
// naming the login to set, instead of duplicating the plan on every run.
func TestUpsertAppTokenWithoutAuthor(t *testing.T) {
	srv := server(t, "tok-app")
	srv.Login = "deployer[bot]"
	p := newDirect(t, srv, "tok-app", nil)
	err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan")
	if err == nil || !strings.Contains(err.Error(), AuthorEnv+"=deployer[bot]") {
		t.Fatalf("error %v, want it to name %s=deployer[bot]", err, AuthorEnv)
	}

	// Set, the app's comment is the one kept.
	p = newDirect(t, srv, "tok-app", func(o *Options) { o.Author = "deployer[bot]" })
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan 2"); err != nil {
		t.Fatal(err)
	}
	cs := srv.Comments(repo, 7)
	if len(cs) != 1 || cs[0].Author != "deployer[bot]" || cs[0].Body != marker+"\nplan 2" {
		t.Fatalf("comments %+v", cs)
	}
}

func TestUpsertAddsMissingMarker(t *testing.T) {
	srv := server(t, "tok-marker")
	p := newDirect(t, srv, "tok-marker", nil)
	ctx := context.Background()
	if err := p.UpsertComment(ctx, 7, marker, "## Plan\nno changes"); err != nil {
		t.Fatal(err)
	}
	if err := p.UpsertComment(ctx, 7, marker, "## Plan\n1 change"); err != nil {
		t.Fatal(err)
	}
	cs := srv.Comments(repo, 7)
	if len(cs) != 1 || cs[0].Body != marker+"\n## Plan\n1 change" {
		t.Fatalf("comments %+v", cs)
	}
}

func TestUpsertRedactsBody(t *testing.T) {
	srv := server(t, "ghs_redact_token_1")
	p := newDirect(t, srv, "ghs_redact_token_1", nil)
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\ntoken ghs_redact_token_1 and Authorization: Bearer abcdef123456"); err != nil {
		t.Fatal(err)
	}
	b := srv.Comments(repo, 7)[0].Body
	if strings.Contains(b, "ghs_redact_token_1") || strings.Contains(b, "abcdef123456") || !strings.Contains(b, redact.Mask) {
		t.Errorf("posted body %q", b)
	}
}

func TestUpsertBodyTooLong(t *testing.T) {
	srv := server(t, "tok-long")
	p := newDirect(t, srv, "tok-long", nil)
	ctx := context.Background()
	err := p.UpsertComment(ctx, 7, marker, marker+"\n"+strings.Repeat("x", MaxCommentBody))
	providertest.CheckError(t, err, "gh", "comment", "")
	if !strings.Contains(err.Error(), "over GitHub's limit of 65536") {
		t.Errorf("error %q", err)
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Errorf("%d API calls for a body that cannot be posted", n)
	}
	// The limit counts characters: 65,536 two-byte characters pass.
	body := marker + "\n" + strings.Repeat("é", MaxCommentBody-utf8.RuneCountInString(marker)-1)
	if err := p.UpsertComment(ctx, 7, marker, body); err != nil {
		t.Fatalf("body of exactly %d characters: %v", MaxCommentBody, err)
	}
	if cs := srv.Comments(repo, 7); len(cs) != 1 || utf8.RuneCountInString(cs[0].Body) != MaxCommentBody {
		t.Fatalf("comments: %d", len(cs))
	}
}

func TestValidationFailedMessage(t *testing.T) {
	// GitHub's 422 reads in full, should a body get past the local check.
	srv := server(t, "tok-422")
	p := newDirect(t, srv, "tok-422", nil)
	api, err := p.client()
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.createComment(context.Background(), 7, strings.Repeat("x", MaxCommentBody+1))
	want := "create comment on acme/shop#7: GitHub answered 422 Validation Failed: body is too long (maximum is 65536 characters)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	var ae *providers.APIError
	if !errors.As(err, &ae) || ae.Status != 422 || ae.Method != "POST" || ae.Path != "/repos/acme/shop/issues/7/comments" {
		t.Errorf("API error %+v", ae)
	}
}

func TestUnauthorized(t *testing.T) {
	srv := server(t, "the-right-token")
	// The CLI's path: the adapter registers the token itself.
	p := newDirect(t, srv, providertest.CredentialCanary, nil)
	ctx := context.Background()

	err := p.UpsertComment(ctx, 7, marker, marker+"\nplan")
	providertest.CheckError(t, err, "gh", "comment", "")
	for _, want := range []string{"GitHub refused the token (401 Bad credentials)", "needs pull-requests: write"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, providers.ErrUnauthorized) {
		t.Errorf("%v does not wrap ErrUnauthorized", err)
	}
	var ae *providers.APIError
	// The first call finds the token's identity.
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Method != "GET" || ae.Path != "/user" || ae.Body != "Bad credentials" {
		t.Errorf("API error %+v", ae)
	}
	if n := srv.Calls(githubtest.GetUser); n != 1 {
		t.Errorf("a 401 was tried %d times", n)
	}
	if strings.Contains(err.Error(), AuthorEnv) {
		t.Errorf("error %q: setting the author does not help a refused token", err)
	}

	err = p.SetStatus(ctx, strings.Repeat("a", 40), "success", "launchplane/plan", "ok", "")
	providertest.CheckError(t, err, "gh", "status", "")
	if !strings.Contains(err.Error(), "GitHub refused the token (401 Bad credentials)") || !strings.Contains(err.Error(), "statuses: write") {
		t.Errorf("error %q", err)
	}
}

func TestRefusals(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ep       githubtest.Endpoint
		status   int
		message  string
		want     []string
		sentinel error
	}{
		{"forbidden", githubtest.ListComments, 403, "Resource not accessible by integration",
			[]string{"GitHub denied the call (403 Resource not accessible by integration): the token needs pull-requests: write or issues: write on acme/shop"}, nil},
		{"not-found", githubtest.ListComments, 404, "Not Found",
			[]string{"GitHub answered 404 Not Found: acme/shop or the object does not exist, or the token cannot see it"}, providers.ErrNotFound},
		{"status-forbidden", githubtest.CreateStatus, 403, "Resource not accessible by integration",
			[]string{"set status launchplane/plan on acme/shop@", "needs statuses: write on acme/shop"}, nil},
		{"create-server-error", githubtest.CreateComment, 500, "Server Error", []string{"create comment on acme/shop#7: GitHub answered 500 Server Error"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, "tok-refusals")
			p := newDirect(t, srv, "tok-refusals", nil)
			srv.Fail(tt.ep, tt.status, tt.message)
			var err error
			op := "comment"
			if tt.ep == githubtest.CreateStatus {
				op = "status"
				err = p.SetStatus(context.Background(), strings.Repeat("a", 40), "success", "launchplane/plan", "", "")
			} else {
				err = p.UpsertComment(context.Background(), 7, marker, marker)
			}
			providertest.CheckError(t, err, "gh", op, "")
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("%v does not wrap %v", err, tt.sentinel)
			}
			if n := srv.Calls(tt.ep); n != 1 {
				t.Errorf("%d calls of %s, want 1 (no retry)", n, tt.ep)
			}
		})
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	const tok = "ghp_canary_0f1e2d3c4b5a69788796a5b4"
	t.Run("echoed-by-github", func(t *testing.T) {
		srv := server(t, tok)
		// apply's Resolve registers the value; here it does not, so the
		// adapter must register the token itself.
		inst, err := providers.Open("github", providers.Config{
			Name: "gh", Raw: json.RawMessage(`{"repository":"acme/shop","apiUrl":"` + srv.URL + `"}`), Redactor: redact.New(),
			Resolve: func(providers.SecretRef) (string, error) { return tok, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		p := inst.(*Provider)
		srv.Fail(githubtest.ListComments, 403, "token "+tok+" lacks access")
		srv.Fail(githubtest.CreateStatus, 422, "the token is "+tok)
		for _, err := range []error{
			p.UpsertComment(context.Background(), 7, marker, marker),
			p.SetStatus(context.Background(), "abc", "error", "ctx", "", ""),
		} {
			if err == nil || strings.Contains(err.Error(), tok) || !strings.Contains(err.Error(), redact.Mask) {
				t.Errorf("error %v", err)
			}
		}
	})
	t.Run("network", func(t *testing.T) {
		srv := server(t, tok)
		p := newDirect(t, srv, tok, nil)
		srv.Close()
		err := p.UpsertComment(context.Background(), 7, marker, marker)
		if err == nil || strings.Contains(err.Error(), tok) {
			t.Errorf("error %v", err)
		}
	})
}

func TestRetriesReads(t *testing.T) {
	srv := server(t, "tok-retry")
	p := newDirect(t, srv, "tok-retry", nil)
	srv.Fail(githubtest.ListComments, 502, "Bad Gateway")
	srv.Fail(githubtest.ListComments, 503, "Unavailable")
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan"); err != nil {
		t.Fatalf("upsert after two 5xx on a read: %v", err)
	}
	if n := srv.Calls(githubtest.ListComments); n != 3 {
		t.Errorf("list calls %d, want 3", n)
	}
	// Writes are not retried.
	srv.Fail(githubtest.UpdateComment, 502, "Bad Gateway")
	err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan 2")
	if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Fatalf("error %v", err)
	}
	if n := srv.Calls(githubtest.UpdateComment); n != 1 {
		t.Errorf("update calls %d, want 1", n)
	}
	// Retries end.
	for i := 0; i < 4; i++ {
		srv.Fail(githubtest.ListComments, 500, "down")
	}
	before := srv.Calls(githubtest.ListComments)
	if err := p.UpsertComment(context.Background(), 7, marker, marker+"\nplan 3"); err == nil {
		t.Fatal("no error after four 500s")
	}
	if n := srv.Calls(githubtest.ListComments) - before; n != 4 {
		t.Errorf("list tried %d times, want 4 (1 + 3 retries)", n)
	}
}

func TestPaginationMustAdvance(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=1&per_page=100>; rel="next"`, r.Host, r.URL.Path))
		fmt.Fprint(w, `[]`)
	}))
	t.Cleanup(ts.Close)
	p, err := New(Options{Repository: repo, APIURL: ts.URL, Token: "tok", Author: "octo-ci"})
	if err != nil {
		t.Fatal(err)
	}
	err = p.UpsertComment(context.Background(), 7, marker, marker)
	if err == nil || !strings.Contains(err.Error(), "does not follow page 1") {
		t.Fatalf("error %v", err)
	}
}

func TestSetStatus(t *testing.T) {
	const tok = "tok-status"
	srv := server(t, tok)
	p := newDirect(t, srv, tok, nil)
	ctx := context.Background()
	sha := strings.Repeat("f", 40)
	long := strings.Repeat("é", 200)
	if err := p.SetStatus(ctx, sha, "pending", "launchplane/apply", long, "https://ci.example.com/run/1"); err != nil {
		t.Fatal(err)
	}
	st := srv.Statuses(repo, sha)
	if len(st) != 1 {
		t.Fatalf("statuses %+v", st)
	}
	if got := st[0]; got.State != "pending" || got.Context != "launchplane/apply" || got.TargetURL != "https://ci.example.com/run/1" ||
		utf8.RuneCountInString(got.Description) != MaxStatusDescription || !strings.HasSuffix(got.Description, "…") {
		t.Errorf("status %+v", got)
	}
	h := srv.Header(githubtest.CreateStatus)
	if h.Get("Authorization") != "Bearer "+tok || h.Get("X-GitHub-Api-Version") != "2022-11-28" {
		t.Errorf("headers %v", h)
	}
	// Empty optional fields are left to GitHub.
	if err := p.SetStatus(ctx, sha, "success", "", "", ""); err != nil {
		t.Fatal(err)
	}
	if got := srv.Statuses(repo, sha)[0]; got.Context != "default" || got.Description != "" || got.TargetURL != "" {
		t.Errorf("status %+v", got)
	}
	calls := srv.TotalCalls()
	for _, bad := range []struct{ sha, state string }{{sha, "green"}, {sha, ""}, {sha, "Success"}, {"", "success"}} {
		err := p.SetStatus(ctx, bad.sha, bad.state, "launchplane/plan", "", "")
		providertest.CheckError(t, err, "gh", "status", "")
	}
	if n := srv.TotalCalls() - calls; n != 0 {
		t.Errorf("%d calls for invalid statuses", n)
	}
}

func TestCanceled(t *testing.T) {
	srv := server(t, "tok-cancel")
	p := newDirect(t, srv, "tok-cancel", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range []error{
		p.UpsertComment(ctx, 7, marker, marker),
		p.SetStatus(ctx, "abc", "success", "c", "", ""),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v does not wrap context.Canceled", err)
		}
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Errorf("%d calls with a canceled context", n)
	}
	// Canceled while walking the pages: the read in flight ends.
	srv.Seed(repo, 7, "alice", bodies("c", 150)...)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	p.hc = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("page") == "2" {
			cancel()
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	p.api = nil
	if err := p.UpsertComment(ctx, 7, marker, marker); !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
	if n := srv.Calls(githubtest.CreateComment); n != 0 {
		t.Errorf("created %d comments after cancel", n)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConfig(t *testing.T) {
	srv := server(t, "tok-config")
	t.Setenv("GITHUB_REPOSITORY", repo)
	t.Setenv("GITHUB_API_URL", srv.URL)
	var refs []providers.SecretRef
	cfg := providers.Config{Name: "gh-env", Raw: json.RawMessage(`{}`), Redactor: redact.New(),
		Resolve: func(ref providers.SecretRef) (string, error) {
			refs = append(refs, ref)
			return "tok-config", nil
		}}
	inst, err := providers.Open("github", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 0 {
		t.Fatalf("the factory resolved %v", refs)
	}
	p := inst.(*Provider)
	ctx := context.Background()
	if err := p.UpsertComment(ctx, 3, marker, marker); err != nil {
		t.Fatal(err)
	}
	if err := p.SetStatus(ctx, "abc", "success", "c", "", ""); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0] != (providers.SecretRef{FromEnv: "GITHUB_TOKEN"}) {
		t.Errorf("resolved %v, want once {fromEnv: GITHUB_TOKEN}", refs)
	}
	if len(srv.Comments(repo, 3)) != 1 || len(srv.Statuses(repo, "abc")) != 1 {
		t.Error("nothing posted")
	}

	// A token reference in the config is the one resolved.
	refs = nil
	cfg.Raw = json.RawMessage(`{"token": {"fromFile": "secrets/gh"}}`)
	inst, err = providers.Open("github", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.(*Provider).SetStatus(ctx, "abc", "success", "c", "", ""); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0] != (providers.SecretRef{FromFile: "secrets/gh"}) {
		t.Errorf("resolved %v", refs)
	}
}

func TestConfigWithoutSecrets(t *testing.T) {
	srv := server(t, "tok")
	inst, err := providers.Open("github", providers.Config{Name: "gh-plan", Raw: json.RawMessage(`{"repository":"acme/shop","apiUrl":"` + srv.URL + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	err = inst.(providers.Feedback).UpsertComment(context.Background(), 7, marker, marker)
	providertest.CheckError(t, err, "gh-plan", "comment", "")
	if !strings.Contains(err.Error(), "only read at apply") {
		t.Errorf("error %q", err)
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Errorf("%d calls without a token", n)
	}
}

func TestMissingRepository(t *testing.T) {
	t.Setenv("GITHUB_REPOSITORY", "")
	inst, err := providers.Open("github", providers.Config{Name: "gh", Raw: json.RawMessage(`{}`),
		Resolve: func(providers.SecretRef) (string, error) { return "tok", nil }})
	if err != nil {
		t.Fatalf("the factory needs no repository until first use: %v", err)
	}
	err = inst.(providers.Feedback).SetStatus(context.Background(), "abc", "success", "c", "", "")
	if err == nil || !strings.Contains(err.Error(), "no repository") {
		t.Errorf("error %v", err)
	}
	if _, err := New(Options{Token: "tok"}); err == nil || !strings.Contains(err.Error(), "no repository") {
		t.Errorf("New without a repository: %v", err)
	}
	if _, err := New(Options{Token: "tok", Repository: "not a repo"}); err == nil {
		t.Error("New accepted a malformed repository")
	}
	if _, err := New(Options{Repository: repo}); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("New without a token: %v", err)
	}
	// A repository a command gives (a request's --to) is checked when the
	// provider is opened, before its token is read or anything is sent.
	_, err = providers.Open("github", providers.Config{Name: "gh", Raw: json.RawMessage(`{"repository":"acme/platform/x"}`),
		Resolve: func(providers.SecretRef) (string, error) { t.Error("token read"); return "tok", nil }})
	if err == nil || err.Error() != `provider gh (github): repository "acme/platform/x" is not owner/name` {
		t.Errorf("Open with a malformed repository: %v", err)
	}
}

func TestHoldsMarker(t *testing.T) {
	for _, tt := range []struct {
		body string
		want bool
	}{
		{marker, true},
		{marker + "\nplan", true},
		{"## Plan\n\n" + marker, true},
		{"text " + marker + " text", true},
		{"> " + marker + "\n> plan", false},
		{"  >" + marker, false},
		{"> quoted\n" + marker, true},
		{"<!-- launchplane:other -->", false},
		{"", false},
	} {
		if got := providers.HoldsMarker(tt.body, marker); got != tt.want {
			t.Errorf("holdsMarker(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestActionsEvent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REPOSITORY": "acme/env", "GITHUB_SHA": "merge"}
	for _, tt := range []struct {
		name, doc string
		want      Event
	}{
		{"pull_request", `{"number": 12, "pull_request": {"number": 12, "head": {"sha": "head"}}, "repository": {"full_name": "acme/shop"}}`,
			Event{Name: "pull_request", Repository: "acme/shop", PullRequest: 12, SHA: "head"}},
		{"issue_comment", `{"issue": {"number": 5, "pull_request": {"url": "x"}}, "repository": {"full_name": "acme/shop"}}`,
			Event{Name: "pull_request", Repository: "acme/shop", PullRequest: 5}},
		{"issue", `{"issue": {"number": 5}}`, Event{Name: "pull_request", Repository: "acme/env", SHA: "merge"}},
		{"push", `{"ref": "refs/heads/main"}`, Event{Name: "pull_request", Repository: "acme/env", SHA: "merge"}},
	} {
		env["GITHUB_EVENT_PATH"] = write(tt.name+".json", tt.doc)
		got, err := ActionsEvent(func(k string) string { return env[k] })
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	if _, err := ActionsEvent(func(string) string { return "" }); err == nil {
		t.Error("no error outside GitHub Actions")
	}
	env["GITHUB_EVENT_PATH"] = write("bad.json", "{")
	if _, err := ActionsEvent(func(k string) string { return env[k] }); err == nil {
		t.Error("no error for a malformed event")
	}
}

// The provider's author (config) names the identity: no GET /user, and
// only that login's comment is kept, outside Actions too.
func TestConfigAuthor(t *testing.T) {
	srv := server(t, "tok-cfg-author")
	t.Setenv("GITHUB_ACTIONS", "")
	srv.Login = "deployer[bot]"
	forged := seedForged(srv, 7)
	mine := srv.Seed(repo, 7, "deployer[bot]", marker+"\nold")[0]
	inst, err := providers.Open("github", providers.Config{Name: "gh-app", Redactor: redact.New(),
		Raw:     json.RawMessage(`{"repository":"acme/shop","apiUrl":"` + srv.URL + `","author":"deployer[bot]"}`),
		Resolve: func(providers.SecretRef) (string, error) { return "tok-cfg-author", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.(providers.Feedback).UpsertComment(context.Background(), 7, marker, marker+"\nnew"); err != nil {
		t.Fatal(err)
	}
	checkUntouched(t, srv, forged)
	if c, _ := srv.Comment(mine); c.Body != marker+"\nnew" {
		t.Errorf("own comment: %q", c.Body)
	}
	if n := srv.Calls(githubtest.GetUser); n != 0 {
		t.Errorf("GET /user: %d calls with a configured author", n)
	}
}
