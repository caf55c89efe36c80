package main

import (
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// hugeHeapBytes is how much of the heap loadConfig asks the kernel to back
// with huge pages: about what planning 5,000 targets touches.
const hugeHeapBytes = 128 << 20

// shortRunGOGC is the GC percent of a short run (plan, validate): the
// heap may grow to three times what is live instead of twice.
const shortRunGOGC = 200

// shortRun tunes memory for a command that loads the whole config (and
// state), answers and exits: plan and validate. It backs the heap with
// huge pages (hugeHeap) and, unless GOGC is set, collects garbage less
// often (shortRunGOGC): most of what such a run allocates stays live
// until it exits, so a collection frees little. At 3,000 and 5,000 targets that took 5–15% off
// a no-change plan, for 5–10% more peak memory (bench/README.md).
func shortRun() {
	hugeHeap()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(shortRunGOGC)
	}
}

var hugeHeapOnce sync.Once

// hugeHeap asks, once per process, for the first hugeHeapBytes of heap
// that config loading will fill to be backed by transparent huge pages.
//
// Go's heap is faulted in a 4 KiB page at a time, and Go asks for no huge
// pages for it, so on Linux's default THP setting ("madvise") a plan of
// 3,000 targets took about 7,000 page faults on the heap alone. Where a
// fault traps to a hypervisor, as on many CI virtual machines, those
// faults were a quarter of the plan's wall time (bench/README.md). It
// allocates a block the runtime takes from fresh, untouched memory, marks
// that range MADV_HUGEPAGE and drops the block: the runtime reuses the
// freed range for the objects that follow, and the kernel then faults it
// in 2 MiB at a time. Nothing is touched, so an unused range costs no
// memory. GODEBUG=disablethp=1, the runtime's own switch against huge
// pages, turns it off; so do kernels without THP, where the advice is a
// no-op.
func hugeHeap() {
	hugeHeapOnce.Do(func() {
		if !thpDisabled(os.Getenv("GODEBUG")) {
			hugeRegion(hugeHeapBytes)
		}
	})
}

// hugeRegion advises a fresh n-byte range of the heap and leaves it to be
// freed by the next collection. No collection may run while the block is
// live: one that found it live would keep the range taken (objects would
// go to fresh 4 KiB pages beyond it) and set the heap goal from it. A
// forced collection instead costs 5–10 ms.
func hugeRegion(n int) {
	gogc := debug.SetGCPercent(-1)
	adviseBlock(n)
	debug.SetGCPercent(gogc)
}

// adviseBlock allocates and advises the block; it is garbage once this
// returns.
//
//go:noinline
func adviseBlock(n int) { adviseHugePages(make([]byte, n)) }

// thpDisabled reports whether godebug sets disablethp=1 (the last
// setting wins, as in the runtime).
func thpDisabled(godebug string) bool {
	off := false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "disablethp="); ok {
			off = v == "1"
		}
	}
	return off
}
