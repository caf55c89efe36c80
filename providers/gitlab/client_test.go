package gitlab

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// These tests hold the rest type to what it did on GitLab's client
// (gitlab.com/gitlab-org/api/client-go v2.64.0 over go-retryablehttp):
// the requests on the wire, the retry policy and the error messages.

const restToken = "glpat-rest-canary-Q7x2"

// answer is one scripted reply.
type answer struct {
	status int
	header map[string]string
	body   string
}

// call is a request as the scripted server saw it.
type call struct {
	method, uri, body string
	header            http.Header
}

// scripted answers each request with the next scripted answer, then
// with ok (200, or 201 to a POST), and records what arrived.
type scripted struct {
	*httptest.Server
	ok answer

	mu      sync.Mutex
	answers []answer
	calls   []call
}

func script(t *testing.T, ok answer, answers ...answer) *scripted {
	t.Helper()
	s := &scripted{ok: ok, answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.calls = append(s.calls, call{r.Method, r.RequestURI, string(b), r.Header.Clone()})
		a := s.ok
		if len(s.answers) > 0 {
			a, s.answers = s.answers[0], s.answers[1:]
		} else if r.Method == http.MethodPost && a.status == http.StatusOK {
			a.status = http.StatusCreated
		}
		s.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) got() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// restOn builds the client the provider would, with retries that do
// not wait.
func restOn(t *testing.T, apiURL, project string, hc *http.Client, retryMax int) *rest {
	t.Helper()
	r, err := newREST(apiURL, restToken, project, hc, retryMax, redact.New(restToken))
	if err != nil {
		t.Fatal(err)
	}
	fast(r)
	return r
}

// fast makes r retry without waiting.
func fast(r *rest) {
	r.backoff = func(int, *http.Response) time.Duration { return 0 }
}

// ops are the six calls, each with an answer GitLab would give.
var ops = map[string]struct {
	do func(r *rest) error
	ok string
}{
	"GET /user": {func(r *rest) error { _, err := r.currentUser(context.Background()); return err }, `{"id":901}`},
	"GET notes": {func(r *rest) error { _, _, err := r.listNotes(context.Background(), 5, 1); return err }, `[]`},
	"GET mrs": {func(r *rest) error {
		_, _, err := r.commitMergeRequests(context.Background(), strings.Repeat("c", 40), 1)
		return err
	}, `[]`},
	"POST note": {func(r *rest) error { return r.createNote(context.Background(), 5, "plan") }, `{"id":1001,"body":"plan"}`},
	"PUT note":  {func(r *rest) error { return r.updateNote(context.Background(), 5, 1001, "plan") }, `{"id":1001,"body":"plan"}`},
	"POST status": {func(r *rest) error {
		return r.setStatus(context.Background(), strings.Repeat("c", 40), "failed", "n", "", "", "", 0)
	}, `{"id":1}`},
}

// Reads (and PUT, idempotent) are retried after a 5xx but a 501; every
// call after a 429; a POST never after a 5xx, since GitLab may have
// acted on it; never more than retryMax times.
func TestRESTRetryPolicy(t *testing.T) {
	for _, tt := range []struct {
		name       string
		op         string
		statuses   []int
		retryMax   int
		wantCalls  int
		wantStatus int // 0: success
	}{
		{"GET retried after 502", "GET /user", []int{502}, 1, 2, 0},
		{"GET retried after 429", "GET notes", []int{429}, 1, 2, 0},
		{"GET retried after 503 then 500", "GET mrs", []int{503, 500}, 3, 3, 0},
		{"GET retried at most retryMax times", "GET notes", []int{500, 500, 500, 500}, 2, 3, 500},
		{"no retry with retryMax 0", "GET /user", []int{502}, 0, 1, 502},
		{"GET not retried after 501", "GET /user", []int{501}, 3, 1, 501},
		{"GET not retried after 403", "GET notes", []int{403}, 3, 1, 403},
		{"POST note not retried after 502", "POST note", []int{502}, 3, 1, 502},
		{"POST note not retried after 500", "POST note", []int{500}, 3, 1, 500},
		{"POST status not retried after 503", "POST status", []int{503}, 3, 1, 503},
		{"POST note retried after 429", "POST note", []int{429}, 1, 2, 0},
		{"POST 429 retried at most retryMax times", "POST note", []int{429, 429, 429}, 1, 2, 429},
		{"PUT note retried after 502 (idempotent)", "PUT note", []int{502}, 1, 2, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op := ops[tt.op]
			var answers []answer
			for _, st := range tt.statuses {
				answers = append(answers, answer{status: st, body: `{"message":"` + strconv.Itoa(st) + ` try later"}`})
			}
			srv := script(t, answer{status: http.StatusOK, body: op.ok}, answers...)
			err := op.do(restOn(t, srv.URL+"/api/v4", "acme/platform", nil, tt.retryMax))
			if n := len(srv.got()); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
			var ae *providers.APIError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Errorf("error %v, want success", err)
			case tt.wantStatus != 0 && (!errors.As(err, &ae) || ae.Status != tt.wantStatus):
				t.Errorf("error %v, want an APIError with status %d", err, tt.wantStatus)
			}
		})
	}
}

