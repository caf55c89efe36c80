// Package operation is the one path by which a command changes anything
// (Terraform's backend.Operation): a command builds an Operation (the
// policy action, the plan or the target, the reason, the options) and
// hands it to a Runner, which authorizes it against the state
// repository's policy, records a denial, runs it through the executor
// (apply.Run, apply.Release, apply.Unlock) and maps its errors to exit
// codes. The executor refuses to start without the policy.Grant that only
// the policy check makes, so no command can skip authorizing.
package operation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// Exit codes (SPEC §10) the runner maps an operation's errors to.
const (
	ExitError    = 1
	ExitConflict = 3 // stale plan or state conflict
	ExitDenied   = 4 // denied by policy
)

// Error is an operation's failure with its exit code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Operation is one change a command asks for.
type Operation struct {
	// Action is the policy action asked (policy.ActionApply, ...Rollback,
	// ...Preview, ...Backup, ...Clone, ...Release, ...Unlock). It also
	// says what runs: Release and Unlock act on Target, the others run
	// Plan and write records of their kind. An apply that deletes a
	// target's app asks destroy for that target.
	Action string
	// Plan is the plan to run (every action but release and unlock).
	Plan *plan.Plan
	// Config is the config Plan was made from.
	Config *config.Config
	// Target is the target key of a release or an unlock.
	Target string
	// Reason is kept in the records.
	Reason string
	// AllowDestroy lets an apply delete apps when the state repository
	// has no policy (apply --allow-destroy).
	AllowDestroy bool

	Saved       bool // the plan came from a file: apply checks it is not stale
	DryRun      bool
	Parallelism int
	NewSalt     string
	Events      func(apply.Event)
	Redactor    *redact.Redactor // nil: a new one
}

// kind is the kind of the records a plan-running action writes.
func (op *Operation) kind() state.RecordKind {
	return map[string]state.RecordKind{policy.ActionRollback: state.KindRollback, policy.ActionPreview: state.KindPreview,
		policy.ActionBackup: state.KindBackup, policy.ActionClone: state.KindClone}[op.Action]
}

// asks are the policy questions of op: its action on its target, or
// those a run of its plan needs (apply.Needs: the executor requires a
// grant of exactly these), destroy allowed without a policy by
// AllowDestroy.
func (op *Operation) asks() []policy.Ask {
	if op.Action == policy.ActionRelease || op.Action == policy.ActionUnlock {
		return []policy.Ask{{Action: op.Action, Targets: []string{op.Target}}}
	}
	asks := apply.Needs(op.kind(), op.Plan)
	for i := range asks {
		asks[i].DestroyWithoutPolicy = op.AllowDestroy
	}
	return asks
}

// Runner runs operations on one state repository.
type Runner struct {
	Store    state.Store
	Snapshot state.Snapshot // the tip the operation runs on
	// ConfigDir is in the config repository's checkout: its origin and
	// ref name a local identity.
	ConfigDir string
	Getenv    func(string) string
	Now       func() time.Time
	// Actor names who applies when the policy verified no identity.
	Actor string
	// Stderr takes warnings (a denial that could not be recorded).
	Stderr io.Writer
	// Diagnostics prints the policy's diagnostics; nil drops them.
	Diagnostics func(diag.Diagnostics)
}

// Authorized is an operation the policy allowed: its grant, the decision
// as evidence for the records, and who applies.
type Authorized struct {
	Grant    *policy.Grant
	Evidence *state.PolicyEvidence
	Actor    string
}

// Result is what an operation did.
type Result struct {
	// Apply is the result of a plan's run.
	Apply *apply.Result
	// Record and Commit are a release's or an unlock's.
	Record, Commit string
	// Cut is the apply an unlock cut off.
	Cut *state.InFlight
	// Options are those the executor ran with (a follow-up run of the
	// same grant starts from them).
	Options apply.Options
}

// Run authorizes op, then executes it.
func (r *Runner) Run(ctx context.Context, op Operation) (*Result, error) {
	a, err := r.Authorize(ctx, op)
	if err != nil {
		return nil, err
	}
	return r.Execute(ctx, a, op)
}

