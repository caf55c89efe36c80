package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/launchplane/launchplane/plan"
)

// DefaultMarkdownMaxChars is the budget of a markdown body when
// MarkdownOptions.MaxChars is not set: under GitHub's comment limit of
// 65,536 characters, with room left for a marker line.
const DefaultMarkdownMaxChars = 60000

// Lengths, in characters, past which untrusted text is shortened with "…".
const (
	mdValueMax = 120  // one field value, as compact JSON
	mdTextMax  = 300  // a reason, address, path or heading
	mdWarnMax  = 1000 // one diagnostic
)

// MarkdownOptions configure WriteMarkdown.
type MarkdownOptions struct {
	// Title is the heading; "Launchplane plan" when empty.
	Title string
	// ConfigDir, when set, follows the title in the heading.
	ConfigDir string
	// MaxChars is the budget of the whole body in characters (runes);
	// DefaultMarkdownMaxChars when zero or negative.
	MaxChars int
	// PlanFile is the saved plan that the "too large" note points to;
	// "plan.json" when empty.
	PlanFile string
	// SourceURL, when set, links a change's cause: the URL of line of
	// path (relative to the config dir), e.g. at the PR's head commit.
	SourceURL func(path string, line int) string
}

// WriteMarkdown writes the plan for a pull request comment: a heading, a
// one-line summary ("No changes." when there are none), the plan's
// warnings as a list, then per target a table of its changes (symbol,
// resource, action, reason) followed by its field diffs collapsed in a
// <details> block.
//
// The body stays within opts.MaxChars characters. When the full rendering
// would not, it degrades in this order: first every <details> block is
// left out (all tables kept), then targets are left out from the end, at
// a target boundary, and a closing note says how many are not shown. The
// heading and summary line are always written, even when they alone
// exceed the budget.
//
// Untrusted text cannot break the markdown: outside code it is escaped
// (markdown punctuation and "|" with a backslash, "<", ">" and "&" as
// entities, newlines as spaces); field diffs sit in a code block whose
// fence is longer than any backtick run inside it. Values come from the
// plan, which holds secret references, never secret values. Output is
// deterministic: targets sorted, changes in plan order, JSON keys sorted.
func WriteMarkdown(w io.Writer, p *plan.Plan, opts MarkdownOptions) error {
	if opts.MaxChars <= 0 {
		opts.MaxChars = DefaultMarkdownMaxChars
	}
	if opts.PlanFile == "" {
		opts.PlanFile = "plan.json"
	}
	_, err := io.WriteString(w, mdBuild(p, opts).layout(opts))
	return err
}

// mdTarget is the rendering of one target.
type mdTarget struct {
	table   string // heading and table of the target's changes
	details string // its collapsed field diffs; "" when it has none
}

// mdParts are the blocks of a body before the budget is applied. Every
// block but the head starts with a blank line, and all end with a
// newline, so the length of a body is the sum of its blocks' lengths.
type mdParts struct {
	head     string   // heading and summary line
	warnings []string // one list item per diagnostic
	targets  []mdTarget
}

// mdBuild renders every block; the targets in sorted order, each with its
// changes other than no-ops in plan order.
func mdBuild(p *plan.Plan, opts MarkdownOptions) mdParts {
	m := mdParts{head: mdHead(p, opts)}
	for _, d := range p.Diagnostics {
		m.warnings = append(m.warnings, "- ⚠️ "+mdText(d, mdWarnMax)+"\n")
	}
	by := map[string][]plan.Change{}
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			by[c.Target] = append(by[c.Target], c)
		}
	}
	for _, t := range p.Targets() {
		m.targets = append(m.targets, mdTarget{table: mdTable(t, by[t], opts), details: mdDetails(by[t])})
	}
	return m
}

