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
		Short: "Print a saved plan",
		Args:  cobra.ExactArgs(1),
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
			return nil
		},
	}
	outputFlag(cmd, &output, "human", "json", "markdown")
	return cmd
}
