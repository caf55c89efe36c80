package github

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/providers"
)

// maxPullPages bounds how many pages of a commit's pull requests are
// read: a commit on the default branch is merged by one.
const maxPullPages = 20

// commitSHA is a full commit id: SHA-1, or SHA-256.
var commitSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// ReviewedComment finds the pull request that merged commit sha and its
// plan comment for marker (providers.PlanLookup).
//
// The pull requests come from "List pull requests associated with a
// commit" (GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls), every
// page. The one that counts is merged (merged_at set) and its
// merge_commit_sha is sha: the merge commit, the squash commit, or the
// last rebased commit, whichever the merge made, and the commit a push to
// the default branch runs for. An open pull request's merge_commit_sha is
// its test merge commit, so merged_at is required: pushing that commit by
// hand does not borrow the pull request's review. None is
// ErrNotReviewed (a direct push); several is an error.
//
// On it, the conversation comments are read as UpsertComment reads them
// (100 a page, every page until found): the first comment by the token's
// identity (see identity) holding marker outside quotes and code. Anyone
// else's comment carrying the marker is ignored; none of the identity's
// own is ErrNotReviewed.
func (p *Provider) ReviewedComment(ctx context.Context, sha, marker string) (providers.Reviewed, error) {
	const op = "reviewed plan"
	if err := ctx.Err(); err != nil {
		return providers.Reviewed{}, p.fail(op, err)
	}
	if !commitSHA.MatchString(sha) {
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("commit %q is not a full commit sha", sha))
	}
	if strings.TrimSpace(marker) == "" {
		return providers.Reviewed{}, p.fail(op, errors.New("empty marker"))
	}
	api, err := p.client()
	if err != nil {
		return providers.Reviewed{}, p.fail(op, err)
	}
	var merged []int
	for page := 1; ; {
		list, next, err := api.commitPulls(ctx, sha, page)
		if err != nil {
			return providers.Reviewed{}, p.fail(op, err)
		}
		for _, pr := range list {
			if pr.Merged && pr.MergeCommitSHA == sha && !containsInt(merged, pr.Number) {
				merged = append(merged, pr.Number)
			}
		}
		if next == 0 {
			break
		}
		if next <= page || next > maxPullPages {
			return providers.Reviewed{}, p.fail(op, fmt.Errorf("list the pull requests of %s@%s: the Link header's next page %d after page %d", p.repository, sha, next, page))
		}
		page = next
	}
	switch len(merged) {
	case 0:
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("commit %s of %s was merged by no pull request (a direct push), so no plan was reviewed for it: %w", sha, p.repository, providers.ErrNotReviewed))
	case 1:
	default:
		sort.Ints(merged)
		refs := make([]string, len(merged))
		for i, n := range merged {
			refs[i] = fmt.Sprintf("%s#%d", p.repository, n)
		}
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("commit %s is claimed as merged by several pull requests (%s): refusing to pick one", sha, strings.Join(refs, ", ")))
	}
	pr := merged[0]
	self, err := p.identity(ctx, api)
	if err != nil {
		return providers.Reviewed{}, p.fail(op, err)
	}
	c, found, ignored, err := providers.FindMarked(ctx, comments{api, p.repository, pr, self}, marker)
	if err != nil {
		return providers.Reviewed{}, p.fail(op, err)
	}
	ref := fmt.Sprintf("%s#%d", p.repository, pr)
	if !found {
		also := ""
		if ignored > 0 {
			also = fmt.Sprintf("; %d comment(s) carrying the marker by others, or quoted, were ignored", ignored)
		}
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("pull request %s, which merged %s, has no plan comment for this config written by %s, the identity that posts plans%s: %w", ref, sha, self, also, providers.ErrNotReviewed))
	}
	return providers.Reviewed{Change: pr, ChangeRef: ref, Body: c.Body, Ignored: ignored}, nil
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

var _ providers.PlanLookup = (*Provider)(nil)
