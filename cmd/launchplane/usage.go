package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// usageErr is a mistake in how a command was called (unknown flag, wrong
// number of arguments): it is printed with the command's usage line and one
// hint, nothing more.
type usageErr struct{ err error }

func (u *usageErr) Error() string { return u.err.Error() }
func (u *usageErr) Unwrap() error { return u.err }

// finishRoot completes the command tree built by newRoot: --version, the
// completion command with completion of config keys, and usage errors.
func finishRoot(e *env, root *cobra.Command) {
	root.Version = buildVersion().Version
	root.SetVersionTemplate(strings.ReplaceAll(versionLine(buildVersion()), "{{", "{{`{{`}}") + "\n")
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageErr{err} })
	walk(root, func(c *cobra.Command) {
		if c != root && !c.Runnable() && c.HasSubCommands() {
			// A group (preview): an unknown subcommand is a usage
			// mistake, not a request for help.
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return &usageErr{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
				}
				return cmd.Help()
			}
		}
		if c.Args != nil {
			check := c.Args
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return &usageErr{err}
				}
				return nil
			}
		}
	})
	registerCompletions(root)
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// usageError prints a usage mistake of cmd as the error, the usage line and
// one hint, and reports its exit code (1).
func usageError(e *env, cmd *cobra.Command, err error) (int, bool) {
	var u *usageErr
	if !errors.As(err, &u) && !strings.HasPrefix(err.Error(), "unknown command") {
		return 0, false
	}
	if cmd == nil {
		cmd = &cobra.Command{Use: "launchplane"}
	}
	fmt.Fprintf(e.stderr, "launchplane: %v\n", err)
	use := cmd.UseLine()
	if cmd.HasAvailableSubCommands() {
		use = cmd.CommandPath() + " COMMAND [flags]"
	}
	fmt.Fprintf(e.stderr, "Usage: %s\n", use)
	fmt.Fprintf(e.stderr, "Run '%s --help' for more information.\n", cmd.CommandPath())
	return exitError, true
}
