package main

import (
	"strings"
	"testing"
)

// Only the hash line plan --comment ends the comment with counts: a hash
// marker in the plan's text (which config values reach), one followed by
// more text, or a malformed one does not.
func TestCommentPlanHash(t *testing.T) {
	h := "sha256:" + strings.Repeat("a", 64)
	other := "sha256:" + strings.Repeat("f", 64)
	for _, c := range []struct {
		body string
		want string
	}{
		{"<!-- launchplane:plan cfg -->\nplan\n" + planHashMarker(h) + "\n", h},
		{"<!-- launchplane:plan cfg -->\nplan\n" + planHashMarker(h) + "\r\n\n", h},
		{"<!-- launchplane:plan cfg -->\n" + planHashMarker(other) + "\nplan failed\n", ""},
		{"<!-- launchplane:plan cfg -->\nimage " + planHashMarker(other) + "\n", ""},
		{"<!-- launchplane:plan cfg -->\n<!-- launchplane:plan-hash sha256:AB -->", ""},
		{"<!-- launchplane:plan cfg -->\n<!-- launchplane:plan-hash " + h + " --> x", ""},
		{"", ""},
	} {
		got, ok := commentPlanHash(c.body)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("commentPlanHash(%q) = %q, %v; want %q", c.body, got, ok, c.want)
		}
	}
}