// countingRT counts the attempts that reach the transport.
type countingRT struct {
	rt http.RoundTripper
	n  atomic.Int32
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// A connection refused happened before anything was sent: any call is
// tried again, up to retryMax times, and the error names the operation
// and not the token.
func TestRESTRetryConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, op := range []string{"GET /user", "POST note"} {
		rt := &countingRT{rt: http.DefaultTransport.(*http.Transport).Clone()}
		err := ops[op].do(restOn(t, "http://"+addr+"/api/v4", "acme/platform", &http.Client{Transport: rt}, 2))
		if n := rt.n.Load(); n != 3 {
			t.Errorf("%s: %d attempts, want 3", op, n)
		}
		var ae *providers.APIError
		if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), restToken) {
			t.Errorf("%s: error %v", op, err)
		}
	}
}

// timeoutConn fails every read, once the request is written, with a
// timeout: the request reached the server, the answer did not come back.
type timeoutConn struct {
	net.Conn
	wrote chan struct{}
	once  sync.Once
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.once.Do(func() { close(c.wrote) })
	return n, err
}

func (c *timeoutConn) Read([]byte) (int, error) {
	<-c.wrote
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ETIMEDOUT)}
}

// A network failure after the request was written: a read is tried
// again, a POST never (GitLab may have created the note; go-retryablehttp
// as GitLab's client configured it would have posted it again).
func TestRESTNoRetryOfPOSTAfterSending(t *testing.T) {
	srv := script(t, answer{status: http.StatusOK, body: `{"id":901}`})
	for _, tt := range []struct {
		op   string
		want int32
	}{{"GET /user", 3}, {"PUT note", 3}, {"POST note", 1}, {"POST status", 1}} {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &timeoutConn{Conn: c, wrote: make(chan struct{})}, nil
		}
		rt := &countingRT{rt: tr}
		err := ops[tt.op].do(restOn(t, srv.URL+"/api/v4", "acme/platform", &http.Client{Transport: rt}, 2))
		if n := rt.n.Load(); n != tt.want {
			t.Errorf("%s: %d attempts, want %d", tt.op, n, tt.want)
		}
		if err == nil || !errors.Is(err, syscall.ETIMEDOUT) {
			t.Errorf("%s: error %v", tt.op, err)
		}
	}
}

