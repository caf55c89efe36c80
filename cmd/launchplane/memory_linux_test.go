package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdviseHugePagesMarksTheRange checks that the kernel took the advice:
// the mapping holding the block's first whole huge page carries the "hg"
// (MADV_HUGEPAGE) flag in /proc/self/smaps.
func TestAdviseHugePagesMarksTheRange(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages")
	}
	// Larger than any range advised before in this process (commands run
	// in-process call hugeHeap), so the runtime maps it fresh; untouched,
	// it costs no memory.
	b := make([]byte, 512<<20)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (p + hugePage - 1) &^ (hugePage - 1)
	last := (p+uintptr(len(b)))&^(hugePage-1) - hugePage
	if flags := vmFlagsAt(t, first); strings.Contains(flags, " hg") {
		t.Skipf("the block is already advised (flags%s): the test would prove nothing", flags)
	}
	adviseHugePages(b)
	for _, at := range []uintptr{first, last} {
		if flags := vmFlagsAt(t, at); !strings.Contains(flags, " hg") {
			t.Errorf("mapping at %#x has flags%s, want hg", at, flags)
		}
	}
}

// vmFlagsAt is the VmFlags line of the mapping holding addr.
func vmFlagsAt(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := vmRange(line); ok {
			in = lo <= uint64(addr) && uint64(addr) < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimPrefix(line, "VmFlags:")
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}

// vmRange parses the "lo-hi perms …" header of an smaps entry.
func vmRange(line string) (lo, hi uint64, ok bool) {
	r, _, found := strings.Cut(line, " ")
	a, b, found2 := strings.Cut(r, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}
