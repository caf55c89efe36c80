package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/schema"
)

func newValidateCmd(e *env) *cobra.Command {
	var dir, output string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config directory against the schemas and the semantic rules",
		Long: `Validate reads every *.yaml and *.yml file under the config directory
(recursively, multi-document; hidden files and directories are skipped),
checks each document against its kind's JSON Schema and then the rules that
span documents: references, duplicate names, lanes and domains, image
digests, secret-shaped env keys, provider roles and driver blocks.

Every problem is printed to stderr as path:line:col: field: message, sorted.
Under GITHUB_ACTIONS=true each is also printed as an ::error annotation.
With --output json, stdout also gets them as objects (path, line, col,
field, message, severity).`,
		Example: "  launchplane validate --config examples/odoo",
		Args:    noArgsConfig,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return &exitErr{code: exitError, err: err}
			}
			shortRun()
			if output == "json" {
				return validateAsJSON(e, dir)
			}
			cfg, ok := loadConfigWith(e, dir, validateLoad)
			if !ok {
				return silent(exitError)
			}
			fmt.Fprintf(e.stdout, "%s: valid (%s, %s, %s in %s)\n", dir,
				plural(len(cfg.Products), "product"), plural(len(cfg.Targets), "target"),
				plural(len(cfg.Providers), "provider"), plural(len(cfg.Files), "file"))
			return nil
		},
	}
	configFlag(cmd, &dir)
	outputFlag(cmd, &output, "human", "json")
	return cmd
}

// validateLoad is how validate loads: it asks for no positions after
// loading, so the loader keeps no position index.
var validateLoad = schema.LoadOptions{NoPosIndex: true}

// loadConfig loads dir and prints its diagnostics. It reports false when
// there was any error; warnings alone do not fail.
func loadConfig(e *env, dir string) (*config.Config, bool) {
	return loadConfigWith(e, dir, schema.LoadOptions{})
}

// loadConfigWith is loadConfig with load options.
func loadConfigWith(e *env, dir string, opts schema.LoadOptions) (*config.Config, bool) {
	hugeHeap()
	cfg, ds := schema.LoadWith(dir, opts)
	printDiagnostics(e, ds, dir)
	if ds.HasErrors() {
		n := 0
		for _, d := range ds {
			if d.Severity == diag.Error {
				n++
			}
		}
		fmt.Fprintf(e.stderr, "%s in %s\n", plural(n, "error"), dir)
		return nil, false
	}
	return cfg, true
}

func printDiagnostics(e *env, ds diag.Diagnostics, dir string) {
	ds.Print(e.stderr, e.getenv("GITHUB_ACTIONS") == "true", annotationBase(dir))
}

// annotationBase is the config dir as GitHub annotations need it: relative
// to the working directory (the checkout), even when given absolute.
func annotationBase(dir string) string {
	if !filepath.IsAbs(dir) {
		return filepath.ToSlash(filepath.Clean(dir))
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(dir)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
