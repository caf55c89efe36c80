package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

type targetResult struct {
	ts     *state.TargetState // nil: the target file is removed
	record *state.Record
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

// applyTarget runs one target's changes in order; after a failure the
// rest are skipped. A failed health check rolls the app back to the
// previous healthy image.
func (r *run) applyTarget(ctx context.Context, target string) *targetResult {
	old := r.states[target]
	rec := &state.Record{FormatVersion: state.FormatVersion, ID: r.recordIDs[target], Kind: "deployment", Target: target,
		Plan: r.planID, Actor: r.o.Actor, Started: r.o.Now(), Changes: []state.RecordChange{}}
	resources := map[string]state.Resource{}
	ts := &state.TargetState{FormatVersion: state.FormatVersion, Target: target, Status: state.StatusUnknown}
	if old != nil {
		cp := *old
		cp.ProviderIDs = nil
		for k, v := range old.ProviderIDs {
			cp.ProviderIDs = withID(cp.ProviderIDs, k, v)
		}
		ts = &cp
		for _, res := range old.Resources {
			resources[res.Address] = res
		}
		rec.PreviousImage = old.Image
	}
	failed := false
	healthRan, healthy := false, false
	var lastApp *plan.Change
	for _, c := range r.changesOf(target) {
		c := c
		rc := state.RecordChange{Address: c.Address, Action: c.Action.String(), Reason: c.Reason, IdempotencyKey: c.IdempotencyKey}
		if failed {
			rc.Outcome = state.OutcomeSkipped
			rec.Changes = append(rec.Changes, rc)
			continue
		}
		r.o.Events(Event{Kind: StepStart, Target: target, Address: c.Address, Action: c.Action.String()})
		start := time.Now()
		ev, outcome, err := r.execute(ctx, c)
		elapsed := time.Since(start)
		rc.ElapsedMS = elapsed.Milliseconds()
		rc.Outcome = outcome
		if ev != nil {
			rc.Evidence = r.o.Redactor.Value(map[string]any(ev)).(map[string]any)
		}
		if err != nil {
			err = r.o.Redactor.Error(err)
			rc.Outcome = state.OutcomeFailed
			rc.Error = err.Error()
			failed = true
			rec.Error = err.Error()
		}
		r.o.Events(Event{Kind: StepDone, Target: target, Address: c.Address, Action: c.Action.String(), Outcome: rc.Outcome, Elapsed: elapsed, Err: err})
		rec.Changes = append(rec.Changes, rc)
		if c.Kind == plan.KindHealth {
			healthRan, healthy = true, err == nil
			if err != nil && lastApp != nil {
				rec.Changes = append(rec.Changes, r.rollback(ctx, target, old, lastApp, resources))
			}
			continue
		}
		if err != nil || plan.IsStep(c.Kind) {
			continue
		}
		if c.Action == plan.Delete {
			delete(resources, c.Address)
			delete(ts.ProviderIDs, c.Address)
			continue
		}
		resources[c.Address] = state.Resource{Address: c.Address, Kind: c.Kind, Provider: c.Provider, Attrs: c.After, IdempotencyKey: c.IdempotencyKey}
		if id, ok := ev["app_id"].(string); ok && id != "" {
			ts.ProviderIDs = withID(ts.ProviderIDs, c.Address, id)
		}
		if c.Kind == plan.KindApp {
			lastApp = &c
		}
	}
	rec.Finished = r.o.Now()
	rec.Outcome = "success"
	if failed {
		rec.Outcome = "failed"
	}
	ts.Resources = make([]state.Resource, 0, len(resources))
	for _, a := range sortedKeys(resources) {
		ts.Resources = append(ts.Resources, resources[a])
	}
	ts.Image = ""
	if app, ok := resources[target+"/app"]; ok {
		ts.Image, _ = app.Attrs["image"].(string)
	}
	rec.Image = ts.Image
	if healthRan && healthy && ts.HealthyImage != ts.Image {
		ts.PreviousHealthyImage = ts.HealthyImage
		ts.HealthyImage = ts.Image
	}
	switch {
	case failed:
		ts.Status = state.StatusFailed
	case healthRan && healthy:
		ts.Status = state.StatusHealthy
	case lastApp != nil:
		ts.Status = state.StatusUnknown // deployed without a health check
	}
	ts.Sequence++
	rec.Sequence = ts.Sequence
	ts.LastRecord = rec.ID
	ts.InFlight = nil
	ts.UpdatedAt = r.o.Now()
	res := &targetResult{ts: ts, record: rec, failed: failed}
	if len(resources) == 0 && !failed {
		res.ts = nil // everything was removed: so is the target file
	}
	return res
}

// rollback redeploys the previous healthy image after a failed health
// check, with the same env, and returns what happened as a record change.
func (r *run) rollback(ctx context.Context, target string, old *state.TargetState, app *plan.Change, resources map[string]state.Resource) state.RecordChange {
	rc := state.RecordChange{Address: app.Address, Action: "rollback", Reason: "health check failed"}
	if old == nil || old.HealthyImage == "" {
		rc.Outcome = state.OutcomeSkipped
		rc.Error = "no previous healthy image to roll back to"
		return rc
	}
	after := map[string]any{}
	for k, v := range app.After {
		after[k] = v
	}
	after["image"] = old.HealthyImage
	c := *app
	c.Action = plan.Update
	c.After = after
	c.IdempotencyKey = plan.IdempotencyKey(target, plan.Update, after)
	rc.IdempotencyKey = c.IdempotencyKey
	r.o.Events(Event{Kind: StepStart, Target: target, Address: c.Address, Action: "rollback"})
	start := time.Now()
	ev, outcome, err := r.execute(ctx, c)
	elapsed := time.Since(start)
	rc.ElapsedMS = elapsed.Milliseconds()
	rc.Outcome = outcome
	rc.Evidence = map[string]any{"image": old.HealthyImage}
	if ev != nil {
		for k, v := range r.o.Redactor.Value(map[string]any(ev)).(map[string]any) {
			rc.Evidence[k] = v
		}
	}
	if err != nil {
		err = r.o.Redactor.Error(err)
		rc.Outcome, rc.Error = state.OutcomeFailed, err.Error()
	} else {
		resources[c.Address] = state.Resource{Address: c.Address, Kind: c.Kind, Provider: c.Provider, Attrs: after, IdempotencyKey: c.IdempotencyKey}
	}
	r.o.Events(Event{Kind: StepDone, Target: target, Address: c.Address, Action: "rollback", Outcome: rc.Outcome, Elapsed: elapsed, Err: err})
	return rc
}

// execute performs one change through its provider. Creates and updates
// first observe, so a change an interrupted apply already made is not
// made again.
func (r *run) execute(ctx context.Context, c plan.Change) (providers.Evidence, string, error) {
	inst, err := r.provider(c.Provider)
	if err != nil {
		return nil, "", err
	}
	wrap := func(op string, err error) error {
		return providers.Wrap(c.Provider, op, c.Target, err)
	}
	switch c.Kind {
	case plan.KindApp:
		dep := inst.(providers.Deployer)
		ref := providers.AppRef{Target: c.Target, Name: str(c.After, "name"), ID: r.providerID(c.Target, c.Address)}
		if c.Action == plan.Delete {
			ref.Name = str(c.Before, "name")
			return nil, state.OutcomeDone, wrap("destroy", dep.Destroy(ctx, ref))
		}
		st, err := dep.Observe(ctx, ref)
		if err != nil {
			return nil, "", wrap("observe", err)
		}
		if st.Exists && st.IdempotencyKey == c.IdempotencyKey {
			return providers.Evidence{"app_id": st.ID}, state.OutcomeAlreadyDone, nil
		}
		app, ev := r.appOf(c, ref)
		id, pev, err := dep.Deploy(ctx, app)
		for k, v := range pev {
			ev[k] = v
		}
		if id != "" {
			ev["app_id"] = id
		}
		return ev, state.OutcomeDone, wrap("deploy", err)
	case plan.KindRoute:
		ing := inst.(providers.Ingress)
		if c.Action == plan.Delete {
			return nil, state.OutcomeDone, wrap("delete route", ing.DeleteRoute(ctx, c.Target, str(c.Before, "domain")))
		}
		routes, err := ing.ListRoutes(ctx, c.Target)
		if err != nil {
			return nil, "", wrap("list routes", err)
		}
		for _, rt := range routes {
			if rt.Domain == str(c.After, "domain") && rt.IdempotencyKey == c.IdempotencyKey {
				return providers.Evidence{"domain": rt.Domain}, state.OutcomeAlreadyDone, nil
			}
		}
		ev, err := ing.EnsureRoute(ctx, providers.Route{Target: c.Target, Domain: str(c.After, "domain"), Upstream: str(c.After, "upstream"), Port: num(c.After, "port"), IdempotencyKey: c.IdempotencyKey})
		return ev, state.OutcomeDone, wrap("route", err)
	case plan.KindHealth:
		timeout, _ := time.ParseDuration(str(c.After, "timeout"))
		if timeout == 0 {
			timeout = time.Minute
		}
		if l, ok := inst.(providers.Limited); ok {
			if why := l.Limitation(ctx); why != "" {
				return providers.Evidence{"url": str(c.After, "url"), "skipped": why}, state.OutcomeSkipped, nil
			}
		}
		var res providers.HealthResult
		if hc, ok := inst.(providers.HealthChecker); ok {
			res, err = hc.CheckHealth(ctx, c.Target, str(c.After, "url"), timeout)
		} else {
			res, err = httpHealth(ctx, str(c.After, "url"), timeout)
		}
		ev := providers.Evidence{"url": str(c.After, "url"), "attempts": res.Attempts, "last_status": res.Status, "latency_ms": res.Latency.Milliseconds(), "detail": res.Detail}
		if err == nil && !res.Healthy {
			err = fmt.Errorf("unhealthy after %d attempt(s): %s", res.Attempts, res.Detail)
		}
		return ev, state.OutcomeDone, wrap("health check", err)
	case plan.KindBackup:
		b, err := inst.(providers.Backups).TakeBackup(ctx, c.Target, str(c.After, "database"))
		ev := providers.Evidence{"backup_id": b.ID, "location": b.Location, "size": b.Size, "checksum": b.Checksum}
		return ev, state.OutcomeDone, wrap("backup", err)
	case plan.KindPostDeploy:
		res, err := inst.(providers.Jobs).RunJob(ctx, providers.Job{Target: c.Target, Name: "post-deploy", Command: strings.Fields(str(c.After, "command"))})
		err = r.o.Redactor.Error(err)
		return providers.Evidence{"command": str(c.After, "command"), "exit_code": res.ExitCode}, state.OutcomeDone, wrap("post-deploy", err)
	}
	return nil, "", fmt.Errorf("%s: unknown kind %s", c.Address, c.Kind)
}

// appOf builds the provider's App with resolved secrets, and the evidence
// that may be recorded of it: key names, counts and a hash over sorted
// key names, never values.
func (r *run) appOf(c plan.Change, ref providers.AppRef) (providers.App, providers.Evidence) {
	env := map[string]string{}
	if e, ok := c.After["env"].(map[string]any); ok {
		for k, v := range e {
			env[k] = fmt.Sprint(v)
		}
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
	envKeys := sortedKeys(env)
	return providers.App{AppRef: ref, Image: str(c.After, "image"), Port: num(c.After, "port"),
			Env: env, SecretKeys: keys, IdempotencyKey: c.IdempotencyKey, Title: r.recordIDs[c.Target]},
		providers.Evidence{
			"image":   str(c.After, "image"),
			"env":     map[string]any{"keys": envKeys, "count": len(envKeys)},
			"secrets": map[string]any{"keys": keys, "count": len(keys), "keys_sha256": hex.EncodeToString(h[:])},
		}
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

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) int {
	switch v := m[k].(type) {
	case int:
		return v
	case float64:
		return int(v)
	case json.Number:
		i, _ := v.Int64()
		return int(i)
	}
	return 0
}

// httpHealth polls url until it answers 2xx (and not {"ok": false}) or the
// timeout passes, backing off between attempts.
func httpHealth(ctx context.Context, url string, timeout time.Duration) (providers.HealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := providers.HealthResult{}
	wait := 500 * time.Millisecond
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		res.Attempts++
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		res.Latency = time.Since(start)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			res.Status = resp.StatusCode
			var ok struct {
				OK *bool `json:"ok"`
			}
			if resp.StatusCode/100 == 2 && (json.Unmarshal(body, &ok) != nil || ok.OK == nil || *ok.OK) {
				res.Healthy = true
				res.Detail = fmt.Sprintf("HTTP %d", resp.StatusCode)
				return res, nil
			}
			res.Detail = fmt.Sprintf("HTTP %d", resp.StatusCode)
		} else {
			res.Detail = err.Error()
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

// finish commits the new target state and the records in one commit.
func (r *run) finish(ctx context.Context, base string, targets []string, results map[string]*targetResult) (*Result, error) {
	out := &Result{Records: map[string]string{}}
	var changes []state.Change
	var ok, bad int
	for _, t := range targets {
		res := results[t]
		out.Records[t] = res.record.ID
		if res.failed {
			out.Failed = append(out.Failed, t)
			bad++
		} else {
			ok++
		}
		changes = append(changes, state.Change{Path: state.RecordPath(t, res.record.ID), Data: encode(res.record)})
		if res.ts == nil {
			changes = append(changes, state.Change{Path: state.TargetPath(t), Delete: true})
		} else {
			changes = append(changes, state.Change{Path: state.TargetPath(t), Data: encode(res.ts)})
		}
	}
	// Everything written passes the redactor once more: a value that
	// slipped into any field is removed here.
	for i := range changes {
		if !changes[i].Delete {
			changes[i].Data = r.o.Redactor.Bytes(changes[i].Data)
		}
	}
	msg := fmt.Sprintf("launchplane: apply %s: %d succeeded, %d failed", strings.Join(targets, ", "), ok, bad)
	sha, err := r.o.Store.Commit(ctx, state.Write{Base: base, Changes: changes, Scopes: scopes(targets), Message: msg, Trailers: r.trailers(targets), Author: r.author()})
	if err != nil {
		return nil, fmt.Errorf("record the apply: %w", err)
	}
	out.Commit = sha
	return out, nil
}
