package providers

import "testing"

func TestHoldsMarker(t *testing.T) {
	const m = "<!-- launchplane:plan cfg -->"
	for _, tt := range []struct {
		body string
		want bool
	}{
		{m + "\nplan", true},
		{"intro\n" + m + "\nplan", true},
		{"  " + m, true},
		{"> " + m + "\n> plan", false},
		{"  > " + m, false},
		{"```\n" + m + "\n```", false},
		{"~~~~md\n" + m + "\n~~~~\n", false},
		{"```\n```\n" + m, true},
		{"````\n```\n" + m + "\n````", false},
		{"    " + m, false},
		{"\t" + m, false},
		{"text only", false},
		{"```\nunclosed\n" + m, false},
	} {
		if got := HoldsMarker(tt.body, m); got != tt.want {
			t.Errorf("HoldsMarker(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
