package apply

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

type targetResult struct {
	ts     *state.TargetState // nil: the target file is removed
	record *state.Record
	extra  []*state.Record // records written beside the deployment (backup gates)
	failed bool
}

func (r *run) changesOf(target string) []plan.Change {
	var out []plan.Change
	for _, c := range r.o.Plan.Changes {
		if c.Target == target && c.Action != plan.NoOp {
			out = append(out, c)
		}
	}
	return out
}

// targetRun is one target's apply; it is the drivers.Runtime its
// driver's hooks see.
type targetRun struct {
	r         *run
	key       string
	drv       drivers.Driver
	old       *state.TargetState // before this apply; nil for a new target
	ts        *state.TargetState // being built
	rec       *state.Record
	extra     []*state.Record
	changes   []plan.Change
	resources map[string]state.Resource
	notes     map[string]bool
}

func (r *run) newTargetRun(target string) *targetRun {
	old := r.states[target]
	t := &targetRun{r: r, key: target, old: old, changes: r.changesOf(target), resources: map[string]state.Resource{}, notes: map[string]bool{},
		rec: &state.Record{FormatVersion: state.FormatVersion, ID: r.recordIDs[target], Kind: r.o.Kind, Target: target, Reason: r.o.Reason,
			Plan: r.planID, Actor: r.o.Actor, Started: r.o.Now(), Changes: []state.RecordChange{}},
		ts: &state.TargetState{FormatVersion: state.FormatVersion, Target: target, Status: state.StatusUnknown}}
	t.drv = r.driverOf(target)
	if old != nil {
		cp := *old
		cp.ProviderIDs = nil
		for k, v := range old.ProviderIDs {
			cp.ProviderIDs = withID(cp.ProviderIDs, k, v)
		}
		if old.Gate != nil {
			g := *old.Gate
			cp.Gate = &g
		}
		cp.Facts = nil
		for k, v := range old.Facts {
			if cp.Facts == nil {
				cp.Facts = map[string]string{}
			}
			cp.Facts[k] = v
		}
		t.ts = &cp
		for _, res := range old.Resources {
			t.resources[res.Address] = res
		}
		t.rec.PreviousImage = old.Image
	}
	if f, ok := r.cfgFiles[target]; ok {
		t.ts.ConfigFile = f
	}
	return t
}

func (t *targetRun) Target() string                    { return t.key }
func (t *targetRun) Record() string                    { return t.rec.ID }
func (t *targetRun) Now() time.Time                    { return t.r.o.Now() }
func (t *targetRun) Recorded() *state.TargetState      { return t.old }
func (t *targetRun) Provider(name string) (any, error) { return t.r.provider(name) }
func (t *targetRun) Resolve(ref providers.SecretRef) (string, error) {
	return t.r.resolve(ref)
}
func (t *targetRun) Gate() *state.Gate { return t.ts.Gate }
func (t *targetRun) Fact(key string) string {
	return t.ts.Facts[key]
}
func (t *targetRun) SetFact(key, value string) {
	if t.ts.Facts == nil {
		t.ts.Facts = map[string]string{}
	}
	t.ts.Facts[key] = value
}
func (t *targetRun) Note(key string) { t.notes[key] = true }
func (t *targetRun) Noted(key string) bool {
	return t.notes[key]
}

func (t *targetRun) Change(address string) *plan.Change {
	for i := range t.changes {
		if t.changes[i].Address == address {
			return &t.changes[i]
		}
	}
	return nil
}

func (t *targetRun) SetGate(g *state.Gate, rec *state.Record) {
	t.ts.Gate = g
	if rec != nil {
		if rec.Actor == "" {
			rec.Actor = t.r.o.Actor
		}
		if rec.Plan == "" {
			rec.Plan = t.r.planID
		}
		t.extra = append(t.extra, rec)
	}
}

