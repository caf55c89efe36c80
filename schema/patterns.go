package schema

import "strings"

// patternMatchers are hand-written matchers for the patterns the fast
// validator meets most (every name, every pinned image): Go's regexp
// takes about 2 µs for each (a bounded repetition sends it to the
// backtracker), thousands of times a load. Each matches exactly the
// strings its pattern matches (RE2 semantics: "$" is the end of the
// text, \s is [\t\n\f\r ], a byte of invalid UTF-8 is U+FFFD);
// TestPatternMatchersAgree and FuzzPatternMatchers check it against
// regexp. Any other pattern is matched by regexp.
var patternMatchers = map[string]func(string) bool{
	`^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$`: isDNSLabel40,
	`^[^@\s]+@sha256:[0-9a-f]{64}$`:     isPinnedImage,
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// isDNSLabel40: ^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$
func isDNSLabel40(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	if len(s) == 1 {
		return true
	}
	for i := 1; i < len(s)-1; i++ {
		if !isLowerAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return isLowerAlnum(s[len(s)-1])
}

// isPinnedImage: ^[^@\s]+@sha256:[0-9a-f]{64}$. The repository part
// holds no "@", so its end is the first "@"; any byte but those of \s
// and "@" may be in it (the bytes of a multi-byte character, or of
// invalid UTF-8, are all 0x80 or more).
func isPinnedImage(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 1 {
		return false
	}
	for i := 0; i < at; i++ {
		switch s[i] {
		case '\t', '\n', '\f', '\r', ' ':
			return false
		}
	}
	const prefix = "@sha256:"
	hex := s[at:]
	if len(hex) != len(prefix)+64 || hex[:len(prefix)] != prefix {
		return false
	}
	for i := len(prefix); i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
