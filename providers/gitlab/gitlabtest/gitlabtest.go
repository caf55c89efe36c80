// Package gitlabtest is an httptest stand-in for the part of GitLab's REST
// API v4 the gitlab feedback provider calls: merge request notes, commit
// statuses, the token's user, and the merge requests of a commit
// (mergerequests.go).
//
// It follows GitLab's documentation and source, checked 2026-12 with the
// search tool:
//   - doc/api/notes.md ("Merge requests" section): GET, POST
//     /projects/:id/merge_requests/:merge_request_iid/notes and PUT
//     …/notes/:note_id; list parameters sort (asc|desc, default desc) and
//     order_by (created_at|updated_at, default created_at); 20 a page by
//     default; a body of at most 1,000,000 characters;
//   - doc/api/rest/index.md ("Pagination", "Pagination Link header"):
//     page and per_page (default 20, at most 100), headers X-Total,
//     X-Total-Pages, X-Per-Page, X-Page, X-Next-Page, X-Prev-Page (empty
//     on the last page) and Link with rel="next", "prev", "first", "last";
//     ":id" is the numeric id or the URL-encoded path ("acme%2Fplatform");
//   - doc/api/commits.md ("Set the pipeline status of a commit"): POST
//     /projects/:id/statuses/:sha with state (pending, running, success,
//     failed, canceled, skipped), ref, name or context (default
//     "default"), target_url, description, pipeline_id; 201 with the
//     status; an unknown state is 400;
//   - doc/api/rest/authentication.md and troubleshooting.md: a token in
//     the PRIVATE-TOKEN header (or Authorization: Bearer); a missing or
//     unknown token is 401 {"message":"401 Unauthorized"}; 403
//     {"message":"403 Forbidden"}; 404 {"message":"404 Project Not Found"}
//     or {"message":"404 Not found"};
//   - doc/ci/jobs/ci_job_token.md ("Job token access"): the CI/CD job
//     token (JOB-TOKEN header) may call only a short list of endpoints;
//     neither the Notes API nor POST …/statuses is on it, so here it is
//     refused with 401 like an unknown token;
//   - ee/app/policies and note policies (admin_note): a note's author
//     may edit it, and so may anyone with the Maintainer role: a
//     Maintainer token CAN overwrite another user's note, which is why
//     the adapter only ever edits notes of the token's own user.
//
// Every merge request iid of a known project exists. Faults are injected
// with Fail and Hold; what was posted is read with Notes and Status.
package gitlabtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers/internal/holdgate"
)

// Defaults of New: the project every helper without a project argument
// uses, the token's user (a project access token's bot user, with the
// Maintainer role) and another member.
const (
	ProjectID   = 42
	ProjectPath = "acme/platform"
	BotID       = 901
	BotUsername = "project_42_bot_3f1a"
	OtherID     = 7
	OtherName   = "alice"
	// MaxNoteBody is GitLab's limit on a note's body, in characters.
	MaxNoteBody = 1000000
)

// Endpoints the stand-in counts calls of, as Calls names them.
var Endpoints = []string{
	"GET /user",
	"GET /projects/:id/merge_requests/:iid/notes",
	"POST /projects/:id/merge_requests/:iid/notes",
	"PUT /projects/:id/merge_requests/:iid/notes/:note_id",
	"POST /projects/:id/statuses/:sha",
	"GET /projects/:id/repository/commits/:sha/merge_requests",
}

// Note is a merge request note as the stand-in keeps it.
type Note struct {
	ID       int64  `json:"id"`
	Body     string `json:"body"`
	AuthorID int64  `json:"author_id"`
	Author   string `json:"author"`
	System   bool   `json:"system"`
}

// CommitStatus is a status set on a commit.
type CommitStatus struct {
	State, Name, TargetURL, Description, Ref string
}

type user struct {
	id         int64
	username   string
	maintainer bool
}