// Step runs a sub-step with progress events and records it.
func (t *targetRun) Step(ctx context.Context, address, action, reason string, fn func(context.Context) (state.Evidence, error)) error {
	rc := state.RecordChange{Address: address, Action: action, Reason: reason}
	t.r.o.Events(Event{Kind: StepStart, Target: t.key, Address: address, Action: action})
	start := time.Now()
	ev, err := fn(ctx)
	elapsed := time.Since(start)
	rc.ElapsedMS = elapsed.Milliseconds()
	rc.Outcome = state.OutcomeDone
	rc.Evidence = ev
	if err != nil {
		err = t.r.o.Redactor.Error(err)
		rc.Outcome, rc.Error = state.OutcomeFailed, err.Error()
	}
	t.r.o.Events(Event{Kind: StepDone, Target: t.key, Address: address, Action: action, Outcome: rc.Outcome, Elapsed: elapsed, Err: err})
	t.rec.Changes = append(t.rec.Changes, rc)
	return err
}

// applyTarget runs one target's changes in order; after a failure the
// rest are skipped. When health or a post-deploy step fails after the app
// changed, the driver's rollback hook decides whether the app goes back
// to the previous healthy image.
func (r *run) applyTarget(ctx context.Context, target string) *targetResult {
	t := r.newTargetRun(target)
	failed := false
	healthRan, healthy, skippedHealth := false, false, false
	var lastApp *plan.Change
	for _, c := range t.changes {
		c := c
		rc := state.RecordChange{Address: c.Address, Action: c.Action.String(), Reason: c.Reason, IdempotencyKey: c.IdempotencyKey}
		if failed {
			rc.Outcome = state.OutcomeSkipped
			t.rec.Changes = append(t.rec.Changes, rc)
			continue
		}
		r.o.Events(Event{Kind: StepStart, Target: target, Address: c.Address, Action: c.Action.String()})
		start := time.Now()
		ev, outcome, err := t.execute(ctx, c)
		elapsed := time.Since(start)
		rc.ElapsedMS = elapsed.Milliseconds()
		rc.Outcome = outcome
		rc.Evidence = ev
		if err != nil {
			err = r.o.Redactor.Error(err)
			rc.Outcome = state.OutcomeFailed
			rc.Error = err.Error()
			failed = true
			t.rec.Error = err.Error()
		}
		r.o.Events(Event{Kind: StepDone, Target: target, Address: c.Address, Action: c.Action.String(), Outcome: rc.Outcome, Elapsed: elapsed, Err: err})
		t.rec.Changes = append(t.rec.Changes, rc)
		if c.Kind == plan.KindHealth {
			healthRan, healthy = err == nil && outcome != state.OutcomeSkipped, err == nil
			skippedHealth = outcome == state.OutcomeSkipped
		}
		if err != nil && lastApp != nil && r.o.Kind != state.KindRollback && (c.Kind == plan.KindHealth || c.Kind == plan.KindPostDeploy) {
			t.rollback(ctx, lastApp)
			continue
		}
		if err != nil || plan.IsStep(c.Kind) {
			continue
		}
		if c.Action == plan.Delete {
			delete(t.resources, c.Address)
			delete(t.ts.ProviderIDs, c.Address)
			continue
		}
		t.resources[c.Address] = state.Resource{Address: c.Address, Kind: c.Kind, Provider: c.Provider, Attrs: c.After, IdempotencyKey: c.IdempotencyKey}
		if id := state.AppIDOf(ev); id != "" {
			t.ts.ProviderIDs = withID(t.ts.ProviderIDs, c.Address, id)
		}
		if c.Kind == plan.KindApp {
			lastApp = &c
		}
	}
	return t.finish(failed, healthRan && healthy, skippedHealth, lastApp != nil)
}

// finish builds the target's new state and records.
func (t *targetRun) finish(failed, healthy, skippedHealth, deployed bool) *targetResult {
	ts, rec := t.ts, t.rec
	rec.Finished = t.r.o.Now()
	rendered := t.settleOutcome(failed)
	t.settleImage(deployed, healthy)
	t.settleStatus(failed, healthy, rendered, deployed || skippedHealth)
	t.settleEvidence(skippedHealth)
	t.settleSequence()
	res := &targetResult{ts: ts, record: rec, extra: t.extra, failed: failed}
	if len(t.resources) == 0 && !failed && (ts.Gate == nil || ts.Gate.UsedBy != "") {
		// everything was removed: so is the target file (a final backup
		// before a destroy stays in its backup-gate record)
		res.ts = nil
	}
	return res
}

