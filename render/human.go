package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/launchplane/launchplane/plan"
)

// Symbol is the terraform-like marker of an action.
func Symbol(a plan.Action) string {
	switch a {
	case plan.Create:
		return "+"
	case plan.Update:
		return "~"
	case plan.Replace:
		return "-/+"
	case plan.Delete:
		return "-"
	case plan.Run:
		return ">"
	}
	return " "
}

const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	cyan   = "\x1b[36m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

func color(a plan.Action) string {
	switch a {
	case plan.Create:
		return green
	case plan.Update:
		return yellow
	case plan.Replace, plan.Delete:
		return red
	case plan.Run:
		return cyan
	}
	return ""
}

// Human writes the plan for a terminal. Colour only when colour is true
// (the caller decides: a TTY and no NO_COLOR).
func Human(w io.Writer, p *plan.Plan, colour bool) {
	paint := func(c, s string) string {
		if !colour || c == "" {
			return s
		}
		return c + s + reset
	}
	if !p.HasChanges() {
		fmt.Fprintln(w, "No changes. The state repository matches the config.")
		return
	}
	fmt.Fprintln(w, "Launchplane will perform these actions:")
	target := ""
	for _, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		if c.Target != target {
			target = c.Target
			fmt.Fprintf(w, "\n%s\n", paint(bold, target))
		}
		sym := fmt.Sprintf("%-3s", Symbol(c.Action))
		fmt.Fprintf(w, "  %s %-11s %s  (%s)\n", paint(color(c.Action), sym), c.Kind, c.Address, humanReason(c))
		if c.Destroys() {
			fmt.Fprintf(w, "        %s\n", paint(red+bold, "!! "+DestroyNote(c)))
		}
		for _, d := range c.Diff {
			if key, from, to, ok := Rotation(d); ok {
				fmt.Fprintf(w, "        secrets.%s: fingerprint %s→%s\n", key, from, to)
				continue
			}
			fmt.Fprintf(w, "        %s: %s -> %s\n", d.Path, value(d.Before), value(d.After))
		}
	}
	fmt.Fprintf(w, "\n%s\n", SummaryLine(p))
	if line := DestroyLine(p); line != "" {
		fmt.Fprintf(w, "%s\n", paint(red+bold, line))
	}
}

// DestroyNote says what a destructive change destroys.
func DestroyNote(c plan.Change) string {
	if c.Action == plan.Replace {
		return "DESTROYS the running app of " + c.Target + " and creates it anew"
	}
	return "DESTROYS the app of " + c.Target
}

// DestroyLine is the warning under the summary of a plan that destroys
// apps, "" when it destroys none.
func DestroyLine(p *plan.Plan) string {
	d := p.Destructive()
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprintf("WARNING: this plan destroys %d app(s): %s. Apply needs the policy action destroy (without a policy: apply --allow-destroy).", len(d), strings.Join(d, ", "))
}

// SummaryLine is "Plan: 1 to create, 2 to update, ...".
func SummaryLine(p *plan.Plan) string {
	s := p.Summary()
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to replace, %d to delete, %d to run, %d unchanged.",
		s[plan.Create], s[plan.Update], s[plan.Replace], s[plan.Delete], s[plan.Run], s[plan.NoOp])
}

func value(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		return fmt.Sprintf("%q", x)
	case map[string]any:
		return string(plan.Canonical(x))
	case []any:
		return string(plan.Canonical(x))
	}
	return fmt.Sprint(v)
}

// Rotation reports a diff that changes a secret's fingerprint, and the
// fingerprints shortened for display ("3f2a…"): the only way a rotated
// secret is shown.
func Rotation(d plan.FieldDiff) (key, from, to string, ok bool) {
	rest, found := strings.CutPrefix(d.Path, "secrets.")
	if !found {
		return "", "", "", false
	}
	key, found = strings.CutSuffix(rest, ".fingerprint")
	b, bok := d.Before.(string)
	a, aok := d.After.(string)
	if !found || !bok || !aok {
		return "", "", "", false
	}
	return key, shortFingerprint(b), shortFingerprint(a), true
}

func shortFingerprint(f string) string {
	f = strings.TrimPrefix(f, "hmac-sha256:")
	if len(f) > 4 {
		f = f[:4]
	}
	return f + "…"
}
