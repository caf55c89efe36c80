package gitlab

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/providers"
)

// maxMRPages bounds how many pages of a commit's merge requests are
// read: a commit on the default branch is merged by one.
const maxMRPages = 20

// commitSHA is a full commit id: SHA-1, or SHA-256 in a SHA-256
// repository.
var commitSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// mergedBy reports whether merge request mr merged commit sha: it is
// merged, and sha is the merge commit it made, or its squash commit, or,
// for a fast-forward merge without squash (which makes neither, both
// null), its source branch's head. A merge request that merely contains
// sha (GitLab lists those too, open or closed) did not merge it.
func mergedBy(mr mergeRequest, sha string) bool {
	if mr.State != "merged" {
		return false
	}
	if mr.MergeCommitSHA == "" && mr.SquashCommitSHA == "" {
		return mr.SHA == sha
	}
	return mr.MergeCommitSHA == sha || mr.SquashCommitSHA == sha
}

// ReviewedComment finds the merge request that merged commit sha and its
// plan note for marker (providers.PlanLookup).
//
// The merge requests come from GitLab's "List merge requests associated
// with a commit" (doc/api/commits.md), every page; the one that counts
// is merged and made sha (see mergedBy). None is ErrNotReviewed (a
// direct push); several is an error. On it, the notes are read as
// UpsertComment reads them (oldest first, 100 a page, every page until
// found): the first note by the token's own user, not a system note,
// holding marker outside quotes and code. Any other member's note
// carrying the marker is ignored; none of the token's own is
// ErrNotReviewed.
//
// GitLab lets a Maintainer edit anyone's note: whoever may edit the
// bot's note could change the hash it holds; that is the same person who
// may push to the default branch, and apply still re-plans and refuses
// any plan that does not hash to it.
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
	var merged []int64
	for page := int64(1); ; {
		list, next, err := api.commitMergeRequests(ctx, sha, page)
		if err != nil {
			return providers.Reviewed{}, p.fail(op, err)
		}
		for _, mr := range list {
			if mergedBy(mr, sha) && !containsIID(merged, mr.IID) {
				merged = append(merged, mr.IID)
			}
		}
		if next == 0 {
			break
		}
		if next <= page || next > maxMRPages {
			return providers.Reviewed{}, p.fail(op, fmt.Errorf("list the merge requests of %s@%s: X-Next-Page %d after page %d", p.project, sha, next, page))
		}
		page = next
	}
	where := p.display()
	switch len(merged) {
	case 0:
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("commit %s of %s was merged by no merge request (a direct push, or a merge request not yet marked merged), so no plan was reviewed for it: %w", sha, where, providers.ErrNotReviewed))
	case 1:
	default:
		sort.Slice(merged, func(i, j int) bool { return merged[i] < merged[j] })
		refs := make([]string, len(merged))
		for i, iid := range merged {
			refs[i] = fmt.Sprintf("%s!%d", where, iid)
		}
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("commit %s is claimed as merged by several merge requests (%s): refusing to pick one", sha, strings.Join(refs, ", ")))
	}
	iid := int(merged[0])
	self, err := p.me(ctx, api)
	if err != nil {
		return providers.Reviewed{}, p.fail(op, err)
	}
	c, found, ignored, err := providers.FindMarked(ctx, notes{api, iid, self}, marker)
	if err != nil {
		return providers.Reviewed{}, p.fail(op, err)
	}
	ref := fmt.Sprintf("%s!%d", where, iid)
	if !found {
		also := ""
		if ignored > 0 {
			also = fmt.Sprintf("; %d note(s) carrying the marker by others, or quoted, were ignored", ignored)
		}
		return providers.Reviewed{}, p.fail(op, fmt.Errorf("merge request %s, which merged %s, has no plan note for this config written by the token's user%s: %w", ref, sha, also, providers.ErrNotReviewed))
	}
	return providers.Reviewed{Change: iid, ChangeRef: ref, Body: c.Body, Ignored: ignored}, nil
}

func containsIID(list []int64, iid int64) bool {
	for _, x := range list {
		if x == iid {
			return true
		}
	}
	return false
}

// display names the project in messages: its path when the CI job gave it,
// else the project as configured.
func (p *Provider) display() string {
	return firstOf(p.path, p.project)
}

var _ providers.PlanLookup = (*Provider)(nil)