// settleOutcome sets the record's outcome: failed, rendered when a
// render-only provider deployed the app (nothing runs), or success. It
// reports whether the app was rendered.
func (t *targetRun) settleOutcome(failed bool) (rendered bool) {
	for _, c := range t.rec.Changes {
		rendered = rendered || c.Outcome == state.OutcomeRendered
	}
	switch {
	case failed:
		t.rec.Outcome = state.RecordFailed
	case rendered:
		t.rec.Outcome = state.RecordRendered
	default:
		t.rec.Outcome = state.RecordSuccess
	}
	return rendered
}

// settleImage records the resources and the image the target runs now,
// which record deployed it, and the healthy images.
func (t *targetRun) settleImage(deployed, healthy bool) {
	ts, rec := t.ts, t.rec
	ts.Resources = make([]state.Resource, 0, len(t.resources))
	for _, a := range slices.Sorted(maps.Keys(t.resources)) {
		ts.Resources = append(ts.Resources, t.resources[a])
	}
	before := ts.Image
	ts.Image = ""
	if app, ok := t.resources[t.key+"/app"]; ok {
		ts.Image, _ = app.Attrs["image"].(string)
	}
	if deployed && ts.Image != before {
		ts.ImageRecord = rec.ID
		ts.RolledBack = nil
		if rec.Kind == state.KindRollback {
			ts.RolledBack = &state.RolledBack{Record: rec.ID, From: before, To: ts.Image, Reason: rec.Reason}
		}
	}
	rec.Image = ts.Image
	if healthy && ts.HealthyImage != ts.Image {
		ts.PreviousHealthyImage = ts.HealthyImage
		ts.HealthyImage = ts.Image
	}
}

// settleStatus sets the target's status; unchecked is a deployment (or
// a skipped health check) without a passing health check.
func (t *targetRun) settleStatus(failed, healthy, rendered, unchecked bool) {
	ts := t.ts
	switch {
	case ts.Status == state.StatusNeedsOperator && ts.NeedsOperator != "":
		// set by a rollback that could not be done safely
	case failed:
		ts.Status = state.StatusFailed
	case healthy:
		ts.Status = state.StatusHealthy
	case rendered:
		ts.Status = state.StatusRendered
	case unchecked:
		ts.Status = state.StatusUnknown // deployed without a passing health check
	}
}

// settleEvidence adds the record's own evidence: the promotion check,
// a skipped health check, the policy decision, and the interrupted
// applies whose records this one writes.
func (t *targetRun) settleEvidence(skippedHealth bool) {
	rec := t.rec
	ev := state.RunEvidence{Promotion: t.r.promotions[t.key], Policy: t.r.o.Authorization}
	if skippedHealth {
		ev.Health = state.HealthWasSkipped
	}
	for _, f := range interruptedRuns(t.old) {
		t.extra = append(t.extra, interruptedRecord(t.key, f, rec.ID, t.r.o.Now()))
		ev.Interrupted = append(ev.Interrupted, f.Record)
	}
	t.ts.Interrupted = nil
	rec.Evidence = ev
}

// settleSequence numbers the records written beside this one, then this
// one, and releases the in-flight mark.
func (t *targetRun) settleSequence() {
	ts := t.ts
	for _, x := range t.extra {
		ts.Sequence++
		x.Sequence = ts.Sequence
	}
	ts.Sequence++
	t.rec.Sequence = ts.Sequence
	ts.LastRecord = t.rec.ID
	ts.InFlight = nil
	ts.UpdatedAt = t.r.o.Now()
}

