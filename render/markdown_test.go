package render

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/launchplane/plan"
)

// smallPlan has every action, field diffs (one long, one a secret
// reference), a no-op and a warning.
func smallPlan() *plan.Plan {
	long := strings.Repeat("x", 200)
	return &plan.Plan{
		Changes: []plan.Change{
			{Address: "shop/prod/backup", Target: "shop/prod", Kind: plan.KindBackup, Action: plan.Run, Reason: "gate required"},
			{Address: "shop/prod/app", Target: "shop/prod", Kind: plan.KindApp, Action: plan.Update, Reason: "image changed",
				Diff: []plan.FieldDiff{
					{Path: "image", Before: "ghcr.io/acme/shop:1", After: "ghcr.io/acme/shop:2"},
					{Path: "env.DATABASE_URL", Before: nil, After: map[string]any{"fromEnv": "SHOP_DATABASE_URL"}},
					{Path: "labels", Before: []any{"a"}, After: []any{"a", long}},
				}},
			{Address: "shop/prod/health", Target: "shop/prod", Kind: plan.KindHealth, Action: plan.Run, Reason: "after deploy"},
			{Address: "shop/prod/route/old.example.com", Target: "shop/prod", Kind: plan.KindRoute, Action: plan.Delete, Reason: "removed from config",
				Diff: []plan.FieldDiff{{Path: "domain", Before: "old.example.com", After: nil}}},
			{Address: "shop/prod/route/shop.example.com", Target: "shop/prod", Kind: plan.KindRoute, Action: plan.NoOp},
			{Address: "shop/testing/app", Target: "shop/testing", Kind: plan.KindApp, Action: plan.Create, Reason: "new in config",
				Diff: []plan.FieldDiff{{Path: "port", Before: nil, After: 8080}}},
			{Address: "shop/testing/route/t.example.com", Target: "shop/testing", Kind: plan.KindRoute, Action: plan.Replace, Reason: "provider changed",
				Diff: []plan.FieldDiff{{Path: "provider", Before: "npm", After: "caddy"}}},
		},
		Diagnostics: []string{"shop/testing: no health check configured"},
	}
}

const smallGolden = "### Launchplane plan: `cfg`\n" +
	"\n" +
	"**Plan: 1 to create, 1 to update, 1 to replace, 1 to delete, 2 to run, 1 unchanged**\n" +
	"\n" +
	"Plan hash `sha256:729056b079e9bb112fa1f5f212d89198addd9c3c00b10e0751c4c59cd6413edb` · secret rotation not checked\n" +
	"\n" +
	"**Warnings**\n" +
	"\n" +
	"- ⚠️ shop/testing: no health check configured\n" +
	"\n" +
	"#### `shop/prod`\n" +
	"\n" +
	"| | resource | action | reason |\n" +
	"|---|---|---|---|\n" +
	"| `>` | `shop/prod/backup` | run | gate required |\n" +
	"| `~` | `shop/prod/app` | update | image changed |\n" +
	"| `>` | `shop/prod/health` | run | after deploy |\n" +
	"| `-` | `shop/prod/route/old.example.com` | delete | removed from config |\n" +
	"\n" +
	"<details><summary>Field changes (2 resources, 4 fields)</summary>\n" +
	"\n" +
	"```diff\n" +
	"~ shop/prod/app\n" +
	"    image: \"ghcr.io/acme/shop:1\" → \"ghcr.io/acme/shop:2\"\n" +
	"    env.DATABASE_URL: (none) → {\"fromEnv\":\"SHOP_DATABASE_URL\"}\n" +
	"    labels: [\"a\"] → [\"a\",\"" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\n" +
	"- shop/prod/route/old.example.com\n" +
	"    domain: \"old.example.com\" → (none)\n" +
	"```\n" +
	"\n" +
	"</details>\n" +
	"\n" +
	"#### `shop/testing`\n" +
	"\n" +
	"| | resource | action | reason |\n" +
	"|---|---|---|---|\n" +
	"| `+` | `shop/testing/app` | create | new in config |\n" +
	"| `-/+` | `shop/testing/route/t.example.com` | replace | provider changed |\n" +
	"\n" +
	"<details><summary>Field changes (2 resources, 2 fields)</summary>\n" +
	"\n" +
	"```diff\n" +
	"+ shop/testing/app\n" +
	"    port: (none) → 8080\n" +
	"-/+ shop/testing/route/t.example.com\n" +
	"    provider: \"npm\" → \"caddy\"\n" +
	"```\n" +
	"\n" +
	"</details>\n"

