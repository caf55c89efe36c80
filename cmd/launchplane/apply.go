package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/secrets"
	"github.com/launchplane/launchplane/state"
)

func newApplyCmd(e *env) *cobra.Command {
	var (
		dir, stateLocFlag string
		parallelism       int
		dryRun, refresh   bool
		expectHash        string
		x                 applyCLI
		allowDestroy      bool
		lockTimeout       time.Duration
	)
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
approved elsewhere (the pull request's comment). A plan made without secret
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
			ctx := cmd.Context()
			defer func() { x.failedEarly(rerr) }()
			if err := x.check(e, len(args) == 1); err != nil {
				return err
			}
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			if expectHash != "" && !plan.ValidHash(expectHash) {
				return &exitErr{code: exitError, err: fmt.Errorf("--expect-plan-hash %q: want sha256:<64 lowercase hex>", expectHash)}
			}
			if refresh && len(args) == 1 {
				return &exitErr{code: exitError, err: fmt.Errorf("--refresh: a saved plan made with plan --refresh observes the providers again by itself")}
			}
			// The salt is made now when the state repository has none; the
			// apply's first commit writes it.
			key, err := secrets.LoadFingerprintKey(e.getenv, ws.snap, true)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			fp := planner.Secrets{Getenv: e.getenv, Key: key}
			var p *plan.Plan
			saved := len(args) == 1
			// makeIt is the plan to run: a saved plan verified and bound, a
			// plan bound to --expect-plan-hash, or a plan made now; of the
			// state at ws.snap.
			var b *bound
			makeIt := func() (*plan.Plan, bool, error) {
				b = nil
				switch {
				case saved:
					file, err := loadPlanFile(args[0])
					if err != nil {
						return nil, false, err
					}
					if expectHash != "" && file.FileHash != expectHash {
						return nil, false, &exitErr{code: exitConflict, err: fmt.Errorf("%s has plan hash %s, not the approved %s: refusing, nothing was changed: %w", args[0], file.FileHash, expectHash, apply.ErrStale)}
					}
					// A shard of a saved plan binds to its part of the file:
					// the file verified whole, its shard's changes must be
					// what a plan of those targets gives now (the other
					// shards may have applied theirs already).
					approved, want, what := file, file.FileHash, args[0]
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
						want, what, only = approved.Hash(), fmt.Sprintf("shard %s of %s", x.shard, args[0]), sel
					}
					if err := planner.CheckStale(ctx, ws.store, ws.snap, ws.cfg, approved); err != nil {
						return nil, false, staleHint(applyErr(redact.New(), err), dir, stateLocFlag)
					}
					if b, err = bindPlan(ctx, e, ws, only, file.Refreshed, fp, want, what, approved); err != nil {
						return nil, false, err
					}
					return b.plan, true, nil
				default:
					only, some, err := x.only(ws.cfg, ws.snap)
					if err != nil || !some {
						return nil, some, err
					}
					if expectHash != "" && x.shard != "" {
						return nil, false, &exitErr{code: exitError, err: errors.New("--shard with --expect-plan-hash: the shards of a matrix bind to one saved plan, not each to a plan of its own (a shard that runs after another plans differently): make it once with 'launchplane plan --out plan.json' and run 'launchplane apply plan.json --shard I/N --expect-plan-hash H' in every shard")}
					}
					if expectHash == "" {
						p, err := makePlanWith(ctx, e, ws.cfg, ws.snap, only, refresh, true, fp)
						return p, true, err
					}
					if b, err = bindPlan(ctx, e, ws, only, refresh, fp, expectHash, "the approved plan", nil); err != nil {
						return nil, false, err
					}
					return b.plan, true, nil
				}
			}
			p, some, err := makeIt()
			if err != nil {
				return err
			}
			if !some {
				x.noTargets(e)
				return nil
			}
			if lockTimeout > 0 {
				waited, err := waitForHolders(ctx, e, ws, p.Targets(), lockTimeout)
				if err != nil {
					return err
				}
				if waited {
					// the holder changed the state: plan (or bind) again on it
					if p, some, err = makeIt(); err != nil {
						return err
					}
					if !some {
						x.noTargets(e)
						return nil
					}
				}
			}
			for _, d := range p.Diagnostics {
				fmt.Fprintln(e.stderr, "warning: "+d)
			}
			x.showPlan(e, p)
			if b != nil && x.json == nil {
				fmt.Fprintf(e.stdout, "\nPlan hash %s: it is the approved plan.\n", p.Hash())
				if len(b.extra) > 0 {
					fmt.Fprintln(e.stdout, "The approved plan was made without secret values; these changes it could not show are applied too:")
					for _, x := range b.extra {
						fmt.Fprintln(e.stdout, "  "+x)
					}
				}
			}
			if !p.HasChanges() && !saved {
				x.result(map[string]any{"outcome": "no_changes"})
				return nil
			}
			if !saved && !dryRun {
				if err := x.confirm(e); err != nil {
					return err
				}
			}
			authz, err := authorizeApply(ctx, e, dir, ws.store, ws.snap, p, allowDestroy)
			if err != nil {
				return err
			}
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Saved, o.Parallelism, o.DryRun, o.Authorization = saved, parallelism, dryRun, authz
			if key != nil {
				o.NewSalt = key.NewSalt
			}
			events, stop := x.events(e, red, p)
			o.Events = events
			res, err := apply.Run(ctx, o)
			stop()
			x.races = ws.store.LostRaces()
			if err != nil {
				err = staleHint(applyErr(red, err), dir, stateLocFlag)
				x.finished(e, nil, "error", err)
				return err
			}
			if dryRun || !p.HasChanges() {
				x.finished(e, res, map[bool]string{true: "dry_run", false: "no_changes"}[dryRun], nil)
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
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().IntVar(&parallelism, "parallelism", 4, "targets applied at once")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "resolve and check everything, change nothing")
	cmd.Flags().BoolVar(&refresh, "refresh", false, "observe the providers first and correct drift (without PLANFILE)")
	cmd.Flags().StringVar(&expectHash, "expect-plan-hash", "", "refuse (exit 3) unless the plan to run has this plan hash (the approved plan's)")
	cmd.Flags().DurationVar(&lockTimeout, "lock-timeout", 0, "wait up to this long for another live apply holding a target to finish (default: refuse at once, exit 3)")
	cmd.Flags().BoolVar(&allowDestroy, "allow-destroy", false, "allow the plan to delete targets' apps when the state repository has no policy (with a policy, its destroy action decides)")
	x.flags(cmd)
	return cmd
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

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
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
