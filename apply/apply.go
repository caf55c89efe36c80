// Package apply executes a plan: preflight, the in-flight marks, each
// change through its driver and provider, and the records and new target
// state committed to the state repository. Plans are built by package
// planner.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/secrets"
	"github.com/launchplane/launchplane/state"
)

// ErrStale is wrapped when a saved plan no longer matches the state
// repository or the config.
var ErrStale = plan.ErrStale

// EventKind says what an Event reports.
type EventKind int

const (
	StepStart EventKind = iota
	StepDone
	Info
)

// Event is progress reported while applying; the CLI renders it.
type Event struct {
	Kind    EventKind
	Target  string
	Address string
	Action  string
	Outcome state.ChangeOutcome
	Elapsed time.Duration
	Err     error
	Message string
}

// Options configure Run.
type Options struct {
	Config      *config.Config
	Store       state.Store
	Snapshot    state.Snapshot // tip of the state repository, read once by the caller
	Plan        *plan.Plan
	Saved       bool // the plan came from a file: check it is not stale
	Parallelism int
	DryRun      bool
	Actor       string
	Now         func() time.Time
	Getenv      func(string) string
	Redactor    *redact.Redactor
	Events      func(Event)
	Lease       time.Duration // how long an in-flight mark holds (default 30m)
	// Kind of the records written (default state.KindDeployment;
	// KindBackup for a standalone backup gate, KindRollback for a
	// rollback).
	Kind state.RecordKind
	// Reason is kept in the records (rollback, release).
	Reason string
	// Authorization is the policy decision that allowed the run, kept as
	// evidence in every record.
	Authorization *state.PolicyEvidence
	// Grant is the policy's permission for what the run does (made only
	// by the policy check): Run, Release and Unlock refuse to start
	// without one that covers their action and targets.
	Grant *policy.Grant
	// NewSalt, when set, is the fingerprint salt the plan was made with
	// that the state repository does not hold yet: the first commit of
	// the apply writes it (see LoadFingerprintKey).
	NewSalt string
}

// Result is what an apply did.
type Result struct {
	Commit  string
	Records map[string]string // target -> record id
	Failed  []string          // targets whose apply failed
}

type run struct {
	o         Options
	cfgFiles  map[string]string // target key -> its Target's config file
	states    map[string]*state.TargetState
	insts     map[string]any               // provider name -> instance
	secrets   map[string]map[string]string // target -> env key -> resolved value
	planID    string
	recordIDs map[string]string
	started   time.Time
	// promotions is the evidence of each promoted target's check.
	promotions map[string]*state.PromotionEvidence
	// linked are targets promoted from a lane this run applies first.
	linked map[string]link
	// resolved maps every secret value read to its source, for the last
	// guard of structured writes.
	resolved map[string]string
	public   map[string]bool // plain values of the config
	mu       sync.Mutex
}

// Run executes o.Plan: preflight, the in-flight commit, the changes of
// each target in order (targets concurrently), and the commit of records
// and new target state. Nothing is mutated when preflight fails.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	r := &run{o: o, insts: map[string]any{}, secrets: map[string]map[string]string{}, recordIDs: map[string]string{}, started: o.Now()}
	r.cfgFiles = o.Config.TargetFiles()
	r.public = publicValues(o.Config)
	// Values written in plain in the config are public: no one's Add
	// masks them in free text.
	o.Redactor.Public(slices.Collect(maps.Keys(r.public))...)
	defer r.closeProviders()
	if err := requireGrant(o); err != nil {
		return nil, err
	}
	targets := o.Plan.Targets()
	if o.Saved && o.Config.Digest != o.Plan.Base.ConfigDigest {
		// Checked even for a plan without changes: it was made for
		// another config.
		return nil, fmt.Errorf("the config changed since the plan was made (%s, plan has %s): %w", short(o.Config.Digest), short(o.Plan.Base.ConfigDigest), ErrStale)
	}
	if len(targets) == 0 {
		return &Result{Records: map[string]string{}}, nil
	}
	states, err := readStates(o.Snapshot, targets)
	if err != nil {
		return nil, err
	}
	r.states = states
	sum := sha256.Sum256(mustJSON(o.Plan.Changes))
	r.planID = hex.EncodeToString(sum[:6])

	if err := r.preflight(ctx, targets); err != nil {
		return nil, err
	}
	if o.DryRun {
		o.Events(Event{Kind: Info, Message: fmt.Sprintf("dry run: preflight passed for %d target(s); nothing was changed", len(targets))})
		return &Result{Records: map[string]string{}}, nil
	}
	for _, t := range targets {
		r.recordIDs[t] = state.NewRecordID(o.Kind, t, r.started)
	}
	base, err := r.markInFlight(ctx, targets)
	if err != nil {
		return nil, err
	}
	return r.finish(ctx, base, targets, r.applyAll(ctx, targets))
}

