package planner

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// Desired expands every target of cfg through its product's driver. With
// only non-empty, just those target keys are expanded.
func Desired(cfg *config.Config, only map[string]bool) (plan.Desired, error) {
	d := plan.Desired{Targets: map[string]*plan.DesiredTarget{}}
	var picked []*config.Target
	for _, t := range cfg.Targets {
		if len(only) == 0 || only[t.Key()] {
			picked = append(picked, t)
		}
	}
	// Targets expand independently (drivers.Driver.Expand), in parallel;
	// errors are joined in config order, as expanding in order meets them.
	out := make([]*plan.DesiredTarget, len(picked))
	errs := make([]error, len(picked))
	forEach(len(picked), func(i int) {
		t := picked[i]
		p := cfg.Product(t.Spec.Product)
		drv, ok := drivers.Lookup(p.Spec.Driver)
		if !ok {
			errs[i] = fmt.Errorf("%s: driver %s is not built into this binary", t.Key(), p.Spec.Driver)
			return
		}
		out[i], errs[i] = drv.Expand(cfg, t)
	})
	for i, t := range picked {
		if errs[i] == nil {
			d.Targets[t.Key()] = out[i]
		}
	}
	return d, errors.Join(errs...)
}

// Recorded reads every target file of the snapshot. With only non-empty,
// just those keys are read. The files are read and decoded in parallel
// (a plan of thousands of targets reads thousands); the error is the one
// a reading in order meets first, and an error returns no states.
func Recorded(snap state.Snapshot, only map[string]bool) (plan.Recorded, map[string]*state.TargetState, error) {
	if p, ok := snap.(*prefetched); ok && sameKeys(p.only, only) {
		return p.result()
	}
	rec := plan.Recorded{Targets: map[string][]plan.Resource{}}
	n, lists, err := targetGroups(snap, only)
	if err != nil {
		return rec, nil, err
	}
	type target struct {
		key string
		ts  *state.TargetState
		res []plan.Resource
	}
	read := make([][]target, n)
	errs := make([]error, n)
	failed := firstFailure{at: n}
	forEach(n, func(i int) {
		if failed.before(i) {
			return // an earlier error is the one reported
		}
		keys, err := lists(i)
		if err != nil {
			errs[i] = err
			failed.set(i)
			return
		}
		out := make([]target, 0, len(keys))
		for _, key := range keys {
			ts, err := state.ReadTarget(snap, key)
			if err == nil && ts != nil {
				var res []plan.Resource
				if res, err = resourcesOf(key, ts); err == nil {
					out = append(out, target{key, ts, res})
				}
			}
			if err != nil {
				errs[i] = err
				failed.set(i)
				return
			}
		}
		read[i] = out
	})
	if i := failed.first(); i < n {
		return rec, nil, errs[i]
	}
	states := map[string]*state.TargetState{}
	for _, g := range read {
		for _, t := range g {
			states[t.key] = t.ts
			rec.Targets[t.key] = t.res
		}
	}
	return rec, states, nil
}

// targetGroups are the target keys Recorded reads, in n groups read in
// order: one key each of only, else the target files of a product each,
// listed by lists(i) (so that a listing error has its place in the order).
func targetGroups(snap state.Snapshot, only map[string]bool) (n int, lists func(i int) ([]string, error), err error) {
	if len(only) > 0 {
		// A known set of keys (targets or previews) is read directly.
		keys := slices.Sorted(maps.Keys(only))
		return len(keys), func(i int) ([]string, error) { return keys[i : i+1], nil }, nil
	}
	dirs, err := snap.ListDir("targets")
	if err != nil {
		return 0, nil, err
	}
	var products []string
	for _, d := range dirs {
		if product, ok := strings.CutSuffix(d, "/"); ok {
			products = append(products, product)
		}
	}
	return len(products), func(i int) ([]string, error) {
		lanes, err := snap.ListDir("targets/" + products[i])
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(lanes))
		for _, f := range lanes {
			if lane, ok := strings.CutSuffix(f, ".json"); ok {
				keys = append(keys, products[i]+"/"+lane)
			}
		}
		return keys, nil
	}, nil
}

