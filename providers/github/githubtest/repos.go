package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The repository endpoints the server follows besides comments and
// statuses: repository_dispatch, branches (git refs), file contents and
// pull requests: what `launchplane request` and `serve-request` use.
const (
	Dispatch    Endpoint = "POST /repos/{owner}/{repo}/dispatches"
	GetRef      Endpoint = "GET /repos/{owner}/{repo}/git/ref/{ref...}"
	CreateRef   Endpoint = "POST /repos/{owner}/{repo}/git/refs"
	UpdateRef   Endpoint = "PATCH /repos/{owner}/{repo}/git/refs/{ref...}"
	PutContents Endpoint = "PUT /repos/{owner}/{repo}/contents/{path...}"
	ListPulls   Endpoint = "GET /repos/{owner}/{repo}/pulls"
	CreatePull  Endpoint = "POST /repos/{owner}/{repo}/pulls"
	UpdatePull  Endpoint = "PATCH /repos/{owner}/{repo}/pulls/{number}"
	CommitPulls Endpoint = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
)

// Limits of a repository_dispatch, as GitHub enforces them.
const (
	MaxEventType          = 100 // characters of event_type
	MaxClientPayloadProps = 10  // top-level properties of client_payload
)

// RepoEndpoints lists the repository endpoints.
var RepoEndpoints = []Endpoint{Dispatch, GetRef, CreateRef, UpdateRef, PutContents, ListPulls, CreatePull, UpdatePull, CommitPulls}

// DispatchEvent is one repository_dispatch the server accepted.
type DispatchEvent struct {
	Repo          string // owner/name, lower case
	EventType     string
	ClientPayload json.RawMessage
	Sender        string
}

// Pull is a pull request on the server.
type Pull struct {
	Number int
	Repo   string // owner/name, lower case
	Title  string
	Body   string
	Head   string // branch
	Base   string // branch
	State  string // open | closed
	Author string
	// Merged: merged_at is set (State is then closed).
	// MergeCommitSHA is GitHub's merge_commit_sha: once merged, the
	// commit the merge made on the base branch (merge, squash or last
	// rebased commit); while open, the test merge commit. Commits are the
	// pull request's own commits.
	Merged         bool
	MergeCommitSHA string
	Commits        []string
}

type gitCommit struct {
	sha, parent, message string
	files                map[string]string // path -> content
}

// repoWorld is the git side of the server: commits, branches, pull
// requests and dispatches, under Server.mu.
type repoWorld struct {
	commits    map[string]*gitCommit
	branches   map[string]map[string]string // repo -> branch -> commit sha
	pulls      map[string][]*Pull           // repo -> pulls, by number
	dispatches []DispatchEvent
	seq        int
	known      map[string]bool // "<repo>@<sha>" commits seeded without a pull request
}

func (s *Server) registerRepos(mux *http.ServeMux) {
	s.git = &repoWorld{commits: map[string]*gitCommit{}, branches: map[string]map[string]string{}, pulls: map[string][]*Pull{}}
	for ep, h := range map[Endpoint]func(http.ResponseWriter, *http.Request) (int, any){
		Dispatch: s.dispatch, GetRef: s.getRef, CreateRef: s.createRef, UpdateRef: s.updateRef,
		PutContents: s.putContents, ListPulls: s.listPulls, CreatePull: s.createPull, UpdatePull: s.updatePull,
		CommitPulls: s.commitPulls,
	} {
		mux.HandleFunc(string(ep), s.serve(ep, h))
	}
}

// BlobSHA is the git blob id of content, as GitHub names a file's sha.
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func (w *repoWorld) commit(parent, message string, files map[string]string) string {
	w.seq++
	h := sha1.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s", w.seq, parent, message)
	c := &gitCommit{sha: hex.EncodeToString(h.Sum(nil)), parent: parent, message: message, files: files}
	w.commits[c.sha] = c
	return c.sha
}

// SeedBranch makes branch of repo point at a new commit holding files
// (path -> content), on top of the branch's tip if it has one, and
// returns the commit's sha.
func (s *Server) SeedBranch(repo, branch string, files map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo = strings.ToLower(repo)
	all := map[string]string{}
	parent := s.git.branches[repo][branch]
	if c := s.git.commits[parent]; c != nil {
		maps.Copy(all, c.files)
	}
	maps.Copy(all, files)
	sha := s.git.commit(parent, "seed", all)
	if s.git.branches[repo] == nil {
		s.git.branches[repo] = map[string]string{}
	}
	s.git.branches[repo][branch] = sha
	return sha
}

