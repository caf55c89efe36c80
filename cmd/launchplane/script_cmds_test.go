package main

import (
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
// words (what shellQuote produces).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, inWord := false, false
	for _, r := range s {
		switch {
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
