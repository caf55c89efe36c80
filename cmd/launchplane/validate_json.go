package main

import (
	"encoding/json"
	"io"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/schema"
)

// validateJSON is the wire form of `validate --output json`.
type validateJSON struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []diagnosticJSON `json:"diagnostics"`
	Summary       *validateSummary `json:"summary,omitempty"`
}

type validateSummary struct {
	Products  int `json:"products"`
	Targets   int `json:"targets"`
	Providers int `json:"providers"`
	Files     int `json:"files"`
}

// diagnosticJSON is one diagnostic: path relative to the config dir (empty
// when it concerns the directory), 1-based line and col (0 when it
// concerns a whole file), the field's dotted path, and severity
// "error" or "warning".
type diagnosticJSON struct {
	Path     string `json:"path"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

func diagnosticsJSON(ds diag.Diagnostics) []diagnosticJSON {
	out := []diagnosticJSON{}
	for _, d := range ds {
		out = append(out, diagnosticJSON{Path: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col, Field: d.Field, Message: d.Message, Severity: d.Severity.String()})
	}
	return out
}

func writeValidateJSON(w io.Writer, cfg *config.Config, ds diag.Diagnostics) error {
	v := validateJSON{FormatVersion: "1", Valid: !ds.HasErrors(), Diagnostics: diagnosticsJSON(ds)}
	for _, d := range ds {
		if d.Severity == diag.Warning {
			v.WarningCount++
		} else {
			v.ErrorCount++
		}
	}
	if v.Valid && cfg != nil {
		v.Summary = &validateSummary{Products: len(cfg.Products), Targets: len(cfg.Targets), Providers: len(cfg.Providers), Files: len(cfg.Files)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// validateAsJSON prints the diagnostics as JSON on stdout (and as text on
// stderr, as always); any error exits 1.
func validateAsJSON(e *env, dir string) error {
	cfg, ds := schema.LoadWith(dir, validateLoad)
	printDiagnostics(e, ds, dir)
	if err := writeValidateJSON(e.stdout, cfg, ds); err != nil {
		return &exitErr{code: exitError, err: err}
	}
	if ds.HasErrors() {
		return silent(exitError)
	}
	return nil
}
