package schema

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// patternSeeds are strings near each pattern's edges: valid ones at
// the limits, and each near miss.
func patternSeeds() []string {
	hex := strings.Repeat("0123456789abcdef", 4)
	return []string{
		"", "a", "z", "ab", "a-", "-a", "a-b", "a--b", "a0", "0a", "A", "aB",
		"a" + strings.Repeat("b", 38) + "c", "a" + strings.Repeat("b", 39) + "c", "a" + strings.Repeat("-", 38) + "c",
		"app00001-prod", "app00001-prod\n", "app\n", "é", "aé", "a\xff", "a\x00",
		"r@sha256:" + hex, "ghcr.io/acme/a@sha256:" + hex, "@sha256:" + hex, "r@sha256:" + hex + "\n",
		"r@sha256:" + hex[:63], "r@sha256:" + hex + "0", "r@sha256:" + strings.ToUpper(hex), "r@@sha256:" + hex,
		"a b@sha256:" + hex, "a\tb@sha256:" + hex, "a\vb@sha256:" + hex, "a\u00a0b@sha256:" + hex, "é\xff@sha256:" + hex,
		"r@sha512:" + hex, "r@sha256" + hex, "r@sha256:" + hex[:32] + "g" + hex[33:],
	}
}

func checkPattern(t testing.TB, pat string, re *regexp.Regexp, match func(string) bool, s string) {
	if got, want := match(s), re.MatchString(s); got != want {
		t.Fatalf("%s on %q: hand-written %v, regexp %v", pat, s, got, want)
	}
}

// Each hand-written matcher agrees with regexp on the seeds, on every
// one-byte substitution, insertion and deletion of each seed, and on
// random strings over the bytes that matter.
func TestPatternMatchersAgree(t *testing.T) {
	alphabet := []byte("az09-_.:/@AZ \t\n\v\f\r\x00\x7f\x80\xc3\xa9\xff")
	rng := rand.New(rand.NewSource(1))
	n := 0
	for pat, match := range patternMatchers {
		re := regexp.MustCompile(pat)
		for _, seed := range patternSeeds() {
			checkPattern(t, pat, re, match, seed)
			for i := 0; i <= len(seed); i++ {
				for _, c := range alphabet {
					if i < len(seed) {
						checkPattern(t, pat, re, match, seed[:i]+string(c)+seed[i+1:])
					}
					checkPattern(t, pat, re, match, seed[:i]+string(c)+seed[i:])
					n += 2
				}
				if i < len(seed) {
					checkPattern(t, pat, re, match, seed[:i]+seed[i+1:])
				}
			}
		}
		for k := 0; k < 20000; k++ {
			b := make([]byte, rng.Intn(80))
			for i := range b {
				b[i] = alphabet[rng.Intn(len(alphabet))]
			}
			checkPattern(t, pat, re, match, string(b))
			n++
		}
	}
	if n < 100000 {
		t.Fatalf("only %d strings compared", n)
	}
}

// The matchers are for patterns the schemas use: a pattern no schema
// has any more would leave its matcher untested by the other tests.
func TestPatternMatchersUsed(t *testing.T) {
	used := map[string]bool{}
	var walk func(n *fnode, seen map[*fnode]bool)
	walk = func(n *fnode, seen map[*fnode]bool) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if n.match != nil {
			used[n.pattern.String()] = true
		}
		for _, c := range n.props {
			walk(c, seen)
		}
		for _, c := range append(append(append([]*fnode{n.additional, n.propertyNames, n.items, n.ref, n.not, n.ifN, n.thenN, n.elseN}, n.allOf...), n.anyOf...), n.oneOf...) {
			walk(c, seen)
		}
		for _, pp := range n.patternProps {
			walk(pp.n, seen)
		}
	}
	seen := map[*fnode]bool{}
	for _, root := range fastSchemas() {
		walk(root, seen)
	}
	for pat := range patternMatchers {
		if !used[pat] {
			t.Errorf("no schema uses %s", pat)
		}
	}
}

func FuzzPatternMatchers(f *testing.F) {
	for _, s := range patternSeeds() {
		f.Add(s)
	}
	res := map[string]*regexp.Regexp{}
	for pat := range patternMatchers {
		res[pat] = regexp.MustCompile(pat)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for pat, match := range patternMatchers {
			checkPattern(t, pat, res[pat], match, s)
		}
	})
}
