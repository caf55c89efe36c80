package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/planner"
)

func newPromoteCmd(e *env) *cobra.Command {
	var dir, stateLocFlag, from, to string
	cmd := &cobra.Command{
		Use:   "promote PRODUCT --from testing --to prod",
		Short: "Point the prod Target at the image recorded healthy on testing (edits the file)",
		Long: `Promote rewrites the image of a product's --to Target file to the exact
digest recorded healthy on the --from lane, keeping the file's comments and
layout, so the promotion goes through a reviewed pull request. It changes
nothing else and deploys nothing: commit the edit, and 'apply' on merge
deploys it. At apply, a target with spec.promotion refuses any image that
is not the one recorded healthy on its from lane.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := openWorkspace(cmd.Context(), e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			p, err := planner.Promote(cfg, snap, args[0], from, to)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if p.Previous == p.Image {
				fmt.Fprintf(e.stdout, "%s already names %s, the image recorded healthy on %s: nothing to change.\n", p.Target, p.Image, p.From)
				return nil
			}
			fmt.Fprintf(e.stdout, "Promoted %s to %s: %s:%d now names\n  %s\n(was %s; healthy on %s since record %s).\nCommit the change and open a pull request; apply deploys it on merge.\n",
				p.From, p.Target, p.File, p.Line, p.Image, p.Previous, p.From, p.Record)
			return nil
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&from, "from", "testing", "lane whose healthy image is promoted")
	cmd.Flags().StringVar(&to, "to", "prod", "lane whose Target file is edited")
	return cmd
}