// defaults fills the options a caller left unset.
func (o *Options) defaults() {
	if o.Parallelism < 1 {
		o.Parallelism = 4
	}
	if o.Lease == 0 {
		o.Lease = 30 * time.Minute
	}
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	if o.Kind == "" {
		o.Kind = state.KindDeployment
	}
}

// applyAll applies every target. Targets are independent unless a
// promotion links them: a target promoted from a lane applied in this
// same run goes in a second wave, once that lane proved the image
// healthy.
func (r *run) applyAll(ctx context.Context, targets []string) map[string]*targetResult {
	results := make(map[string]*targetResult, len(targets))
	var first, second []string
	for _, t := range targets {
		if _, ok := r.linked[t]; ok {
			second = append(second, t)
		} else {
			first = append(first, t)
		}
	}
	r.wave(ctx, first, results)
	var ready []string
	for _, t := range second {
		l := r.linked[t]
		if src := results[l.from]; src != nil && src.ts != nil && !src.failed && src.ts.HealthyImage == l.image {
			r.promotions[t] = &state.PromotionEvidence{From: l.from, Image: l.image, Record: src.ts.ImageRecord}
			ready = append(ready, t)
			continue
		}
		results[t] = r.notApplied(t, fmt.Sprintf("promotion from %s: %s did not prove %s healthy in this apply, so it was not deployed", l.from, l.from, l.image))
	}
	r.wave(ctx, ready, results)
	return results
}

// requireGrant refuses a run that o.Grant does not allow (see Needs).
func requireGrant(o Options) error {
	for _, ask := range Needs(o.Kind, o.Plan) {
		if err := o.Grant.Require(o.Snapshot, ask.Action, ask.Targets); err != nil {
			return err
		}
	}
	return nil
}

// Needs are the policy questions a run of p writing records of kind
// asks, and Run requires a grant of: the action of the kind ("" and
// "deployment" are apply) on each target, except that a deployment that
// deletes a target's app needs destroy for it instead of apply.
func Needs(kind state.RecordKind, p *plan.Plan) []policy.Ask {
	action := map[state.RecordKind]string{state.KindRollback: policy.ActionRollback, state.KindPreview: policy.ActionPreview,
		state.KindBackup: policy.ActionBackup, state.KindClone: policy.ActionClone}[kind]
	if action == "" {
		action = policy.ActionApply
	}
	destroyed := map[string]bool{}
	if action == policy.ActionApply {
		for _, c := range p.Changes {
			if c.Kind == plan.KindApp && c.Action == plan.Delete {
				destroyed[c.Target] = true
			}
		}
	}
	var keys, destroy []string
	for _, t := range p.Targets() {
		if destroyed[t] {
			destroy = append(destroy, t)
		} else {
			keys = append(keys, t)
		}
	}
	var asks []policy.Ask
	if len(keys) > 0 || len(destroy) == 0 {
		asks = append(asks, policy.Ask{Action: action, Targets: keys})
	}
	if len(destroy) > 0 {
		asks = append(asks, policy.Ask{Action: policy.ActionDestroy, Targets: destroy})
	}
	return asks
}

