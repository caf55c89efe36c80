package main

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/schema"
)

// prContext is what a plan comment says about where it comes from: the
// pull or merge request's head commit it was planned at, and links into
// that commit's files.
type prContext struct {
	job  providers.CIJob
	base string // the config dir relative to the checkout
}

func newPRContext(job providers.CIJob, dir string) prContext {
	return prContext{job: job, base: annotationBase(dir)}
}

// sourceURL links line of file (relative to the config dir) at the
// planned commit; "" when the commit is unknown.
func (c prContext) sourceURL(file string, line int) string {
	if c.job.SHA == "" || c.job.Repository == "" || file == "" {
		return ""
	}
	return c.job.Web.FileURL(c.job.SHA, path.Join(c.base, file), line)
}

// footer is the comment's last line: the commit planned at, the plan hash
// and the time, so an old plan never looks current.
func (c prContext) footer(e *env, p *plan.Plan) string {
	var parts []string
	if sha := c.job.SHA; sha != "" {
		parts = append(parts, fmt.Sprintf("planned at commit [`%s`](%s)", short(sha), c.job.Web.CommitURL(sha)))
	}
	if p != nil {
		parts = append(parts, fmt.Sprintf("plan hash `%s`", p.Hash()))
	}
	parts = append(parts, now(e)().UTC().Format("2006-01-02 15:04:05 UTC"))
	return "\n<sub>" + strings.Join(parts, " · ") + "</sub>\n"
}

// statusSummary is the commit status description: "3 to update, 1 to
// delete", or "no changes".
func statusSummary(p *plan.Plan) string {
	s := p.Summary()
	var parts []string
	for _, a := range []plan.Action{plan.Create, plan.Update, plan.Replace, plan.Delete, plan.Run} {
		if s[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", s[a], a))
		}
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// prTarget is the pull or merge request a --comment run posts to, read
// from the CI job's environment by the Feedback provider of its CI
// system (providers.DetectCI), or why it posts nothing. Without a token
// in the CI system itself it is an error: the workflow asked for a
// comment that cannot be made. Every token found is registered with red.
func prTarget(e *env, red *redact.Redactor) (job providers.CIJob, ok bool, err error) {
	job, found, err := providers.DetectCI(providers.CIEnv{Getenv: e.getenv, Redactor: red})
	switch {
	case err != nil:
		return job, false, &exitErr{code: exitError, err: fmt.Errorf("--comment: %w", err)}
	case !found:
		fmt.Fprintln(e.stderr, "warning: --comment: no CI system that Launchplane can comment from was recognised; the plan was not posted")
		return job, false, nil
	case job.Problem != "":
		fmt.Fprintf(e.stderr, "warning: --comment: %s; the plan was not posted\n", red.String(job.Problem))
		return job, false, nil
	case job.Feedback == nil && job.Unavailable != "" && job.Required:
		return job, false, &exitErr{code: exitError, err: fmt.Errorf("--comment: %s, so the plan cannot be posted (%s)", job.Unavailable, job.Need)}
	case job.Feedback == nil && job.Unavailable != "":
		fmt.Fprintf(e.stderr, "warning: --comment: %s, so the plan was not posted (%s)\n", job.Unavailable, job.Need)
		return job, false, nil
	case job.Change == 0:
		fmt.Fprintf(e.stderr, "warning: --comment: event %q is not about a %s; the plan was not posted\n", job.Event, job.ChangeKind)
		return job, false, nil
	case job.Feedback == nil:
		return job, false, &exitErr{code: exitError, err: fmt.Errorf("--comment: %s gave no way to post on %s", job.Provider, job.ChangeRef)}
	}
	return job, true, nil
}

// commentDiagnostics replaces the pull request's plan comment with the
// config's diagnostics, linked to the lines of the PR's files, and sets
// the commit status to failure: an old plan must never look current.
func commentDiagnostics(ctx context.Context, e *env, dir string) error {
	_, ds := schema.Load(dir)
	errs := 0
	for _, d := range ds {
		if d.Severity == diag.Error {
			errs++
		}
	}
	desc := fmt.Sprintf("invalid config: %s", plural(errs, "error"))
	return postFailure(ctx, e, dir, desc, func(pc prContext) string {
		var b strings.Builder
		fmt.Fprintf(&b, "### Launchplane plan: `%s`\n\n**The config is invalid (%s): no plan was made.** Fix these and push again:\n\n", render.MarkdownText(pc.base), plural(errs, "error"))
		for _, d := range ds {
			where := d.Pos.String()
			if where == "" {
				where = pc.base
			}
			link := "`" + where + "`"
			if u := pc.sourceURL(d.Pos.File, d.Pos.Line); u != "" {
				link = "[" + link + "](" + u + ")"
			}
			msg := d.Message
			if d.Field != "" {
				msg = d.Field + ": " + msg
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", link, d.Severity, render.MarkdownText(msg))
		}
		return b.String()
	})
}

// commentPlanError replaces the plan comment with a plan that failed.
func commentPlanError(ctx context.Context, e *env, dir string, planErr error) error {
	return postFailure(ctx, e, dir, "plan failed", func(pc prContext) string {
		return fmt.Sprintf("### Launchplane plan: `%s`\n\n**The plan failed:** %s\n", render.MarkdownText(pc.base), render.MarkdownText(planErr.Error()))
	})
}

func postFailure(ctx context.Context, e *env, dir, desc string, body func(prContext) string) error {
	red := redact.New()
	job, ok, err := prTarget(e, red)
	if err != nil || !ok {
		return err
	}
	pc := newPRContext(job, dir)
	marker := commentMarker(dir)
	text := red.String(body(pc) + pc.footer(e, nil))
	if len(text) > commentBudget {
		text = text[:commentBudget] + "\n\n(cut: see the job log for every diagnostic)\n"
	}
	if err := job.Feedback.UpsertComment(ctx, job.Change, marker, marker+"\n"+text); err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	fmt.Fprintf(e.stderr, "Posted the failure on %s.\n", job.ChangeRef)
	if job.SHA != "" {
		if err := job.Feedback.SetStatus(ctx, job.SHA, "failure", statusContext(dir), desc, job.Web.RunURL()); err != nil {
			fmt.Fprintf(e.stderr, "warning: could not set the commit status: %v\n", red.Error(err))
		}
	}
	return nil
}

func statusContext(dir string) string {
	return "launchplane/plan: " + filepath.ToSlash(filepath.Clean(dir))
}
