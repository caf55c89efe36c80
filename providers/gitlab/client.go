package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/redact"
)

// This file is the adapter's whole GitLab client: the six REST API v4
// calls it makes, over net/http. It keeps what GitLab's Go client
// (gitlab.com/gitlab-org/api/client-go v2.64.0, which it replaces: 7 MB
// of binary and 3 ms of every process start for six calls) put on the
// wire, its retry policy and its error messages; client_test.go holds
// it to them.

// note is a merge request note as the adapter sees it.
type note struct {
	ID       int64
	Body     string
	AuthorID int64
	System   bool
}

// rest calls the GitLab REST API v4 for one project.
type rest struct {
	hc       *http.Client
	base     *url.URL // ends in "api/v4/"
	token    string
	project  string // numeric id or path, escaped into one path segment
	red      *redact.Redactor
	timeout  time.Duration // bounds one call when ctx has no earlier deadline
	retryMax int
	// backoff is the wait before retry number attempt+1 (tests make it 0).
	backoff func(attempt int, resp *http.Response) time.Duration
}

// newREST builds the client; it does no I/O. token goes in the
// PRIVATE-TOKEN header (personal, project or group access token). A call
// is tried again, at most retryMax times (retryable says when): any call
// after a 429 or a failure to connect; a read or a PUT (idempotent) also
// after a 5xx other than 501 or a timeout; a POST never once it was sent,
// so a note is never posted twice. hc, when not nil, makes the calls
// (redirects kept to the API's host).
func newREST(apiURL, token, project string, hc *http.Client, retryMax int, red *redact.Redactor) (*rest, error) {
	base, err := baseURL(apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitLab client: %w", red.Error(err))
	}
	c := http.Client{}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = sameAPI(c.CheckRedirect)
	return &rest{hc: &c, base: base, token: token, project: project, red: red, timeout: 30 * time.Second, retryMax: retryMax, backoff: backoff}, nil
}

// baseURL is apiURL with a slash at the end and "api/v4/" after it
// unless it already ends so, as GitLab's client took it: ".../api/v4",
// ".../api/v4/" and the instance's root URL all name the same API.
func baseURL(apiURL string) (*url.URL, error) {
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("failed to parse base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an http or https URL with a host", u.Redacted())
	}
	if !strings.HasSuffix(u.Path, apiVersionPath) {
		u.Path += apiVersionPath
		u.RawPath = ""
	}
	return u, nil
}

const apiVersionPath = "api/v4/"

// sameAPI follows a redirect (as next would, or Go's client) only to the
// same host, over the same scheme or from http to https; elsewhere the
// redirect is the answer, a refusal. Go's client sends the PRIVATE-TOKEN
// header on to any host (it strips only Authorization and cookies).
func sameAPI(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		from, to := via[0].URL, req.URL
		if to.Host != from.Host || (to.Scheme != from.Scheme && !(from.Scheme == "http" && to.Scheme == "https")) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// pathEscape puts a project id or path, or a sha, in one path segment:
// "acme/platform" is "acme%2Fplatform"; dots are escaped too, as GitLab's
// client did.
func pathEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ".", "%2E")
}

// call bounds ctx by r.timeout unless it already has an earlier deadline.
func (r *rest) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= r.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// do makes one call: path is below the API base, already escaped; in,
// when not nil, is sent as JSON; a 2xx answer's JSON is decoded into out,
// when not nil. It returns the answer's X-Next-Page, 0 when there is
// none. A refusal is an *apiError.
func (r *rest) do(ctx context.Context, method, path string, query url.Values, in, out any) (int64, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	u := *r.base
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return 0, err
	}
	// The escaped form goes on the wire: a project path keeps its %2F.
	u.RawPath = r.base.EscapedPath() + path
	u.Path = r.base.Path + unescaped
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return 0, err
		}
	}
	resp, err := r.send(ctx, method, u.String(), body)
	if err != nil {
		return 0, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	if err := checkResponse(resp); err != nil {
		return 0, err
	}
	next, _ := strconv.ParseInt(resp.Header.Get("X-Next-Page"), 10, 64)
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return 0, err
		}
	}
	return next, nil
}