// rollback runs after a failure that followed the app change: the driver
// decides whether the previous healthy image may be redeployed (odoo
// restores the gate's backup first, or hands the target to an operator).
func (t *targetRun) rollback(ctx context.Context, app *plan.Change) {
	v := t.drv.OnRollback(ctx, t)
	if !v.Proceed {
		rc := state.RecordChange{Address: app.Address, Action: "rollback", Reason: "step after the app change failed", Outcome: state.OutcomeSkipped, Error: v.Reason,
			Evidence: v.Evidence}
		t.rec.Changes = append(t.rec.Changes, rc)
		if v.Status != "" {
			t.ts.Status = v.Status
			t.ts.NeedsOperator = v.Reason
		}
		t.r.o.Events(Event{Kind: Info, Target: t.key, Message: fmt.Sprintf("%s: not rolled back: %s", t.key, t.r.o.Redactor.String(v.Reason))})
		return
	}
	old := t.old
	if old == nil || old.HealthyImage == "" {
		t.rec.Changes = append(t.rec.Changes, state.RecordChange{Address: app.Address, Action: "rollback", Reason: "step after the app change failed",
			Outcome: state.OutcomeSkipped, Error: "no previous healthy image to roll back to"})
		return
	}
	a, err := plan.AppOf(app.After)
	if err != nil {
		t.rec.Changes = append(t.rec.Changes, state.RecordChange{Address: app.Address, Action: "rollback", Reason: "step after the app change failed",
			Outcome: state.OutcomeSkipped, Error: err.Error()})
		return
	}
	a.Image = old.HealthyImage
	after := a.Attrs()
	c := *app
	c.Action = plan.Update
	c.After = after
	c.IdempotencyKey = plan.IdempotencyKey(t.key, plan.Update, after)
	rc := state.RecordChange{Address: app.Address, Action: "rollback", Reason: "health check failed", IdempotencyKey: c.IdempotencyKey}
	if t.failedKind() != plan.KindHealth {
		rc.Reason = string(t.failedKind()) + " failed"
	}
	t.r.o.Events(Event{Kind: StepStart, Target: t.key, Address: c.Address, Action: "rollback"})
	start := time.Now()
	ev, outcome, err := t.execute(ctx, c)
	elapsed := time.Since(start)
	rc.ElapsedMS = elapsed.Milliseconds()
	rc.Outcome = outcome
	dep, _ := ev.(state.DeployEvidence)
	dep.Image = old.HealthyImage
	if dep.AppID == "" {
		dep.AppID = state.AppIDOf(ev)
	}
	rc.Evidence = dep
	if err != nil {
		err = t.r.o.Redactor.Error(err)
		rc.Outcome, rc.Error = state.OutcomeFailed, err.Error()
	} else {
		t.resources[c.Address] = state.Resource{Address: c.Address, Kind: c.Kind, Provider: c.Provider, Attrs: after, IdempotencyKey: c.IdempotencyKey}
	}
	t.r.o.Events(Event{Kind: StepDone, Target: t.key, Address: c.Address, Action: "rollback", Outcome: rc.Outcome, Elapsed: elapsed, Err: err})
	t.rec.Changes = append(t.rec.Changes, rc)
}

// failedKind is the kind of the change whose failure stopped the target.
func (t *targetRun) failedKind() plan.Kind {
	for i := len(t.rec.Changes) - 1; i >= 0; i-- {
		rc := t.rec.Changes[i]
		if rc.Outcome == state.OutcomeFailed {
			if c := t.Change(rc.Address); c != nil {
				return c.Kind
			}
		}
	}
	return ""
}

// execute runs a change: app, route and health changes through apply's
// own code, every other step through the driver's dispatch table.
func (t *targetRun) execute(ctx context.Context, c plan.Change) (state.Evidence, state.ChangeOutcome, error) {
	switch c.Kind {
	case plan.KindApp, plan.KindRoute, plan.KindHealth:
		return t.r.execute(ctx, c)
	}
	step := t.drv.Steps()[c.Kind]
	if step == nil {
		return nil, "", fmt.Errorf("%s: driver %s has no step %s", c.Address, t.drv.Descriptor().ID, c.Kind)
	}
	return step(ctx, t, c)
}