// Prefetch reads the recorded targets of snap now (only: just those
// keys), so that a command can read the state while it loads the config:
// Recorded of the returned snapshot with the same keys returns what was
// read, or the error met, without reading again. Everything else reads
// through to snap.
func Prefetch(snap state.Snapshot, only map[string]bool) state.Snapshot {
	p := &prefetched{Snapshot: snap, only: only}
	p.rec, p.states, p.err = Recorded(snap, only)
	return p
}

type prefetched struct {
	state.Snapshot
	only   map[string]bool
	rec    plan.Recorded
	states map[string]*state.TargetState
	err    error
}

// result is what Recorded read: maps of its own for each caller.
func (p *prefetched) result() (plan.Recorded, map[string]*state.TargetState, error) {
	if p.err != nil {
		return plan.Recorded{Targets: map[string][]plan.Resource{}}, nil, p.err
	}
	rec := p.rec
	rec.Targets = maps.Clone(p.rec.Targets)
	return rec, maps.Clone(p.states), nil
}

func sameKeys(a, b map[string]bool) bool {
	return len(a) == len(b) && maps.Equal(a, b)
}

// RecordedKeys are the keys of the target files of snap, listed without
// reading them.
func RecordedKeys(snap state.Snapshot) ([]string, error) {
	n, lists, err := targetGroups(snap, nil)
	if err != nil {
		return nil, err
	}
	var keys []string
	for i := 0; i < n; i++ {
		k, err := lists(i)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return keys, nil
}

// firstFailure is the lowest index that failed (at when none did).
type firstFailure struct {
	mu sync.Mutex
	at int
}

func (f *firstFailure) set(i int) {
	f.mu.Lock()
	f.at = min(f.at, i)
	f.mu.Unlock()
}

func (f *firstFailure) first() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

func (f *firstFailure) before(i int) bool { return f.first() < i }

// forEach calls f(0) … f(n-1) on GOMAXPROCS goroutines, taking indexes in
// order, and returns when every call has.
func forEach(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// resourcesOf are the recorded resources of a target. The attributes of
// apps and routes are checked at this boundary: a hand-edited state file
// fails the plan naming the file, the resource and the attribute, instead
// of being planned from zero values. Driver extensions are checked by
// their driver where it reads them.
func resourcesOf(key string, ts *state.TargetState) ([]plan.Resource, error) {
	out := []plan.Resource{}
	for _, r := range ts.Resources {
		var err error
		switch r.Kind {
		case plan.KindApp:
			_, err = plan.AppOf(r.Attrs)
		case plan.KindRoute:
			_, err = plan.RouteOf(r.Attrs)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", state.TargetPath(key), r.Address, err)
		}
		out = append(out, plan.Resource{Address: r.Address, Target: key, Kind: r.Kind, Provider: r.Provider, Attrs: r.Attrs})
	}
	return out, nil
}

// Plan computes the plan of cfg against snap. only restricts it to the
// given target keys (--target).
// Secret values are not read: rotation is not checked (see PlanWith).
func Plan(cfg *config.Config, snap state.Snapshot, only map[string]bool) (*plan.Plan, map[string]*state.TargetState, error) {
	return PlanWith(cfg, snap, only, Secrets{})
}

// PlanWith is Plan that fingerprints secret values as s says, so that a
// rotated secret is an update (SPEC §4).
func PlanWith(cfg *config.Config, snap state.Snapshot, only map[string]bool, s Secrets) (*plan.Plan, map[string]*state.TargetState, error) {
	in, err := gather(cfg, snap, only)
	if err != nil {
		return nil, nil, err
	}
	p, err := in.plan(cfg, snap, only, s)
	if err != nil {
		return nil, nil, err
	}
	decorate(cfg, snap, p, in.states)
	return p, in.states, nil
}

// inputs are what every plan of a config is computed from: the desired
// targets its drivers expand, and the recorded ones with their states.
type inputs struct {
	desired  plan.Desired
	recorded plan.Recorded
	states   map[string]*state.TargetState
}

// gather is the prologue of Plan, PlanWith and PlanRefresh: expand the
// desired targets, read the recorded ones, and make the health step of a
// failed target run again.
func gather(cfg *config.Config, snap state.Snapshot, only map[string]bool) (*inputs, error) {
	desired, err := Desired(cfg, only)
	if err != nil {
		return nil, err
	}
	recorded, states, err := Recorded(snap, only)
	if err != nil {
		return nil, err
	}
	recheckHealth(desired, states)
	return &inputs{desired: desired, recorded: recorded, states: states}, nil
}

// plan fingerprints secrets as s says, diffs desired against recorded and
// adds what the diff cannot know: final backups, what the plan was made
// with, rotated secrets.
func (in *inputs) plan(cfg *config.Config, snap state.Snapshot, only map[string]bool, s Secrets) (*plan.Plan, error) {
	checked, notes := fingerprint(cfg, in.desired, in.recorded, s)
	p := plan.Diff(in.desired, in.recorded, plan.Base{StateCommit: snap.Commit(), ConfigDigest: cfg.Digest})
	if err := finalBackups(cfg, p); err != nil {
		return nil, err
	}
	finishPlan(p, only, checked, notes)
	return p, nil
}

// finishPlan sets what a plan was made with and names rotated secrets.
func finishPlan(p *plan.Plan, only map[string]bool, checked bool, notes []string) {
	p.Only = slices.Sorted(maps.Keys(only))
	if len(p.Only) == 0 {
		p.Only = nil
	}
	p.SecretsChecked = checked
	rotationReasons(p)
	p.Diagnostics = append(p.Diagnostics, notes...)
}

// recheckHealth makes the health step of a failed target run again when
// the image it runs never passed a health check, so apply converges on a
// verified state instead of calling a failed deploy done.
func recheckHealth(desired plan.Desired, states map[string]*state.TargetState) {
	for key, ts := range states {
		dt := desired.Targets[key]
		if dt == nil || ts.Image == "" || ts.Image == ts.HealthyImage {
			continue
		}
		if ts.Status != state.StatusFailed && ts.Status != state.StatusNeedsOperator {
			continue
		}
		for i := range dt.Steps {
			if dt.Steps[i].Kind == plan.KindHealth {
				dt.Steps[i].Force = true
				dt.Steps[i].Reason = "the image it runs has not passed a health check"
			}
		}
	}
}

// promotionWarnings warns in the plan about an app change of a promoted
// target whose image is not the one recorded healthy on its from lane,
// and that the plan does not give the from lane either: apply will refuse
// it.
func promotionWarnings(cfg *config.Config, snap state.Snapshot, p *plan.Plan) {
	for _, c := range p.Changes {
		if c.Kind != plan.KindApp || c.Action == plan.NoOp || c.Action == plan.Delete {
			continue
		}
		product, lane := state.SplitKey(c.Target)
		t := cfg.Target(product, lane)
		if t == nil || t.Spec.Promote == nil {
			continue
		}
		src, err := state.ReadTarget(snap, product+"/"+t.Spec.Promote.From)
		if err != nil {
			continue
		}
		if plannedImage(p, product+"/"+t.Spec.Promote.From) == imageOf(c) {
			// the from lane gets this image in the same apply, which
			// promotes it once that lane proved it healthy: no refusal
			continue
		}
		if src == nil || src.HealthyImage != imageOf(c) {
			healthy := "none"
			if src != nil && src.HealthyImage != "" {
				healthy = state.ShortImage(src.HealthyImage)
			}
			p.Diagnostics = append(p.Diagnostics, fmt.Sprintf("%s: image %s is not the image recorded healthy on %s/%s (%s): apply will refuse it",
				c.Target, state.ShortImage(imageOf(c)), product, t.Spec.Promote.From, healthy))
		}
	}
}

// decorate explains the plan: promotions apply would refuse, targets
// rolled back on purpose, targets that need an operator. In-flight marks
// are explained by InFlightNotes, which needs the clock.
func decorate(cfg *config.Config, snap state.Snapshot, p *plan.Plan, states map[string]*state.TargetState) {
	promotionWarnings(cfg, snap, p)
	attachCauses(cfg, p, states)
	for _, key := range slices.Sorted(maps.Keys(states)) {
		ts := states[key]
		if rb := ts.RolledBack; rb != nil {
			for i := range p.Changes {
				c := &p.Changes[i]
				if c.Target == key && c.Kind == plan.KindApp && c.Action != plan.NoOp {
					c.Reason = fmt.Sprintf("config and state disagree: rolled back to %s by %s; the config asks for %s", state.ShortImage(rb.To), rb.Record, state.ShortImage(imageOf(*c)))
					p.Diagnostics = append(p.Diagnostics, fmt.Sprintf("%s was rolled back from %s to %s by %s (%s); until the config asks for the image it runs, config and state disagree and apply deploys what the config asks for", key, state.ShortImage(rb.From), state.ShortImage(rb.To), rb.Record, rb.Reason))
				}
			}
		}
		if ts.Status == state.StatusNeedsOperator {
			p.Diagnostics = append(p.Diagnostics, fmt.Sprintf("%s needs an operator: %s", key, ts.NeedsOperator))
		}
	}
}

// finalBackups puts the final backup a driver asks for (drivers.
// FinalBackuper) before the destroy of a recorded app whose Target file
// was removed: the step runs before any of the target is deleted. The
// driver is the one whose extension the recorded app carries.
func finalBackups(cfg *config.Config, p *plan.Plan) error {
	var out []plan.Change
	for _, c := range p.Changes {
		if c.Kind != plan.KindApp || c.Action != plan.Delete {
			continue
		}
		app, err := plan.AppOf(c.Before)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", state.TargetPath(c.Target), c.Address, err)
		}
		drv, ok := drivers.OwnerOf(app)
		if !ok {
			continue
		}
		fb, ok := drv.(drivers.FinalBackuper)
		if !ok {
			continue
		}
		product, _ := state.SplitKey(c.Target)
		b, err := fb.FinalBackup(cfg.Product(product), c)
		if err != nil {
			return fmt.Errorf("%s: %w", state.TargetPath(c.Target), err)
		}
		if b != nil {
			out = append(out, *b)
		}
	}
	for _, b := range out {
		first := -1
		for i, c := range p.Changes {
			if c.Target == b.Target {
				first = i
				break
			}
		}
		for i := first; i < len(p.Changes) && p.Changes[i].Target == b.Target; i++ {
			if c := &p.Changes[i]; c.Action != plan.NoOp && len(c.DependsOn) == 0 {
				c.DependsOn = []string{b.Address}
			}
		}
		p.Changes = slices.Insert(p.Changes, first, b)
	}
	return nil
}

// imageOf is the image of an app change's after: desired attrs, built
// from a plan.App, or "" when it has none.
func imageOf(c plan.Change) string {
	a, err := plan.AppOf(c.After)
	if err != nil {
		return ""
	}
	return a.Image
}

// plannedImage is the image p gives key's app, "" when it does not
// deploy one.
func plannedImage(p *plan.Plan, key string) string {
	for _, c := range p.Changes {
		if c.Target == key && c.Kind == plan.KindApp && (c.Action == plan.Create || c.Action == plan.Update || c.Action == plan.Replace) {
			return imageOf(c)
		}
	}
	return ""
}