// send makes the request, and again while retryable says so, at most
// r.retryMax more times, waiting r.backoff in between or until ctx ends.
// The last answer is returned whatever its status.
func (r *rest) send(ctx context.Context, method, target string, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "launchplane")
		if method == http.MethodPost || method == http.MethodPut {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Private-Token", r.token)
		resp, err := r.hc.Do(req)
		retry, ctxErr := retryable(ctx, method, resp, err)
		if ctxErr != nil {
			if err == nil {
				resp.Body.Close()
			}
			return nil, ctxErr
		}
		if !retry || attempt >= r.retryMax {
			return resp, err
		}
		wait := r.backoff(attempt, resp)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// retryable is GitLab's client's retry check (its retryHTTPCheck with
// WithOnlyIdempotentRetries), but for one case: once ctx has ended, ctx's
// error; after a 429, yes; after a 5xx (a 501 aside) or no status, for an
// idempotent method; after a network failure, when it happened before
// anything was sent (a connection refused, a name that did not resolve
// for now, any failure to dial), or, for an idempotent method only, when
// it was a timeout or another temporary failure. The exception: GitLab's
// client retried that last kind for a POST too, which could post a note
// twice.
func retryable(ctx context.Context, method string, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if resp != nil && idempotent(method) { // a redirect gone wrong
			return true, nil
		}
		var dnsErr *net.DNSError
		var opErr *net.OpError
		var urlErr *url.Error
		switch {
		case errors.As(err, &dnsErr):
			return !dnsErr.IsNotFound, nil
		case errors.As(err, &opErr):
			if strings.EqualFold(opErr.Op, "dial") {
				return true, nil
			}
			return idempotent(method) && opErr.Temporary(), nil
		case errors.As(err, &urlErr):
			return strings.Contains(urlErr.Error(), "connection refused"), nil
		}
		return false, nil
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true, nil
	}
	if resp.StatusCode == 0 || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented) {
		return idempotent(method), nil
	}
	return false, nil
}

// idempotent reports whether a request with method may be repeated
// without repeating its effect (RFC 9110 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// backoff is GitLab's client's wait before retry number attempt+1: after
// a 429, until the RateLimit-Reset time when that is later than 100ms,
// else 100ms·2^attempt, plus up to 300ms of jitter (Retry-After is not
// read, as GitLab's client did not); otherwise (attempt+1) times 700 to
// 900ms.
func backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		const lo, hi = 100 * time.Millisecond, 400 * time.Millisecond
		wait := lo
		if v := resp.Header.Get("RateLimit-Reset"); v != "" {
			if reset, _ := strconv.ParseInt(v, 10, 64); reset > 0 {
				if until := time.Until(time.Unix(reset, 0)); until > wait {
					wait = until
				}
			}
		} else {
			wait = time.Duration(float64(lo) * math.Pow(2, float64(attempt)))
		}
		return wait + time.Duration(rand.Float64()*float64(hi-lo))
	}
	const lo, hi = 700 * time.Millisecond, 900 * time.Millisecond
	return (lo + time.Duration(rand.Float64()*float64(hi-lo))) * time.Duration(attempt+1)
}

// apiError is an answer GitLab's client took for a refusal: any status
// but 200, 201, 202, 204 and 304.
type apiError struct {
	status       int
	method, path string // path unescaped; both empty for a 404
	message      string
}

func (e *apiError) Error() string {
	return strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.message))
}

// checkResponse is GitLab's client's: a 404 is a bare "Not Found",
// whatever the body; another refusal keeps the body's message as
// errorMessage renders it.
func checkResponse(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent, http.StatusNotModified:
		return nil
	case http.StatusNotFound:
		return &apiError{status: http.StatusNotFound, message: "Not Found"}
	}
	e := &apiError{status: resp.StatusCode, method: resp.Request.Method, path: resp.Request.URL.Path}
	// Only the first 1 KiB of the message is kept (httpapi.Excerpt);
	// 1 MiB is plenty to parse it.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && strings.TrimSpace(string(data)) != "" {
		var raw any
		if err := json.Unmarshal(data, &raw); err != nil {
			e.message = fmt.Sprintf("failed to parse unknown error format: %s", data)
		} else {
			e.message = errorMessage(raw)
		}
	}
	return e
}

