package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// expectReviewedUsage is the help of apply --expect-reviewed-plan.
const expectReviewedUsage = "in CI on the default branch: refuse (exit 3) unless the plan to run is the one the merged pull or merge request's plan comment showed"

// reviewedPlanHash is the plan hash apply --expect-reviewed-plan binds
// to: the hash in the plan comment for config dir dir (the one plan
// --comment keeps: its marker, written by the token's own identity) on
// the pull or merge request that merged the CI job's commit, found by the
// Feedback provider of the job's CI system (providers.DetectCI and the
// optional providers.PlanLookup role). what names it in refusals.
//
// Nothing here falls back to an unbound apply: no CI system, no token, a
// job about an open pull request, a provider that cannot look up, an
// API failure or several requests claiming the commit are errors (exit
// 1); a commit no request merged, a request without such a comment, or
// a comment without a plan hash are refusals (exit 3): what would be
// applied was never shown.
func reviewedPlanHash(ctx context.Context, e *env, dir string) (hash, what string, err error) {
	const flag = "--expect-reviewed-plan"
	red := redact.New()
	fail := func(code int, format string, args ...any) (string, string, error) {
		return "", "", &exitErr{code: code, err: red.Error(fmt.Errorf(flag+": "+format, args...))}
	}
	job, found, err := providers.DetectCI(providers.CIEnv{Getenv: e.getenv, Redactor: red})
	switch {
	case err != nil:
		return fail(exitError, "%w", err)
	case !found:
		return fail(exitError, "no CI system Launchplane can read a reviewed plan from was recognised: the reviewed plan is the one shown on the pull or merge request that merged the job's commit")
	case job.Problem != "":
		return fail(exitError, "%s", job.Problem)
	case job.Feedback == nil && job.Unavailable != "":
		return fail(exitError, "%s, so the reviewed plan cannot be read (%s)", job.Unavailable, job.Need)
	case job.Change != 0:
		return fail(exitError, "the job runs for %s %s, which is not merged: bind the apply on the default branch after the merge", job.ChangeKind, job.ChangeRef)
	case job.SHA == "":
		return fail(exitError, "the %s job names no commit", job.System)
	case job.Feedback == nil:
		return fail(exitError, "%s gave no way to read %s", job.Provider, job.System)
	}
	lookup, ok := job.Feedback.(providers.PlanLookup)
	if !ok {
		return fail(exitError, "the %s provider cannot find the %s that merged a commit", job.Provider, job.ChangeKind)
	}
	r, err := lookup.ReviewedComment(ctx, job.SHA, commentMarker(dir))
	if errors.Is(err, providers.ErrNotReviewed) {
		return fail(exitConflict, "%w; refusing, nothing was changed: plan it on a %s (plan --comment), review and merge, or apply a reviewed plan with --expect-plan-hash", err, job.ChangeKind)
	}
	if err != nil {
		return fail(exitError, "%w", err)
	}
	hash, ok = commentPlanHash(r.Body)
	if !ok {
		return fail(exitConflict, "the plan comment on %s holds no plan hash (its last plan failed, or the config was invalid): what would be applied was never shown; refusing, nothing was changed", r.ChangeRef)
	}
	also := ""
	if r.Ignored > 0 {
		also = fmt.Sprintf(" (%d comment(s) carrying the marker by others, or quoted, were ignored)", r.Ignored)
	}
	fmt.Fprintf(e.stderr, "Binding the apply to the plan reviewed on %s: %s%s\n", r.ChangeRef, hash, also)
	return hash, "the plan reviewed on " + r.ChangeRef, nil
}

// commentPlanHash is the plan hash of a plan comment: its last line
// that is not blank must be the hash marker plan --comment ends it with
// (planHashMarker), and hold a valid hash. A hash anywhere else (in the
// plan's text, which config values reach) does not count.
func commentPlanHash(body string) (string, bool) {
	lines := strings.Split(strings.TrimRight(body, " \t\r\n"), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	h, ok := strings.CutPrefix(last, "<!-- launchplane:plan-hash ")
	if !ok {
		return "", false
	}
	h, ok = strings.CutSuffix(h, " -->")
	if !ok || !plan.ValidHash(h) || planHashMarker(h) != last {
		return "", false
	}
	return h, true
}
