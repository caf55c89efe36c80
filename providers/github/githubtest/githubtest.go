// Package githubtest is an httptest stand-in for the part of the GitHub
// REST API (version 2022-11-28) the github adapter uses: a pull request's
// conversation (issue) comments and commit statuses. It follows the
// documented behaviour: Bearer (or "token") authentication with 401
// "Bad credentials", per_page/page pagination with a Link header, 201 on
// create, PATCH updates, 422 "Validation Failed" for bodies over 65,536
// characters and status descriptions over 140, and the
// X-GitHub-Api-Version header. Tests seed comments, inspect what was
// posted, count calls per endpoint and inject failures.
//
// Every repository exists; owner and name are case-insensitive.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers/internal/holdgate"
)

// Endpoint names one REST endpoint the server follows; the value is its
// route.
type Endpoint string

// The endpoints the server follows.
const (
	ListComments  Endpoint = "GET /repos/{owner}/{repo}/issues/{number}/comments"
	CreateComment Endpoint = "POST /repos/{owner}/{repo}/issues/{number}/comments"
	UpdateComment Endpoint = "PATCH /repos/{owner}/{repo}/issues/comments/{id}"
	CreateStatus  Endpoint = "POST /repos/{owner}/{repo}/statuses/{sha}"
	ListStatuses  Endpoint = "GET /repos/{owner}/{repo}/commits/{ref}/statuses"
	GetUser       Endpoint = "GET /user"
)

// Endpoints lists every endpoint the server follows.
var Endpoints = []Endpoint{ListComments, CreateComment, UpdateComment, CreateStatus, ListStatuses, GetUser}

// Limits the server enforces, as GitHub does.
const (
	MaxCommentBody       = 65536 // characters
	MaxStatusDescription = 140   // characters
	DefaultPerPage       = 30
	MaxPerPage           = 100
)

// APIVersions are the X-GitHub-Api-Version values the server accepts; a
// request without the header gets the first.
var APIVersions = []string{"2022-11-28", "2026-03-10"}

// DefaultLogin is the author of comments created with the server's token,
// as for a workflow's GITHUB_TOKEN.
const DefaultLogin = "github-actions[bot]"

// ActionsAppID is the id of the GitHub Actions app, whose installation
// token a workflow's GITHUB_TOKEN is.
const ActionsAppID = 15368

// Comment is an issue comment on the server.
type Comment struct {
	ID      int64
	Repo    string // owner/name, lower case
	Issue   int
	Body    string
	Author  string // user.login
	Created time.Time
	Updated time.Time
}

// Status is a commit status on the server.
type Status struct {
	ID          int64
	Repo        string // owner/name, lower case
	SHA         string
	State       string
	Context     string
	Description string
	TargetURL   string
	Creator     string
	Created     time.Time
}

type fault struct {
	status  int
	message string
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API base, like https://api.github.com: no trailing
	// slash.
	URL string
	// Login is the author of comments and statuses created with the
	// token (DefaultLogin). A login ending in "[bot]" makes the token an
	// installation token (an Actions GITHUB_TOKEN, a GitHub App's), any
	// other a user's (a personal access token). GET /user answers 200
	// with a user token's login, 403 "Resource not accessible by
	// integration" to an installation token, as GitHub does
	// (docs.github.com/rest/users/users#get-the-authenticated-user; the
	// endpoint is not among those GitHub Apps may call with an
	// installation token).
	Login string

	token string
	srv   *httptest.Server

	mu       sync.Mutex
	lastID   int64
	clock    time.Time
	comments map[issueKey][]*Comment // ascending id
	byID     map[int64]*Comment
	statuses map[shaKey][]*Status // oldest first
	calls    map[Endpoint]int
	headers  map[Endpoint]http.Header
	faults   map[Endpoint][]fault
	git      *repoWorld    // repos.go
	hold     holdgate.Gate // held: calls wait for it or their client
}

type issueKey struct {
	repo  string
	issue int
}

type shaKey struct {
	repo, sha string
}

