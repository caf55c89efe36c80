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

func newCloneCmd(e *env) *cobra.Command {
	var dir, stateLocFlag, from, to, backup, reason string
	cmd := &cobra.Command{
		Use:   "clone PRODUCT --from prod --to testing --reason TEXT [--backup RECORD_ID]",
		Short: "Replace a non-prod database with a prod backup, neutralized before its app starts",
		Long: `Clone restores the --from lane's backup gate (or the backup-gate record given
with --backup) into the --to lane's database, with the --to app stopped; then
the driver sanitizes it (odoo: 'odoo neutralize -d DB', so no mail, cron or
payment reaches real customers) and only then starts the app and checks its
health. If sanitizing fails the app stays stopped. Clones never go into prod,
and the platform must be able to restore backups, stop the app and run jobs,
or the clone is refused before anything changes. A clone record keeps every
step.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if strings.TrimSpace(reason) == "" {
				return &exitErr{code: exitError, err: fmt.Errorf("a clone needs --reason: say why, it is kept in the record")}
			}
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			p, err := planner.ClonePlan(cfg, snap, args[0], from, to, backup)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			key := args[0] + "/" + to
			authz, err := authorize(ctx, e, dir, ws.store, snap, "apply", []string{key})
			if err != nil {
				return err
			}
			render.Human(e.stdout, p, colour(e))
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Kind = state.KindClone
			o.Reason = reason
			o.Authorization = authz
			res, err := apply.Run(ctx, o)
			if err != nil {
				return applyErr(red, err)
			}
			fmt.Fprintf(e.stdout, "\nClone of %s/%s into %s: record %s, state commit %s.\n", args[0], from, key, res.Records[key], short(res.Commit))
			if len(res.Failed) > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("clone into %s failed; see record %s", key, res.Records[key])}
			}
			return nil
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&from, "from", "prod", "lane whose backup is cloned")
	cmd.Flags().StringVar(&to, "to", "testing", "lane whose database is replaced (never prod)")
	cmd.Flags().StringVar(&backup, "backup", "", "backup-gate record of the --from lane to clone (default: its current gate)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required, kept in the record)")
	return cmd
}
