package main

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers/github"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/schema"
)

// prContext is what a plan comment says about where it comes from: the
// pull request's head commit it was planned at, and links into that
// commit's files.
type prContext struct {
	repo, sha, server, base string // base: the config dir relative to the checkout
}

func newPRContext(e *env, ev github.Event, dir string) prContext {
	server := strings.TrimSuffix(e.getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	return prContext{repo: ev.Repository, sha: ev.SHA, server: server, base: annotationBase(dir)}
}

// sourceURL links line of file (relative to the config dir) at the
// planned commit; "" when the commit is unknown.
func (c prContext) sourceURL(file string, line int) string {
	if c.sha == "" || c.repo == "" || file == "" {
		return ""
	}
	p := path.Join(c.base, file)
	var segs []string
	for _, s := range strings.Split(p, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	u := fmt.Sprintf("%s/%s/blob/%s/%s", c.server, c.repo, c.sha, strings.Join(segs, "/"))
	if line > 0 {
		u += fmt.Sprintf("#L%d", line)
	}
	return u
}

// footer is the comment's last line: the commit planned at, the plan hash
// and the time, so an old plan never looks current.
func (c prContext) footer(e *env, p *plan.Plan) string {
	var parts []string
	if c.sha != "" {
		parts = append(parts, fmt.Sprintf("planned at commit [`%s`](%s/%s/commit/%s)", short(c.sha), c.server, c.repo, c.sha))
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

// prTarget is the pull request a --comment run posts to, or why it posts
// nothing. Without a token under GitHub Actions it is an error: the
// workflow asked for a comment that cannot be made.
func prTarget(e *env) (ev github.Event, token string, ok bool, err error) {
	token = e.getenv("GITHUB_TOKEN")
	if token == "" {
		if e.getenv("GITHUB_ACTIONS") == "true" {
			return ev, "", false, &exitErr{code: exitError, err: fmt.Errorf("--comment: GITHUB_TOKEN is not set, so the plan cannot be posted (give the job permissions: pull-requests: write and statuses: write, and pass GITHUB_TOKEN)")}
		}
		fmt.Fprintln(e.stderr, "warning: --comment: GITHUB_TOKEN is not set, so the plan was not posted (give the job permissions: pull-requests: write and pass GITHUB_TOKEN)")
		return ev, "", false, nil
	}
	ev, err = github.ActionsEvent(e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: --comment: %v; the plan was not posted\n", err)
		return ev, "", false, nil
	}
	if ev.PullRequest == 0 {
		fmt.Fprintf(e.stderr, "warning: --comment: event %q is not about a pull request; the plan was not posted\n", ev.Name)
		return ev, "", false, nil
	}
	return ev, token, true, nil
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
	ev, token, ok, err := prTarget(e)
	if err != nil || !ok {
		return err
	}
	red := redact.New()
	gh, err := github.New(github.Options{Repository: ev.Repository, Token: token, Redactor: red})
	if err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	pc := newPRContext(e, ev, dir)
	marker := commentMarker(dir)
	text := red.String(body(pc) + pc.footer(e, nil))
	if len(text) > commentBudget {
		text = text[:commentBudget] + "\n\n(cut: see the job log for every diagnostic)\n"
	}
	if err := gh.UpsertComment(ctx, ev.PullRequest, marker, marker+"\n"+text); err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	fmt.Fprintf(e.stderr, "Posted the failure on %s#%d.\n", ev.Repository, ev.PullRequest)
	if ev.SHA != "" {
		if err := gh.SetStatus(ctx, ev.SHA, "failure", statusContext(dir), desc, runURL(e)); err != nil {
			fmt.Fprintf(e.stderr, "warning: could not set the commit status: %v\n", red.Error(err))
		}
	}
	return nil
}

func statusContext(dir string) string {
	return "launchplane/plan: " + filepath.ToSlash(filepath.Clean(dir))
}

// runURL links a status to the workflow run, when known.
func runURL(e *env) string {
	server, repo, id := e.getenv("GITHUB_SERVER_URL"), e.getenv("GITHUB_REPOSITORY"), e.getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", strings.TrimSuffix(server, "/"), repo, id)
}
