package main

import "testing"

func TestThpDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                            false,
		"disablethp=1":                true,
		"disablethp=0":                false,
		"madvdontneed=1,disablethp=1": true,
		"disablethp=1, gctrace=1":     true,
		"disablethp=1,disablethp=0":   false, // the last one wins
		" disablethp=1":               false, // as the runtime reads it
		"xdisablethp=1":               false,
		"disablethp=10":               false,
	} {
		if got := thpDisabled(godebug); got != want {
			t.Errorf("thpDisabled(%q) = %v, want %v", godebug, got, want)
		}
	}
}
