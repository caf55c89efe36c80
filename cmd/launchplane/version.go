package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version (go install) or "dev" is shown.
var version = ""

type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Commit = s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

func newVersionCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return &exitErr{code: exitError, err: err}
			}
			v := buildVersion()
			if output == "json" {
				return json.NewEncoder(e.stdout).Encode(v)
			}
			fmt.Fprintln(e.stdout, versionLine(v))
			return nil
		},
	}
	outputFlag(cmd, &output, "human", "json")
	return cmd
}

// versionLine is what "launchplane version" and "launchplane --version" print.
func versionLine(v versionInfo) string {
	if v.Commit != "" {
		return fmt.Sprintf("launchplane %s (commit %s, %s)", v.Version, v.Commit, v.Go)
	}
	return fmt.Sprintf("launchplane %s (%s)", v.Version, v.Go)
}