// execute performs one change through its provider. Creates and updates
// first observe, so a change an interrupted apply already made is not
// made again.
func (r *run) execute(ctx context.Context, c plan.Change) (state.Evidence, state.ChangeOutcome, error) {
	inst, err := r.provider(c.Provider)
	if err != nil {
		return nil, "", err
	}
	switch c.Kind {
	case plan.KindApp:
		return r.executeApp(ctx, c, inst)
	case plan.KindRoute:
		return r.executeRoute(ctx, c, inst.(providers.Ingress))
	case plan.KindHealth:
		return r.executeHealth(ctx, c, inst)
	}
	return nil, "", fmt.Errorf("%s: unknown kind %s", c.Address, c.Kind)
}

// wrap says which provider operation on c's target failed.
func wrap(c plan.Change, op string, err error) error {
	return providers.Wrap(c.Provider, op, c.Target, err)
}

// executeApp destroys or deploys the app, unless an interrupted apply
// already deployed it.
func (r *run) executeApp(ctx context.Context, c plan.Change, inst any) (state.Evidence, state.ChangeOutcome, error) {
	dep := inst.(providers.Deployer)
	attrs := c.After
	if c.Action == plan.Delete {
		attrs = c.Before
	}
	a, err := plan.AppOf(attrs)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", c.Address, err)
	}
	ref := providers.AppRef{Target: c.Target, Name: a.Name, ID: r.providerID(c.Target, c.Address)}
	// A render-only deployer's deploy is rendered, never done.
	done := state.OutcomeDone
	if l, ok := inst.(providers.Limited); ok && c.Action != plan.Delete && l.Limitation(ctx) != "" {
		done = state.OutcomeRendered
	}
	if c.Action == plan.Delete {
		return nil, state.OutcomeDone, wrap(c, "destroy", dep.Destroy(ctx, ref))
	}
	st, err := dep.Observe(ctx, ref)
	if err != nil {
		return nil, "", wrap(c, "observe", err)
	}
	// Done already (an interrupted apply made it): the same deploy
	// completed and the app still runs its image. An image changed
	// behind Launchplane's back is deployed again (drift).
	if st.Exists && st.IdempotencyKey == c.IdempotencyKey && st.Image == a.Image {
		if done == state.OutcomeRendered {
			return state.AlreadyDeployed{AppID: st.ID}, done, nil
		}
		return state.AlreadyDeployed{AppID: st.ID}, state.OutcomeAlreadyDone, nil
	}
	app, ev := r.appOf(c, a, ref)
	id, facts, err := dep.Deploy(ctx, app)
	// what a platform printed may hold what it ran with: redacted
	// before it is recorded, whatever the adapter did
	ev.DeployFacts = facts.Redacted(r.o.Redactor.String)
	ev.AppID = id
	return ev, done, wrap(c, "deploy", err)
}

// executeRoute deletes or ensures a route, unless the same route is
// there already.
func (r *run) executeRoute(ctx context.Context, c plan.Change, ing providers.Ingress) (state.Evidence, state.ChangeOutcome, error) {
	attrs := c.After
	if c.Action == plan.Delete {
		attrs = c.Before
	}
	route, err := plan.RouteOf(attrs)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", c.Address, err)
	}
	if c.Action == plan.Delete {
		return nil, state.OutcomeDone, wrap(c, "delete route", ing.DeleteRoute(ctx, c.Target, route.Domain))
	}
	routes, err := ing.ListRoutes(ctx, c.Target)
	if err != nil {
		return nil, "", wrap(c, "list routes", err)
	}
	for _, rt := range routes {
		if rt.Domain == route.Domain && rt.IdempotencyKey == c.IdempotencyKey && rt.Port == route.Port && rt.Upstream == route.Upstream {
			return state.RouteEvidence{Domain: rt.Domain}, state.OutcomeAlreadyDone, nil
		}
	}
	facts, err := ing.EnsureRoute(ctx, providers.Route{Target: c.Target, Domain: route.Domain, Upstream: route.Upstream, Port: route.Port, IdempotencyKey: c.IdempotencyKey})
	return state.RouteEvidence{Domain: route.Domain, RouteFacts: facts}, state.OutcomeDone, wrap(c, "route", err)
}

