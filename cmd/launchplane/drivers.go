package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/drivers"
)

func newDriversCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "drivers",
		Short: "List the drivers built into this binary",
		Long: `Drivers lists every driver with its base, capabilities, actions (with their
safety level: read, safe_write, mutation, destructive) and settings block.
--output json prints the full descriptors, settings schemas included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return &exitErr{code: exitError, err: err}
			}
			var descs []drivers.Descriptor
			for _, d := range drivers.All() {
				descs = append(descs, d.Descriptor())
			}
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(struct {
					FormatVersion string               `json:"format_version"`
					Drivers       []drivers.Descriptor `json:"drivers"`
				}{"1", descs})
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DRIVER\tBASE\tSETTINGS\tCAPABILITIES")
			for _, d := range descs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.ID, dash(d.Base), dash(specBlock(d.SettingsKey)), strings.Join(d.Capabilities, ", "))
			}
			tw.Flush()
			for _, d := range descs {
				fmt.Fprintf(e.stdout, "\n%s: %s\n", d.ID, d.Doc)
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				for _, a := range d.Actions {
					fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Name, a.Safety, a.Doc)
				}
				tw.Flush()
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "human", "json")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func specBlock(key string) string {
	if key == "" {
		return ""
	}
	return "spec." + key
}