// New starts a server that accepts token. Close it when done (t.Cleanup).
func New(token string) *Server {
	s := &Server{
		Login:    DefaultLogin,
		token:    token,
		clock:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		comments: map[issueKey][]*Comment{},
		byID:     map[int64]*Comment{},
		statuses: map[shaKey][]*Status{},
		calls:    map[Endpoint]int{},
		headers:  map[Endpoint]http.Header{},
		faults:   map[Endpoint][]fault{},
	}
	mux := http.NewServeMux()
	handlers := map[Endpoint]func(http.ResponseWriter, *http.Request) (int, any){
		ListComments:  s.listComments,
		CreateComment: s.createComment,
		UpdateComment: s.updateComment,
		CreateStatus:  s.createStatus,
		ListStatuses:  s.listStatuses,
		GetUser:       s.getUser,
	}
	for ep, h := range handlers {
		mux.HandleFunc(string(ep), s.serve(ep, h))
	}
	s.registerRepos(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody("Not Found"))
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Seed adds comments by author to issue or pull request pr of repo, in
// order, and returns their ids.
func (s *Server) Seed(repo string, pr int, author string, bodies ...string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(bodies))
	for _, b := range bodies {
		ids = append(ids, s.addComment(strings.ToLower(repo), pr, author, b).ID)
	}
	return ids
}

// Comments returns the comments on pr of repo, oldest first.
func (s *Server) Comments(repo string, pr int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments[issueKey{strings.ToLower(repo), pr}] {
		out = append(out, *c)
	}
	return out
}

// Comment returns the comment id.
func (s *Server) Comment(id int64) (Comment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return Comment{}, false
	}
	return *c, true
}

// Statuses returns the statuses of sha in repo, newest first, as GitHub
// lists them.
func (s *Server) Statuses(repo, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.statuses[shaKey{strings.ToLower(repo), sha}]
	out := make([]Status, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, *list[i])
	}
	return out
}

// Calls returns how many requests reached ep, failed ones included.
func (s *Server) Calls(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[ep]
}

// TotalCalls returns how many requests reached any endpoint.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// Header returns the headers of the last request to ep, nil before any.
func (s *Server) Header(ep Endpoint) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[ep].Clone()
}

// Fail makes the next authenticated call of ep answer status with
// {"message": message}, as GitHub words its refusals. Calls queue: each
// fails one call.
func (s *Server) Fail(ep Endpoint, status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[ep] = append(s.faults[ep], fault{status: status, message: message})
}

// Hold makes every call wait until its client gives up (its context
// ends) or the returned release is called: a slow server.
func (s *Server) Hold() (release func()) { return s.hold.Hold() }

// serve wraps an endpoint's handler with what every call goes through:
// counting, the API version, authentication and injected faults.
func (s *Server) serve(ep Endpoint, h func(http.ResponseWriter, *http.Request) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.hold.Wait(r.Context()) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls[ep]++
		s.headers[ep] = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && !slices.Contains(APIVersions, v) {
			writeJSON(w, http.StatusBadRequest, errorBody(fmt.Sprintf("Unsupported 'X-GitHub-Api-Version' header value: %s", v)))
			return
		}
		if !s.authorized(r) {
			msg := "Bad credentials"
			if r.Header.Get("Authorization") == "" {
				msg = "Requires authentication"
			}
			writeJSON(w, http.StatusUnauthorized, errorBody(msg))
			return
		}
		if q := s.faults[ep]; len(q) > 0 {
			f := q[0]
			s.faults[ep] = q[1:]
			writeJSON(w, f.status, errorBody(f.message))
			return
		}
		status, body := h(w, r)
		if status != 0 { // 0: the handler answered (204 No Content)
			writeJSON(w, status, body)
		}
	}
}

// authorized accepts "Bearer <token>" and "token <token>", as GitHub does.
func (s *Server) authorized(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		return false
	}
	return cred == s.token
}

func (s *Server) now() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func (s *Server) addComment(repo string, pr int, author, body string) *Comment {
	s.lastID++
	t := s.now()
	c := &Comment{ID: s.lastID, Repo: repo, Issue: pr, Body: body, Author: author, Created: t, Updated: t}
	k := issueKey{repo, pr}
	s.comments[k] = append(s.comments[k], c)
	s.byID[c.ID] = c
	return c
}

func repoOf(r *http.Request) string {
	return strings.ToLower(r.PathValue("owner") + "/" + r.PathValue("repo"))
}

