package main

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/plan"
)

// -o is the short form of --output on every command that has --output.
func TestOutputShortFlagEverywhere(t *testing.T) {
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	n := 0
	walk(newRoot(e), func(c *cobra.Command) {
		f := c.Flags().Lookup("output")
		if f == nil {
			return
		}
		n++
		if f.Shorthand != "o" {
			t.Errorf("%s: --output has shorthand %q, want -o", c.CommandPath(), f.Shorthand)
		}
	})
	for _, want := range []string{"validate", "apply"} {
		c, _, err := newRoot(e).Find([]string{want})
		if err != nil || c.Flags().Lookup("output") == nil {
			t.Errorf("%s has no --output", want)
		}
	}
	if n < 8 {
		t.Errorf("only %d commands have --output", n)
	}
}

func TestStatusSummary(t *testing.T) {
	p := &plan.Plan{Changes: []plan.Change{{Action: plan.Update}, {Action: plan.Update}, {Action: plan.Update}, {Action: plan.Delete}, {Action: plan.NoOp}}}
	if got := statusSummary(p); got != "3 to update, 1 to delete" {
		t.Errorf("statusSummary = %q", got)
	}
	if got := statusSummary(&plan.Plan{Changes: []plan.Change{{Action: plan.NoOp}}}); got != "no changes" {
		t.Errorf("statusSummary of no changes = %q", got)
	}
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"cfg", "my dir", "it's", "a/b-c_d.json", ""} {
		words, err := shellWords(shellQuote(s))
		if s == "" {
			if err != nil || len(words) != 1 || words[0] != "" {
				t.Errorf("shellQuote(%q) -> %v, %v", s, words, err)
			}
			continue
		}
		if err != nil || len(words) != 1 || words[0] != s {
			t.Errorf("shellQuote(%q) = %s -> %v, %v", s, shellQuote(s), words, err)
		}
	}
}
