package githubtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers/github/githubtest"
)

const token = "ghs_test_token_0123456789"

func start(t *testing.T) *githubtest.Server {
	t.Helper()
	s := githubtest.New(token)
	t.Cleanup(s.Close)
	return s
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) message(t *testing.T) string {
	t.Helper()
	var m struct {
		Message string `json:"message"`
	}
	r.decode(t, &m)
	return m.Message
}

// call sends one request; auth is the whole Authorization header.
func call(t *testing.T, method, u, auth string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// links parses a Link header into rel -> page number.
func links(t *testing.T, h string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if h == "" {
		return out
	}
	for _, part := range strings.Split(h, ",") {
		u, rel, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			t.Fatalf("bad link %q", part)
		}
		u = strings.Trim(strings.TrimSpace(u), "<>")
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		rel = strings.TrimSpace(rel)
		rel = strings.TrimSuffix(strings.TrimPrefix(rel, `rel="`), `"`)
		out[rel] = pu.Query().Get("page") + "/" + pu.Query().Get("per_page")
	}
	return out
}

func TestAuthentication(t *testing.T) {
	s := start(t)
	u := s.URL + "/repos/acme/shop/issues/7/comments"
	r := call(t, "GET", u, "", nil)
	if r.status != 401 || r.message(t) != "Requires authentication" {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	r = call(t, "GET", u, "Bearer wrong", nil)
	if r.status != 401 || r.message(t) != "Bad credentials" {
		t.Errorf("wrong token: %d %s", r.status, r.body)
	}
	for _, auth := range []string{"Bearer " + token, "token " + token} {
		if r := call(t, "GET", u, auth, nil); r.status != 200 {
			t.Errorf("%q: %d %s", auth, r.status, r.body)
		}
	}
	if got := s.Calls(githubtest.ListComments); got != 4 {
		t.Errorf("calls %d, want 4", got)
	}
	if got := s.Header(githubtest.ListComments).Get("Authorization"); got != "token "+token {
		t.Errorf("last header %q", got)
	}
}

func TestAPIVersion(t *testing.T) {
	s := start(t)
	req, _ := http.NewRequest("GET", s.URL+"/repos/acme/shop/issues/7/comments", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-GitHub-Api-Version", "2021-01-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("unsupported version: %d", resp.StatusCode)
	}
}

func TestPagination(t *testing.T) {
	s := start(t)
	var bodies []string
	for i := 1; i <= 65; i++ {
		bodies = append(bodies, fmt.Sprintf("c%d", i))
	}
	ids := s.Seed("acme/shop", 7, "alice", bodies...)
	if len(ids) != 65 || ids[0] >= ids[64] {
		t.Fatalf("seed ids %v", ids)
	}
	base := s.URL + "/repos/acme/shop/issues/7/comments"
	type item struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	tests := []struct {
		query     string
		n         int
		first     string
		wantLinks map[string]string
	}{
		{"", 30, "c1", map[string]string{"next": "2/", "last": "3/"}},
		{"?per_page=30&page=1", 30, "c1", map[string]string{"next": "2/30", "last": "3/30"}},
		{"?per_page=30&page=2", 30, "c31", map[string]string{"prev": "1/30", "next": "3/30", "last": "3/30", "first": "1/30"}},
		{"?per_page=30&page=3", 5, "c61", map[string]string{"prev": "2/30", "first": "1/30"}},
		{"?per_page=500", 65, "c1", map[string]string{}}, // clamped to 100: one page
		{"?per_page=100&page=2", 0, "", map[string]string{"prev": "1/100", "first": "1/100"}},
	}
	for _, tt := range tests {
		r := call(t, "GET", base+tt.query, "Bearer "+token, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tt.query, r.status, r.body)
		}
		var list []item
		r.decode(t, &list)
		if len(list) != tt.n || (tt.n > 0 && list[0].Body != tt.first) {
			t.Errorf("%s: %d items, first %+v", tt.query, len(list), list)
		}
		if tt.n > 0 && list[0].User.Login != "alice" {
			t.Errorf("%s: author %q", tt.query, list[0].User.Login)
		}
		got := links(t, r.header.Get("Link"))
		if fmt.Sprint(got) != fmt.Sprint(tt.wantLinks) {
			t.Errorf("%s: links %v, want %v", tt.query, got, tt.wantLinks)
		}
	}
	// Another pull request and another repository are empty.
	for _, u := range []string{s.URL + "/repos/acme/shop/issues/8/comments", s.URL + "/repos/acme/other/issues/7/comments"} {
		r := call(t, "GET", u, "Bearer "+token, nil)
		if strings.TrimSpace(string(r.body)) != "[]" || r.header.Get("Link") != "" {
			t.Errorf("%s: %s link %q", u, r.body, r.header.Get("Link"))
		}
	}
}

