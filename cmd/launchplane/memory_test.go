package main

import (
	"runtime"
	"testing"
)

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

// TestHugeRegionLeavesTheRangeFree: the block that marks the range is
// freed before hugeRegion returns, so the objects that follow reuse the
// range and the heap goal is not set from it.
func TestHugeRegionLeavesTheRangeFree(t *testing.T) {
	const n = 256 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hugeRegion(n)
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew >= n/2 {
		t.Fatalf("hugeRegion(%d MiB) left the heap %d MiB larger: the block is still live", n>>20, grew>>20)
	}
}