// prNumber is the request's {number}, false when it names no pull request.
func prNumber(r *http.Request) (int, bool) {
	pr, err := strconv.Atoi(r.PathValue("number"))
	return pr, err == nil && pr > 0
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) (int, any) {
	pr, ok := prNumber(r)
	if !ok {
		return notFound()
	}
	list := s.comments[issueKey{repoOf(r), pr}]
	if v := r.URL.Query().Get("since"); v != "" {
		since, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return http.StatusUnprocessableEntity, validation("IssueComment", "since", "invalid", "since is not a valid ISO 8601 timestamp")
		}
		var kept []*Comment
		for _, c := range list {
			if !c.Updated.Before(since) {
				kept = append(kept, c)
			}
		}
		list = kept
	}
	return pageOf(w, r, len(list), func(i int) map[string]any { return s.commentJSON(list[i]) })
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) (int, any) {
	pr, ok := prNumber(r)
	if !ok {
		return notFound()
	}
	body, status, refusal := commentBody(r)
	if refusal != nil {
		return status, refusal
	}
	c := s.addComment(repoOf(r), pr, s.Login, body)
	out := s.commentJSON(c)
	w.Header().Set("Location", out["url"].(string))
	return http.StatusCreated, out
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request) (int, any) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c, ok := s.byID[id]
	if err != nil || !ok || c.Repo != repoOf(r) {
		return notFound()
	}
	body, status, refusal := commentBody(r)
	if refusal != nil {
		return status, refusal
	}
	c.Body = body
	c.Updated = s.now()
	return http.StatusOK, s.commentJSON(c)
}

// commentBody reads {"body": …} and checks it as GitHub does.
func commentBody(r *http.Request) (string, int, any) {
	var in struct {
		Body *string `json:"body"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return "", status, refusal
	}
	switch {
	case in.Body == nil:
		return "", http.StatusUnprocessableEntity, errorBody(`Invalid request.

"body" wasn't supplied.`)
	case strings.TrimSpace(*in.Body) == "":
		return "", http.StatusUnprocessableEntity, validation("IssueComment", "body", "missing_field", "body can't be blank")
	case utf8.RuneCountInString(*in.Body) > MaxCommentBody:
		return "", http.StatusUnprocessableEntity, validation("IssueComment", "body", "custom",
			fmt.Sprintf("body is too long (maximum is %d characters)", MaxCommentBody))
	}
	return *in.Body, 0, nil
}

// getUser is GET /user: the token's user, or 403 for an installation
// token.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) (int, any) {
	if isBot(s.Login) {
		return http.StatusForbidden, map[string]any{
			"message":           "Resource not accessible by integration",
			"documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
			"status":            "403",
		}
	}
	return http.StatusOK, map[string]any{"login": s.Login, "id": userID(s.Login), "type": "User"}
}

// isBot reports whether login is an app's bot ("<slug>[bot]"): GitHub
// user logins cannot hold brackets, so no user can take such a login.
func isBot(login string) bool { return strings.HasSuffix(login, "[bot]") }

// userID is a stable made-up id for login.
func userID(login string) int64 {
	var h int64 = 7
	for _, c := range strings.ToLower(login) {
		h = (h*31 + int64(c)) % 1_000_000_007
	}
	return h
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) (int, any) {
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if status, refusal := readJSON(r, &in); refusal != nil {
		return status, refusal
	}
	switch in.State {
	case "pending", "success", "failure", "error":
	default:
		return http.StatusUnprocessableEntity, validation("Status", "state", "custom", "state is not included in the list")
	}
	if utf8.RuneCountInString(in.Description) > MaxStatusDescription {
		return http.StatusUnprocessableEntity, validation("Status", "description", "custom",
			fmt.Sprintf("description is too long (maximum is %d characters)", MaxStatusDescription))
	}
	if in.Context == "" {
		in.Context = "default"
	}
	s.lastID++
	st := &Status{ID: s.lastID, Repo: repoOf(r), SHA: r.PathValue("sha"), State: in.State, Context: in.Context,
		Description: in.Description, TargetURL: in.TargetURL, Creator: s.Login, Created: s.now()}
	k := shaKey{st.Repo, st.SHA}
	s.statuses[k] = append(s.statuses[k], st)
	return http.StatusCreated, s.statusJSON(st)
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request) (int, any) {
	list := s.statuses[shaKey{repoOf(r), r.PathValue("ref")}]
	return pageOf(w, r, len(list), func(i int) map[string]any {
		return s.statusJSON(list[len(list)-1-i]) // newest first
	})
}

