package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
)

// recordKind is the schema of a state repository record (state.RecordSchema).
const recordKind = "Record"

func newSchemaCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema [KIND]",
		Short: "Print the JSON Schema of a config kind or of a record",
		Long: `Schema prints the JSON Schema (draft 2020-12) that validate uses for a
kind: product, target, provider or policy; "record" prints the schema every
record of the state repository is validated against before it is written.
Without a kind it lists them.
The schemas include the blocks of every driver (spec.odoo) and provider type
(spec.dokploy, spec.caddy, ...) built into this binary; point your editor's
YAML language server at them for completion.`,
		Example: "  launchplane schema product > product.schema.json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				for _, k := range append(slices.Clone(schema.Kinds), recordKind) {
					fmt.Fprintf(e.stdout, "%-9s launchplane schema %s\n", k, strings.ToLower(k))
				}
				return nil
			}
			if strings.EqualFold(args[0], recordKind) {
				_, err := e.stdout.Write(state.RecordSchema())
				return err
			}
			if !slices.ContainsFunc(schema.Kinds, func(k string) bool { return strings.EqualFold(k, args[0]) }) {
				known := strings.Join(append(slices.Clone(schema.Kinds), recordKind), ", ")
				return &exitErr{code: exitError, err: fmt.Errorf("unknown kind %q (known: %s)", args[0], known)}
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
