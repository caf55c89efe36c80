package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/state"
)

func newHistoryCmd(e *env) *cobra.Command {
	var stateLocFlag, output string
	var n int
	cmd := &cobra.Command{
		Use:   "history PRODUCT [LANE]",
		Short: "List a product's records, newest first",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return &exitErr{code: exitError, err: err}
			}
			_, snap, err := openStateReadOnly(cmd.Context(), e, stateLocFlag)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			lanes := args[1:]
			if len(lanes) == 0 {
				dirs, _ := snap.ListDir("records/" + args[0])
				for _, d := range dirs {
					lanes = append(lanes, strings.TrimSuffix(d, "/"))
				}
			}
			var recs []state.Record
			for _, lane := range lanes {
				found, err := readRecords(snap, state.RecordsDir(args[0]+"/"+lane))
				if err != nil {
					return &exitErr{code: exitError, err: err}
				}
				recs = append(recs, found...)
			}
			state.SortRecords(recs)
			if n > 0 && len(recs) > n {
				recs = recs[:n]
			}
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if recs == nil {
					recs = []state.Record{}
				}
				return enc.Encode(struct {
					FormatVersion string         `json:"format_version"`
					Records       []state.Record `json:"records"`
				}{"1", recs})
			}
			if len(recs) == 0 {
				fmt.Fprintf(e.stdout, "No records for %s.\n", strings.Join(args, "/"))
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RECORD\tTARGET\tOUTCOME\tIMAGE\tACTOR")
			for _, r := range recs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Target, r.Outcome, shortImage(r.Image), r.Actor)
			}
			return tw.Flush()
		},
	}
	stateFlag(cmd, &stateLocFlag)
	outputFlag(cmd, &output, "human", "json")
	cmd.Flags().IntVarP(&n, "n", "n", 20, "show at most N records (0: all)")
	return cmd
}

// readRecords reads every record under dir, and under its subdirectories
// (a product's previews keep theirs in records/<product>/preview/pr-<N>/).
func readRecords(snap state.Snapshot, dir string) ([]state.Record, error) {
	names, err := snap.ListDir(dir)
	if err != nil {
		return nil, err
	}
	var out []state.Record
	for _, name := range names {
		if strings.HasSuffix(name, "/") {
			sub, err := readRecords(snap, dir+name)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := snap.ReadFile(dir + name)
		if err != nil {
			return nil, err
		}
		r, err := state.DecodeRecord(dir+name, b)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}