// executeHealth polls the health URL, through the provider when it
// checks health itself; a limited provider skips it and says why.
func (r *run) executeHealth(ctx context.Context, c plan.Change, inst any) (state.Evidence, state.ChangeOutcome, error) {
	h, err := plan.HealthOf(c.After)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", c.Address, err)
	}
	timeout, _ := time.ParseDuration(h.Timeout)
	if timeout == 0 {
		timeout = time.Minute
	}
	if l, ok := inst.(providers.Limited); ok {
		if why := l.Limitation(ctx); why != "" {
			return state.HealthSkipped{URL: h.URL, Skipped: why}, state.OutcomeSkipped, nil
		}
	}
	var res providers.HealthResult
	if hc, ok := inst.(providers.HealthChecker); ok {
		res, err = hc.CheckHealth(ctx, c.Target, h.URL, timeout)
	} else {
		res, err = httpHealth(ctx, h.URL, timeout)
	}
	// detail is made of the (public) URL, the status and Go's transport
	// errors: not redacted, so a secret equal to a domain label does
	// not mask the URL; the last guard of the write still applies
	if !res.Healthy && strings.TrimSpace(res.Body) != "" {
		// redacted before it is cut, so no secret is cut in half
		res.Detail += ": " + bodyExcerpt(r.o.Redactor.String(res.Body))
	}
	he := state.HealthEvidence{URL: h.URL, Attempts: res.Attempts, LastStatus: res.Status, LatencyMS: res.Latency.Milliseconds(), Detail: res.Detail}
	if !res.Healthy && strings.TrimSpace(res.Body) != "" {
		he.Body = bodyExcerpt(r.o.Redactor.String(res.Body))
	}
	if err == nil && !res.Healthy {
		err = fmt.Errorf("unhealthy after %d attempt(s): %s", res.Attempts, res.Detail)
	}
	return he, state.OutcomeDone, wrap(c, "health check", err)
}

// appOf builds the provider's App with resolved secrets, and the evidence
// that may be recorded of it: key names, counts and a hash over sorted
// key names, never values.
func (r *run) appOf(c plan.Change, a plan.App, ref providers.AppRef) (providers.App, state.DeployEvidence) {
	env := maps.Clone(a.Env)
	if env == nil {
		env = map[string]string{}
	}
	r.mu.Lock()
	secrets := r.secrets[c.Target]
	r.mu.Unlock()
	var keys []string
	for k, v := range secrets {
		env[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	// never nil: an app without env records "keys": [], not null
	envKeys := slices.AppendSeq(make([]string, 0, len(env)), maps.Keys(env))
	slices.Sort(envKeys)
	return providers.App{AppRef: ref, Image: a.Image, Port: a.Port,
			Env: env, SecretKeys: keys, IdempotencyKey: c.IdempotencyKey, Title: r.recordIDs[c.Target]},
		state.DeployEvidence{Image: a.Image, Env: state.Names(envKeys, ""), Secrets: state.Names(keys, hex.EncodeToString(h[:]))}
}

func withID(m map[string]string, address, id string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[address] = id
	return m
}

// providerID is the provider object id recorded for address, or "".
func (r *run) providerID(target, address string) string {
	if ts := r.states[target]; ts != nil {
		return ts.ProviderIDs[address]
	}
	return ""
}

// maxHealthBody is how much of a health answer is read.
const maxHealthBody = 1 << 20

// maxBodyKept is how much of an unhealthy answer's body is kept for the
// excerpt; bodyExcerptLen is how many characters of it are shown.
const (
	maxBodyKept    = 4 << 10
	bodyExcerptLen = 300
)

// bodyExcerpt is the first 300 characters of a (redacted) body, on one
// line, valid UTF-8, with "…" when cut.
func bodyExcerpt(body string) string {
	s := strings.ToValidUTF8(strings.TrimSpace(body), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > bodyExcerptLen {
		s = string(r[:bodyExcerptLen]) + "…"
	}
	return s
}

// httpHealth polls url until it answers 2xx itself (redirects are not
// followed) with a body that is not a JSON object whose "ok" is anything
// but true, or the timeout passes, backing off between attempts.
func httpHealth(ctx context.Context, url string, timeout time.Duration) (providers.HealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := providers.HealthResult{}
	if _, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil); err != nil {
		return res, fmt.Errorf("health URL %q: %w", url, err)
	}
	wait := 500 * time.Millisecond
	client := &http.Client{
		Timeout: 10 * time.Second,
		// The health URL itself must answer: a redirect to a login page
		// that answers 200 is not a healthy app.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for {
		res.Attempts++
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		res.Latency = time.Since(start)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody+1))
			resp.Body.Close()
			res.Status = resp.StatusCode
			res.Detail = fmt.Sprintf("HTTP %d", resp.StatusCode)
			res.Body = string(body[:min(len(body), maxBodyKept)])
			if resp.StatusCode/100 == 2 {
				if why := healthBody(body); why != "" {
					res.Detail += ": " + why
				} else {
					res.Healthy, res.Body = true, ""
					return res, nil
				}
			}
		} else {
			res.Status = 0
			res.Detail = err.Error()
			res.Body = ""
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, nil
		case <-t.C:
		}
		if wait < 8*time.Second {
			wait *= 2
		}
	}
}