// A wait for GitLab's rate limit to reset (an hour here) ends as soon
// as the caller's context does.
func TestRESTCancelDuringBackoff(t *testing.T) {
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	srv := script(t, answer{status: http.StatusOK, body: `{"id":901}`},
		answer{status: http.StatusTooManyRequests, header: map[string]string{"RateLimit-Reset": reset}, body: `{"message":"slow down"}`})
	r, err := newREST(srv.URL+"/api/v4", restToken, "42", nil, 3, redact.New(restToken))
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan time.Duration, 1)
	r.backoff = func(attempt int, resp *http.Response) time.Duration {
		d := backoff(attempt, resp) // the real one
		waiting <- d
		return d
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if d := <-waiting; d < 50*time.Minute {
			t.Errorf("backoff %v, want until RateLimit-Reset", d)
		}
		cancel()
	}()
	_, err = r.currentUser(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := len(srv.got()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

// What goes on the wire: the API base however it was written, the
// project path escaped in one segment (dots too, as GitLab's client
// does), the token, user agent and JSON headers, query parameters and
// JSON bodies as GitLab's client sent them.
func TestRESTWire(t *testing.T) {
	srv := script(t, answer{status: http.StatusOK, body: `{"id":901}`})
	sha := strings.Repeat("c", 40)
	for _, tt := range []struct{ base, prefix, project, escaped string }{
		{"/api/v4", "/api/v4/", "acme/platform", "acme%2Fplatform"},
		{"/api/v4/", "/api/v4/", "grp/sub.proj", "grp%2Fsub%2Eproj"},
		{"", "/api/v4/", "42", "42"},
		{"/", "/api/v4/", "my group/a+b", "my%20group%2Fa+b"},
		{"/gitlab/api/v4", "/gitlab/api/v4/", "acme/platform", "acme%2Fplatform"},
		{"/gitlab", "/gitlab/api/v4/", "acme/platform", "acme%2Fplatform"},
	} {
		srv.mu.Lock()
		srv.calls = nil
		srv.mu.Unlock()
		r := restOn(t, srv.URL+tt.base, tt.project, nil, 0)
		_, _ = r.currentUser(context.Background())
		_, _, _ = r.listNotes(context.Background(), 5, 2)
		_, _, _ = r.listNotes(context.Background(), 5, 0)
		_ = r.createNote(context.Background(), 5, "<!-- m -->\na & b")
		_ = r.updateNote(context.Background(), 5, 1001, "x")
		_ = r.setStatus(context.Background(), sha, "failed", "launchplane/plan: cfg", "bad", "https://x.example/p/-/pipelines/9", "feature", 9)
		_ = r.setStatus(context.Background(), sha, "pending", "", "", "", "", 0)
		_, _, _ = r.commitMergeRequests(context.Background(), sha, 2)
		_, _, _ = r.commitMergeRequests(context.Background(), sha, 0)
		p := tt.prefix + "projects/" + tt.escaped
		want := []call{
			{"GET", tt.prefix + "user", "", nil},
			{"GET", p + "/merge_requests/5/notes?order_by=created_at&page=2&per_page=100&sort=asc", "", nil},
			{"GET", p + "/merge_requests/5/notes?order_by=created_at&per_page=100&sort=asc", "", nil},
			{"POST", p + "/merge_requests/5/notes", `{"body":"\u003c!-- m --\u003e\na \u0026 b"}`, nil},
			{"PUT", p + "/merge_requests/5/notes/1001", `{"body":"x"}`, nil},
			{"POST", p + "/statuses/" + sha, `{"state":"failed","ref":"feature","name":"launchplane/plan: cfg","target_url":"https://x.example/p/-/pipelines/9","description":"bad","pipeline_id":9}`, nil},
			{"POST", p + "/statuses/" + sha, `{"state":"pending"}`, nil},
			{"GET", p + "/repository/commits/" + sha + "/merge_requests?page=2", "", nil},
			{"GET", p + "/repository/commits/" + sha + "/merge_requests?page=0", "", nil},
		}
		got := srv.got()
		if len(got) != len(want) {
			t.Fatalf("base %q: %d calls, want %d: %+v", tt.base, len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.method != w.method || g.uri != w.uri || g.body != w.body {
				t.Errorf("base %q project %q: call %d\n got %s %s %s\nwant %s %s %s", tt.base, tt.project, i, g.method, g.uri, g.body, w.method, w.uri, w.body)
			}
			ct := ""
			if w.method != "GET" {
				ct = "application/json"
			}
			if g.header.Get("Private-Token") != restToken || g.header.Get("User-Agent") != "launchplane" ||
				g.header.Get("Accept") != "application/json" || g.header.Get("Content-Type") != ct || g.header.Get("Authorization") != "" {
				t.Errorf("call %d %s %s: headers %v", i, g.method, g.uri, g.header)
			}
		}
	}
}

// Answers are read for the fields the adapter uses; other fields, nulls
// and the pagination header as GitLab sends them.
func TestRESTDecode(t *testing.T) {
	notes := script(t, answer{status: http.StatusOK, header: map[string]string{"X-Next-Page": "3"},
		body: `[{"id":1001,"type":null,"body":"b","author":{"id":7,"username":"alice"},"system":true,"created_at":"2026-11-23T12:00:00.000Z","new":{"x":[1]}},{"id":1002,"body":"c","author":{"id":901},"system":false}]`})
	r := restOn(t, notes.URL+"/api/v4", "42", nil, 0)
	list, next, err := r.listNotes(context.Background(), 5, 2)
	if err != nil || next != 3 || len(list) != 2 || list[0] != (note{ID: 1001, Body: "b", AuthorID: 7, System: true}) || list[1] != (note{ID: 1002, Body: "c", AuthorID: 901}) {
		t.Fatalf("notes %+v next %d err %v", list, next, err)
	}
	mrs := script(t, answer{status: http.StatusOK, header: map[string]string{"X-Next-Page": ""},
		body: `[{"id":5005,"iid":5,"state":"merged","sha":"aa","merge_commit_sha":null,"squash_commit_sha":"bb","merged_at":null,"labels":[]},{"iid":6,"state":"opened","sha":"cc","merge_commit_sha":"dd"}]`})
	r = restOn(t, mrs.URL+"/api/v4", "42", nil, 0)
	got, next, err := r.commitMergeRequests(context.Background(), strings.Repeat("c", 40), 1)
	if err != nil || next != 0 || len(got) != 2 || got[0] != (mergeRequest{IID: 5, State: "merged", SHA: "aa", SquashCommitSHA: "bb"}) || got[1] != (mergeRequest{IID: 6, State: "opened", SHA: "cc", MergeCommitSHA: "dd"}) {
		t.Fatalf("merge requests %+v next %d err %v", got, next, err)
	}
	user := script(t, answer{status: http.StatusOK, body: `{"id":901,"username":"bot","bot":true}`})
	if id, err := restOn(t, user.URL+"/api/v4", "42", nil, 0).currentUser(context.Background()); err != nil || id != 901 {
		t.Fatalf("user %d, %v", id, err)
	}
	// A body that is not what the call returns is an error naming the
	// call, never an empty success.
	for _, tt := range []struct{ op, body, want string }{
		{"GET /user", `not json`, "read the token's user: "},
		{"GET /user", `{"id":"901"}`, "read the token's user: "},
		{"GET notes", `{"message":"ok"}`, "list notes of acme/platform!5: "},
		{"GET notes", ``, "list notes of acme/platform!5: "},
		{"GET mrs", `[{"iid":"x"}]`, "list the merge requests of acme/platform@" + strings.Repeat("c", 40) + ": "},
		{"POST note", `[1]`, "create a note on acme/platform!5: "},
	} {
		srv := script(t, answer{status: http.StatusOK, body: tt.body})
		err := ops[tt.op].do(restOn(t, srv.URL+"/api/v4", "acme/platform", nil, 0))
		var ae *providers.APIError
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || errors.As(err, &ae) {
			t.Errorf("%s answering %q: error %v, want one starting %q", tt.op, tt.body, err, tt.want)
		}
	}
}

// GitLab's error bodies come out as GitLab's client put them, so that
// the messages users and golden scripts see stay the same.
func TestRESTErrorMessages(t *testing.T) {
	const need = "(it needs the api scope and at least the Reporter role on the project)"
	const path = "/api/v4/projects/acme/platform/merge_requests/5/notes"
	for _, tt := range []struct {
		status     int
		body       string
		wantBody   string
		wantMethod string
		wantPath   string
		wantErr    string
	}{
		{500, `{"message":"500 Internal Server Error"}`, "{message: 500 Internal Server Error}", "GET", path,
			"GitLab answered 500 {message: 500 Internal Server Error}"},
		{400, `{"message":{"note":["is too long (maximum is 1000000 characters)"],"base":["x","y"],"a":{"b":["c"]}}}`,
			"{message: {a: {b: [c]}}, {base: [x, y]}, {note: [is too long (maximum is 1000000 characters)]}}", "GET", path,
			"GitLab answered 400 {message: {a: {b: [c]}}, {base: [x, y]}, {note: [is too long (maximum is 1000000 characters)]}}"},
		{400, `{"error":"order_by does not have a valid value"}`, "{error: order_by does not have a valid value}", "GET", path,
			"GitLab answered 400 {error: order_by does not have a valid value}"},
		{400, `{"message":["a",{"b":"c"},1]}`, "{message: [a, {b: c}, failed to parse unexpected error type: float64]}", "GET", path, ""},
		{502, "<html>\r\n<h1>502 Bad Gateway</h1>\n</html>\n", "failed to parse unknown error format: <html> <h1>502 Bad Gateway</h1> </html>", "GET", path,
			"GitLab answered 502 failed to parse unknown error format: <html> <h1>502 Bad Gateway</h1> </html>"},
		{500, " \n", "", "GET", path, "GitLab answered 500 Internal Server Error"},
		{422, `42`, "failed to parse unexpected error type: float64", "GET", path, ""},
		{422, `null`, "failed to parse unexpected error type: <nil>", "GET", path, ""},
		{403, `{"message":"403 Forbidden"}`, "{message: 403 Forbidden}", "GET", path,
			"GitLab denied the call (403 {message: 403 Forbidden}): on project acme/platform the token needs the api scope and at least the Reporter role on the project"},
		{401, `{"message":"401 Unauthorized"}`, "{message: 401 Unauthorized}", "GET", path,
			"GitLab refused the token (401 {message: 401 Unauthorized}): it is missing, invalid, expired or revoked, or a CI/CD job token, which may not call this endpoint; the token needs the api scope and at least the Reporter role on the project"},
		{429, `{"message":"Retry later"}`, "{message: Retry later}", "GET", path, "GitLab rate limit exceeded (429 {message: Retry later})"},
		// GitLab's client answered every 404 with its bare ErrNotFound.
		{404, `{"message":"404 Project Not Found"}`, "Not Found", "", "",
			"GitLab answered 404 Not Found: project acme/platform or the object does not exist, or the token cannot see it " + need},
		{302, ``, "", "GET", path, "GitLab answered 302 Found"},
	} {
		srv := script(t, answer{status: tt.status, body: tt.body})
		_, _, err := restOn(t, srv.URL+"/api/v4", "acme/platform", nil, 0).listNotes(context.Background(), 5, 1)
		var ae *providers.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%d %q: %v is not an APIError", tt.status, tt.body, err)
			continue
		}
		if ae.Status != tt.status || ae.Body != tt.wantBody || ae.Method != tt.wantMethod || ae.Path != tt.wantPath {
			t.Errorf("%d %q: APIError %+v\nwant body %q method %q path %q", tt.status, tt.body, *ae, tt.wantBody, tt.wantMethod, tt.wantPath)
		}
		if tt.wantErr != "" && err.Error() != "list notes of acme/platform!5: "+tt.wantErr {
			t.Errorf("%d %q: error\n %s\nwant\n list notes of acme/platform!5: %s", tt.status, tt.body, err, tt.wantErr)
		}
	}
}

// The token is in no error, wherever GitLab or a proxy echoes it.
func TestRESTTokenCanary(t *testing.T) {
	bodies := []answer{
		{status: 401, body: `{"message":"401 Unauthorized: ` + restToken + `"}`},
		{status: 403, body: `{"message":{"` + restToken + `":["` + restToken + `"]}}`},
		{status: 400, body: `{"error":"bad token ` + restToken + `"}`},
		{status: 502, body: "<html>token " + restToken + "</html>"},
		{status: 500, body: strings.Repeat("x", 2000) + restToken},
		{status: 404, body: `{"message":"` + restToken + `"}`},
		{status: 200, body: `{"id": ` + restToken + `}`},
		{status: 200, body: `["` + restToken + `"]`},
	}
	for _, a := range bodies {
		for name, op := range ops {
			srv := script(t, a)
			err := op.do(restOn(t, srv.URL+"/api/v4", "acme/platform", nil, 0))
			if err == nil {
				if a.status != 200 {
					t.Errorf("%s answering %d: no error", name, a.status)
				}
				continue
			}
			if strings.Contains(err.Error(), restToken) || strings.Contains(err.Error(), "Q7x2") {
				t.Errorf("%s answering %d: token in error %q", name, a.status, err)
			}
			var ae *providers.APIError
			if errors.As(err, &ae) && strings.Contains(ae.Body, "Q7x2") {
				t.Errorf("%s answering %d: token in APIError body %q", name, a.status, ae.Body)
			}
		}
	}
}

// The waits are GitLab's client's: after a 429 until RateLimit-Reset, or
// 100ms doubling, plus under 300ms of jitter; after a 5xx or a network
// failure (attempt+1) times 700 to 900ms.
func TestRESTBackoff(t *testing.T) {
	rl := func(h map[string]string) *http.Response {
		resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}
		for k, v := range h {
			resp.Header.Set(k, v)
		}
		return resp
	}
	ms := time.Millisecond
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	for _, tt := range []struct {
		name    string
		attempt int
		resp    *http.Response
		lo, hi  time.Duration
	}{
		{"429 first", 0, rl(nil), 100 * ms, 400 * ms},
		{"429 fourth", 3, rl(nil), 800 * ms, 1100 * ms},
		{"429 Retry-After is not read", 0, rl(map[string]string{"Retry-After": "60"}), 100 * ms, 400 * ms},
		{"429 until RateLimit-Reset", 1, rl(map[string]string{"RateLimit-Reset": future}), time.Hour - 5*time.Second, time.Hour + 400*ms},
		{"429 RateLimit-Reset past", 2, rl(map[string]string{"RateLimit-Reset": past}), 100 * ms, 400 * ms},
		{"502 first", 0, &http.Response{StatusCode: 502}, 700 * ms, 900 * ms},
		{"503 third", 2, &http.Response{StatusCode: 503}, 2100 * ms, 2700 * ms},
		{"network second", 1, nil, 1400 * ms, 1800 * ms},
	} {
		for range 200 {
			if d := backoff(tt.attempt, tt.resp); d < tt.lo || d >= tt.hi {
				t.Fatalf("%s: %v, want in [%v, %v)", tt.name, d, tt.lo, tt.hi)
			}
		}
	}
}

// A redirect to another host is not followed: GitLab's client did, and
// Go's sends the PRIVATE-TOKEN header along to any host. One on the same
// host is.
func TestRESTRedirectKeepsToken(t *testing.T) {
	other := script(t, answer{status: http.StatusOK, body: `{"id":666}`})
	for _, op := range []string{"GET /user", "POST note", "PUT note", "GET notes"} {
		away := script(t, answer{status: http.StatusTemporaryRedirect, header: map[string]string{"Location": other.URL + "/api/v4/elsewhere"}})
		err := ops[op].do(restOn(t, away.URL+"/api/v4", "acme/platform", nil, 0))
		var ae *providers.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect {
			t.Errorf("%s: error %v, want the 307 as a refusal", op, err)
		}
	}
	if got := other.got(); len(got) != 0 {
		t.Fatalf("the other host got %d calls, the first with headers %v", len(got), got[0].header)
	}
	moved := script(t, answer{status: http.StatusOK, body: `{"id":901}`},
		answer{status: http.StatusMovedPermanently, header: map[string]string{"Location": "/api/v4/user?moved=1"}})
	if id, err := restOn(t, moved.URL+"/api/v4", "42", nil, 0).currentUser(context.Background()); err != nil || id != 901 {
		t.Fatalf("same host: %d, %v", id, err)
	}
	if got := moved.got(); len(got) != 2 || got[1].header.Get("Private-Token") != restToken {
		t.Fatalf("same host: calls %+v", got)
	}
}

// An API URL that cannot name an HTTP API is refused when the client is
// built, before any call, without the token.
func TestRESTBadAPIURL(t *testing.T) {
	for _, u := range []string{"gitlab.example.com/api/v4", "ftp://gitlab.example.com/api/v4", "http://[::1/api/v4", "https:///api/v4", ""} {
		_, err := newREST(u, restToken, "42", nil, 0, redact.New(restToken))
		if err == nil || !strings.HasPrefix(err.Error(), "GitLab client: ") || strings.Contains(err.Error(), restToken) {
			t.Errorf("newREST(%q): %v", u, err)
		}
	}
	_, err := newREST("https://u:"+restToken+"@gitlab.example.com:port/api/v4", restToken, "42", nil, 0, redact.New(restToken))
	if err == nil || strings.Contains(err.Error(), restToken) {
		t.Errorf("a URL holding the token: %v", err)
	}
}