func render(t *testing.T, p *plan.Plan, opts MarkdownOptions) string {
	t.Helper()
	var b strings.Builder
	if err := WriteMarkdown(&b, p, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMarkdownGolden(t *testing.T) {
	got := render(t, smallPlan(), MarkdownOptions{ConfigDir: "cfg"})
	if got != smallGolden {
		t.Errorf("markdown differs from the golden:\n--- got\n%s\n--- want\n%s", got, smallGolden)
	}
	checkMarkdown(t, got)
	if again := render(t, smallPlan(), MarkdownOptions{ConfigDir: "cfg"}); again != got {
		t.Error("two renderings of the same plan differ")
	}
}

func TestMarkdownEscapesHostileValues(t *testing.T) {
	evil := "a|b `c` </details> <script>alert(1)</script>\n# h\r\n- [x](http://e) & \\| *y* _z_ ~w~ $m$"
	target := "evil|`t`</details>\nx"
	p := &plan.Plan{
		Changes: []plan.Change{{
			Address: target + "/app", Target: target, Kind: plan.KindApp, Action: plan.Update, Reason: evil,
			Diff: []plan.FieldDiff{
				{Path: "env.X</details>\n```", Before: "```\n</details>", After: map[string]any{"k": "<script>|`"}},
			},
		}},
		Diagnostics: []string{"warn </details> <img src=x onerror=alert(1)>\n- injected"},
	}
	got := render(t, p, MarkdownOptions{Title: "T </details>", ConfigDir: "cfg`|<b>"})
	checkMarkdown(t, got)
	for _, want := range []string{
		"### T &lt;/details&gt;: cfg\\`\\|&lt;b&gt;\n",
		"#### evil\\|\\`t\\`&lt;/details&gt; x\n",
		"| `~` | evil\\|\\`t\\`&lt;/details&gt; x/app | update | " +
			"a\\|b \\`c\\` &lt;/details&gt; &lt;script&gt;alert(1)&lt;/script&gt; \\# h  - \\[x\\](http://e) &amp; \\\\\\| \\*y\\* \\_z\\_ \\~w\\~ \\$m\\$ |\n",
		"- ⚠️ warn &lt;/details&gt; &lt;img src=x onerror=alert(1)&gt; - injected\n",
		"\n````diff\n", // longer than the ``` inside
		"    env.X</details> ```: \"```\\n</details>\" → {\"k\":\"<script>|`\"}\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestMarkdownHugePlanIsCutAtATargetBoundary(t *testing.T) {
	const n = 5000
	got := render(t, manyTargets(n), MarkdownOptions{})
	if l := utf8.RuneCountInString(got); l > DefaultMarkdownMaxChars {
		t.Fatalf("body is %d characters, over the budget of %d", l, DefaultMarkdownMaxChars)
	}
	s := checkMarkdown(t, got)
	m := regexp.MustCompile("\n\n_… ([0-9]+) more targets not shown and field changes left out \\(plan is too large for a comment\\): see the job log or `launchplane show plan.json`._\n$").FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("body does not end with the truncation note:\n…%s", got[len(got)-300:])
	}
	var hidden int
	fmt.Sscan(m[1], &hidden)
	if s.tables == 0 || s.tables+hidden != n {
		t.Errorf("%d tables shown + %d not shown, want %d in all", s.tables, hidden, n)
	}
	if s.details != 0 {
		t.Errorf("%d <details> blocks kept, want none once targets are cut", s.details)
	}
	for i, rows := range s.rows {
		if rows != 3 {
			t.Errorf("table %d has %d rows, want 3", i, rows)
		}
	}
	if !strings.Contains(got, "\n- ⚠️ target count is large\n") {
		t.Error("the warning was left out")
	}
}

func TestMarkdownSlightlyOverBudgetDropsDetailsOnly(t *testing.T) {
	p := manyTargets(20)
	full := render(t, p, MarkdownOptions{MaxChars: 1 << 30})
	size := utf8.RuneCountInString(full)
	if got := render(t, p, MarkdownOptions{MaxChars: size}); got != full {
		t.Error("a plan exactly at the budget was degraded")
	}
	got := render(t, p, MarkdownOptions{MaxChars: size - 1, PlanFile: "out.json"})
	if l := utf8.RuneCountInString(got); l > size-1 {
		t.Fatalf("body is %d characters, over the budget of %d", l, size-1)
	}
	s := checkMarkdown(t, got)
	if s.tables != 20 || s.details != 0 {
		t.Errorf("%d tables and %d details, want 20 and 0", s.tables, s.details)
	}
	if !strings.HasSuffix(got, "\n\n_Field changes left out (plan is too large for a comment): see the job log or `launchplane show out.json`._\n") {
		t.Errorf("no note about the field changes left out: …%s", got[len(got)-200:])
	}
}

func TestMarkdownSummaryLineIsAlwaysFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *plan.Plan
		max  int
	}{
		{"small", smallPlan(), 0},
		{"huge", manyTargets(5000), 0},
		{"tiny budget", manyTargets(50), 10},
		{"empty", &plan.Plan{}, 0},
		{"empty with tiny budget", &plan.Plan{Diagnostics: []string{"w"}}, 1},
	} {
		got := render(t, tc.p, MarkdownOptions{MaxChars: tc.max})
		lines := strings.SplitN(got, "\n", 4)
		if len(lines) < 4 || !strings.HasPrefix(lines[0], "### ") || lines[1] != "" || !strings.HasPrefix(lines[2], "**") {
			t.Errorf("%s: not a heading then the summary line:\n%s", tc.name, got)
		}
		if want := mdHead(tc.p, MarkdownOptions{}); !strings.HasPrefix(got, want) {
			t.Errorf("%s: want the body to start with %q", tc.name, want)
		}
		checkMarkdown(t, got)
	}
}

