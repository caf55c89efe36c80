package github

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	gh "github.com/google/go-github/v89/github"

	"github.com/launchplane/launchplane/providers"
)

// Beside client.go, this file imports go-github: the calls a request
// needs (repository_dispatch) and a config repository's bump pull
// request (branch, file, pull request).

// What each of these operations needs of the token, for refusals.
const (
	needDispatch = "contents: write on the repository dispatched to"
	needContents = "contents: write"
	needPulls    = "pull-requests: write"
)

// Dispatch sends one repository_dispatch event of eventType carrying
// payload (a JSON object) to the provider's repository.
func (p *Provider) Dispatch(ctx context.Context, eventType string, payload json.RawMessage) error {
	const op = "dispatch"
	api, err := p.client()
	if err != nil {
		return p.fail(op, err)
	}
	raw := payload
	ctx, cancel := api.call(ctx)
	defer cancel()
	_, _, err = api.c.Repositories.Dispatch(ctx, api.owner, api.repo, gh.DispatchRequestOptions{EventType: eventType, ClientPayload: &raw})
	return p.fail(op, api.fail(fmt.Sprintf("send %s to %s/%s", eventType, api.owner, api.repo), needDispatch, err))
}

// BlobSHA is the git blob id of content, the sha GitHub names a file by.
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// Propose opens or updates the pull request of c.Branch: the branch is
// created at, or forced back to, c.Base, gets one commit writing c.New
// over c.Old, and the open pull request from it is retitled, else one is
// created. Re-proposing always yields one commit on top of the base.
func (p *Provider) Propose(ctx context.Context, c providers.Proposal) (providers.Proposed, error) {
	const op = "pull-request"
	api, err := p.client()
	if err != nil {
		return providers.Proposed{}, p.fail(op, err)
	}
	pr, err := api.propose(ctx, c)
	return pr, p.fail(op, err)
}

func (r *rest) propose(ctx context.Context, c providers.Proposal) (providers.Proposed, error) {
	where := fmt.Sprintf("%s/%s", r.owner, r.repo)
	ref := "heads/" + c.Branch
	var exists bool
	err := r.retry(ctx, func(ctx context.Context) error {
		_, _, err := r.c.Git.GetRef(ctx, r.owner, r.repo, ref)
		var er *gh.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == 404 {
			exists = false
			return nil
		}
		exists = err == nil
		return err
	})
	if err != nil {
		return providers.Proposed{}, r.fail("read branch "+c.Branch+" of "+where, needContents, err)
	}
	cctx, cancel := r.call(ctx)
	if exists {
		_, _, err = r.c.Git.UpdateRef(cctx, r.owner, r.repo, ref, gh.UpdateRef{SHA: c.Base, Force: gh.Ptr(true)})
	} else {
		_, _, err = r.c.Git.CreateRef(cctx, r.owner, r.repo, gh.CreateRef{Ref: "refs/" + ref, SHA: c.Base})
	}
	cancel()
	if err != nil {
		return providers.Proposed{}, r.fail(fmt.Sprintf("point branch %s of %s at %s", c.Branch, where, c.Base), needContents, err)
	}
	cctx, cancel = r.call(ctx)
	_, _, err = r.c.Repositories.UpdateFile(cctx, r.owner, r.repo, c.Path, &gh.RepositoryContentFileOptions{
		Message: gh.Ptr(c.Message), Content: c.New, SHA: gh.Ptr(BlobSHA(c.Old)), Branch: gh.Ptr(c.Branch),
	})
	cancel()
	if err != nil {
		return providers.Proposed{}, r.fail(fmt.Sprintf("write %s on branch %s of %s", c.Path, c.Branch, where), needContents, err)
	}
	var open []*gh.PullRequest
	err = r.retry(ctx, func(ctx context.Context) error {
		var err error
		open, _, err = r.c.PullRequests.List(ctx, r.owner, r.repo, &gh.PullRequestListOptions{
			State: "open", Head: r.owner + ":" + c.Branch, Base: c.BaseBranch, ListOptions: gh.ListOptions{PerPage: 10},
		})
		return err
	})
	if err != nil {
		return providers.Proposed{}, r.fail("list pull requests of "+where, needPulls, err)
	}
	cctx, cancel = r.call(ctx)
	defer cancel()
	if len(open) > 0 {
		n := open[0].GetNumber()
		pr, _, err := r.c.PullRequests.Edit(cctx, r.owner, r.repo, n, &gh.PullRequest{Title: gh.Ptr(c.Title), Body: gh.Ptr(c.Body)})
		if err != nil {
			return providers.Proposed{}, r.fail(fmt.Sprintf("update pull request %s#%d", where, n), needPulls, err)
		}
		return providers.Proposed{Number: n, URL: pr.GetHTMLURL()}, nil
	}
	pr, _, err := r.c.PullRequests.Create(cctx, r.owner, r.repo, &gh.NewPullRequest{
		Title: gh.Ptr(c.Title), Head: gh.Ptr(c.Branch), Base: gh.Ptr(c.BaseBranch), Body: gh.Ptr(c.Body),
	})
	if err != nil {
		return providers.Proposed{}, r.fail("open a pull request in "+where, needPulls, err)
	}
	return providers.Proposed{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Created: true}, nil
}