// mdHead is the heading and the summary line.
func mdHead(p *plan.Plan, opts MarkdownOptions) string {
	title := opts.Title
	if title == "" {
		title = "Launchplane plan"
	}
	h := "### " + mdText(title, mdTextMax)
	if opts.ConfigDir != "" {
		h += ": " + mdCode(opts.ConfigDir)
	}
	summary := "**No changes.** The state repository matches the config."
	if p.HasChanges() {
		summary = "**" + strings.TrimSuffix(SummaryLine(p), ".") + "**"
	}
	if line := DestroyLine(p); line != "" {
		summary += "\n> [!CAUTION]\n> **" + mdText(line, mdTextMax) + "**\n"
	}
	return h + "\n\n" + summary + "\n\n" + mdBinding(p) + "\n"
}

// mdBinding is the line that binds the comment to what apply runs: the
// plan hash (what apply --expect-plan-hash is given), the config commit
// and state commit it was planned at, and whether rotation was checked.
func mdBinding(p *plan.Plan) string {
	s := "Plan hash " + mdCode(p.Hash())
	if p.Base.ConfigCommit != "" {
		s += " · planned at config commit " + mdCode(mdShorten(p.Base.ConfigCommit, 40))
	}
	if p.Base.StateCommit != "" {
		s += " · state commit " + mdCode(mdShorten(p.Base.StateCommit, 40))
	}
	if !p.SecretsChecked {
		s += " · secret rotation not checked"
	}
	return s
}

// mdTable is a target's heading and the table of its changes.
func mdTable(target string, changes []plan.Change, opts MarkdownOptions) string {
	var b strings.Builder
	b.WriteString("\n#### " + mdCode(target) + "\n\n")
	b.WriteString("| | resource | action | reason |\n|---|---|---|---|\n")
	for _, c := range changes {
		action := mdText(c.Action.String(), mdTextMax)
		if c.Destroys() {
			action = "**" + action + " (DESTROYS the app)**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n",
			Symbol(c.Action), mdCode(c.Address), action, mdReason(c, opts))
	}
	return b.String()
}

// mdDetails renders the field diffs of a target's changes as a collapsed
// code block, or "" when none of them has any.
func mdDetails(changes []plan.Change) string {
	var body strings.Builder
	resources, fields := 0, 0
	for _, c := range changes {
		if len(c.Diff) == 0 {
			continue
		}
		resources++
		body.WriteString(Symbol(c.Action) + " " + mdLine(c.Address, mdTextMax) + "\n")
		for _, d := range c.Diff {
			fields++
			if key, from, to, ok := Rotation(d); ok {
				body.WriteString("    secrets." + mdLine(key, mdTextMax) + ": fingerprint " + from + "→" + to + "\n")
				continue
			}
			body.WriteString("    " + mdLine(d.Path, mdTextMax) + ": " + mdValue(d.Before) + " → " + mdValue(d.After) + "\n")
		}
	}
	if resources == 0 {
		return ""
	}
	fence := mdFence(body.String())
	// The summary is HTML: it holds only counts, never plan text.
	return fmt.Sprintf("\n<details><summary>Field changes (%s, %s)</summary>\n\n%sdiff\n%s%s\n\n</details>\n",
		mdCount(resources, "resource"), mdCount(fields, "field"), fence, body.String(), fence)
}

// layout applies the budget: everything when it fits, else the longest
// prefix of tables, without details, that fits with its closing note (all
// of them when only the details had to go).
func (m mdParts) layout(opts MarkdownOptions) string {
	n := len(m.targets)
	tables, details := 0, 0
	for _, t := range m.targets {
		tables += mdLen(t.table)
		details += mdLen(t.details)
	}
	note := func(hidden int) string { return mdNote(hidden, details > 0, opts.PlanFile) }
	head := m.head + m.warningBlock(opts.MaxChars-mdLen(m.head)-mdLen(note(n)))
	used := mdLen(head)
	if used+tables+details <= opts.MaxChars {
		return m.join(head, n, true, "")
	}
	k := 0
	for ; k < n; k++ {
		t := mdLen(m.targets[k].table)
		if used+t+mdLen(note(n-k-1)) > opts.MaxChars {
			break
		}
		used += t
	}
	return m.join(head, k, false, note(n-k))
}

