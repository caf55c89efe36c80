package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
)

// Budgets of the markdown plan: a PR comment must stay under GitHub's
// 65,536 characters with the marker; a step summary may hold 1 MiB.
const (
	commentBudget = 60000
	summaryBudget = 900000
)

// commentMarker identifies the plan comment of one config dir, so each
// config dir keeps exactly one comment on a pull request.
func commentMarker(dir string) string {
	d := filepath.ToSlash(filepath.Clean(dir))
	d = strings.NewReplacer("--", "-", ">", "", "<", "").Replace(d)
	return "<!-- launchplane:plan " + d + " -->"
}

// planHashMarker is the machine-readable plan hash of a plan comment.
func planHashMarker(hash string) string {
	return "<!-- launchplane:plan-hash " + hash + " -->"
}

func planMarkdown(p *plan.Plan, dir string, budget int) string {
	var b bytes.Buffer
	render.WriteMarkdown(&b, p, render.MarkdownOptions{Title: "Launchplane plan", ConfigDir: dir, MaxChars: budget})
	return b.String()
}

// stepSummary appends the plan's markdown to $GITHUB_STEP_SUMMARY under
// GitHub Actions.
func stepSummary(e *env, p *plan.Plan, dir string) {
	path := e.getenv("GITHUB_STEP_SUMMARY")
	if e.getenv("GITHUB_ACTIONS") != "true" || path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = f.WriteString(planMarkdown(p, dir, summaryBudget) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: could not write the step summary: %v\n", err)
	}
}

// commentPlan upserts the plan as the pull request's comment for this
// config dir, with the commit it was planned at, the plan hash and the
// time, and sets the commit status, through the Feedback provider of the
// CI system the job runs in (prTarget). Outside a pull or merge request
// it warns and does nothing; without a token in that CI system, or when
// the API refuses, it is an error.
func commentPlan(ctx context.Context, e *env, p *plan.Plan, dir string) error {
	red := redact.New()
	job, ok, err := prTarget(e, red)
	if err != nil || !ok {
		return err
	}
	pc := newPRContext(job, dir)
	footer := pc.footer(e, p)
	var md bytes.Buffer
	render.WriteMarkdown(&md, p, render.MarkdownOptions{Title: "Launchplane plan", ConfigDir: dir, MaxChars: commentBudget - len(footer) - len(planHashMarker(p.Hash())) - 1, SourceURL: pc.sourceURL})
	marker := commentMarker(dir)
	// The hash line at the end is what the action reads on merge to bind
	// the apply to this plan (apply --expect-plan-hash).
	body := marker + "\n" + md.String() + footer + planHashMarker(p.Hash()) + "\n"
	if err := job.Feedback.UpsertComment(ctx, job.Change, marker, body); err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	fmt.Fprintf(e.stderr, "Posted the plan on %s.\n", job.ChangeRef)
	if job.SHA != "" {
		if err := job.Feedback.SetStatus(ctx, job.SHA, "success", statusContext(dir), statusSummary(p), job.Web.RunURL()); err != nil {
			fmt.Fprintf(e.stderr, "warning: could not set the commit status: %v\n", red.Error(err))
		}
	}
	return nil
}