// errorMessage renders a JSON error body as GitLab's client did: a
// string as it is, a list as "[a, b]", an object as its "{key: value}"
// pairs sorted and joined with ", ". {"message": "403 Forbidden"} is
// "{message: 403 Forbidden}".
func errorMessage(raw any) string {
	switch raw := raw.(type) {
	case string:
		return raw
	case []any:
		errs := make([]string, 0, len(raw))
		for _, v := range raw {
			errs = append(errs, errorMessage(v))
		}
		return "[" + strings.Join(errs, ", ") + "]"
	case map[string]any:
		errs := make([]string, 0, len(raw))
		for k, v := range raw {
			errs = append(errs, "{"+k+": "+errorMessage(v)+"}")
		}
		sort.Strings(errs)
		return strings.Join(errs, ", ")
	default:
		return fmt.Sprintf("failed to parse unexpected error type: %T", raw)
	}
}

// wireNote is a note as GitLab sends it, the fields the adapter reads.
type wireNote struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	Author struct {
		ID int64 `json:"id"`
	} `json:"author"`
	System bool `json:"system"`
}

// notesPath is merge request iid's notes.
func (r *rest) notesPath(iid int) string {
	return "projects/" + pathEscape(r.project) + "/merge_requests/" + strconv.Itoa(iid) + "/notes"
}

// currentUser is the id of the token's user (GET /user).
func (r *rest) currentUser(ctx context.Context) (int64, error) {
	var u struct {
		ID int64 `json:"id"`
	}
	if _, err := r.do(ctx, http.MethodGet, "user", nil, nil, &u); err != nil {
		return 0, r.fail("read the token's user", needComment, err)
	}
	return u.ID, nil
}

// listNotes returns one page (100 notes, oldest first) of merge request
// iid's notes and the next page's number, 0 after the last, as
// X-Next-Page says.
func (r *rest) listNotes(ctx context.Context, iid int, page int64) ([]note, int64, error) {
	q := url.Values{"order_by": {"created_at"}, "sort": {"asc"}, "per_page": {"100"}}
	if page != 0 {
		q.Set("page", strconv.FormatInt(page, 10))
	}
	var list []*wireNote
	next, err := r.do(ctx, http.MethodGet, r.notesPath(iid), q, nil, &list)
	if err != nil {
		return nil, 0, r.fail(fmt.Sprintf("list notes of %s!%d", r.project, iid), needComment, err)
	}
	out := make([]note, 0, len(list))
	for _, n := range list {
		if n != nil {
			out = append(out, note{ID: n.ID, Body: n.Body, AuthorID: n.Author.ID, System: n.System})
		}
	}
	return out, next, nil
}

// noteBody is what POST and PUT …/notes take.
type noteBody struct {
	Body string `json:"body"`
}

func (r *rest) createNote(ctx context.Context, iid int, body string) error {
	var n *wireNote
	_, err := r.do(ctx, http.MethodPost, r.notesPath(iid), nil, noteBody{body}, &n)
	return r.fail(fmt.Sprintf("create a note on %s!%d", r.project, iid), needComment, err)
}

func (r *rest) updateNote(ctx context.Context, iid int, id int64, body string) error {
	var n *wireNote
	_, err := r.do(ctx, http.MethodPut, r.notesPath(iid)+"/"+strconv.FormatInt(id, 10), nil, noteBody{body}, &n)
	return r.fail(fmt.Sprintf("update note %d of %s!%d", id, r.project, iid), needComment, err)
}

