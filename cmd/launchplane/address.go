package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

// Commands that address a target take it as positional arguments:
// rollback PRODUCT LANE, backup PRODUCT LANE, history PRODUCT [LANE],
// preview apply PRODUCT PR. preview's older --product/--pr flags remain an
// alias for a release.

// previewArgs accepts PRODUCT PR, or no arguments with --product and --pr.
func previewArgs(cmd *cobra.Command, args []string) error {
	switch len(args) {
	case 0:
		if !cmd.Flags().Changed("product") || !cmd.Flags().Changed("pr") {
			return fmt.Errorf("%s needs the product and the pull request number: %s PRODUCT PR", cmd.CommandPath(), cmd.CommandPath())
		}
		return nil
	case 2:
		if cmd.Flags().Changed("product") || cmd.Flags().Changed("pr") {
			return fmt.Errorf("give the preview as PRODUCT PR or with --product and --pr, not both")
		}
		if n, err := strconv.Atoi(args[1]); err != nil || n < 1 {
			return fmt.Errorf("PR %q: want a pull request number", args[1])
		}
		return nil
	}
	return fmt.Errorf("accepts PRODUCT PR, received %d argument(s)", len(args))
}

// previewAddress fills product and pr from the arguments, or notes that
// the flag form is the older alias.
func previewAddress(e *env, cmd *cobra.Command, args []string, product *string, pr *int) error {
	if len(args) == 2 {
		*product = args[0]
		*pr, _ = strconv.Atoi(args[1]) // checked by previewArgs
		return nil
	}
	fmt.Fprintf(e.stderr, "note: --product and --pr are the older form of '%s %s %d'; they work in this release and will be removed in a later one\n", cmd.CommandPath(), *product, *pr)
	return nil
}