// warningBlock renders the warnings within budget characters, leaving
// out the last ones (and saying so) when they do not all fit.
func (m mdParts) warningBlock(budget int) string {
	if len(m.warnings) == 0 {
		return ""
	}
	const header = "\n**Warnings**\n\n"
	more := func(hidden int) string {
		if hidden == 0 {
			return ""
		}
		return fmt.Sprintf("- … %s not shown\n", mdCount(hidden, "more warning"))
	}
	used, k := mdLen(header), 0
	for ; k < len(m.warnings); k++ {
		w := mdLen(m.warnings[k])
		if used+w+mdLen(more(len(m.warnings)-k-1)) > budget {
			break
		}
		used += w
	}
	return header + strings.Join(m.warnings[:k], "") + more(len(m.warnings)-k)
}

// join writes head, the first k targets (with their details or not) and
// the note.
func (m mdParts) join(head string, k int, withDetails bool, note string) string {
	var b strings.Builder
	b.WriteString(head)
	for _, t := range m.targets[:k] {
		b.WriteString(t.table)
		if withDetails {
			b.WriteString(t.details)
		}
	}
	b.WriteString(note)
	return b.String()
}

// mdNote says what the budget left out: hidden targets, or only the field
// diffs when hidden is 0 and there were any.
func mdNote(hidden int, hadDetails bool, planFile string) string {
	where := "(plan is too large for a comment): see the job log or " + mdCode("launchplane show "+planFile)
	switch {
	case hidden > 0 && hadDetails:
		return fmt.Sprintf("\n_… %s not shown and field changes left out %s._\n", mdCount(hidden, "more target"), where)
	case hidden > 0:
		return fmt.Sprintf("\n_… %s not shown %s._\n", mdCount(hidden, "more target"), where)
	case hadDetails:
		return "\n_Field changes left out " + where + "._\n"
	}
	return ""
}

// mdValue is a field value as compact JSON on one line, shortened.
func mdValue(v any) string {
	if v == nil {
		return "(none)"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // not JSON-like, e.g. NaN
		return mdLine(fmt.Sprint(v), mdValueMax)
	}
	return mdLine(strings.TrimSuffix(b.String(), "\n"), mdValueMax)
}

// mdCode is s as a code span when that is safe, else as escaped text.
// A code span can't escape "|" (a table would split on it) or hold its
// own delimiter simply, so text with such characters is escaped instead.
func mdCode(s string) string {
	s = mdShorten(s, mdTextMax)
	if s == "" || strings.ContainsAny(s, "`|\\<>&") || strings.ContainsFunc(s, mdIsControl) {
		return mdText(s, mdTextMax)
	}
	return "`" + s + "`"
}

// mdText escapes s for inline markdown, in a table cell or not: ASCII
// punctuation that markdown or GitHub give a meaning to gets a backslash,
// HTML's special characters become entities, control characters (and so
// newlines) become spaces.
func mdText(s string, n int) string {
	var b strings.Builder
	for _, r := range mdShorten(s, n) {
		switch {
		case mdIsControl(r):
			b.WriteByte(' ')
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case strings.ContainsRune("\\`*_[]~|#$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdLine is s shortened and on one line, for a code block.
func mdLine(s string, n int) string {
	return strings.Map(func(r rune) rune {
		if mdIsControl(r) {
			return ' '
		}
		return r
	}, mdShorten(s, n))
}

// mdFence is a code fence longer than any backtick run in body.
func mdFence(body string) string {
	longest, run := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdShorten cuts s to at most n characters, ending with "…" when cut.
func mdShorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// mdIsControl reports whether r is a control or line-breaking character
// (or invalid UTF-8), which rendering turns into a space.
func mdIsControl(r rune) bool {
	return r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// mdCount is "1 noun" or "n nouns".
func mdCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// mdLen is the length of s in characters, the unit of the budget.
func mdLen(s string) int { return utf8.RuneCountInString(s) }
