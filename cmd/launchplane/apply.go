package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/operation"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/secrets"
	"github.com/launchplane/launchplane/state"
)

// applyCmd is one apply: its flags, and what it found on its way.
type applyCmd struct {
	e                 *env
	dir, stateLocFlag string
	parallelism       int
	dryRun, refresh   bool
	expectHash        string
	expectReviewed    bool   // --expect-reviewed-plan: expectHash from the merged change's plan comment
	expectWhat        string // what names expectHash in refusals; "" is "the approved plan"
	x                 applyCLI
	allowDestroy      bool
	lockTimeout       time.Duration
	ws                *workspace
	planFile          string // the saved plan's path; "" for a plan made now
	key               *secrets.FingerprintKey
	secrets           planner.Secrets
	b                 *bound // the plan bound to an approved one; nil when none
}

func newApplyCmd(e *env) *cobra.Command {
	a := &applyCmd{e: e}
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the platforms match the config and record what was done",
		Long: `Apply executes a plan: a saved one (PLANFILE, from 'plan --out'), or a plan
made now. Before any change it checks everything it can (providers, secrets,
that a saved plan is not stale, that no other apply holds a target); then it
marks the targets in flight in the state repository, applies each target's
changes in order (targets concurrently, --parallelism), checks health, rolls
back to the previous healthy image when health fails, and commits redacted
records of every outcome.

A saved plan is bound to what was reviewed: apply verifies the file's own
plan_hash, plans again from config and state, and refuses (exit 3, nothing
changed) unless that plan has the same hash, naming the first change that
differs. --expect-plan-hash H does the same against the hash of a plan
approved elsewhere (the pull request's comment). --expect-reviewed-plan, in
CI on the default branch after a merge, reads that hash itself: from the plan
comment (of this --config dir, written by the token's own identity) on the
pull or merge request that merged the job's commit; no such request or
comment is a refusal (exit 3), never an unbound apply. A plan made without secret
values (rotation not checked) binds to a plan made now the same way; the
secret rotations found now are applied too, and listed.

Deleting a target's app (its Target file removed) is the policy action
destroy, granted apart from apply; without a policy it needs --allow-destroy.
An odoo prod app is backed up one last time before it is destroyed.

A target another apply holds (in flight, its lease not expired) is refused
at once (exit 3), or waited for with --lock-timeout. An apply interrupted
midway is finished by the next one, which observes the providers, does not
repeat changes already made, and records the interrupted apply; 'launchplane
unlock' clears the mark of an apply known to be dead.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (rerr error) {
			defer func() { a.x.failedEarly(rerr) }()
			if len(args) == 1 {
				a.planFile = args[0]
			}
			return a.run(cmd.Context())
		},
	}
	configFlag(cmd, &a.dir)
	stateFlag(cmd, &a.stateLocFlag)
	cmd.Flags().IntVar(&a.parallelism, "parallelism", 4, "targets applied at once")
	cmd.Flags().BoolVar(&a.dryRun, "dry-run", false, "resolve and check everything, change nothing")
	cmd.Flags().BoolVar(&a.refresh, "refresh", false, "observe the providers first and correct drift (without PLANFILE)")
	cmd.Flags().StringVar(&a.expectHash, "expect-plan-hash", "", "refuse (exit 3) unless the plan to run has this plan hash (the approved plan's)")
	cmd.Flags().BoolVar(&a.expectReviewed, "expect-reviewed-plan", false, expectReviewedUsage)
	cmd.Flags().DurationVar(&a.lockTimeout, "lock-timeout", 0, "wait up to this long for another live apply holding a target to finish (default: refuse at once, exit 3)")
	cmd.Flags().BoolVar(&a.allowDestroy, "allow-destroy", false, "allow the plan to delete targets' apps when the state repository has no policy (with a policy, its destroy action decides)")
	a.x.flags(cmd)
	return cmd
}

// run checks the flags, makes the plan to run, shows it, asks, and runs it.
func (a *applyCmd) run(ctx context.Context) error {
	e, x, saved := a.e, &a.x, a.planFile != ""
	if err := x.check(e, saved); err != nil {
		return err
	}
	if a.expectReviewed {
		if a.expectHash != "" {
			return &exitErr{code: exitError, err: errors.New("--expect-reviewed-plan and --expect-plan-hash: give one")}
		}
		var err error
		if a.expectHash, a.expectWhat, err = reviewedPlanHash(ctx, e, a.dir); err != nil {
			return err
		}
	}
	ws, err := openWorkspace(ctx, e, a.dir, a.stateLocFlag)
	if err != nil {
		return err
	}
	defer ws.Close()
	a.ws = ws
	if a.expectHash != "" && !plan.ValidHash(a.expectHash) {
		return &exitErr{code: exitError, err: fmt.Errorf("--expect-plan-hash %q: want sha256:<64 lowercase hex>", a.expectHash)}
	}
	if a.refresh && saved {
		return &exitErr{code: exitError, err: fmt.Errorf("--refresh: a saved plan made with plan --refresh observes the providers again by itself")}
	}
	// The salt is made now when the state repository has none; the
	// apply's first commit writes it.
	if a.key, err = secrets.LoadFingerprintKey(e.getenv, ws.snap, true); err != nil {
		return &exitErr{code: exitError, err: err}
	}
	a.secrets = planner.Secrets{Getenv: e.getenv, Key: a.key}
	p, some, err := a.planWaiting(ctx)
	if err != nil || !some {
		return err
	}
	for _, d := range p.Diagnostics {
		fmt.Fprintln(e.stderr, "warning: "+d)
	}
	x.showPlan(e, p)
	if a.b != nil && x.json == nil {
		fmt.Fprintf(e.stdout, "\nPlan hash %s: it is the approved plan.\n", p.Hash())
		if len(a.b.extra) > 0 {
			fmt.Fprintln(e.stdout, "The approved plan was made without secret values; these changes it could not show are applied too:")
			for _, x := range a.b.extra {
				fmt.Fprintln(e.stdout, "  "+x)
			}
		}
	}
	if !p.HasChanges() && !saved {
		x.result(map[string]any{"outcome": "no_changes"})
		return nil
	}
	if !saved && !a.dryRun {
		if err := x.confirm(e); err != nil {
			return err
		}
	}
	return a.execute(ctx, p)
}

// planWaiting is the plan to run, made again on the new state when
// --lock-timeout waited for another apply. some is false when --shard
// selected no target (said so).
func (a *applyCmd) planWaiting(ctx context.Context) (*plan.Plan, bool, error) {
	p, some, err := a.makePlan(ctx)
	if err == nil && some && a.lockTimeout > 0 {
		var waited bool
		if waited, err = waitForHolders(ctx, a.e, a.ws, p.Targets(), a.lockTimeout); err == nil && waited {
			// the holder changed the state: plan (or bind) again on it
			p, some, err = a.makePlan(ctx)
		}
	}
	if err != nil {
		return nil, false, err
	}
	if !some {
		a.x.noTargets(a.e)
	}
	return p, some, nil
}

// makePlan is the plan to run: a saved plan verified and bound, a plan
// bound to --expect-plan-hash, or a plan made now; of the state at
// ws.snap.
func (a *applyCmd) makePlan(ctx context.Context) (*plan.Plan, bool, error) {
	a.b = nil
	if a.planFile != "" {
		return a.savedPlan(ctx)
	}
	ws, x := a.ws, &a.x
	only, some, err := x.only(ws.cfg, ws.snap)
	if err != nil || !some {
		return nil, some, err
	}
	if a.expectHash != "" && x.shard != "" {
		return nil, false, &exitErr{code: exitError, err: errors.New("--shard with --expect-plan-hash: the shards of a matrix bind to one saved plan, not each to a plan of its own (a shard that runs after another plans differently): make it once with 'launchplane plan --out plan.json' and run 'launchplane apply plan.json --shard I/N --expect-plan-hash H' in every shard")}
	}
	if a.expectHash == "" {
		p, err := makePlanWith(ctx, a.e, ws.cfg, ws.snap, only, a.refresh, true, a.secrets)
		return p, true, err
	}
	if a.b, err = bindPlan(ctx, a.e, ws, only, a.refresh, a.secrets, a.expectHash, cmp.Or(a.expectWhat, "the approved plan"), nil); err != nil {
		return nil, false, err
	}
	return a.b.plan, true, nil
}

// savedPlan is PLANFILE verified, not stale, and bound to a plan made now.
func (a *applyCmd) savedPlan(ctx context.Context) (*plan.Plan, bool, error) {
	ws, x, path := a.ws, &a.x, a.planFile
	file, err := loadPlanFile(path)
	if err != nil {
		return nil, false, err
	}
	if a.expectHash != "" && file.FileHash != a.expectHash {
		return nil, false, &exitErr{code: exitConflict, err: fmt.Errorf("%s has plan hash %s, not the approved %s: refusing, nothing was changed: %w", path, file.FileHash, a.expectHash, apply.ErrStale)}
	}
	// A shard of a saved plan binds to its part of the file: the file
	// verified whole, its shard's changes must be what a plan of those
	// targets gives now (the other shards may have applied theirs
	// already).
	approved, want, what := file, file.FileHash, path
	var only map[string]bool
	for _, t := range file.Only {
		if only == nil {
			only = map[string]bool{}
		}
		only[t] = true
	}
	if x.shard != "" {
		sel := x.shardKeys(file)
		if len(sel) == 0 {
			return nil, false, nil
		}
		approved = file.Restrict(sel)
		want, what, only = approved.Hash(), fmt.Sprintf("shard %s of %s", x.shard, path), sel
	}
	if err := planner.CheckStale(ctx, ws.store, ws.snap, ws.cfg, approved); err != nil {
		return nil, false, staleHint(applyErr(redact.New(), err), a.dir, a.stateLocFlag)
	}
	if a.b, err = bindPlan(ctx, a.e, ws, only, file.Refreshed, a.secrets, want, what, approved); err != nil {
		return nil, false, err
	}
	return a.b.plan, true, nil
}

// execute runs p through the operation runner (authorized as apply, and
// destroy for the targets whose app it deletes) and reports the result.
func (a *applyCmd) execute(ctx context.Context, p *plan.Plan) error {
	e, x := a.e, &a.x
	op := a.ws.operation(e, operation.Operation{Action: policy.ActionApply, Plan: p, AllowDestroy: a.allowDestroy,
		Saved: a.planFile != "", Parallelism: a.parallelism, DryRun: a.dryRun})
	if a.key != nil {
		op.NewSalt = a.key.NewSalt
	}
	r := a.ws.runner(e, a.dir)
	auth, err := r.Authorize(ctx, op)
	if err != nil {
		return opErr(err)
	}
	events, stop := x.events(e, op.Redactor, p)
	op.Events = events
	out, err := r.Execute(ctx, auth, op)
	stop()
	x.races = a.ws.store.LostRaces()
	if err != nil {
		err = staleHint(opErr(err), a.dir, a.stateLocFlag)
		x.finished(e, nil, "error", err)
		return err
	}
	return a.report(out.Apply, p)
}

// report prints what the apply did (human), or leaves it to the result
// event (JSON); a failed target is exit 1.
func (a *applyCmd) report(res *apply.Result, p *plan.Plan) error {
	e, x := a.e, &a.x
	if a.dryRun || !p.HasChanges() {
		x.finished(e, res, map[bool]string{true: "dry_run", false: "no_changes"}[a.dryRun], nil)
		return nil
	}
	defer x.finished(e, res, map[bool]string{true: "failed", false: "success"}[len(res.Failed) > 0], nil)
	if x.json != nil {
		if len(res.Failed) > 0 {
			return silent(exitError)
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "\nApply finished: %d target(s), %d failed. State commit %s.\n", len(res.Records), len(res.Failed), short(res.Commit))
	for _, t := range sortedTargets(res.Records) {
		fmt.Fprintf(e.stdout, "  %s: record %s\n", t, res.Records[t])
	}
	if len(res.Failed) > 0 {
		return &exitErr{code: exitError, err: fmt.Errorf("apply failed for %s; see the records", strings.Join(res.Failed, ", "))}
	}
	return nil
}

// applyErr is an apply failure with its exit code: 3 for a stale plan or
// a state conflict, else 1; redacted.
func applyErr(red *redact.Redactor, err error) error {
	err = red.Error(err)
	if errors.Is(err, apply.ErrStale) || errors.Is(err, state.ErrConflict) {
		return &exitErr{code: exitConflict, err: err}
	}
	return &exitErr{code: exitError, err: err}
}

// waitForHolders waits, up to timeout, while another live apply holds
// any of keys, re-reading the state repository with backoff. It reports
// whether it waited (ws.snap is then the new tip); still held at the
// timeout is a conflict (exit 3).
func waitForHolders(ctx context.Context, e *env, ws *workspace, keys []string, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	delay := 100 * time.Millisecond
	waited := false
	for {
		held, err := planner.LiveHolders(ws.snap, keys, now(e)())
		if err != nil {
			return waited, &exitErr{code: exitError, err: err}
		}
		if len(held) == 0 {
			if waited {
				fmt.Fprintln(e.stderr, "the other apply finished; planning again on the new state")
			}
			return waited, nil
		}
		if time.Now().After(deadline) {
			return waited, &exitErr{code: exitConflict, err: fmt.Errorf("still held after waiting %s: %s: %w", timeout, strings.Join(held, "; "), state.ErrConflict)}
		}
		if !waited {
			fmt.Fprintf(e.stderr, "waiting up to %s: %s\n", timeout, strings.Join(held, "; "))
			waited = true
		}
		t := time.NewTimer(min(delay, time.Until(deadline)+time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return waited, &exitErr{code: exitError, err: ctx.Err()}
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
		snap, err := ws.store.Snapshot(ctx)
		if err != nil {
			return waited, &exitErr{code: exitError, err: err}
		}
		ws.snap = snap
	}
}