// File returns the content of path on branch of repo.
func (s *Server) File(repo, branch, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.git.commits[s.git.branches[strings.ToLower(repo)][branch]]
	if c == nil {
		return "", false
	}
	v, ok := c.files[path]
	return v, ok
}

// BranchLog returns the messages of branch's commits, newest first.
func (s *Server) BranchLog(repo, branch string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := s.git.commits[s.git.branches[strings.ToLower(repo)][branch]]; c != nil; c = s.git.commits[c.parent] {
		out = append(out, c.message)
	}
	return out
}

// Dispatches returns the repository_dispatch events accepted for repo.
func (s *Server) Dispatches(repo string) []DispatchEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DispatchEvent
	for _, d := range s.git.dispatches {
		if d.Repo == strings.ToLower(repo) {
			out = append(out, d)
		}
	}
	return out
}

// Pulls returns the pull requests of repo, by number.
func (s *Server) Pulls(repo string) []Pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Pull
	for _, p := range s.git.pulls[strings.ToLower(repo)] {
		out = append(out, *p)
	}
	return out
}

// dispatch follows "Create a repository dispatch event": event_type of 1
// to 100 characters, a client_payload object of at most 10 top-level
// properties; 204 No Content.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) (int, any) {
	var in struct {
		EventType     *string         `json:"event_type"`
		ClientPayload json.RawMessage `json:"client_payload"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	if in.EventType == nil || *in.EventType == "" {
		return http.StatusUnprocessableEntity, errorBody(`Invalid request.

"event_type" wasn't supplied.`)
	}
	if utf8.RuneCountInString(*in.EventType) > MaxEventType {
		return http.StatusUnprocessableEntity, errorBody("Invalid request.\n\nevent_type is too long (maximum is 100 characters).")
	}
	payload := in.ClientPayload
	if len(payload) == 0 || string(payload) == "null" {
		payload = json.RawMessage("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return http.StatusUnprocessableEntity, errorBody("Invalid request.\n\nFor 'properties/client_payload', is not an object.")
	}
	if len(obj) > MaxClientPayloadProps {
		return http.StatusUnprocessableEntity, errorBody(fmt.Sprintf("Invalid request.\n\nFor 'properties/client_payload', %d properties exceed the maximum of %d.", len(obj), MaxClientPayloadProps))
	}
	s.git.dispatches = append(s.git.dispatches, DispatchEvent{Repo: repoOf(r), EventType: *in.EventType, ClientPayload: payload, Sender: s.Login})
	w.WriteHeader(http.StatusNoContent)
	return 0, nil
}

func (s *Server) refJSON(r *http.Request, branch, sha string) map[string]any {
	return map[string]any{
		"ref":     "refs/heads/" + branch,
		"node_id": "REF_" + sha[:8],
		"url":     fmt.Sprintf("%s/repos/%s/git/refs/heads/%s", s.URL, repoOf(r), branch),
		"object":  map[string]any{"type": "commit", "sha": sha, "url": fmt.Sprintf("%s/repos/%s/git/commits/%s", s.URL, repoOf(r), sha)},
	}
}

func (s *Server) getRef(w http.ResponseWriter, r *http.Request) (int, any) {
	branch, ok := strings.CutPrefix(r.PathValue("ref"), "heads/")
	sha, exists := s.git.branches[repoOf(r)][branch]
	if !ok || !exists {
		return notFound()
	}
	return http.StatusOK, s.refJSON(r, branch, sha)
}

func (s *Server) createRef(w http.ResponseWriter, r *http.Request) (int, any) {
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	branch, ok := strings.CutPrefix(in.Ref, "refs/heads/")
	if !ok || branch == "" {
		return http.StatusUnprocessableEntity, errorBody("Reference name must start with 'refs/' and have at least two slashes.")
	}
	if s.git.commits[in.SHA] == nil {
		return http.StatusUnprocessableEntity, errorBody("Object does not exist")
	}
	repo := repoOf(r)
	if _, exists := s.git.branches[repo][branch]; exists {
		return http.StatusUnprocessableEntity, errorBody("Reference already exists")
	}
	if s.git.branches[repo] == nil {
		s.git.branches[repo] = map[string]string{}
	}
	s.git.branches[repo][branch] = in.SHA
	return http.StatusCreated, s.refJSON(r, branch, in.SHA)
}

