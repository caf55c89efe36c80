package gitlabtest

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
)

// The merge requests of a commit, as GitLab answers them. Checked
// 2026-12 with the search tool against GitLab's docs and source:
//   - doc/api/commits.md, "List merge requests associated with a commit":
//     GET /projects/:id/repository/commits/:sha/merge_requests, answering
//     an array of basic merge requests (iid, state, sha,
//     merge_commit_sha, squash_commit_sha, merged_at, web_url …), where
//     merge_commit_sha and squash_commit_sha are null when unset;
//   - lib/api/commits.rb: the endpoint is paginated (`use :pagination`,
//     page and per_page, 20 a page, at most 100) with GitLab's limited
//     pagination headers (no X-Total, no X-Total-Pages: spec
//     "include_limited_pagination_headers"), takes an optional state
//     filter, needs read_merge_request on the project (403 otherwise),
//     and answers 404 {"message":"404 Commit Not Found"} for a commit
//     the repository does not hold;
//   - app/models/merge_request.rb, scope by_related_commit_sha: a merge
//     request is listed when the commit is in its latest diff, or is its
//     merge_commit_sha or squash_commit_sha, whatever its state: open
//     merge requests that contain the commit are listed too.
//   - MergeRequestsFinder sorts newest first (created_at desc).
//   - Recent GitLab lets a CI/CD job token call this endpoint too
//     (route_setting job_token_allowed, policy read_repositories); the
//     stand-in, like the adapter, takes only a PRIVATE-TOKEN or Bearer
//     token here: the adapter reads the notes next, which a job token may
//     not.

// MergeRequest is a merge request of the default project as the
// endpoint lists it.
type MergeRequest struct {
	IID   int
	State string // opened, closed, locked, merged
	// SHA is the source branch's head; Commits the rest of its latest
	// diff (SHA is always taken as one of them).
	SHA     string
	Commits []string
	// MergeCommitSHA and SquashCommitSHA are set when a merge made them
	// ("" is null on the wire).
	MergeCommitSHA  string
	SquashCommitSHA string
}

// SeedMergeRequest adds mr to the default project; its commits become
// commits of the repository.
func (s *Server) SeedMergeRequest(mr MergeRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := mr
	c.Commits = slices.Clone(mr.Commits)
	s.mrs = append(s.mrs, &c)
}

// SeedCommit makes sha a commit of the repository that no merge request
// holds (a direct push).
func (s *Server) SeedCommit(sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits[sha] = true
}

// related reports whether mr is listed for sha (by_related_commit_sha).
func (mr *MergeRequest) related(sha string) bool {
	return sha != "" && (mr.SHA == sha || mr.MergeCommitSHA == sha || mr.SquashCommitSHA == sha || slices.Contains(mr.Commits, sha))
}

// commitMergeRequests answers GET …/repository/commits/:sha/merge_requests;
// s.mu is held.
func (s *Server) commitMergeRequests(w http.ResponseWriter, r *http.Request, sha string) {
	known := s.commits[sha]
	var list []*MergeRequest
	for _, mr := range s.mrs {
		if mr.related(sha) {
			known = true
			if st := r.URL.Query().Get("state"); st == "" || st == "all" || st == mr.State {
				list = append(list, mr)
			}
		}
	}
	if !known {
		message(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].IID > list[j].IID })
	q := r.URL.Query()
	page, perPage := max(atoiOr(q.Get("page"), 1), 1), atoiOr(q.Get("per_page"), 20)
	if perPage < 1 {
		perPage = 20
	}
	perPage = min(perPage, 100)
	from := min((page-1)*perPage, len(list))
	to := min(from+perPage, len(list))
	h := w.Header()
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	if to < len(list) {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	out := make([]map[string]any, 0, to-from)
	for _, mr := range list[from:to] {
		out = append(out, s.mrJSON(mr))
	}
	writeJSON(w, http.StatusOK, out)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) mrJSON(mr *MergeRequest) map[string]any {
	ts := s.clock.Format(time.RFC3339)
	var merged any
	if mr.State == "merged" {
		merged = ts
	}
	return map[string]any{
		"id": 5000 + mr.IID, "iid": mr.IID, "project_id": ProjectID, "title": fmt.Sprintf("change %d", mr.IID),
		"description": "", "state": mr.State, "created_at": ts, "updated_at": ts, "merged_at": merged,
		"target_branch": "main", "source_branch": fmt.Sprintf("feature-%d", mr.IID),
		"source_project_id": ProjectID, "target_project_id": ProjectID,
		"sha": mr.SHA, "merge_commit_sha": nullable(mr.MergeCommitSHA), "squash_commit_sha": nullable(mr.SquashCommitSHA),
		"author":  map[string]any{"id": OtherID, "username": OtherName, "name": OtherName, "state": "active"},
		"web_url": fmt.Sprintf("https://gitlab.example.com/%s/-/merge_requests/%d", ProjectPath, mr.IID),
	}
}