// healthBody says why a 2xx answer is still unhealthy, "" when it is
// not: a JSON object must parse, and its "ok", when present, must be true.
func healthBody(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "" // not JSON: the status decides
	}
	if len(body) > maxHealthBody {
		return "JSON answer over 1 MiB"
	}
	var v struct {
		OK json.RawMessage `json:"ok"`
	}
	if err := json.Unmarshal(trimmed, &v); err != nil {
		return "the JSON answer does not parse"
	}
	if v.OK != nil && string(bytes.TrimSpace(v.OK)) != "true" {
		return fmt.Sprintf(`"ok": %s`, v.OK)
	}
	return ""
}

// finish commits the new target state and the records in one commit.
func (r *run) finish(ctx context.Context, base string, targets []string, results map[string]*targetResult) (*Result, error) {
	out := &Result{Records: map[string]string{}}
	var changes []state.Change
	for _, t := range targets {
		res := results[t]
		out.Records[t] = res.record.ID
		if res.failed {
			out.Failed = append(out.Failed, t)
		}
		for _, x := range append(slices.Clone(res.extra), res.record) {
			ch, err := recordChange(t, x)
			if err != nil {
				return nil, fmt.Errorf("record the apply: %w", err)
			}
			changes = append(changes, ch)
		}
		if res.ts == nil {
			changes = append(changes, state.Change{Path: state.TargetPath(t), Delete: true})
		} else {
			ch, err := targetChange(t, res.ts)
			if err != nil {
				return nil, fmt.Errorf("record the apply: %w", err)
			}
			changes = append(changes, ch)
		}
	}
	// State files and records are built from typed values that hold no
	// secret; they are never rewritten by the redactor. A secret value
	// found in them is a bug: the write fails loudly instead.
	if err := r.guard(changes); err != nil {
		return nil, fmt.Errorf("record the apply: %w", err)
	}
	// The subject is a summary whatever the number of targets; the body
	// lists each target with what happened to it.
	counts := map[string]int{}
	var body strings.Builder
	for _, t := range targets {
		res := results[t]
		what := "updated"
		switch {
		case res.failed:
			what = "failed"
		case res.ts == nil:
			what = "deleted"
		case r.states[t] == nil:
			what = "created"
		}
		counts[what]++
		body.WriteString(t + ": " + what + "\n")
	}
	var parts []string
	for _, what := range []string{"created", "updated", "deleted", "failed"} {
		if counts[what] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[what], what))
		}
	}
	msg := fmt.Sprintf("launchplane: apply %s: %s\n\n%s", countTargets(len(targets)), strings.Join(parts, ", "), body.String())
	sha, err := r.o.Store.Commit(ctx, state.Write{Base: base, Changes: changes, Scopes: scopes(targets), Message: msg, Trailers: r.trailers(targets), Author: r.author()})
	if err != nil {
		return nil, fmt.Errorf("record the apply: %w", err)
	}
	out.Commit = sha
	return out, nil
}

// countTargets is "1 target" or "N targets".
func countTargets(n int) string {
	if n == 1 {
		return "1 target"
	}
	return fmt.Sprintf("%d targets", n)
}
