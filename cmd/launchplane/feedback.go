package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers/github"
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
// config dir and sets a commit status. Without a token or outside a pull
// request it warns and does nothing; a refused API call is an error.
func commentPlan(ctx context.Context, e *env, p *plan.Plan, dir string) error {
	token := e.getenv("GITHUB_TOKEN")
	if token == "" {
		fmt.Fprintln(e.stderr, "warning: --comment: GITHUB_TOKEN is not set, so the plan was not posted (give the job permissions: pull-requests: write and pass GITHUB_TOKEN)")
		return nil
	}
	ev, err := github.ActionsEvent(e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: --comment: %v; the plan was not posted\n", err)
		return nil
	}
	if ev.PullRequest == 0 {
		fmt.Fprintf(e.stderr, "warning: --comment: event %q is not about a pull request; the plan was not posted\n", ev.Name)
		return nil
	}
	red := redact.New()
	gh, err := github.New(github.Options{Repository: ev.Repository, Token: token, Redactor: red})
	if err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	marker := commentMarker(dir)
	// The hash line at the end is what the action reads on merge to bind
	// the apply to this plan (apply --expect-plan-hash).
	body := marker + "\n" + planMarkdown(p, dir, commentBudget) + "\n" + planHashMarker(p.Hash()) + "\n"
	if err := gh.UpsertComment(ctx, ev.PullRequest, marker, body); err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	fmt.Fprintf(e.stderr, "Posted the plan on %s#%d.\n", ev.Repository, ev.PullRequest)
	if ev.SHA != "" {
		desc := strings.TrimSuffix(render.SummaryLine(p), ".")
		if !p.HasChanges() {
			desc = "no changes"
		}
		if err := gh.SetStatus(ctx, ev.SHA, "success", "launchplane/plan: "+filepath.ToSlash(filepath.Clean(dir)), desc, ""); err != nil {
			fmt.Fprintf(e.stderr, "warning: could not set the commit status: %v\n", red.Error(err))
		}
	}
	return nil
}
