package main

import (
	"errors"
	"fmt"
	"io"
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
			b, err := readPlanFile(args[0])
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

// maxPlanFile bounds a saved plan file.
const maxPlanFile = 16 << 20

// readPlanFile reads a saved plan: a regular file of at most 16 MiB. A
// device, FIFO or directory is refused before it is read, so show
// /dev/zero neither hangs nor grows without bound.
func readPlanFile(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO waits for a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %s, not a regular file: a saved plan is a file written by plan --out", path, fileKind(st.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
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
