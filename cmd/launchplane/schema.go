package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/schema"
)

func newSchemaCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema [KIND]",
		Short: "Print the JSON Schema of a config kind",
		Long: `Schema prints the JSON Schema (draft 2020-12) that validate uses for a
kind: product, target, provider or policy. Without a kind it lists them.
The schemas include the blocks of every driver (spec.odoo) and provider type
(spec.dokploy, spec.caddy, ...) built into this binary; point your editor's
YAML language server at them for completion.`,
		Example: "  launchplane schema product > product.schema.json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				for _, k := range schema.Kinds {
					fmt.Fprintf(e.stdout, "%-9s launchplane schema %s\n", k, strings.ToLower(k))
				}
				return nil
			}
			b, err := schema.Document(args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			_, err = e.stdout.Write(b)
			return err
		},
	}
}