func TestMarkdownNoChanges(t *testing.T) {
	p := &plan.Plan{
		Changes:     []plan.Change{{Address: "shop/prod/app", Target: "shop/prod", Kind: plan.KindApp, Action: plan.NoOp}},
		Diagnostics: []string{"shop/prod: drift not checked"},
	}
	got := render(t, p, MarkdownOptions{})
	want := "### Launchplane plan\n\n**No changes.** The state repository matches the config.\n\n" +
		"Plan hash `" + p.Hash() + "` · secret rotation not checked\n\n**Warnings**\n\n- ⚠️ shop/prod: drift not checked\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestMarkdownTooManyWarnings(t *testing.T) {
	p := manyTargets(3)
	for i := range 1000 {
		p.Diagnostics = append(p.Diagnostics, fmt.Sprintf("warning number %d about something long enough", i))
	}
	got := render(t, p, MarkdownOptions{MaxChars: 5000})
	if l := utf8.RuneCountInString(got); l > 5000 {
		t.Fatalf("body is %d characters, over the budget", l)
	}
	checkMarkdown(t, got)
	if !regexp.MustCompile(`\n- … [0-9]+ more warnings not shown\n`).MatchString(got) {
		t.Errorf("no note about warnings left out:\n%s", got)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMarkdownWriteError(t *testing.T) {
	if err := WriteMarkdown(failWriter{}, smallPlan(), MarkdownOptions{}); err == nil {
		t.Error("a write error was not returned")
	}
}

// manyTargets is a plan of n targets with three changes each.
func manyTargets(n int) *plan.Plan {
	p := &plan.Plan{Diagnostics: []string{"target count is large"}}
	for i := range n {
		t := fmt.Sprintf("product%05d/prod", i)
		p.Changes = append(p.Changes,
			plan.Change{Address: t + "/app", Target: t, Kind: plan.KindApp, Action: plan.Update, Reason: "image changed",
				Diff: []plan.FieldDiff{{Path: "image", Before: "ghcr.io/acme/app:1", After: "ghcr.io/acme/app:2"}}},
			plan.Change{Address: t + "/health", Target: t, Kind: plan.KindHealth, Action: plan.Run, Reason: "after deploy"},
			plan.Change{Address: t + "/route/www.example.com", Target: t, Kind: plan.KindRoute, Action: plan.Create, Reason: "new in config",
				Diff: []plan.FieldDiff{{Path: "domain", Before: nil, After: "www.example.com"}}},
		)
	}
	return p
}

// mdShape is what checkMarkdown found.
type mdShape struct {
	tables  int
	rows    []int // change rows per table
	details int
}

var detailsOpen = regexp.MustCompile(`^<details><summary>Field changes \([0-9]+ resources?, [0-9]+ fields?\)</summary>$`)

// checkMarkdown checks the structure of a body line by line, the way a
// GitHub-flavoured markdown parser would see it: every <details> closed
// and not nested, code fences only inside them and closed, every table
// with a header, a delimiter row and four cells in every row, and no raw
// HTML or unbalanced backtick outside code.
func checkMarkdown(t *testing.T, body string) mdShape {
	t.Helper()
	var s mdShape
	inDetails, fence, inTable := false, "", false
	if !strings.HasSuffix(body, "\n") {
		t.Error("body does not end with a newline")
	}
	for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		fail := func(why string) { t.Errorf("line %d: %s: %q", i+1, why, line) }
		if strings.ContainsRune(line, '\r') {
			fail("carriage return")
		}
		if fence != "" {
			if strings.TrimLeft(strings.TrimSpace(line), "`") == "" && strings.HasPrefix(strings.TrimSpace(line), "```") {
				if strings.TrimSpace(line) != fence {
					fail("a backtick line inside a code block that is not its fence")
				}
				fence = ""
			}
			continue
		}
		if inTable && !strings.HasPrefix(line, "|") {
			inTable = false
			if line != "" {
				fail("table not followed by a blank line")
			}
		}
		switch {
		case detailsOpen.MatchString(line):
			if inDetails {
				fail("nested <details>")
			}
			inDetails = true
			s.details++
		case line == "</details>":
			if !inDetails {
				fail("</details> without <details>")
			}
			inDetails = false
		case strings.HasPrefix(line, "```"):
			if !inDetails {
				fail("code block outside <details>")
			}
			fence = strings.TrimSuffix(line, "diff")
		case line == "| | resource | action | reason |":
			if inTable {
				fail("two headers in one table")
			}
			inTable = true
			s.tables++
			s.rows = append(s.rows, -1) // the delimiter row comes next
		case strings.HasPrefix(line, "|"):
			if !inTable {
				fail("table row without a header")
				continue
			}
			checkInline(t, i, line)
			if n := len(tableCells(line)); n != 4 {
				fail(fmt.Sprintf("%d cells, want 4", n))
			}
			if s.rows[len(s.rows)-1] == -1 && line != "|---|---|---|---|" {
				fail("no delimiter row after the header")
			}
			s.rows[len(s.rows)-1]++
		default:
			checkInline(t, i, line)
		}
	}
	if inDetails || fence != "" {
		t.Error("body ends inside <details> or a code block")
	}
	return s
}

// checkInline fails on raw HTML and unbalanced code spans in a line of
// markdown outside code blocks.
func checkInline(t *testing.T, i int, line string) {
	t.Helper()
	inCode := false
	for j := 0; j < len(line); j++ {
		switch c := line[j]; {
		case c == '\\' && !inCode:
			j++
		case c == '`':
			inCode = !inCode
		case c == '<' && !inCode:
			t.Errorf("line %d: raw HTML: %q", i+1, line)
		}
	}
	if inCode {
		t.Errorf("line %d: unbalanced backticks: %q", i+1, line)
	}
}

// tableCells splits a row as GitHub does: a backslash escapes the next
// character, any other "|" separates cells.
func tableCells(line string) []string {
	var cells []string
	var cell strings.Builder
	for j := 0; j < len(line); j++ {
		switch line[j] {
		case '\\':
			cell.WriteByte(line[j])
			if j+1 < len(line) {
				j++
				cell.WriteByte(line[j])
			}
		case '|':
			cells = append(cells, cell.String())
			cell.Reset()
		default:
			cell.WriteByte(line[j])
		}
	}
	cells = append(cells, cell.String())
	return cells[1 : len(cells)-1] // the row starts and ends with "|"
}

func TestMarkdownValues(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "(none)"},
		{"a<b>&c", `"a<b>&c"`},
		{"line\nbreak", `"line\nbreak"`},
		{8080, "8080"},
		{true, "true"},
		{map[string]any{"b": 1, "a": []any{"x"}}, `{"a":["x"],"b":1}`},
		{strings.Repeat("é", 300), `"` + strings.Repeat("é", 118) + "…"},
	} {
		if got := mdValue(tc.v); got != tc.want {
			t.Errorf("mdValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// The binding line names the hash, the commits planned at and whether
// rotation was checked; a rotation shows as fingerprints, never values.
func TestMarkdownBindingAndRotation(t *testing.T) {
	p := &plan.Plan{SecretsChecked: true, Base: plan.Base{StateCommit: "5a5a", ConfigCommit: "c0c0"},
		Changes: []plan.Change{{Address: "shop/prod/app", Target: "shop/prod", Kind: plan.KindApp, Action: plan.Update, Reason: "secret rotated: DB",
			Diff: []plan.FieldDiff{{Path: "secrets.DB.fingerprint", Before: "hmac-sha256:3f2a0000", After: "hmac-sha256:9c1d1111"}}}}}
	got := render(t, p, MarkdownOptions{})
	for _, want := range []string{"Plan hash `" + p.Hash() + "` · planned at config commit `c0c0` · state commit `5a5a`\n", "secrets.DB: fingerprint 3f2a…→9c1d…"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "not checked") || strings.Contains(got, "0000") {
		t.Errorf("%s", got)
	}
}