// Server is a running stand-in.
type Server struct {
	*httptest.Server
	// URL is the server's root; APIURL is URL + "/api/v4".
	APIURL string

	mu       sync.Mutex
	tokens   map[string]user
	notes    map[string][]*Note // "<project id>!<iid>"
	statuses map[string]CommitStatus
	nextID   int64
	calls    map[string]int
	fail     map[string]failure // endpoint -> next answer
	hold     holdgate.Gate      // held: requests wait for it or their context
	clock    time.Time
	mrs      []*MergeRequest // mergerequests.go, by iid
	commits  map[string]bool // shas the repository holds besides the merge requests'
}

type failure struct {
	status int
	body   string
}

// New starts a stand-in where token is the bot user's (Maintainer)
// personal or project access token, and otherToken, when given, the
// other member's (Developer).
func New(token string, otherToken ...string) *Server {
	s := &Server{
		tokens:   map[string]user{token: {BotID, BotUsername, true}},
		notes:    map[string][]*Note{},
		statuses: map[string]CommitStatus{},
		commits:  map[string]bool{},
		nextID:   1000,
		calls:    map[string]int{},
		fail:     map[string]failure{},
		clock:    time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
	}
	for _, t := range otherToken {
		s.tokens[t] = user{OtherID, OtherName, false}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.APIURL = s.URL + "/api/v4"
	return s
}

// Seed adds a note to merge request iid of the default project, written
// by the bot (mine) or by the other member.
func (s *Server) Seed(iid int, mine bool, body string) int64 {
	return s.SeedNote(iid, Note{AuthorID: map[bool]int64{true: BotID, false: OtherID}[mine], Body: body})
}

// SeedNote adds n (its AuthorID, Body and System) to merge request iid of
// the default project and returns its id.
func (s *Server) SeedNote(iid int, n Note) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addNote(key(iid), n.AuthorID, n.Body, n.System).ID
}

func key(iid int) string { return fmt.Sprintf("%d!%d", ProjectID, iid) }

// Notes returns the notes of merge request iid of the default project,
// oldest first.
func (s *Server) Notes(iid int) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes[key(iid)] {
		out = append(out, *n)
	}
	return out
}

// Status returns the commit status named name on sha, zero when unset.
func (s *Server) Status(sha, name string) CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[sha+" "+name]
}

// Statuses lists "state name: description" of every status on sha.
func (s *Server) Statuses(sha string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, st := range s.statuses {
		if strings.HasPrefix(k, sha+" ") {
			out = append(out, st.State+" "+st.Name+": "+st.Description)
		}
	}
	sort.Strings(out)
	return out
}

// Calls is the number of calls of endpoint (one of Endpoints) so far.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// FailNext makes the next call of endpoint answer status with a GitLab
// error body {"message": message}.
func (s *Server) FailNext(endpoint string, status int, message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[endpoint] = failure{status, string(b)}
}

// Hold makes every request wait until its client gives up (its context
// ends) or the returned release is called: a slow server.
func (s *Server) Hold() (release func()) { return s.hold.Hold() }

func (s *Server) addNote(k string, author int64, body string, system bool) *Note {
	s.nextID++
	s.clock = s.clock.Add(time.Minute)
	n := &Note{ID: s.nextID, Body: body, AuthorID: author, Author: s.username(author), System: system}
	s.notes[k] = append(s.notes[k], n)
	return n
}