// Authorize asks the state repository's policy for op, before any
// mutation. A denial is recorded in the state repository and is exit 4;
// a policy that does not load is exit 1 (it never counts as no policy).
func (r *Runner) Authorize(ctx context.Context, op Operation) (*Authorized, error) {
	switch op.Action {
	case policy.ActionApply, policy.ActionRollback, policy.ActionPreview, policy.ActionBackup, policy.ActionClone:
		if op.Plan == nil {
			return nil, &Error{Code: ExitError, Err: fmt.Errorf("operation %s without a plan", op.Action)}
		}
	case policy.ActionRelease, policy.ActionUnlock:
	default:
		return nil, &Error{Code: ExitError, Err: fmt.Errorf("operation %q: no such operation", op.Action)}
	}
	loaded, ds, err := policy.Load(r.Snapshot)
	if r.Diagnostics != nil && len(ds) > 0 {
		r.Diagnostics(ds)
	}
	if err != nil {
		return nil, &Error{Code: ExitError, Err: err}
	}
	var id *policy.Identity
	var grant *policy.Grant
	var ev *state.PolicyEvidence
	for _, ask := range op.asks() {
		if loaded.Present() && id == nil && len(ask.Targets) > 0 {
			if id, err = r.identify(ctx, loaded, ask); err != nil {
				return nil, err
			}
		}
		g, aev, err := r.ask(ctx, loaded, id, ask)
		if err != nil {
			return nil, err
		}
		if grant == nil {
			grant, ev = g, aev
			continue
		}
		grant = grant.Join(g)
		// apply's evidence is the decision, with destroy's under "destroy"
		if ev == nil {
			ev = aev
		} else {
			ev.Destroy = aev
		}
	}
	return &Authorized{Grant: grant, Evidence: ev, Actor: r.actorOf(ev)}, nil
}

// identify establishes who asks, for a policy: the GitHub Actions OIDC
// token, or a local identity with the config checkout's origin and ref.
// The issuer trusted is the policy's, never the environment's. A caller
// who cannot be identified is denied, and the denial recorded.
func (r *Runner) identify(ctx context.Context, loaded *policy.Loaded, ask policy.Ask) (*policy.Identity, error) {
	co := gitstore.CheckoutOf(r.ConfigDir)
	var v policy.Verifier
	if o := loaded.Policy().Spec.OIDC; o != nil {
		v.Issuer, v.Audience = o.Issuer, o.Audience
	}
	id, err := policy.Resolve(ctx, r.Getenv, policy.Options{Repository: OwnerName(co.Origin), Ref: co.Ref, Verifier: v})
	if err != nil {
		err = fmt.Errorf("policy: cannot establish who is applying: %w", err)
		r.Deny(ctx, ask.Targets, err.Error(), &state.PolicyEvidence{Action: ask.Action, Decision: "denied", Identity: "unverified", PolicyBlob: loaded.Blob()})
		return nil, &Error{Code: ExitDenied, Err: err}
	}
	return &id, nil
}

// ask is one policy question: its grant and its decision as evidence, or
// the denial, recorded.
func (r *Runner) ask(ctx context.Context, loaded *policy.Loaded, id *policy.Identity, ask policy.Ask) (*policy.Grant, *state.PolicyEvidence, error) {
	g, ds, err := loaded.Authorize(id, ask)
	var nd *policy.NoPolicyDestroyError
	if errors.As(err, &nd) {
		r.Deny(ctx, nd.Targets, nd.Error(), &state.PolicyEvidence{Action: policy.ActionDestroy, Decision: "denied", Reason: "no policy and no --allow-destroy"})
		return nil, nil, &Error{Code: ExitDenied, Err: err}
	}
	if len(ask.Targets) == 0 {
		return g, nil, err
	}
	if !loaded.Present() {
		reason := "no policy in the state repository"
		if ask.Action == policy.ActionDestroy {
			reason += "; apply --allow-destroy"
		}
		return g, &state.PolicyEvidence{Action: ask.Action, Decision: "allowed", Reason: reason}, err
	}
	ev := &state.PolicyEvidence{Action: ask.Action, Identity: id.String(), Source: id.Source, PolicyBlob: loaded.Blob()}
	for _, d := range ds {
		dec := state.PolicyDecision{Target: d.Target, Allowed: d.Allowed, Reason: d.Reason}
		if d.Allowed {
			dec.Rule = d.Rule + 1 // as the reasons count them
		}
		ev.Decisions = append(ev.Decisions, dec)
	}
	if err != nil {
		ev.Decision = "denied"
		last := ds[len(ds)-1]
		r.Deny(ctx, []string{last.Target}, last.Reason, ev)
		return nil, nil, &Error{Code: ExitDenied, Err: fmt.Errorf("policy: %w", err)}
	}
	ev.Decision = "allowed"
	return g, ev, nil
}

