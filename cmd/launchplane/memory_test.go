package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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

// TestHugeRegionLeavesTheRangeFree: the first collection after hugeRegion
// frees the block that marks the range (one that found it live would keep
// the range taken and the heap goal set from it), and no collection runs
// while it is live.
func TestHugeRegionLeavesTheRangeFree(t *testing.T) {
	const n = 256 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hugeRegion(n)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("hugeRegion left the GC percent at %d, want it restored to 100", got)
	}
	// Allocate until a collection has completed since.
	var sink [][]byte
	for i := 0; cycles() == uint64(before.NumGC) && i < 1<<14; i++ {
		sink = append(sink[:0], make([]byte, 32<<10))
	}
	runtime.ReadMemStats(&after)
	if after.NumGC == before.NumGC {
		t.Fatal("no collection ran")
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew >= n/2 {
		t.Fatalf("after hugeRegion(%d MiB) and %d collections the heap is %d MiB larger: the block was kept", n>>20, after.NumGC-before.NumGC, grew>>20)
	}
	runtime.KeepAlive(sink)
}

// cycles is the number of completed collections, without stopping the
// world as ReadMemStats does.
func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
