package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
)

func newBackupCmd(e *env) *cobra.Command {
	var dir, stateLocFlag string
	cmd := &cobra.Command{
		Use:   "backup PRODUCT LANE",
		Short: "Take a backup gate now, to authorise the target's next deployment",
		Long: `Backup takes a backup of a gated target (an odoo product whose prod Target has
gates.backup.required) through its provider and records it as the target's
backup gate. The next deployment within gates.backup.maxAge uses it instead
of taking one; a gate authorises exactly one deployment.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			key := args[0] + "/" + args[1]
			p, err := planner.StepPlan(cfg, snap, key, plan.KindBackup, "backup requested")
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			authz, err := authorize(ctx, e, dir, ws.store, snap, "apply", []string{key})
			if err != nil {
				return err
			}
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Kind = state.KindBackup
			o.Authorization = authz
			res, err := apply.Run(ctx, o)
			if err != nil {
				return applyErr(red, err)
			}
			if len(res.Failed) > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("backup of %s failed; see record %s", key, res.Records[key])}
			}
			fmt.Fprintf(e.stdout, "Backup gate taken for %s (record %s, state commit %s); the next deployment uses it.\n", key, res.Records[key], short(res.Commit))
			return nil
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	return cmd
}

func newReleaseCmd(e *env) *cobra.Command {
	var stateLocFlag, reason string
	cmd := &cobra.Command{
		Use:   "release PRODUCT LANE --reason TEXT",
		Short: "Hand a needs-operator target back to Launchplane after fixing it",
		Long: `A target is marked needs-operator when Launchplane stopped short of a step it
could not do safely (an odoo rollback after a module update on a platform
that cannot restore backups). Apply refuses such a target. Once a person has
done what its last record describes, release records their reason and lets
the next apply deploy the target again.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			store, snap, err := openState(ctx, e, stateLocFlag)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			defer store.Close()
			key := args[0] + "/" + args[1]
			if _, err := authorize(ctx, e, ".", store, snap, "apply", []string{key}); err != nil {
				return err
			}
			red := redact.New()
			id, commit, err := apply.Release(ctx, apply.Options{Store: store, Snapshot: snap, Actor: actor(e), Now: now(e), Redactor: red}, key, reason)
			if err != nil {
				return applyErr(red, err)
			}
			fmt.Fprintf(e.stdout, "Released %s (record %s, state commit %s).\n", key, id, short(commit))
			return nil
		},
	}
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&reason, "reason", "", "what was fixed (required, kept in the record)")
	return cmd
}
