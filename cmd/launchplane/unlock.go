package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/operation"
	"github.com/launchplane/launchplane/policy"
)

func newUnlockCmd(e *env) *cobra.Command {
	var stateLocFlag, reason string
	cmd := &cobra.Command{
		Use:   "unlock TARGET --reason TEXT",
		Short: "Clear the in-flight mark of an apply that is known to be dead",
		Long: `Every apply marks its targets in flight before changing anything. An apply
killed midway (kill -9, a runner that vanished) leaves the mark, and other
applies refuse the target until the mark's lease runs out. Like terraform
force-unlock, unlock clears the mark at once and records who unlocked it,
why, and whose apply it cut off (policy action unlock). The next apply of
the target observes the providers instead of repeating what was done, and
writes the cut-off apply's record with outcome interrupted.

Only unlock an apply you know is not running: if it still is, its own
record is lost (the target moved under it) and the two may both deploy.
TARGET is <product>/<lane>, as status shows it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			key := args[0]
			if product, lane, ok := strings.Cut(key, "/"); !ok || product == "" || lane == "" {
				return &exitErr{code: exitError, err: fmt.Errorf("target %q: want <product>/<lane>, e.g. shop/prod", key)}
			}
			if strings.TrimSpace(reason) == "" {
				return &exitErr{code: exitError, err: fmt.Errorf("unlock needs --reason: say why the apply holding %s is known to be dead", key)}
			}
			store, snap, err := openStateReadOnly(ctx, e, stateLocFlag)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			defer store.Close()
			out, err := newRunner(e, store, snap, ".").Run(ctx, operation.Operation{Action: policy.ActionUnlock, Target: key, Reason: reason})
			if err != nil {
				return opErr(err)
			}
			id, commit, cut := out.Record, out.Commit, out.Cut
			fmt.Fprintf(e.stdout, "Unlocked %s (record %s, state commit %s): cut off the apply of %s started %s (record %s).\n",
				key, id, short(commit), cut.Actor, cut.Started.UTC().Format("2006-01-02 15:04:05Z"), cut.Record)
			return nil
		},
	}
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&reason, "reason", "", "why the apply holding the target is known to be dead (required, recorded)")
	return cmd
}