// paginate reads per_page and page, sets the Link header GitHub sends
// (rel prev, next, last, first, each absent where GitHub leaves it out)
// and returns the indexes of the page's items.
func paginate(w http.ResponseWriter, r *http.Request, n int) []int {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = DefaultPerPage
	}
	per = min(per, MaxPerPage)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 {
		page = 1
	}
	last := (n + per - 1) / per
	if last > 1 || (last == 1 && page > 1) {
		link := func(p int, rel string) string {
			v := r.URL.Query()
			v.Set("page", strconv.Itoa(p))
			u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: v.Encode()}
			return fmt.Sprintf(`<%s>; rel="%s"`, u.String(), rel)
		}
		var links []string
		if page > 1 {
			links = append(links, link(min(page-1, last), "prev"))
		}
		if page < last {
			links = append(links, link(page+1, "next"), link(last, "last"))
		}
		if page > 1 {
			links = append(links, link(1, "first"))
		}
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	var idx []int
	for i := (page - 1) * per; i < n && i < page*per; i++ {
		idx = append(idx, i)
	}
	return idx
}

func (s *Server) commentJSON(c *Comment) map[string]any {
	owner, repo, _ := strings.Cut(c.Repo, "/")
	// A bot's comment was written through its app's installation token:
	// GitHub names the app in performed_via_github_app (null for a
	// user's comment).
	typ, app := "User", any(nil)
	if isBot(c.Author) {
		typ = "Bot"
		slug := strings.TrimSuffix(c.Author, "[bot]")
		id := userID(slug)
		if slug == "github-actions" {
			id = ActionsAppID
		}
		app = map[string]any{"id": id, "slug": slug, "name": slug}
	}
	return map[string]any{
		"id":                       c.ID,
		"node_id":                  fmt.Sprintf("IC_%d", c.ID),
		"url":                      fmt.Sprintf("%s/repos/%s/%s/issues/comments/%d", s.URL, owner, repo, c.ID),
		"html_url":                 fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", owner, repo, c.Issue, c.ID),
		"issue_url":                fmt.Sprintf("%s/repos/%s/%s/issues/%d", s.URL, owner, repo, c.Issue),
		"body":                     c.Body,
		"user":                     map[string]any{"login": c.Author, "id": userID(c.Author), "type": typ},
		"performed_via_github_app": app,
		"created_at":               c.Created.Format(time.RFC3339),
		"updated_at":               c.Updated.Format(time.RFC3339),
		"author_association":       "NONE",
	}
}

func (s *Server) statusJSON(st *Status) map[string]any {
	owner, repo, _ := strings.Cut(st.Repo, "/")
	out := map[string]any{
		"id":          st.ID,
		"node_id":     fmt.Sprintf("SC_%d", st.ID),
		"url":         fmt.Sprintf("%s/repos/%s/%s/statuses/%s", s.URL, owner, repo, st.SHA),
		"state":       st.State,
		"context":     st.Context,
		"description": nil,
		"target_url":  nil,
		"creator":     map[string]any{"login": st.Creator},
		"created_at":  st.Created.Format(time.RFC3339),
		"updated_at":  st.Created.Format(time.RFC3339),
	}
	if st.Description != "" {
		out["description"] = st.Description
	}
	if st.TargetURL != "" {
		out["target_url"] = st.TargetURL
	}
	return out
}

// pageOf answers the page of n items that r asks for (see paginate),
// item(i) being the i-th item's JSON.
func pageOf(w http.ResponseWriter, r *http.Request, n int, item func(i int) map[string]any) (int, any) {
	page := paginate(w, r, n)
	out := make([]map[string]any, 0, len(page))
	for _, i := range page {
		out = append(out, item(i))
	}
	return http.StatusOK, out
}

// readJSON decodes the request body into v; on a body that does not
// parse it returns GitHub's answer, 400 "Problems parsing JSON".
func readJSON(r *http.Request, v any) (int, any) {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return http.StatusBadRequest, errorBody("Problems parsing JSON")
	}
	return 0, nil
}

// notFound is GitHub's 404 (also its answer for what the token may not see).
func notFound() (int, any) {
	return http.StatusNotFound, errorBody("Not Found")
}

func errorBody(message string) map[string]any {
	return map[string]any{"message": message, "documentation_url": "https://docs.github.com/rest"}
}

func validation(resource, field, code, message string) map[string]any {
	return map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{{"resource": resource, "code": code, "field": field, "message": message}},
		"documentation_url": "https://docs.github.com/rest",
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