func (s *Server) username(id int64) string {
	for _, u := range s.tokens {
		if u.id == id {
			return u.username
		}
	}
	if id == OtherID {
		return OtherName
	}
	return fmt.Sprintf("user%d", id)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func message(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.hold.Wait(r.Context()) {
		return
	}
	// The escaped path keeps a project path's %2F in one segment.
	p, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v4/")
	if !ok {
		message(w, http.StatusNotFound, "404 Not Found")
		return
	}
	endpoint, args := route(r.Method, strings.Split(p, "/"))
	if endpoint == "" {
		message(w, http.StatusNotFound, "404 Not Found")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[endpoint]++
	if f, ok := s.fail[endpoint]; ok {
		delete(s.fail, endpoint)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	u, ok := s.authenticate(r)
	if !ok {
		message(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	s.dispatch(w, r, endpoint, args, u)
}

// dispatch answers an authenticated request for a known endpoint; s.mu
// is held.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, endpoint string, args []string, u user) {
	if endpoint == "GET /user" {
		writeJSON(w, http.StatusOK, map[string]any{"id": u.id, "username": u.username, "name": u.username, "state": "active", "bot": strings.Contains(u.username, "_bot")})
		return
	}
	if !s.knownProject(args[0]) {
		message(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	if endpoint == "POST /projects/:id/statuses/:sha" {
		s.setStatus(w, r, args[1])
		return
	}
	if endpoint == "GET /projects/:id/repository/commits/:sha/merge_requests" {
		s.commitMergeRequests(w, r, args[1])
		return
	}
	iid, err := strconv.Atoi(args[1])
	if err != nil || iid <= 0 {
		message(w, http.StatusNotFound, "404 Not found")
		return
	}
	k := key(iid)
	switch endpoint {
	case "GET /projects/:id/merge_requests/:iid/notes":
		s.listNotes(w, r, k)
	case "POST /projects/:id/merge_requests/:iid/notes":
		body, ok := noteBody(w, r)
		if !ok {
			return
		}
		writeJSON(w, http.StatusCreated, s.wire(s.addNote(k, u.id, body, false), iid))
	case "PUT /projects/:id/merge_requests/:iid/notes/:note_id":
		s.editNote(w, r, k, iid, args[2], u)
	}
}

// editNote updates a note as GitLab does: only its author or a
// maintainer may, and never a system note.
func (s *Server) editNote(w http.ResponseWriter, r *http.Request, k string, iid int, noteID string, u user) {
	id, _ := strconv.ParseInt(noteID, 10, 64)
	var n *Note
	for _, x := range s.notes[k] {
		if x.ID == id {
			n = x
		}
	}
	if n == nil {
		message(w, http.StatusNotFound, "404 Note Not Found")
		return
	}
	if n.System || (n.AuthorID != u.id && !u.maintainer) {
		message(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	body, ok := noteBody(w, r)
	if !ok {
		return
	}
	n.Body = body
	writeJSON(w, http.StatusOK, s.wire(n, iid))
}

// route names the endpoint of method and path segments and returns its
// path arguments (project id, iid or sha, note id).
func route(method string, segs []string) (string, []string) {
	switch {
	case method == http.MethodGet && len(segs) == 1 && segs[0] == "user":
		return "GET /user", nil
	case len(segs) == 6 && segs[0] == "projects" && segs[2] == "repository" && segs[3] == "commits" && segs[5] == "merge_requests" && method == http.MethodGet:
		return "GET /projects/:id/repository/commits/:sha/merge_requests", []string{segs[1], segs[4]}
	case len(segs) == 4 && segs[0] == "projects" && segs[2] == "statuses" && method == http.MethodPost:
		return "POST /projects/:id/statuses/:sha", []string{segs[1], segs[3]}
	case len(segs) == 5 && segs[0] == "projects" && segs[2] == "merge_requests" && segs[4] == "notes":
		switch method {
		case http.MethodGet:
			return "GET /projects/:id/merge_requests/:iid/notes", []string{segs[1], segs[3]}
		case http.MethodPost:
			return "POST /projects/:id/merge_requests/:iid/notes", []string{segs[1], segs[3]}
		}
	case len(segs) == 6 && segs[0] == "projects" && segs[2] == "merge_requests" && segs[4] == "notes" && method == http.MethodPut:
		return "PUT /projects/:id/merge_requests/:iid/notes/:note_id", []string{segs[1], segs[3], segs[5]}
	}
	return "", nil
}

// authenticate reads PRIVATE-TOKEN or Authorization: Bearer. A JOB-TOKEN
// is not accepted by these endpoints.
func (s *Server) authenticate(r *http.Request) (user, bool) {
	t := r.Header.Get("PRIVATE-TOKEN")
	if t == "" {
		t, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	u, ok := s.tokens[t]
	return u, ok && t != ""
}

func (s *Server) knownProject(id string) bool {
	path, err := url.PathUnescape(id)
	return err == nil && (id == strconv.Itoa(ProjectID) || path == ProjectPath)
}

// input reads a request's parameters: a JSON body, a form or the query.
func input(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var raw map[string]any
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return nil, err
		}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64:
				out[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				out[k] = strconv.FormatBool(v)
			}
		}
		return out, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k := range r.Form {
		out[k] = r.Form.Get(k)
	}
	return out, nil
}

func noteBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	in, err := input(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return "", false
	}
	body, ok := in["body"]
	if !ok || strings.TrimSpace(body) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
		return "", false
	}
	if utf8.RuneCountInString(body) > MaxNoteBody {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"note": {fmt.Sprintf("is too long (maximum is %d characters)", MaxNoteBody)}}})
		return "", false
	}
	return body, true
}

func (s *Server) wire(n *Note, iid int) map[string]any {
	ts := s.clock.Format(time.RFC3339)
	return map[string]any{
		"id": n.ID, "type": nil, "body": n.Body, "attachment": nil,
		"author":     map[string]any{"id": n.AuthorID, "username": n.Author, "name": n.Author, "state": "active"},
		"created_at": ts, "updated_at": ts, "system": n.System,
		"noteable_id": 5000 + iid, "noteable_type": "MergeRequest", "noteable_iid": iid,
		"resolvable": false, "confidential": false, "internal": false,
	}
}

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, k string) {
	q := r.URL.Query()
	page, perPage := atoiOr(q.Get("page"), 1), atoiOr(q.Get("per_page"), 20)
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = 20
	}
	if perPage > 100 {
		perPage = 100
	}
	if o := q.Get("order_by"); o != "" && o != "created_at" && o != "updated_at" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "order_by does not have a valid value"})
		return
	}
	all := append([]*Note(nil), s.notes[k]...)
	switch q.Get("sort") {
	case "", "desc": // GitLab's default: newest first
		sort.SliceStable(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	case "asc":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sort does not have a valid value"})
		return
	}
	total := len(all)
	pages := (total + perPage - 1) / perPage
	if pages == 0 {
		pages = 1
	}
	from := min((page-1)*perPage, total)
	to := min(from+perPage, total)
	_, iid, _ := strings.Cut(k, "!")
	n, _ := strconv.Atoi(iid)
	list := make([]map[string]any, 0, to-from)
	for _, x := range all[from:to] {
		list = append(list, s.wire(x, n))
	}
	h := w.Header()
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	link := func(p int, rel string) string {
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		qq.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s%s>; rel=%q", s.URL, u.RequestURI(), rel)
	}
	var links []string
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		links = append(links, link(page-1, "prev"))
	}
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(1, "first"), link(pages, "last"))
	h.Set("Link", strings.Join(links, ", "))
	writeJSON(w, http.StatusOK, list)
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

var states = map[string]bool{"pending": true, "running": true, "success": true, "failed": true, "canceled": true, "skipped": true}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, sha string) {
	in, err := input(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	if in["state"] == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "state is missing"})
		return
	}
	if !states[in["state"]] {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "state does not have a valid value"})
		return
	}
	name := in["name"]
	if name == "" {
		name = in["context"]
	}
	if name == "" {
		name = "default"
	}
	st := CommitStatus{State: in["state"], Name: name, TargetURL: in["target_url"], Description: in["description"], Ref: in["ref"]}
	s.statuses[sha+" "+name] = st
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": s.nextID, "sha": sha, "ref": st.Ref, "status": st.State, "name": st.Name,
		"target_url": st.TargetURL, "description": st.Description, "allow_failure": false,
	})
}
