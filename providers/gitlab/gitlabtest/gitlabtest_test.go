package gitlabtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func do(t *testing.T, method, url, header, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(header, token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The stand-in answers as GitLab's docs say (see the package comment):
// pagination headers, newest first by default, at most 100 a page, the
// project by id or URL-encoded path, auth by PRIVATE-TOKEN or Bearer,
// never by JOB-TOKEN, and GitLab's error bodies.
func TestFollowsTheDocs(t *testing.T) {
	s := New("tok")
	defer s.Close()
	for i := 0; i < 45; i++ {
		s.Seed(3, i%2 == 0, "n")
	}
	notes := s.APIURL + "/projects/acme%2Fplatform/merge_requests/3/notes"
	resp, body := do(t, "GET", notes+"?page=2", "PRIVATE-TOKEN", "tok", "")
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("X-Total") != "45" || h.Get("X-Total-Pages") != "3" || h.Get("X-Per-Page") != "20" || h.Get("X-Page") != "2" || h.Get("X-Next-Page") != "3" || h.Get("X-Prev-Page") != "1" {
		t.Fatalf("page 2: %d %v", resp.StatusCode, h)
	}
	if l := h.Get("Link"); !strings.Contains(l, `page=3`) || !strings.Contains(l, `rel="next"`) || !strings.Contains(l, `rel="last"`) {
		t.Errorf("Link %q", l)
	}
	var list []struct {
		ID     int64 `json:"id"`
		Author struct {
			ID int64 `json:"id"`
		} `json:"author"`
		System bool `json:"system"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 20 || list[0].ID != 1025 {
		t.Fatalf("page 2 newest first: %v %d %+v", err, len(list), list)
	}
	resp, _ = do(t, "GET", s.APIURL+"/projects/42/merge_requests/3/notes?per_page=500&sort=asc", "Authorization", "Bearer tok", "")
	if resp.Header.Get("X-Per-Page") != "100" || resp.Header.Get("X-Next-Page") != "" || resp.Header.Get("X-Total-Pages") != "1" {
		t.Errorf("per_page above 100: %v", resp.Header)
	}
	for _, tt := range []struct{ header, token string }{{"", ""}, {"PRIVATE-TOKEN", "wrong"}, {"JOB-TOKEN", "tok"}} {
		resp, body := do(t, "GET", notes, tt.header, tt.token, "")
		if resp.StatusCode != 401 || strings.TrimSpace(body) != `{"message":"401 Unauthorized"}` {
			t.Errorf("%s %q: %d %s", tt.header, tt.token, resp.StatusCode, body)
		}
	}
	resp, body = do(t, "GET", s.APIURL+"/projects/acme%2Fother/merge_requests/3/notes", "PRIVATE-TOKEN", "tok", "")
	if resp.StatusCode != 404 || strings.TrimSpace(body) != `{"message":"404 Project Not Found"}` {
		t.Errorf("unknown project: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", s.APIURL+"/projects/42/statuses/abc", "PRIVATE-TOKEN", "tok", `{"state":"failure"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "state does not have a valid value") {
		t.Errorf("GitHub's state name: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, "POST", s.APIURL+"/projects/42/statuses/abc", "PRIVATE-TOKEN", "tok", `{"state":"failed","context":"ci/x"}`)
	if resp.StatusCode != 201 || s.Status("abc", "ci/x").State != "failed" {
		t.Errorf("status by context: %d %+v", resp.StatusCode, s.Status("abc", "ci/x"))
	}
}

// A Developer may not edit another member's note; a Maintainer may, as on
// GitLab (which is why the adapter only edits its own).
func TestEditRights(t *testing.T) {
	s := New("maint", "dev")
	defer s.Close()
	id := s.Seed(3, true, "bot's note")
	url := s.APIURL + "/projects/42/merge_requests/3/notes/" + itoa(id)
	if resp, body := do(t, "PUT", url, "PRIVATE-TOKEN", "dev", `{"body":"x"}`); resp.StatusCode != 403 || strings.TrimSpace(body) != `{"message":"403 Forbidden"}` {
		t.Errorf("developer edits another's note: %d %s", resp.StatusCode, body)
	}
	other := s.Seed(3, false, "alice's note")
	if resp, _ := do(t, "PUT", s.APIURL+"/projects/42/merge_requests/3/notes/"+itoa(other), "PRIVATE-TOKEN", "maint", `{"body":"x"}`); resp.StatusCode != 200 {
		t.Errorf("maintainer edits another's note: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// "List merge requests associated with a commit": every merge request
// whose diff holds the commit or whose merge or squash commit it is,
// whatever its state, newest first, 20 a page with the limited pagination
// headers (no X-Total), the state filter, null for unset commits, 404
// for a commit the repository does not hold, 401 for an unknown token.
func TestCommitMergeRequests(t *testing.T) {
	s := New("tok")
	defer s.Close()
	sha := strings.Repeat("a", 40)
	for i := 1; i <= 25; i++ {
		s.SeedMergeRequest(MergeRequest{IID: i, State: "opened", SHA: strings.Repeat("b", 40), Commits: []string{sha}})
	}
	s.SeedMergeRequest(MergeRequest{IID: 30, State: "merged", SHA: strings.Repeat("c", 40), MergeCommitSHA: sha})
	u := s.APIURL + "/projects/acme%2Fplatform/repository/commits/" + sha + "/merge_requests"
	resp, body := do(t, "GET", u, "PRIVATE-TOKEN", "tok", "")
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(got) != 20 || got[0]["iid"].(float64) != 30 || got[0]["merge_commit_sha"] != sha || got[0]["squash_commit_sha"] != nil || got[0]["merged_at"] == nil {
		t.Fatalf("page 1: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Next-Page") != "2" || resp.Header.Get("X-Total") != "" || resp.Header.Get("X-Per-Page") != "20" {
		t.Fatalf("headers %v", resp.Header)
	}
	resp, body = do(t, "GET", u+"?page=2", "PRIVATE-TOKEN", "tok", "")
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 6 || resp.Header.Get("X-Next-Page") != "" {
		t.Fatalf("page 2: %s %v", body, resp.Header)
	}
	_, body = do(t, "GET", u+"?state=merged", "PRIVATE-TOKEN", "tok", "")
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 1 {
		t.Fatalf("state=merged: %s", body)
	}
	if resp, body := do(t, "GET", strings.Replace(u, sha, strings.Repeat("9", 40), 1), "PRIVATE-TOKEN", "tok", ""); resp.StatusCode != 404 || !strings.Contains(body, "404 Commit Not Found") {
		t.Fatalf("unknown commit: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", u, "PRIVATE-TOKEN", "nope", ""); resp.StatusCode != 401 {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}
}
