package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	_ "github.com/launchplane/launchplane/drivers/all"
	_ "github.com/launchplane/launchplane/providers/all"
)

// Exit codes (SPEC §10).
const (
	exitOK       = 0
	exitError    = 1
	exitChanges  = 2 // plan has changes, with --detailed-exitcode
	exitConflict = 3 // stale plan or state conflict
	exitDenied   = 4 // denied by policy
)

// exitErr carries an exit code through cobra. A nil err means the message
// was printed already (diagnostics) and only the code matters.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

// silent is an error whose details were already printed.
func silent(code int) error { return &exitErr{code: code} }

// env is what commands read from the process, injectable for tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stdin          io.Reader // nil: not a terminal
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "launchplane",
		Short: "Declarative GitOps deploys for web products and Odoo tenants",
		Long: `Launchplane deploys web products and Odoo tenants from committed YAML.

Config files (--config, default ./launchplane) describe Products, their
Targets (one per lane: testing, prod) and the Providers that reach your
platforms. 'launchplane validate' checks them; 'launchplane schema KIND'
prints the JSON Schema of each kind.

Exit codes: 0 ok, 1 error, 2 plan has changes (--detailed-exitcode),
3 stale plan or state conflict, 4 denied by policy.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(newValidateCmd(e), newPlanCmd(e), newApplyCmd(e), newShowCmd(e), newStatusCmd(e), newHistoryCmd(e),
		newPromoteCmd(e), newRollbackCmd(e), newPreviewCmd(e), newBackupCmd(e), newCloneCmd(e), newReleaseCmd(e), newUnlockCmd(e), newWatchCmd(e), newRequestCmd(e), newServeRequestCmd(e), newSchemaCmd(e), newDriversCmd(e), newVersionCmd(e))
	finishRoot(e, root)
	return root
}

// Main runs the CLI and returns the process exit code.
func Main() int {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stdin: os.Stdin}
	return run(e, os.Args[1:])
}

func run(e *env, args []string) int {
	root := newRoot(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if code, ok := usageError(e, cmd, err); ok {
		return code
	}
	var xe *exitErr
	if errors.As(err, &xe) {
		if xe.err != nil {
			fmt.Fprintf(e.stderr, "launchplane: %v\n", xe.err)
		}
		return xe.code
	}
	fmt.Fprintf(e.stderr, "launchplane: %v\n", err)
	return exitError
}

// configFlag registers --config with its default.
func configFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "config", "c", "launchplane", "config directory holding Product, Target and Provider YAML files")
}

// outputFlag registers --output restricted to the given formats.
func outputFlag(cmd *cobra.Command, dst *string, formats ...string) {
	cmd.Flags().StringVarP(dst, "output", "o", formats[0], fmt.Sprintf("output format: %v", formats))
}

func checkOutput(got string, formats ...string) error {
	for _, f := range formats {
		if got == f {
			return nil
		}
	}
	return fmt.Errorf("--output %q: want one of %v", got, formats)
}

// noArgsConfig refuses positional arguments with a hint, for commands
// that take the config directory as --config: "validate DIR" is a common
// slip and cobra's "unknown command" would not explain it.
func noArgsConfig(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("%s takes no arguments; the config directory is given with --config (did you mean --config %s?)", cmd.Name(), args[0])
}