// statusOptions is what POST /projects/:id/statuses/:sha takes, in
// GitLab's client's order.
type statusOptions struct {
	State       string `json:"state"`
	Ref         string `json:"ref,omitempty"`
	Name        string `json:"name,omitempty"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	PipelineID  int64  `json:"pipeline_id,omitempty"`
}

// setStatus sets a commit status; empty optional fields are left out.
func (r *rest) setStatus(ctx context.Context, sha, state, name, description, targetURL, ref string, pipeline int64) error {
	opt := statusOptions{State: state, Ref: ref, Name: name, TargetURL: targetURL, Description: description}
	if pipeline > 0 {
		opt.PipelineID = pipeline
	}
	var st *struct{}
	_, err := r.do(ctx, http.MethodPost, "projects/"+pathEscape(r.project)+"/statuses/"+pathEscape(sha), nil, opt, &st)
	return r.fail(fmt.Sprintf("set status %s on %s@%s", name, r.project, sha), needStatus, err)
}

// What each operation needs of the token, for refusals.
const (
	needComment = "the api scope and at least the Reporter role on the project"
	needStatus  = "the api scope and at least the Developer role on the project"
)

// fail turns a call's error into the adapter's: what failed, then
// GitLab's redacted message with the status and, for 401, 403 and 404,
// what the token needs. Context errors stay visible to errors.Is.
func (r *rest) fail(what, need string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var er *apiError
	if !errors.As(err, &er) {
		// A network or decoding failure.
		return fmt.Errorf("%s: %w", what, r.red.Error(err))
	}
	ae := &providers.APIError{Status: er.status, Method: er.method, Path: er.path, Body: httpapi.Excerpt(r.red, er.message)}
	head := httpapi.Head(ae)
	var text string
	switch ae.Status {
	case http.StatusUnauthorized:
		text = fmt.Sprintf("GitLab refused the token (%s): it is missing, invalid, expired or revoked, or a CI/CD job token, which may not call this endpoint; the token needs %s", head, need)
	case http.StatusForbidden:
		text = fmt.Sprintf("GitLab denied the call (%s): on project %s the token needs %s", head, r.project, need)
	case http.StatusNotFound:
		text = fmt.Sprintf("GitLab answered %s: project %s or the object does not exist, or the token cannot see it (it needs %s)", head, r.project, need)
	case http.StatusTooManyRequests:
		text = "GitLab rate limit exceeded (" + head + ")"
	default:
		text = "GitLab answered " + head
	}
	return fmt.Errorf("%s: %w", what, &httpapi.Refusal{Msg: text, API: ae})
}

// mergeRequest is a merge request associated with a commit, as the
// adapter sees it.
type mergeRequest struct {
	IID             int64
	State           string
	SHA             string // the source branch's head
	MergeCommitSHA  string
	SquashCommitSHA string
}

// commitMergeRequests returns one page (GitLab's 20) of the merge
// requests associated with commit sha (GET
// /projects/:id/repository/commits/:sha/merge_requests) and the next
// page's number, 0 after the last. A read: it is retried.
func (r *rest) commitMergeRequests(ctx context.Context, sha string, page int64) ([]mergeRequest, int64, error) {
	var list []*struct {
		IID             int64  `json:"iid"`
		State           string `json:"state"`
		SHA             string `json:"sha"`
		MergeCommitSHA  string `json:"merge_commit_sha"`
		SquashCommitSHA string `json:"squash_commit_sha"`
	}
	q := url.Values{"page": {strconv.FormatInt(page, 10)}}
	next, err := r.do(ctx, http.MethodGet, "projects/"+pathEscape(r.project)+"/repository/commits/"+pathEscape(sha)+"/merge_requests", q, nil, &list)
	if err != nil {
		return nil, 0, r.fail(fmt.Sprintf("list the merge requests of %s@%s", r.project, sha), needComment, err)
	}
	out := make([]mergeRequest, 0, len(list))
	for _, mr := range list {
		if mr == nil {
			continue
		}
		out = append(out, mergeRequest{IID: mr.IID, State: mr.State, SHA: mr.SHA, MergeCommitSHA: mr.MergeCommitSHA, SquashCommitSHA: mr.SquashCommitSHA})
	}
	return out, next, nil
}