// wave applies targets concurrently, at most o.Parallelism at once.
func (r *run) wave(ctx context.Context, targets []string, results map[string]*targetResult) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.o.Parallelism)
	for _, t := range targets {
		wg.Add(1)
		go func(t string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := r.applyTarget(ctx, t)
			r.mu.Lock()
			results[t] = res
			r.mu.Unlock()
		}(t)
	}
	wg.Wait()
}

// notApplied is the result of a target skipped before any mutation: its
// changes are recorded as skipped and the record as failed with why.
func (r *run) notApplied(target, why string) *targetResult {
	t := r.newTargetRun(target)
	for _, c := range t.changes {
		t.rec.Changes = append(t.rec.Changes, state.RecordChange{Address: c.Address, Action: c.Action.String(), Reason: c.Reason, IdempotencyKey: c.IdempotencyKey, Outcome: state.OutcomeSkipped})
	}
	t.rec.Error = why
	r.o.Events(Event{Kind: Info, Target: target, Message: target + ": not applied: " + why})
	if t.old == nil {
		t.ts.Resources = []state.Resource{}
	}
	res := t.finish(true, false, false, false)
	if t.old != nil {
		res.ts.Status = t.old.Status
	}
	return res
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// preflight checks everything before any mutation: staleness, in-flight
// marks, providers and their roles, secrets.
func (r *run) preflight(ctx context.Context, targets []string) error {
	o := r.o
	if o.Saved {
		if o.Snapshot.Commit() != o.Plan.Base.StateCommit {
			baseSnap, err := o.Store.SnapshotAt(ctx, o.Plan.Base.StateCommit)
			if err != nil {
				return fmt.Errorf("the plan's state commit %s: %v: %w", short(o.Plan.Base.StateCommit), err, ErrStale)
			}
			for _, t := range targets {
				if state.TargetChanged(baseSnap, o.Snapshot, t) {
					return fmt.Errorf("the state of %s changed since the plan was made (state commit %s, now %s): %w", t, short(o.Plan.Base.StateCommit), short(o.Snapshot.Commit()), ErrStale)
				}
			}
		}
	}
	now := o.Now()
	for _, t := range targets {
		if ts := r.states[t]; ts != nil && ts.InFlight.Live(now) {
			return fmt.Errorf("%s: %w (apply --lock-timeout D waits for it; if that apply is dead, 'launchplane unlock %s --reason TEXT' clears the mark)",
				state.HolderText(t, ts.InFlight), state.ErrConflict, t)
		}
	}
	var errs []error
	for _, t := range targets {
		if ts := r.states[t]; ts != nil && ts.Status == state.StatusNeedsOperator {
			errs = append(errs, fmt.Errorf("%s needs an operator: %s; when it is fixed, run 'launchplane release %s --reason TEXT'", t, ts.NeedsOperator, strings.Replace(t, "/", " ", 1)))
		}
	}
	for _, c := range o.Plan.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		inst, err := r.provider(c.Provider)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Address, err))
			continue
		}
		if err := roleCheck(c, inst); err != nil {
			errs = append(errs, err)
		}
		if c.Kind == plan.KindApp && c.Action != plan.Delete {
			if err := r.resolveSecrets(c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if o.Kind != state.KindRollback {
		promos, err := r.checkPromotions(targets)
		if err != nil {
			return err
		}
		r.promotions = promos
	}
	for _, t := range targets {
		tr := r.newTargetRun(t)
		if err := tr.drv.Preflight(tr, tr.changes); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// driverOf is the driver of a target's product; a target no longer in the
// config is torn down by the driver whose extension its recorded app
// carries, else by generic-web.
func (r *run) driverOf(target string) drivers.Driver {
	product, lane := state.SplitKey(target)
	if t := r.o.Config.Target(product, lane); t != nil {
		if p := r.o.Config.Product(t.Spec.Product); p != nil {
			if d, ok := drivers.Lookup(p.Spec.Driver); ok {
				return d
			}
		}
	}
	// A removed target is torn down by the driver of its recorded app
	// (which may back it up first). An app that does not decode is left
	// to generic-web: planning it failed on it already.
	if ts := r.states[target]; ts != nil {
		for _, res := range ts.Resources {
			if res.Kind != plan.KindApp {
				continue
			}
			if app, err := plan.AppOf(res.Attrs); err == nil {
				if d, ok := drivers.OwnerOf(app); ok {
					return d
				}
			}
		}
	}
	d, ok := drivers.Lookup("generic-web")
	if !ok {
		panic("apply: the generic-web driver is not registered")
	}
	return d
}

func short(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (r *run) provider(name string) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if inst, ok := r.insts[name]; ok {
		return inst, nil
	}
	p := r.o.Config.Provider(name)
	if p == nil {
		return nil, fmt.Errorf("provider %s is not in the config", name)
	}
	inst, err := providers.Open(p.Type, providers.Config{Name: name, Raw: p.Config, ConfigDir: r.o.Config.Dir, Resolve: r.resolve, Redactor: r.o.Redactor})
	if err != nil {
		return nil, err
	}
	r.insts[name] = inst
	return inst, nil
}

// closeProviders closes the instances that hold something open (the
// fake writes its whole world file then).
func (r *run) closeProviders() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(r.insts)) {
		if c, ok := r.insts[name].(io.Closer); ok {
			c.Close()
		}
	}
}

func roleCheck(c plan.Change, inst any) error {
	var ok bool
	role := ""
	switch c.Kind {
	case plan.KindApp:
		_, ok = inst.(providers.Deployer)
		role = "deploy"
	case plan.KindRoute:
		_, ok = inst.(providers.Ingress)
		role = "route"
	case plan.KindHealth:
		ok, role = true, "health"
	default:
		return nil // a driver's step: the driver's preflight checks its provider
	}
	if !ok {
		return fmt.Errorf("%s: provider %s cannot %s", c.Address, c.Provider, role)
	}
	return nil
}

// resolveSecrets reads the app's secret references; values are registered
// with the redactor before anything can print them.
func (r *run) resolveSecrets(c plan.Change) error {
	app, err := plan.AppOf(c.After)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	vals := map[string]string{}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(app.Secrets)) {
		ref := app.Secrets[k]
		v, err := r.resolve(providers.SecretRef{FromEnv: ref.FromEnv, FromFile: ref.FromFile})
		if err != nil {
			// never "NAME: reason": the redactor masks what follows a
			// secret-shaped name and a colon
			errs = append(errs, fmt.Errorf("%s: secret %s cannot be read: %w", c.Target, k, err))
			continue
		}
		vals[k] = v
	}
	r.mu.Lock()
	r.secrets[c.Target] = vals
	r.mu.Unlock()
	return errors.Join(errs...)
}

