package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/state"
)

func newStatusCmd(e *env) *cobra.Command {
	var stateLocFlag, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the targets recorded in the state repository",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return &exitErr{code: exitError, err: err}
			}
			_, snap, err := openStateReadOnly(cmd.Context(), e, stateLocFlag)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			_, states, err := planner.Recorded(snap, nil)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			previews, err := planner.RecordedPreviews(snap)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if output == "json" {
				list := func(m map[string]*state.TargetState) []*state.TargetState {
					out := make([]*state.TargetState, 0, len(m))
					for _, k := range sortedTargets(m) {
						out = append(out, m[k])
					}
					return out
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					FormatVersion string               `json:"format_version"`
					StateCommit   string               `json:"state_commit"`
					Targets       []*state.TargetState `json:"targets"`
					Previews      []*state.TargetState `json:"previews"`
				}{"1", snap.Commit(), list(states), list(previews)})
			}
			for k, ts := range previews {
				states[k] = ts
			}
			keys := sortedTargets(states)
			if len(keys) == 0 {
				fmt.Fprintln(e.stdout, "No targets recorded yet.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TARGET\tSTATUS\tIMAGE\tLAST RECORD")
			for _, k := range keys {
				ts := states[k]
				st := string(ts.Status)
				if ts.InFlight != nil {
					st += " (in flight: " + ts.InFlight.Record + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, st, shortImage(ts.Image), ts.LastRecord)
			}
			return tw.Flush()
		},
	}
	stateFlag(cmd, &stateLocFlag)
	outputFlag(cmd, &output, "human", "json")
	return cmd
}

// shortImage abbreviates the digest (repo@sha256:0123456789ab); "-" for
// no image.
func shortImage(img string) string { return dash(state.ShortImage(img)) }

func sortedTargets[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
