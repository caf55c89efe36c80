package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/redact"
)

// This file is the only one that imports GitLab's client: the adapter is
// pinned to one major version (v2) behind the small rest type.

// note is a merge request note as the adapter sees it.
type note struct {
	ID       int64
	Body     string
	AuthorID int64
	System   bool
}

// rest calls the GitLab REST API v4 for one project.
type rest struct {
	c       *gl.Client
	project string // numeric id or path; the client escapes it
	red     *redact.Redactor
	timeout time.Duration // bounds one call when ctx has no earlier deadline
}

// newREST builds the client. token goes in the PRIVATE-TOKEN header
// (personal, project or group access token). Reads are retried by the
// client after a 5xx, a 429 or a network failure before the request was
// sent; writes only after a 429, so a note is never posted twice.
func newREST(apiURL, token, project string, hc *http.Client, retryMax int, red *redact.Redactor) (*rest, error) {
	opts := []gl.ClientOptionFunc{
		gl.WithBaseURL(apiURL),
		gl.WithUserAgent("launchplane"),
		gl.WithOnlyIdempotentRetries(),
		gl.WithCustomRetryMax(retryMax),
	}
	if hc != nil {
		opts = append(opts, gl.WithHTTPClient(hc))
	}
	c, err := gl.NewClient(token, opts...)
	if err != nil {
		return nil, fmt.Errorf("GitLab client: %w", red.Error(err))
	}
	return &rest{c: c, project: project, red: red, timeout: 30 * time.Second}, nil
}

// call bounds ctx by r.timeout unless it already has an earlier deadline.
func (r *rest) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= r.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// currentUser is the id of the token's user (GET /user).
func (r *rest) currentUser(ctx context.Context) (int64, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	u, _, err := r.c.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return 0, r.fail("read the token's user", needComment, err)
	}
	return u.ID, nil
}

// listNotes returns one page (100 notes, oldest first) of merge request
// iid's notes and the next page's number, 0 after the last, as
// X-Next-Page says.
func (r *rest) listNotes(ctx context.Context, iid int, page int64) ([]note, int64, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	list, resp, err := r.c.Notes.ListMergeRequestNotes(r.project, int64(iid), &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{Page: page, PerPage: 100},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}, gl.WithContext(ctx))
	if err != nil {
		return nil, 0, r.fail(fmt.Sprintf("list notes of %s!%d", r.project, iid), needComment, err)
	}
	out := make([]note, 0, len(list))
	for _, n := range list {
		out = append(out, note{ID: n.ID, Body: n.Body, AuthorID: n.Author.ID, System: n.System})
	}
	return out, resp.NextPage, nil
}

func (r *rest) createNote(ctx context.Context, iid int, body string) error {
	ctx, cancel := r.call(ctx)
	defer cancel()
	_, _, err := r.c.Notes.CreateMergeRequestNote(r.project, int64(iid), &gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	return r.fail(fmt.Sprintf("create a note on %s!%d", r.project, iid), needComment, err)
}

func (r *rest) updateNote(ctx context.Context, iid int, id int64, body string) error {
	ctx, cancel := r.call(ctx)
	defer cancel()
	_, _, err := r.c.Notes.UpdateMergeRequestNote(r.project, int64(iid), id, &gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	return r.fail(fmt.Sprintf("update note %d of %s!%d", id, r.project, iid), needComment, err)
}

// setStatus sets a commit status; empty optional fields are left out.
func (r *rest) setStatus(ctx context.Context, sha, state, name, description, targetURL, ref string, pipeline int64) error {
	ctx, cancel := r.call(ctx)
	defer cancel()
	opt := &gl.SetCommitStatusOptions{State: gl.BuildStateValue(state)}
	for _, f := range []struct {
		v   string
		dst **string
	}{{name, &opt.Name}, {description, &opt.Description}, {targetURL, &opt.TargetURL}, {ref, &opt.Ref}} {
		if f.v != "" {
			*f.dst = gl.Ptr(f.v)
		}
	}
	if pipeline > 0 {
		opt.PipelineID = gl.Ptr(pipeline)
	}
	_, _, err := r.c.Commits.SetCommitStatus(r.project, sha, opt, gl.WithContext(ctx))
	return r.fail(fmt.Sprintf("set status %s on %s@%s", name, r.project, sha), needStatus, err)
}

// What each operation needs of the token, for refusals.
const (
	needComment = "the api scope and at least the Reporter role on the project"
	needStatus  = "the api scope and at least the Developer role on the project"
)

// fail turns a client error into the adapter's: what failed, then
// GitLab's redacted message with the status and, for 401, 403 and 404,
// what the token needs. Context errors stay visible to errors.Is.
func (r *rest) fail(what, need string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	ae := &providers.APIError{}
	var er *gl.ErrorResponse
	switch {
	case errors.As(err, &er):
		ae.Status, ae.Body = er.StatusCode, httpapi.Excerpt(r.red, er.Message)
		if er.Response != nil && er.Response.Request != nil {
			ae.Method, ae.Path = er.Response.Request.Method, er.Response.Request.URL.Path
		}
	case errors.Is(err, gl.ErrNotFound):
		// The client answers a 404 with this bare sentinel.
		ae.Status = http.StatusNotFound
	default:
		// A network or decoding failure.
		return fmt.Errorf("%s: %w", what, r.red.Error(err))
	}
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
// page's number, 0 after the last. A read: the client retries it.
func (r *rest) commitMergeRequests(ctx context.Context, sha string, page int64) ([]mergeRequest, int64, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	list, resp, err := r.c.Commits.ListMergeRequestsByCommit(r.project, sha, gl.WithOffsetPaginationParameters(page), gl.WithContext(ctx))
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
	return out, resp.NextPage, nil
}
