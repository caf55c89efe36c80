package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/state"
)

func newRollbackCmd(e *env) *cobra.Command {
	var dir, stateLocFlag, reason, to string
	cmd := &cobra.Command{
		Use:   "rollback PRODUCT LANE --reason TEXT [--to RECORD_ID]",
		Short: "Redeploy the previous healthy image of a target (break glass)",
		Long: `Rollback redeploys a target's previous healthy image, or the image of a
successful record (--to), through the same provider, health check and driver
hooks as apply: an odoo target whose current image migrated the database
gets the backup taken before that deployment restored first, or the
rollback is refused. Only the app's image changes: other pending config
changes are not applied.

It writes a rollback record with the reason. The config is not edited:
until it asks for the image the target runs, 'plan' says that config and
state disagree, and 'apply' would deploy the config's image again.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if strings.TrimSpace(reason) == "" {
				return &exitErr{code: exitError, err: fmt.Errorf("a rollback needs --reason: say why, it is kept in the record")}
			}
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			key := args[0] + "/" + args[1]
			image, _, err := planner.RollbackTarget(snap, key, to)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			p, err := planner.RollbackPlan(cfg, snap, key, image)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			authz, err := authorize(ctx, e, dir, ws.store, snap, "rollback", []string{key})
			if err != nil {
				return err
			}
			render.Human(e.stdout, p, colour(e))
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Kind = state.KindRollback
			o.Reason = reason
			o.Authorization = authz
			res, err := apply.Run(ctx, o)
			if err != nil {
				return applyErr(red, err)
			}
			fmt.Fprintf(e.stdout, "\nRollback of %s to %s: record %s, state commit %s.\n", key, image, res.Records[key], short(res.Commit))
			if len(res.Failed) > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("rollback of %s failed; see record %s", key, res.Records[key])}
			}
			return nil
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&reason, "reason", "", "why (required, kept in the record)")
	cmd.Flags().StringVar(&to, "to", "", "roll back to the image of this record instead of the previous healthy one")
	return cmd
}
