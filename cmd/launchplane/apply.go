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
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/state"
)

func newApplyCmd(e *env) *cobra.Command {
	var (
		dir, stateLocFlag string
		parallelism       int
		dryRun, refresh   bool
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

Deleting a target's app (its Target file removed) is the policy action
destroy, granted apart from apply; without a policy it needs --allow-destroy.
An odoo prod app is backed up one last time before it is destroyed.

A target another apply holds (in flight, its lease not expired) is refused
at once (exit 3), or waited for with --lock-timeout. An apply interrupted
midway is finished by the next one, which observes the providers, does not
repeat changes already made, and records the interrupted apply; 'launchplane
unlock' clears the mark of an apply known to be dead.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			var p *plan.Plan
			saved := len(args) == 1
			if saved {
				b, err := readPlanFile(args[0])
				if err != nil {
					return &exitErr{code: exitError, err: err}
				}
				if p, err = render.FromJSON(b); err != nil {
					return &exitErr{code: exitError, err: fmt.Errorf("%s: %w", args[0], err)}
				}
			} else if p, err = makePlan(ctx, e, cfg, snap, nil, refresh, true); err != nil {
				return err
			}
			if lockTimeout > 0 {
				waited, err := waitForHolders(ctx, e, ws, p.Targets(), lockTimeout)
				if err != nil {
					return err
				}
				if waited && !saved {
					// the holder changed the state: plan again on it
					snap = ws.snap
					if p, err = makePlan(ctx, e, cfg, snap, nil, refresh, true); err != nil {
						return err
					}
				}
				snap = ws.snap
			}
			if !saved {
				for _, d := range p.Diagnostics {
					fmt.Fprintln(e.stderr, "warning: "+d)
				}
			}
			render.Human(e.stdout, p, colour(e))
			if !p.HasChanges() && !saved {
				return nil
			}
			authz, err := authorizeApply(ctx, e, dir, ws.store, snap, p, allowDestroy)
			if err != nil {
				return err
			}
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Saved, o.Parallelism, o.DryRun, o.Authorization = saved, parallelism, dryRun, authz
			res, err := apply.Run(ctx, o)
			if err != nil {
				return applyErr(red, err)
			}
			if dryRun || !p.HasChanges() {
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
	cmd.Flags().DurationVar(&lockTimeout, "lock-timeout", 0, "wait up to this long for another live apply holding a target to finish (default: refuse at once, exit 3)")
	cmd.Flags().BoolVar(&allowDestroy, "allow-destroy", false, "allow the plan to delete targets' apps when the state repository has no policy (with a policy, its destroy action decides)")
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
		held, err := apply.LiveHolders(ws.snap, keys, now(e)())
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