// updateRef moves a branch; without force only forward.
func (s *Server) updateRef(w http.ResponseWriter, r *http.Request) (int, any) {
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	branch, ok := strings.CutPrefix(r.PathValue("ref"), "heads/")
	repo := repoOf(r)
	cur, exists := s.git.branches[repo][branch]
	if !ok || !exists {
		return http.StatusUnprocessableEntity, errorBody("Reference does not exist")
	}
	if s.git.commits[in.SHA] == nil {
		return http.StatusUnprocessableEntity, errorBody("Object does not exist")
	}
	if !in.Force && !s.git.descends(in.SHA, cur) {
		return http.StatusUnprocessableEntity, errorBody("Update is not a fast forward")
	}
	s.git.branches[repo][branch] = in.SHA
	return http.StatusOK, s.refJSON(r, branch, in.SHA)
}

func (w *repoWorld) descends(sha, ancestor string) bool {
	for c := w.commits[sha]; c != nil; c = w.commits[c.parent] {
		if c.sha == ancestor {
			return true
		}
	}
	return false
}

// putContents follows "Create or update file contents": base64 content,
// the sha of the file it replaces (409 when it is not the file's, 422
// when missing for an existing file), one commit on branch.
func (s *Server) putContents(w http.ResponseWriter, r *http.Request) (int, any) {
	var in struct {
		Message *string `json:"message"`
		Content *string `json:"content"`
		SHA     string  `json:"sha"`
		Branch  string  `json:"branch"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	if in.Message == nil || in.Content == nil {
		return http.StatusUnprocessableEntity, errorBody("Invalid request.\n\n\"message\" and \"content\" are required.")
	}
	data, err := base64.StdEncoding.DecodeString(*in.Content)
	if err != nil {
		return http.StatusUnprocessableEntity, errorBody("content is not valid Base64")
	}
	repo, path := repoOf(r), r.PathValue("path")
	branch := in.Branch
	if branch == "" {
		branch = "main"
	}
	tip, ok := s.git.branches[repo][branch]
	if !ok {
		return http.StatusNotFound, errorBody("Branch " + branch + " not found")
	}
	c := s.git.commits[tip]
	old, exists := c.files[path]
	switch {
	case exists && in.SHA == "":
		return http.StatusUnprocessableEntity, errorBody("Invalid request.\n\n\"sha\" wasn't supplied.")
	case exists && in.SHA != BlobSHA([]byte(old)):
		return http.StatusConflict, errorBody(fmt.Sprintf("%s does not match %s", path, in.SHA))
	}
	files := maps.Clone(c.files)
	files[path] = string(data)
	sha := s.git.commit(tip, *in.Message, files)
	s.git.branches[repo][branch] = sha
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	return status, map[string]any{
		"content": map[string]any{"name": path[strings.LastIndex(path, "/")+1:], "path": path, "sha": BlobSHA(data)},
		"commit":  map[string]any{"sha": sha, "message": *in.Message},
	}
}

func (s *Server) pullJSON(p *Pull) map[string]any {
	owner, _, _ := strings.Cut(p.Repo, "/")
	return map[string]any{
		"number":   p.Number,
		"state":    p.State,
		"title":    p.Title,
		"body":     p.Body,
		"url":      fmt.Sprintf("%s/repos/%s/pulls/%d", s.URL, p.Repo, p.Number),
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", p.Repo, p.Number),
		"head":     map[string]any{"ref": p.Head, "label": owner + ":" + p.Head},
		"base":     map[string]any{"ref": p.Base, "label": owner + ":" + p.Base},
		"user":     map[string]any{"login": p.Author},
		"merged_at": func() any {
			if p.Merged {
				return "2026-01-02T03:04:05Z"
			}
			return nil
		}(),
		"merge_commit_sha": func() any {
			if p.MergeCommitSHA == "" {
				return nil
			}
			return p.MergeCommitSHA
		}(),
	}
}

// listPulls filters by state (default open), head ("owner:branch") and
// base, as GitHub does.
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) (int, any) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var list []*Pull
	for _, p := range s.git.pulls[repoOf(r)] {
		owner, _, _ := strings.Cut(p.Repo, "/")
		if (state != "all" && p.State != state) || (q.Get("head") != "" && !strings.EqualFold(q.Get("head"), owner+":"+p.Head)) || (q.Get("base") != "" && q.Get("base") != p.Base) {
			continue
		}
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Number > list[j].Number }) // newest first
	return pageOf(w, r, len(list), func(i int) map[string]any { return s.pullJSON(list[i]) })
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request) (int, any) {
	var in struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	repo := repoOf(r)
	owner, _, _ := strings.Cut(repo, "/")
	head := in.Head
	if o, b, ok := strings.Cut(head, ":"); ok && strings.EqualFold(o, owner) {
		head = b
	}
	if _, ok := s.git.branches[repo][head]; !ok {
		return http.StatusUnprocessableEntity, validation("PullRequest", "head", "invalid", "")
	}
	if _, ok := s.git.branches[repo][in.Base]; !ok {
		return http.StatusUnprocessableEntity, validation("PullRequest", "base", "invalid", "")
	}
	if in.Title == "" {
		return http.StatusUnprocessableEntity, validation("PullRequest", "title", "missing_field", "")
	}
	for _, p := range s.git.pulls[repo] {
		if p.State == "open" && p.Head == head && p.Base == in.Base {
			return http.StatusUnprocessableEntity, validation("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", owner, head))
		}
	}
	s.lastID++ // issues and pull requests share numbers
	p := &Pull{Number: int(s.lastID), Repo: repo, Title: in.Title, Body: in.Body, Head: head, Base: in.Base, State: "open", Author: s.Login}
	s.git.pulls[repo] = append(s.git.pulls[repo], p)
	return http.StatusCreated, s.pullJSON(p)
}

func (s *Server) updatePull(w http.ResponseWriter, r *http.Request) (int, any) {
	n, err := strconv.Atoi(r.PathValue("number"))
	var p *Pull
	for _, x := range s.git.pulls[repoOf(r)] {
		if x.Number == n {
			p = x
		}
	}
	if err != nil || p == nil {
		return notFound()
	}
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Body != nil {
		p.Body = *in.Body
	}
	if in.State != nil {
		p.State = *in.State
	}
	return http.StatusOK, s.pullJSON(p)
}

// SeedPull adds pull request p to p.Repo (its Number, Repo, State and
// Author are filled in when empty; a merged one is closed) and returns
// its number. Its commits and merge commit become commits of the
// repository.
func (s *Server) SeedPull(p Pull) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Repo = strings.ToLower(p.Repo)
	if p.Number == 0 {
		s.lastID++ // issues and pull requests share numbers
		p.Number = int(s.lastID)
	}
	if p.Author == "" {
		p.Author = "octocat"
	}
	switch {
	case p.Merged:
		p.State = "closed"
	case p.State == "":
		p.State = "open"
	}
	if p.Title == "" {
		p.Title = fmt.Sprintf("change %d", p.Number)
	}
	p.Commits = append([]string(nil), p.Commits...)
	s.git.pulls[p.Repo] = append(s.git.pulls[p.Repo], &p)
	return p.Number
}

// SeedCommit makes sha a commit of repo that no pull request holds (a
// direct push).
func (s *Server) SeedCommit(repo, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.git.known == nil {
		s.git.known = map[string]bool{}
	}
	s.git.known[strings.ToLower(repo)+"@"+sha] = true
}

// commitPulls follows "List pull requests associated with a commit"
// (docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit,
// checked 2026-12): "Lists the merged pull request that introduced the
// commit to the repository. If the commit is not present in the default
// branch, will only return open pull requests associated with the
// commit." Paginated with per_page and page (30 by default, at most
// 100) and the Link header. A commit the repository does not hold is
// 422 "No commit found for SHA: <sha>" (GitHub's answer on this route,
// as microsoft/vscode#330224 handles it). Here a commit is on the
// default branch when a merged pull request's merge commit or commits
// hold it, or it was seeded (SeedCommit).
func (s *Server) commitPulls(w http.ResponseWriter, r *http.Request) (int, any) {
	repo, sha := repoOf(r), r.PathValue("commit_sha")
	known := s.git.known[repo+"@"+sha] || s.git.commits[sha] != nil
	var merged, open []*Pull
	for _, p := range s.git.pulls[repo] {
		holds := slices.Contains(p.Commits, sha)
		if p.Merged && (holds || p.MergeCommitSHA == sha) {
			merged = append(merged, p)
		}
		// An open pull request's merge_commit_sha is its test merge
		// commit; listing it when that commit is asked for is the worst
		// case for a caller (someone pushed it to the default branch).
		if p.State == "open" && (holds || p.MergeCommitSHA == sha) {
			open = append(open, p)
		}
		if holds || p.MergeCommitSHA == sha {
			known = true
		}
	}
	if !known {
		return http.StatusUnprocessableEntity, errorBody("No commit found for SHA: " + sha)
	}
	list := open
	if len(merged) > 0 {
		list = merged
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Number > list[j].Number })
	return pageOf(w, r, len(list), func(i int) map[string]any { return s.pullJSON(list[i]) })
}
