package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/operation"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/request"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// requestProblems checks a request's JSON against its schema and returns
// the diagnostics as text, "" when valid.
func requestProblems(payload []byte) string {
	_, ds := request.Parse("request", payload)
	if !ds.HasErrors() {
		return ""
	}
	var b bytes.Buffer
	ds.Print(&b, false, ".")
	return strings.TrimSpace(b.String())
}

func newServeRequestCmd(e *env) *cobra.Command {
	var dir, stateLocFlag, eventPath string
	cmd := &cobra.Command{
		Use:   "serve-request [--event FILE]",
		Short: "Run a product repository's request (the config repository's workflow, on repository_dispatch)",
		Long: `serve-request runs in the config repository's workflow on a
repository_dispatch of type launchplane-request (sent by 'launchplane
request'). It reads the event (--event, default $GITHUB_EVENT_PATH) and:

  - validates the request against its schema (launchplane schema request):
    unknown fields are errors, so a request cannot name a host, a slug, a
    provider or env;
  - verifies the tenant's OIDC token against the issuer and audience of
    the state repository's policy (spec.oidc), refuses long-lived tokens
    and spends the token once (requests/tokens/ in the state repository);
  - checks the facts against the token: its repository must be the
    product's spec.source.repository, a preview's pull request the
    token's;
  - asks the policy with the tenant's identity (a preview or its removal:
    action preview on lane preview; publish: promote on lane testing);
  - derives everything else from the config and runs the operation with
    this job's credentials, like 'launchplane preview apply|destroy'; a
    publish opens or updates the pull request that moves the testing
    Target to the image (GITHUB_TOKEN: contents and pull-requests write);
  - reports back on the tenant's pull request (a publish: a commit status
    on its commit), through LAUNCHPLANE_FEEDBACK_TOKEN (else GITHUB_TOKEN).

A refused token or a denial exits 4 and is recorded; a denial of a
verified request is also commented on the pull request.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if eventPath == "" {
				eventPath = e.getenv("GITHUB_EVENT_PATH")
			}
			if eventPath == "" {
				return &exitErr{code: exitError, err: errors.New("serve-request: no event: give --event FILE (in GitHub Actions, GITHUB_EVENT_PATH)")}
			}
			return serveRequest(cmd.Context(), e, dir, stateLocFlag, eventPath)
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&eventPath, "event", "", "repository_dispatch event file (default $GITHUB_EVENT_PATH)")
	return cmd
}

// served is one request on its way: what every step reads and adds to.
type served struct {
	e     *env
	dir   string
	ws    *workspace
	red   *redact.Redactor
	req   *request.Request
	event *request.Event
	id    *policy.Identity      // verified
	ev    *state.PolicyEvidence // the decision, as evidence
	grant *policy.Grant         // the policy's, for the request's action on its target
	fb    providers.Feedback
}

// runner is the operation runner on the state repository's tip as the
// request last read it.
func (s *served) runner() *operation.Runner {
	return s.ws.runner(s.e, s.dir)
}

func serveRequest(ctx context.Context, e *env, dir, stateLocFlag, eventPath string) error {
	event, err := request.ReadEvent(eventPath)
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("serve-request: %w", err)}
	}
	red := redact.New()
	req, ds := request.Parse("client_payload", event.Payload)
	if ds.HasErrors() {
		var b bytes.Buffer
		ds.Print(&b, false, ".")
		fmt.Fprint(e.stderr, red.String(b.String()))
		return &exitErr{code: exitError, err: errors.New("serve-request: the request does not match its schema (launchplane schema request): nothing was done")}
	}
	red.Add(req.Token)
	ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
	if err != nil {
		return err
	}
	defer ws.Close()
	s := &served{e: e, dir: dir, ws: ws, red: red, req: req, event: event}
	s.ev = &state.PolicyEvidence{Action: req.Policy().Action, Request: req.Facts()}

	loaded, err := readPolicy(e, ws.snap)
	if err != nil {
		return err
	}
	if loaded.Present() {
		s.ev.PolicyBlob = loaded.Blob()
	}
	issuer, audience := policy.Trust(loaded.Policy())
	tok, err := policy.VerifyToken(ctx, req.Token, issuer, audience, nil, nil)
	if err != nil {
		reason := "the request's token is refused: " + red.String(err.Error())
		s.ev.Decision, s.ev.Identity = "denied", "unverified"
		s.runner().Deny(ctx, []string{req.Key()}, reason, s.ev)
		return &exitErr{code: exitDenied, err: errors.New("serve-request: " + reason)}
	}
	if err := request.Spend(ctx, ws.store, ws.snap, tok, issuer, req, now(e)()); err != nil {
		if errors.Is(err, request.ErrReplayed) {
			return &exitErr{code: exitDenied, err: fmt.Errorf("serve-request: refused: %w", err)}
		}
		return &exitErr{code: exitError, err: fmt.Errorf("serve-request: record the token's use: %w", red.Error(err))}
	}
	if ws.snap, err = ws.store.Snapshot(ctx); err != nil {
		return &exitErr{code: exitError, err: err}
	}
	s.id = &tok.Identity
	s.ev.Identity, s.ev.Source = s.id.String(), s.id.Source
	s.fb = s.feedback()

	if err := s.authorize(loaded); err != nil {
		return err
	}
	if req.Action == request.ActionPublish {
		return s.publish(ctx)
	}
	return s.preview(ctx)
}

// authorize checks the verified request's facts against its token and
// asks the policy for its action on its target; a denial is recorded,
// reported on the pull request, and exit 4.
func (s *served) authorize(loaded *policy.Loaded) error {
	req := s.req
	p := s.ws.cfg.Product(req.Product)
	if p == nil {
		return s.deny(fmt.Sprintf("product %s is not in the config", req.Product))
	}
	source := ""
	if p.Spec.Source != nil {
		source = p.Spec.Source.Repository
	}
	if why := request.CheckFacts(req, *s.id, source, p.Spec.Image); why != "" {
		return s.deny("denied: " + why)
	}
	grant, decisions, err := loaded.Authorize(s.id, policy.Ask{Action: req.Policy().Action, Targets: []string{req.Key()}})
	if len(decisions) != 1 {
		return &exitErr{code: exitError, err: fmt.Errorf("serve-request: the policy decided nothing for %s: %v", req.Key(), err)}
	}
	d := decisions[0].Decision
	s.ev.Reason = d.Reason
	if !d.Allowed {
		return s.deny(d.Reason)
	}
	s.grant = grant
	if d.Rule >= 0 {
		s.ev.Rule = d.Rule + 1
	}
	s.ev.Decision = "allowed"
	fmt.Fprintf(s.e.stderr, "%s\n", d.Reason)
	return nil
}

// readPolicy loads policy.yaml from the state repository, printing its
// diagnostics; one that does not load is exit 1.
func readPolicy(e *env, snap state.Snapshot) (*policy.Loaded, error) {
	loaded, ds, err := policy.Load(snap)
	if len(ds) > 0 {
		printDiagnostics(e, ds, ".")
	}
	if err != nil {
		return nil, &exitErr{code: exitError, err: err}
	}
	return loaded, nil
}

// feedback is the Feedback role of the request's forge on the tenant's
// repository, with LAUNCHPLANE_FEEDBACK_TOKEN, else GITHUB_TOKEN; nil
// (with a warning) without a token.
func (s *served) feedback() providers.Feedback {
	tokenEnv := firstSet(s.e, "LAUNCHPLANE_FEEDBACK_TOKEN", "GITHUB_TOKEN")
	if tokenEnv == "" {
		fmt.Fprintf(s.e.stderr, "warning: no LAUNCHPLANE_FEEDBACK_TOKEN or GITHUB_TOKEN: the outcome is not reported to %s\n", s.id.Repository)
		return nil
	}
	fb, err := forgeRepo(s.e, s.id.Repository, tokenEnv, s.red).Feedback()
	if err != nil {
		fmt.Fprintf(s.e.stderr, "warning: the outcome is not reported: %v\n", s.red.Error(err))
		return nil
	}
	return fb
}

// firstSet is the first of the environment variables names that is set
// to a value, "" when none is.
func firstSet(e *env, names ...string) string {
	for _, n := range names {
		if e.getenv(n) != "" {
			return n
		}
	}
	return ""
}

// forgeRepo is repository at the request's forge, acted on with the token
// in the environment variable tokenEnv, which red gets before anything
// is sent.
func forgeRepo(e *env, repository, tokenEnv string, red *redact.Redactor) request.Repo {
	return request.Repo{Repository: repository, APIURL: e.getenv("GITHUB_API_URL"), TokenEnv: tokenEnv, Getenv: e.getenv, Redactor: red}
}

func requestMarker(product string) string {
	return "<!-- launchplane:request " + product + " -->"
}

// report comments on the tenant's pull request (previews) or sets a
// commit status on the token's commit (publish). A failed report is a
// warning: the operation's outcome stands and is recorded.
func (s *served) report(ctx context.Context, state, headline, details, url string) {
	if s.fb == nil {
		return
	}
	var err error
	where := ""
	if pr := request.PullOf(*s.id); pr > 0 && pr == s.req.PullRequest {
		body := requestMarker(s.req.Product) + "\n### Launchplane: " + s.req.Action + " of " + s.req.Product + "\n\n" + headline + "\n"
		if details != "" {
			body += "\n" + details + "\n"
		}
		err = s.fb.UpsertComment(ctx, pr, requestMarker(s.req.Product), body)
		where = fmt.Sprintf("%s#%d", s.id.Repository, s.req.PullRequest)
	} else if s.id.SHA != "" {
		err = s.fb.SetStatus(ctx, s.id.SHA, state, "launchplane/"+s.req.Action+": "+s.req.Product, headline, url)
		where = fmt.Sprintf("%s@%s", s.id.Repository, short(s.id.SHA))
	}
	if err != nil {
		fmt.Fprintf(s.e.stderr, "warning: the outcome could not be reported to %s: %v\n", s.id.Repository, s.red.Error(err))
		return
	}
	if where != "" {
		fmt.Fprintf(s.e.stderr, "Reported on %s.\n", where)
	}
}

// deny records the denial of a verified request, reports it and exits 4.
func (s *served) deny(reason string) error {
	ctx := context.Background()
	s.ev.Decision = "denied"
	s.ev.Reason = reason
	s.runner().Deny(ctx, []string{s.req.Key()}, reason, s.ev)
	s.report(ctx, "failure", "**Denied**: "+reason, "", "")
	return &exitErr{code: exitDenied, err: errors.New("serve-request: " + reason)}
}

// preview runs a preview or its removal exactly as `launchplane preview
// apply|destroy` does: derived from the product's preview policy, planned
// against the state repository, run by the operation runner with the
// request's grant.
func (s *served) preview(ctx context.Context) error {
	cfg, req := s.ws.cfg, s.req
	fail := func(err error) error {
		err = s.red.Error(err)
		s.report(ctx, "failure", "**Failed**: "+err.Error(), "", "")
		return &exitErr{code: exitError, err: err}
	}
	pv, err := planner.PreviewOf(cfg, req.Product, req.PullRequest)
	if err != nil {
		return fail(err)
	}
	want := cfg
	if req.Action == request.ActionPreview {
		if want, err = planner.WithPreview(cfg, pv, req.Image); err != nil {
			return fail(err)
		}
	}
	p, states, err := planner.Plan(want, s.ws.snap, map[string]bool{pv.Key: true})
	if err != nil {
		return fail(err)
	}
	url := "https://" + pv.Host
	if req.Action == request.ActionDestroy && states[pv.Key] == nil {
		fmt.Fprintf(s.e.stdout, "No preview %s in the state repository: nothing to destroy.\n", pv.Key)
		s.report(ctx, "success", "No preview to remove.", "", "")
		return nil
	}
	plan := planMarkdown(p, s.dir, commentBudget/2)
	if !p.HasChanges() {
		fmt.Fprintf(s.e.stdout, "Preview %s is up to date: %s\n", pv.Key, url)
		s.report(ctx, "success", "**Preview**: "+url+" (up to date)", "", url)
		return nil
	}
	r := s.runner()
	a := &operation.Authorized{Grant: s.grant, Evidence: s.ev, Actor: s.id.String()}
	op := s.ws.operation(s.e, operation.Operation{Action: policy.ActionPreview, Plan: p, Config: want, Redactor: s.red,
		Reason: fmt.Sprintf("request %s from %s", req.Action, s.id.Repository)})
	out, err := r.Execute(ctx, a, op)
	if err != nil {
		s.report(ctx, "failure", "**Failed**: "+s.red.Error(err).Error(), plan, "")
		return opErr(err)
	}
	res := out.Apply
	rec := res.Records[pv.Key]
	if len(res.Failed) > 0 {
		if req.Action == request.ActionPreview && states[pv.Key] == nil {
			if err := removeFailedPreview(ctx, s.e, r, a, op, cfg, pv); err != nil {
				fmt.Fprintf(s.e.stderr, "warning: removing what the failed preview created failed too: %v\n", s.red.Error(err))
			}
		}
		s.report(ctx, "failure", fmt.Sprintf("**Failed**: see record `%s` in the state repository.", rec), plan, "")
		return &exitErr{code: exitError, err: fmt.Errorf("preview %s %s failed; see record %s", req.Action, pv.Key, rec)}
	}
	if req.Action == request.ActionDestroy {
		fmt.Fprintf(s.e.stdout, "Preview %s destroyed: record %s, state commit %s.\n", pv.Key, rec, short(res.Commit))
		s.report(ctx, "success", fmt.Sprintf("**Removed** the preview (record `%s`).", rec), plan, "")
		return nil
	}
	fmt.Fprintf(s.e.stdout, "Preview %s applied: record %s, state commit %s.\nPreview %s: %s\n", pv.Key, rec, short(res.Commit), pv.Key, url)
	s.report(ctx, "success", fmt.Sprintf("**Preview**: %s\n\nImage `%s`, record `%s`.", url, req.Image, rec), plan, url)
	return nil
}

// publish opens or updates the config repository's pull request that
// moves the product's testing Target to the request's image.
func (s *served) publish(ctx context.Context) error {
	req := s.req
	fail := func(err error) error {
		err = s.red.Error(err)
		s.report(ctx, "failure", "publish failed: "+err.Error(), "", "")
		return &exitErr{code: exitError, err: err}
	}
	b, err := planner.BumpTarget(s.ws.cfg, req.Product, request.PublishLane, req.Image, req.SourceCommit)
	if err != nil {
		return fail(err)
	}
	if bytes.Equal(b.Old, b.New) {
		fmt.Fprintf(s.e.stdout, "%s already names %s: no pull request needed.\n", b.Target, req.Image)
		s.report(ctx, "success", b.Target+" already runs this image", "", "")
		return nil
	}
	repo := s.e.getenv("GITHUB_REPOSITORY")
	token := s.e.getenv("GITHUB_TOKEN")
	if repo == "" || token == "" {
		return fail(errors.New("publish needs GITHUB_REPOSITORY (the config repository) and GITHUB_TOKEN (contents: write, pull-requests: write on it)"))
	}
	path, base, err := repoPath(s.dir, b.File)
	if err != nil {
		return fail(err)
	}
	if sha := s.e.getenv("GITHUB_SHA"); sha != "" {
		base = sha
	}
	if base == "" {
		return fail(errors.New("publish: the config checkout's commit is unknown (GITHUB_SHA)"))
	}
	baseBranch := s.event.DefaultBranch
	if baseBranch == "" {
		baseBranch = "main"
	}
	proposer, err := forgeRepo(s.e, repo, "GITHUB_TOKEN", s.red).Proposer()
	if err != nil {
		return fail(err)
	}
	shortImg := state.ShortImage(req.Image)
	title := fmt.Sprintf("%s: deploy %s to %s", req.Product, shortImg, request.PublishLane)
	body := fmt.Sprintf("Moves the `%s` target to the image published by %s:\n\n    %s\n\n", b.Target, s.id.Repository, req.Image)
	if req.SourceCommit != "" {
		body += fmt.Sprintf("Built from %s@%s.\n\n", s.id.Repository, req.SourceCommit)
	}
	if len(req.Checks) > 0 {
		body += "Checks reported by the product repository: " + checksText(req.Checks) + ".\n\n"
	}
	body += "Requested by `" + s.id.String() + "`. The plan comment of this pull request shows what merging deploys."
	pr, err := proposer.Propose(ctx, providers.Proposal{Base: base, BaseBranch: baseBranch, Branch: "launchplane/bump-" + req.Product + "-" + request.PublishLane,
		Path: path, Old: b.Old, New: b.New, Message: title + "\n\nImage: " + req.Image, Title: title, Body: body})
	if err != nil {
		return fail(err)
	}
	verb := "Updated"
	if pr.Created {
		verb = "Opened"
	}
	s.ev.PullRequest = &state.PullRequestEvidence{Repository: repo, Number: pr.Number, URL: pr.URL, Created: pr.Created}
	rec, err := request.RecordPublish(ctx, s.ws.store, s.ws.snap, req, s.id.String(), now(s.e)(), state.RecordSuccess,
		fmt.Sprintf("%s pull request %s#%d", strings.ToLower(verb), repo, pr.Number), s.ev)
	if err != nil {
		fmt.Fprintf(s.e.stderr, "warning: the publish could not be recorded: %v\n", s.red.Error(err))
	}
	fmt.Fprintf(s.e.stdout, "%s pull request %s#%d: %s\nRecord %s.\n", verb, repo, pr.Number, pr.URL, rec)
	s.report(ctx, "success", fmt.Sprintf("%s %s#%d", strings.ToLower(verb), repo, pr.Number), "", pr.URL)
	return nil
}

func checksText(checks map[string]string) string {
	var out []string
	for _, k := range sortedTargets(checks) {
		out = append(out, k+" "+checks[k])
	}
	return strings.Join(out, ", ")
}

// repoPath is a config file's path in the config repository (relative to
// its work tree root, else to the working directory) and the commit the
// work tree is at, "" when unknown.
func repoPath(dir, file string) (string, string, error) {
	abs, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		return "", "", err
	}
	co := gitstore.CheckoutOf(dir)
	root, head := co.Root, co.Head
	if root == "" {
		if root, err = os.Getwd(); err != nil {
			return "", "", err
		}
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", "", fmt.Errorf("%s is outside the config repository's work tree %s", abs, root)
	}
	return filepath.ToSlash(rel), head, nil
}
