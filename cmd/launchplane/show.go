package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/render"
)

func newShowCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show PLANFILE",
		Short: "Print a saved plan and whether it verifies",
		Long: `Show prints a saved plan and checks that its changes still hash to its own
plan_hash: a file edited after it was made does not verify (exit 3).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "human", "json", "markdown"); err != nil {
				return &exitErr{code: exitError, err: err}
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			p, err := render.FromJSON(b)
			if err != nil {
				return &exitErr{code: exitError, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			showPlan(e, p, output, args[0])
			// Whether the file still verifies: its changes hash to its own
			// plan_hash. Only apply can tell whether config and state still
			// give this plan.
			if err := verifyFile(args[0], p); err != nil {
				return &exitErr{code: exitConflict, err: err}
			}
			if output == "human" {
				fmt.Fprintf(e.stdout, "\nPlan hash %s: the file verifies (its changes are the ones it was made with).\n", p.FileHash)
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "human", "json", "markdown")
	return cmd
}
