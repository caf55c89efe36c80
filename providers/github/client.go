package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/redact"
)

// This file is the only one that imports go-github: the adapter is pinned
// to one major version (v89) behind the small rest type, so moving to
// another (v90 takes IssueCommentRequest values) touches nothing else.

// comment is an issue comment as the adapter sees it.
type comment struct {
	ID     int64
	Body   string
	Author string // user.login
}

// resourceNotAccessible is GitHub's 403 message to an installation token
// (an Actions GITHUB_TOKEN, a GitHub App's) on a user-only endpoint such
// as GET /user.
const resourceNotAccessible = "Resource not accessible by integration"

// whoami returns the login GET /user answers for the token (a user's:
// classic or fine-grained personal access token). installation is true
// when GitHub answers 403 "Resource not accessible by integration": the
// token is an installation token, which GET /user does not identify. A
// read: retried after a 5xx or a network failure.
func (r *rest) whoami(ctx context.Context) (login string, installation bool, err error) {
	var u *gh.User
	err = r.retry(ctx, func(ctx context.Context) error {
		var err error
		u, _, err = r.c.Users.Get(ctx, "")
		return err
	})
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden &&
		strings.Contains(er.Message, resourceNotAccessible) {
		return "", true, nil
	}
	if err != nil {
		return "", false, r.fail("find the token's user (GET /user)", needComment, err)
	}
	if u.GetLogin() == "" {
		return "", false, errors.New("find the token's user (GET /user): GitHub answered no login")
	}
	return u.GetLogin(), false, nil
}

// rest calls the GitHub REST API for one repository.
type rest struct {
	c           *gh.Client
	owner, repo string
	red         *redact.Redactor
	timeout     time.Duration // bounds one call when ctx has no earlier deadline
	retries     int           // further tries of a read after a 5xx or network error
	backoff     time.Duration // first wait between tries, doubled each time
}

func newREST(apiURL, token, owner, repo string, hc *http.Client, red *redact.Redactor) (*rest, error) {
	base := strings.TrimRight(apiURL, "/") + "/"
	opts := []gh.ClientOptionsFunc{
		gh.WithAuthToken(token), // Authorization: Bearer <token>
		gh.WithURLs(&base, &base),
		gh.WithUserAgent("launchplane"),
	}
	if hc != nil {
		opts = append(opts, gh.WithHTTPClient(hc))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		// The options hold the token; go-github's messages do not, but
		// redact all the same.
		return nil, fmt.Errorf("GitHub client: %w", red.Error(err))
	}
	return &rest{c: c, owner: owner, repo: repo, red: red, timeout: 30 * time.Second, retries: 3, backoff: 200 * time.Millisecond}, nil
}

// call bounds ctx by r.timeout unless it already has an earlier deadline.
func (r *rest) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= r.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// listComments returns one page (100 comments, oldest first) of pr's
// conversation comments and the number of the next page, 0 after the
// last, as the Link header says. A read: retried after a 5xx or a
// network failure.
func (r *rest) listComments(ctx context.Context, pr, page int) ([]comment, int, error) {
	what := fmt.Sprintf("list comments of %s/%s#%d", r.owner, r.repo, pr)
	var (
		list []*gh.IssueComment
		resp *gh.Response
	)
	err := r.retry(ctx, func(ctx context.Context) error {
		var err error
		list, resp, err = r.c.Issues.ListComments(ctx, r.owner, r.repo, pr, &gh.IssueListCommentsOptions{
			ListOptions: gh.ListOptions{Page: page, PerPage: 100},
		})
		return err
	})
	if err != nil {
		return nil, 0, r.fail(what, needComment, err)
	}
	out := make([]comment, 0, len(list))
	for _, c := range list {
		out = append(out, comment{ID: c.GetID(), Body: c.GetBody(), Author: c.GetUser().GetLogin()})
	}
	return out, resp.NextPage, nil
}

// createComment posts a new comment on pr and returns it as GitHub
// answered (its author is the token's identity).
func (r *rest) createComment(ctx context.Context, pr int, body string) (comment, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	c, _, err := r.c.Issues.CreateComment(ctx, r.owner, r.repo, pr, &gh.IssueComment{Body: gh.Ptr(body)})
	if err != nil {
		return comment{}, r.fail(fmt.Sprintf("create comment on %s/%s#%d", r.owner, r.repo, pr), needComment, err)
	}
	return comment{ID: c.GetID(), Body: c.GetBody(), Author: c.GetUser().GetLogin()}, nil
}

// editComment replaces the body of comment id.
func (r *rest) editComment(ctx context.Context, id int64, body string) error {
	ctx, cancel := r.call(ctx)
	defer cancel()
	_, _, err := r.c.Issues.EditComment(ctx, r.owner, r.repo, id, &gh.IssueComment{Body: gh.Ptr(body)})
	return r.fail(fmt.Sprintf("update comment %d of %s/%s", id, r.owner, r.repo), needComment, err)
}

// createStatus sets a commit status; empty optional fields are left out.
func (r *rest) createStatus(ctx context.Context, sha, state, context_, description, targetURL string) error {
	ctx, cancel := r.call(ctx)
	defer cancel()
	st := gh.RepoStatus{State: gh.Ptr(state)}
	if context_ != "" {
		st.Context = gh.Ptr(context_)
	}
	if description != "" {
		st.Description = gh.Ptr(description)
	}
	if targetURL != "" {
		st.TargetURL = gh.Ptr(targetURL)
	}
	_, _, err := r.c.Repositories.CreateStatus(ctx, r.owner, r.repo, sha, st)
	return r.fail(fmt.Sprintf("set status %s on %s/%s@%s", context_, r.owner, r.repo, sha), needStatus, err)
}

