package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

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
			b, err := readPlanFile(args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			p, err := render.FromJSON(b)
			if err != nil {
				return &exitErr{code: planFileExit(err), err: fmt.Errorf("%s: %w", args[0], err)}
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

// maxPlanFile bounds a saved plan file.
const maxPlanFile = 16 << 20

// readPlanFile reads a saved plan: a regular file of at most 16 MiB. A
// device, FIFO or directory is refused before it is read, so show
// /dev/zero neither hangs nor grows without bound.
func readPlanFile(path string) ([]byte, error) {
	// Opened without blocking (opening a FIFO would wait for a writer),
	// then checked: what is read is what was checked.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %s, not a regular file: a saved plan is a file written by plan --out", path, fileKind(st.Mode()))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPlanFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxPlanFile {
		return nil, errors.New(path + ": larger than 16 MiB: not a saved plan")
	}
	return b, nil
}

// fileKind names what a non-regular file is.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
