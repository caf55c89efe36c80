package providers

import "strings"

// HoldsMarker reports whether a comment body carries marker the way
// Launchplane writes it: on a line of its own text, not inside a
// Markdown quote ("> …"), a fenced code block (``` or ~~~) or an
// indented code block (four spaces or a tab). A reply that quotes
// Launchplane's comment, or shows its marker in code, is never taken for
// it. A marker spanning lines is looked for as is.
func HoldsMarker(body, marker string) bool {
	if strings.Contains(marker, "\n") {
		return strings.Contains(body, marker)
	}
	fence := ""
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if f := fenceOf(trimmed); f != "" && len(line)-len(trimmed) < 4 {
			fence = f
			continue
		}
		if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(strings.TrimLeft(line, " \t"), ">") {
			continue
		}
		if strings.Contains(line, marker) {
			return true
		}
	}
	return false
}

// fenceOf is the opening fence of a code block line (``` or ~~~, three or
// more), "" when line opens none.
func fenceOf(line string) string {
	for _, c := range []string{"`", "~"} {
		n := len(line) - len(strings.TrimLeft(line, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}