// resolve reads a secret reference, from the environment or from a file
// relative to the config dir, and registers the value with the redactor
// before anyone can print it.
func (r *run) resolve(ref providers.SecretRef) (string, error) {
	v, err := secrets.Read(ref, r.o.Getenv, r.o.Config.Dir)
	if err != nil {
		return "", err
	}
	source := "env " + ref.FromEnv
	if ref.FromFile != "" {
		source = "file " + ref.FromFile
	}
	r.mu.Lock()
	if r.resolved == nil {
		r.resolved = map[string]string{}
	}
	r.resolved[v] = source
	r.mu.Unlock()
	// A value also written in plain in the config is public anyway
	// (Redactor.Public): Add does not mask it.
	r.o.Redactor.Add(v)
	return v, nil
}

// guard is guardSecrets with the secrets this run resolved.
func (r *run) guard(changes []state.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.public == nil {
		r.public = publicValues(r.o.Config)
	}
	return guardSecrets(changes, r.resolved, r.public)
}

func (r *run) author() state.Signature {
	return state.Signature{Name: "launchplane", Email: "launchplane@localhost", When: r.o.Now()}
}

func (r *run) trailers(targets []string) []state.Trailer {
	var recs []string
	for _, t := range targets {
		recs = append(recs, r.recordIDs[t])
	}
	return []state.Trailer{
		{Key: "Launchplane-Plan", Value: r.planID},
		{Key: "Launchplane-Actor", Value: r.o.Actor},
		{Key: "Launchplane-Records", Value: strings.Join(recs, ", ")},
	}
}

