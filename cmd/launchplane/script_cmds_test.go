package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdRunHint runs the launchplane command a previous command printed as a
// hint (an indented line "    launchplane ARGS" in FILE, stdout or
// stderr) and fails unless it exits N: runhint FILE N. It proves that a
// printed command works as printed.
func cmdRunHint(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: runhint FILE N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	m := regexp.MustCompile(`(?m)^    launchplane (.*)$`).FindStringSubmatch(ts.ReadFile(args[0]))
	if m == nil {
		ts.Fatalf("runhint: no '    launchplane ...' line in %s", args[0])
	}
	words, err := shellWords(m[1])
	ts.Check(err)
	ts.Logf("runhint: launchplane %s", strings.Join(words, " "))
	if got := exitCode(ts.Exec("launchplane", words...)); got != want {
		ts.Fatalf("runhint: launchplane %s: exit code %d, want %d\n%s", m[1], got, want, ts.ReadFile("stderr"))
	}
}

// shellWords splits s as a POSIX shell does for plain and single-quoted
// words, and backslash escapes outside quotes (what shellQuote produces).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, inWord, esc := false, false, false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && !in:
			esc, inWord = true, true
		case r == '\'':
			in, inWord = !in, true
		case r == ' ' && !in:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if in {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// cmdJSONLines checks that FILE holds one JSON object a line and prints
// each one's "type" and the given keys' values (absent ones as -):
// jsonlines FILE KEY... For apply --output json.
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: jsonlines FILE KEY...")
	}
	for i, line := range strings.Split(strings.TrimSuffix(ts.ReadFile(args[0]), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			ts.Fatalf("jsonlines: %s line %d is not a JSON object: %v\n%s", args[0], i+1, err, line)
		}
		out := []string{fmt.Sprint(m["type"])}
		for _, k := range args[1:] {
			v, ok := m[k]
			switch {
			case !ok:
				out = append(out, "-")
			default:
				b, _ := json.Marshal(v)
				out = append(out, string(b))
			}
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(out, " "))
	}
}

// cmdGitHubStatuses prints the commit statuses the GitHub stand-in holds
// for SHA on acme/platform, newest first, as "STATE CONTEXT: DESCRIPTION":
// github-statuses SHA.
func cmdGitHubStatuses(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: github-statuses SHA")
	}
	h := ts.Value(githubKey{}).(*githubHolder)
	if h.srv == nil {
		ts.Fatalf("github-statuses: no github-api in this script")
	}
	for _, st := range h.srv.Statuses("acme/platform", args[0]) {
		fmt.Fprintf(ts.Stdout(), "%s %s: %s\n", st.State, st.Context, st.Description)
	}
}