// retry runs a read until it succeeds, fails in a way another try cannot
// fix, or r.retries further tries are spent.
func (r *rest) retry(ctx context.Context, read func(context.Context) error) error {
	wait := r.backoff
	for attempt := 0; ; attempt++ {
		cctx, cancel := r.call(ctx)
		err := read(cctx)
		cancel()
		if err == nil || attempt >= r.retries || ctx.Err() != nil || !retryable(err) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// retryable reports whether another try of a read may succeed: after a
// server error or a network failure, never after a refusal, a rate limit
// or the end of the context.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		rl *gh.RateLimitError
		ab *gh.AbuseRateLimitError
		er *gh.ErrorResponse
		ue *url.Error
	)
	switch {
	case errors.As(err, &rl), errors.As(err, &ab):
		return false
	case errors.As(err, &er):
		return er.Response != nil && er.Response.StatusCode >= 500
	default:
		return errors.As(err, &ue)
	}
}

// What each operation needs of the token, for refusals.
const (
	needComment = "pull-requests: write or issues: write"
	needStatus  = "statuses: write"
)

// fail turns a go-github error into the adapter's: what failed, then
// GitHub's redacted message with the status and, for 401, 403 and 404,
// what the token needs. Context errors stay visible to errors.Is; the
// token never reaches the message.
func (r *rest) fail(what, need string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var (
		rl      *gh.RateLimitError
		ab      *gh.AbuseRateLimitError
		er      *gh.ErrorResponse
		resp    *http.Response
		msg     string
		limited string
	)
	switch {
	case errors.As(err, &rl):
		resp, msg = rl.Response, rl.Message
		limited = "the limit resets at " + rl.Rate.Reset.UTC().Format(time.RFC3339)
	case errors.As(err, &ab):
		resp, msg = ab.Response, ab.Message
		limited = "secondary rate limit"
		if ab.RetryAfter != nil {
			limited += ", retry after " + ab.RetryAfter.String()
		}
	case errors.As(err, &er):
		resp, msg = er.Response, er.Message
		for _, e := range er.Errors {
			if e.Message != "" {
				msg += ": " + e.Message
			} else if e.Code != "" {
				msg += fmt.Sprintf(": %s %s of %s", e.Code, e.Field, e.Resource)
			}
		}
	default:
		// A network or decoding failure. go-github strips credentials
		// from URLs; redact all the same.
		return fmt.Errorf("%s: %w", what, r.red.Error(err))
	}
	if resp == nil {
		return fmt.Errorf("%s: %w", what, r.red.Error(err))
	}
	ae := &providers.APIError{Status: resp.StatusCode, Body: httpapi.Excerpt(r.red, msg)}
	if resp.Request != nil {
		ae.Method, ae.Path = resp.Request.Method, resp.Request.URL.Path
	}
	head := httpapi.Head(ae)
	var text string
	switch {
	case limited != "":
		text = fmt.Sprintf("GitHub rate limit exceeded (%s): %s", head, limited)
	case resp.StatusCode == http.StatusUnauthorized:
		text = fmt.Sprintf("GitHub refused the token (%s): it is missing, invalid, expired or revoked; the token needs %s", head, need)
	case resp.StatusCode == http.StatusForbidden:
		text = fmt.Sprintf("GitHub denied the call (%s): the token needs %s on %s/%s", head, need, r.owner, r.repo)
	case resp.StatusCode == http.StatusNotFound:
		text = fmt.Sprintf("GitHub answered %s: %s/%s or the object does not exist, or the token cannot see it (it needs %s)", head, r.owner, r.repo, need)
	default:
		text = "GitHub answered " + head
	}
	return fmt.Errorf("%s: %w", what, &httpapi.Refusal{Msg: text, API: ae})
}

// pull is a pull request associated with a commit, as the adapter sees
// it.
type pull struct {
	Number         int
	Merged         bool // merged_at is set
	MergeCommitSHA string
}

// commitPulls returns one page (100) of the pull requests associated
// with commit sha (GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls)
// and the next page's number, 0 after the last. A read: retried after a
// 5xx or a network failure.
func (r *rest) commitPulls(ctx context.Context, sha string, page int) ([]pull, int, error) {
	var (
		list []*gh.PullRequest
		resp *gh.Response
	)
	err := r.retry(ctx, func(ctx context.Context) error {
		var err error
		list, resp, err = r.c.PullRequests.ListPullRequestsWithCommit(ctx, r.owner, r.repo, sha, &gh.ListOptions{Page: page, PerPage: 100})
		return err
	})
	if err != nil {
		return nil, 0, r.fail(fmt.Sprintf("list the pull requests of %s/%s@%s", r.owner, r.repo, sha), needRead, err)
	}
	out := make([]pull, 0, len(list))
	for _, p := range list {
		out = append(out, pull{Number: p.GetNumber(), Merged: p.MergedAt != nil, MergeCommitSHA: p.GetMergeCommitSHA()})
	}
	return out, resp.NextPage, nil
}

// needRead is what reading a commit's pull requests and their comments
// needs of the token.
const needRead = "contents: read and pull-requests: read"