// scopes are what a write owns: the target files. Every write of a
// target changes its file, so another writer that touched the target is
// seen there; records have unique ids and only ever get added, so two
// previews of one product, which share a records directory, never
// conflict over it.
func scopes(targets []string) []string {
	var out []string
	for _, t := range targets {
		out = append(out, state.TargetPath(t))
	}
	return out
}

// markInFlight commits the in-flight marks before any provider mutation.
func (r *run) markInFlight(ctx context.Context, targets []string) (string, error) {
	now := r.o.Now()
	var changes []state.Change
	for _, t := range targets {
		ts := r.states[t]
		if ts == nil {
			ts = &state.TargetState{FormatVersion: state.FormatVersion, Target: t, Status: state.StatusUnknown, Resources: []state.Resource{}}
		} else {
			cp := *ts
			ts = &cp
		}
		if ts.InFlight != nil {
			// a killed apply's mark: kept until its record is written
			ts.Interrupted = append(slices.Clone(ts.Interrupted), *ts.InFlight)
		}
		ts.InFlight = &state.InFlight{Record: r.recordIDs[t], Plan: r.planID, Actor: r.o.Actor, Started: now, Expires: now.Add(r.o.Lease)}
		ts.UpdatedAt = now
		ch, err := targetChange(t, ts)
		if err != nil {
			return "", err
		}
		changes = append(changes, ch)
	}
	scope := scopes(targets)
	if r.o.NewSalt != "" {
		// Not scoped: two first applies racing (on different targets)
		// both land, the last salt wins, and the other's fingerprints
		// show as made with another key: a note, never a rotation.
		changes = append(changes, state.Change{Path: secrets.SaltFile, Data: []byte(r.o.NewSalt + "\n")})
	}
	if err := r.guard(changes); err != nil {
		return "", err
	}
	sha, err := r.o.Store.Commit(ctx, state.Write{
		Base:     r.o.Snapshot.Commit(),
		Changes:  changes,
		Scopes:   scope,
		Message:  "launchplane: start apply of " + countTargets(len(targets)) + "\n\n" + strings.Join(targets, "\n"),
		Trailers: r.trailers(targets),
		Author:   r.author(),
	})
	if err != nil {
		return "", fmt.Errorf("mark targets in flight: %w", err)
	}
	return sha, nil
}

// targetChange writes key's target file, encoded by the state codec.
func targetChange(key string, ts *state.TargetState) (state.Change, error) {
	b, err := state.EncodeTarget(ts)
	if err != nil {
		return state.Change{}, err
	}
	return state.Change{Path: state.TargetPath(key), Data: b}, nil
}

// recordChange writes one record of key, encoded by the state codec,
// which refuses a record its schema does not allow (unknown kind or
// outcome, evidence missing): no half record is ever written.
func recordChange(key string, rec *state.Record) (state.Change, error) {
	b, err := state.EncodeRecord(rec)
	if err != nil {
		return state.Change{}, err
	}
	return state.Change{Path: state.RecordPath(key, rec.ID), Data: b}, nil
}

// readStates reads the recorded state of each of keys that has one.
func readStates(snap state.Snapshot, keys []string) (map[string]*state.TargetState, error) {
	states := map[string]*state.TargetState{}
	for _, key := range slices.Sorted(slices.Values(keys)) {
		ts, err := state.ReadTarget(snap, key)
		if err != nil {
			return nil, err
		}
		if ts != nil {
			states[key] = ts
		}
	}
	return states, nil
}