// actorOf names who applies in records: the verified identity when the
// policy established one, else the environment's actor.
func (r *Runner) actorOf(ev *state.PolicyEvidence) string {
	if ev != nil && ev.Identity != "" && ev.Identity != "unverified" {
		return ev.Identity
	}
	return r.Actor
}

// Deny records a refusal in the state repository, so every decision is
// on record; failing to write it is a warning, the refusal stands.
func (r *Runner) Deny(ctx context.Context, keys []string, reason string, ev *state.PolicyEvidence) {
	red := redact.New()
	if err := apply.RecordDenial(ctx, r.Store, r.Snapshot, keys, r.actorOf(ev), r.Now(), red, reason, ev); err != nil && r.Stderr != nil {
		fmt.Fprintf(r.Stderr, "warning: the denial could not be recorded: %v\n", red.Error(err))
	}
}

// Execute runs an authorized op through the executor, which checks the
// grant again: it covers op's action and targets, and was decided with
// the policy at r.Snapshot. Errors are redacted, with their exit code.
func (r *Runner) Execute(ctx context.Context, a *Authorized, op Operation) (*Result, error) {
	red := op.Redactor
	if red == nil {
		red = redact.New()
	}
	o := apply.Options{Config: op.Config, Store: r.Store, Snapshot: r.Snapshot, Plan: op.Plan, Saved: op.Saved, Parallelism: op.Parallelism,
		DryRun: op.DryRun, Actor: a.Actor, Now: r.Now, Getenv: r.Getenv, Redactor: red, Events: op.Events, Kind: op.kind(),
		Reason: op.Reason, Authorization: a.Evidence, Grant: a.Grant, NewSalt: op.NewSalt}
	res := &Result{Options: o}
	var err error
	switch op.Action {
	case policy.ActionRelease:
		res.Record, res.Commit, err = apply.Release(ctx, o, op.Target, op.Reason)
	case policy.ActionUnlock:
		res.Record, res.Commit, res.Cut, err = apply.Unlock(ctx, o, op.Target, op.Reason)
	default:
		res.Apply, err = apply.Run(ctx, o)
	}
	if err != nil {
		return res, Code(red, err)
	}
	return res, nil
}

// Code is an executor's error with its exit code, redacted: 3 for a
// stale plan or a state conflict, 4 for a run the policy did not grant,
// else 1.
func Code(red *redact.Redactor, err error) error {
	err = red.Error(err)
	switch {
	case errors.Is(err, apply.ErrStale), errors.Is(err, state.ErrConflict):
		return &Error{Code: ExitConflict, Err: err}
	case errors.Is(err, policy.ErrNotAuthorized), errors.Is(err, policy.ErrDenied):
		return &Error{Code: ExitDenied, Err: err}
	}
	return &Error{Code: ExitError, Err: err}
}

// OwnerName turns a git remote URL into owner/name:
// https://github.com/acme/shop.git and git@github.com:acme/shop.git are
// both acme/shop; "" when it names none.
func OwnerName(remote string) string {
	p := remote
	if u, err := url.Parse(remote); err == nil && u.Host != "" {
		p = u.Path
	} else if _, after, ok := strings.Cut(remote, ":"); ok {
		p = after
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	parts := strings.Split(p, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}