func TestCreateAndUpdate(t *testing.T) {
	s := start(t)
	base := s.URL + "/repos/Acme/Shop/issues/7/comments"
	r := call(t, "POST", base, "Bearer "+token, map[string]string{"body": "hello"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var c struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
		URL  string `json:"url"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	r.decode(t, &c)
	if c.Body != "hello" || c.User.Login != githubtest.DefaultLogin || r.header.Get("Location") != c.URL {
		t.Fatalf("created %+v, location %q", c, r.header.Get("Location"))
	}
	r = call(t, "PATCH", fmt.Sprintf("%s/repos/acme/shop/issues/comments/%d", s.URL, c.ID), "Bearer "+token, map[string]string{"body": "edited"})
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	cs := s.Comments("acme/shop", 7)
	if len(cs) != 1 || cs[0].Body != "edited" || cs[0].ID != c.ID || !cs[0].Updated.After(cs[0].Created) {
		t.Fatalf("comments %+v", cs)
	}
	// Unknown comment, or a comment of another repository: 404.
	for _, u := range []string{
		fmt.Sprintf("%s/repos/acme/shop/issues/comments/%d", s.URL, c.ID+100),
		fmt.Sprintf("%s/repos/acme/other/issues/comments/%d", s.URL, c.ID),
	} {
		if r := call(t, "PATCH", u, "Bearer "+token, map[string]string{"body": "x"}); r.status != 404 || r.message(t) != "Not Found" {
			t.Errorf("%s: %d %s", u, r.status, r.body)
		}
	}
	if n := s.Calls(githubtest.UpdateComment); n != 3 {
		t.Errorf("update calls %d, want 3", n)
	}
}

func TestBodyTooLong(t *testing.T) {
	s := start(t)
	base := s.URL + "/repos/acme/shop/issues/7/comments"
	// The limit counts characters, not bytes.
	if r := call(t, "POST", base, "Bearer "+token, map[string]string{"body": strings.Repeat("é", githubtest.MaxCommentBody)}); r.status != 201 {
		t.Fatalf("body at the limit: %d %s", r.status, r.body)
	}
	r := call(t, "POST", base, "Bearer "+token, map[string]string{"body": strings.Repeat("x", githubtest.MaxCommentBody+1)})
	want := `{"documentation_url":"https://docs.github.com/rest","errors":[{"code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)","resource":"IssueComment"}],"message":"Validation Failed"}`
	if r.status != 422 || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("long body: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", base, "Bearer "+token, map[string]string{}); r.status != 422 {
		t.Errorf("missing body: %d %s", r.status, r.body)
	}
	if n := len(s.Comments("acme/shop", 7)); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
}

func TestStatuses(t *testing.T) {
	s := start(t)
	sha := strings.Repeat("c", 40)
	u := s.URL + "/repos/acme/shop/statuses/" + sha
	r := call(t, "POST", u, "Bearer "+token, map[string]string{"state": "pending", "context": "launchplane/plan"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = call(t, "POST", u, "Bearer "+token, map[string]string{"state": "success", "context": "launchplane/plan", "description": "ok", "target_url": "https://ci.example.com/1"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", u, "Bearer "+token, map[string]string{"state": "green"}); r.status != 422 {
		t.Errorf("bad state: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", u, "Bearer "+token, map[string]string{"state": "error", "description": strings.Repeat("d", 141)}); r.status != 422 {
		t.Errorf("long description: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", u, "Bearer "+token, map[string]string{"state": "error"}); r.status != 201 {
		t.Errorf("no context: %d %s", r.status, r.body)
	}
	st := s.Statuses("acme/shop", sha)
	if len(st) != 3 || st[0].Context != "default" || st[1].State != "success" || st[1].TargetURL != "https://ci.example.com/1" || st[2].State != "pending" {
		t.Fatalf("statuses %+v", st)
	}
	r = call(t, "GET", s.URL+"/repos/acme/shop/commits/"+sha+"/statuses", "Bearer "+token, nil)
	var list []struct {
		State string `json:"state"`
	}
	r.decode(t, &list)
	if len(list) != 3 || list[0].State != "error" || list[2].State != "pending" {
		t.Errorf("listed %+v", list)
	}
}

func TestFail(t *testing.T) {
	s := start(t)
	u := s.URL + "/repos/acme/shop/statuses/" + strings.Repeat("c", 40)
	s.Fail(githubtest.CreateStatus, 403, "Resource not accessible by integration")
	s.Fail(githubtest.CreateStatus, 500, "boom")
	body := map[string]string{"state": "success"}
	if r := call(t, "POST", u, "Bearer "+token, body); r.status != 403 || r.message(t) != "Resource not accessible by integration" {
		t.Errorf("first: %d %s", r.status, r.body)
	}
	// An unauthenticated call does not use up a fault.
	if r := call(t, "POST", u, "Bearer nope", body); r.status != 401 {
		t.Errorf("unauthenticated: %d", r.status)
	}
	if r := call(t, "POST", u, "Bearer "+token, body); r.status != 500 || r.message(t) != "boom" {
		t.Errorf("second: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", u, "Bearer "+token, body); r.status != 201 {
		t.Errorf("third: %d %s", r.status, r.body)
	}
	if n := s.Calls(githubtest.CreateStatus); n != 4 {
		t.Errorf("calls %d, want 4", n)
	}
	if n := s.TotalCalls(); n != 4 {
		t.Errorf("total calls %d, want 4", n)
	}
	if n := len(s.Statuses("acme/shop", strings.Repeat("c", 40))); n != 1 {
		t.Errorf("%d statuses, want 1", n)
	}
}

// GET /user answers a user token with its login, and an installation
// token (a login ending in "[bot]": the GITHUB_TOKEN, an app's) with
// GitHub's 403.
func TestGetUser(t *testing.T) {
	s := start(t)
	r := call(t, "GET", s.URL+"/user", "Bearer "+token, nil)
	if r.status != 403 || r.message(t) != "Resource not accessible by integration" {
		t.Errorf("installation token: %d %s", r.status, r.body)
	}
	s.Login = "octo-ci"
	r = call(t, "GET", s.URL+"/user", "Bearer "+token, nil)
	var u struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	}
	r.decode(t, &u)
	if r.status != 200 || u.Login != "octo-ci" || u.Type != "User" {
		t.Errorf("user token: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", s.URL+"/user", "Bearer wrong", nil); r.status != 401 {
		t.Errorf("wrong token: %d", r.status)
	}
	if n := s.Calls(githubtest.GetUser); n != 3 {
		t.Errorf("calls %d, want 3", n)
	}
}

// A comment says who wrote it: user.login and user.type, and for a bot
// the app it acted through (performed_via_github_app; null for a user).
func TestCommentAuthor(t *testing.T) {
	s := start(t)
	s.Seed("acme/shop", 7, "alice", "hi")
	s.Seed("acme/shop", 7, "deployer[bot]", "deployed")
	if r := call(t, "POST", s.URL+"/repos/acme/shop/issues/7/comments", "Bearer "+token, map[string]string{"body": "plan"}); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r := call(t, "GET", s.URL+"/repos/acme/shop/issues/7/comments", "Bearer "+token, nil)
	var list []struct {
		User struct {
			Login string `json:"login"`
			Type  string `json:"type"`
		} `json:"user"`
		App *struct {
			ID   int64  `json:"id"`
			Slug string `json:"slug"`
		} `json:"performed_via_github_app"`
	}
	r.decode(t, &list)
	if len(list) != 3 {
		t.Fatalf("%d comments", len(list))
	}
	if c := list[0]; c.User.Login != "alice" || c.User.Type != "User" || c.App != nil {
		t.Errorf("user's comment: %+v", c)
	}
	if c := list[1]; c.User.Login != "deployer[bot]" || c.User.Type != "Bot" || c.App == nil || c.App.Slug != "deployer" {
		t.Errorf("app's comment: %+v", c)
	}
	if c := list[2]; c.User.Login != githubtest.DefaultLogin || c.User.Type != "Bot" || c.App == nil || c.App.Slug != "github-actions" || c.App.ID != githubtest.ActionsAppID {
		t.Errorf("GITHUB_TOKEN's comment: %+v", c)
	}
}

// "List pull requests associated with a commit": the merged pull request
// that introduced the commit when one did, else the open ones holding it;
// merged_at and merge_commit_sha as GitHub writes them (null when
// unset); 422 "No commit found for SHA" for a commit the repository does
// not hold; 401 without the token.
func TestCommitPulls(t *testing.T) {
	s := start(t)
	merge, head, open := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	n := s.SeedPull(githubtest.Pull{Repo: "acme/shop", Merged: true, MergeCommitSHA: merge, Commits: []string{head}})
	s.SeedPull(githubtest.Pull{Repo: "acme/shop", MergeCommitSHA: strings.Repeat("d", 40), Commits: []string{head, open}})
	u := func(sha string) string { return s.URL + "/repos/Acme/Shop/commits/" + sha + "/pulls" }
	var got []struct {
		Number   int     `json:"number"`
		State    string  `json:"state"`
		MergedAt *string `json:"merged_at"`
		Merge    *string `json:"merge_commit_sha"`
	}
	r := call(t, "GET", u(merge), "Bearer "+token, nil)
	r.decode(t, &got)
	if r.status != 200 || len(got) != 1 || got[0].Number != n || got[0].State != "closed" || got[0].MergedAt == nil || *got[0].Merge != merge {
		t.Fatalf("merge commit: %d %s", r.status, r.body)
	}
	r = call(t, "GET", u(head), "Bearer "+token, nil)
	r.decode(t, &got)
	if len(got) != 1 || got[0].Number != n {
		t.Fatalf("a commit a merged pull request brought: %s", r.body)
	}
	r = call(t, "GET", u(open), "Bearer "+token, nil)
	r.decode(t, &got)
	if len(got) != 1 || got[0].State != "open" || got[0].MergedAt != nil {
		t.Fatalf("a commit only an open pull request holds: %s", r.body)
	}
	if r := call(t, "GET", u(strings.Repeat("9", 40)), "Bearer "+token, nil); r.status != 422 || !strings.HasPrefix(r.message(t), "No commit found for SHA") {
		t.Fatalf("unknown commit: %d %s", r.status, r.body)
	}
	s.SeedCommit("acme/shop", strings.Repeat("9", 40))
	if r := call(t, "GET", u(strings.Repeat("9", 40)), "Bearer "+token, nil); r.status != 200 || string(bytes.TrimSpace(r.body)) != "[]" {
		t.Fatalf("a direct push: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", u(merge), "", nil); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
}
