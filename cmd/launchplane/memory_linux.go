package main

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of an x86-64 and arm64 transparent huge page; the
// advice covers only whole ones inside b.
const hugePage = 2 << 20

// adviseHugePages marks the whole huge pages inside b MADV_HUGEPAGE. It
// ignores failure: the advice only changes how memory is faulted in.
func adviseHugePages(b []byte) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	beg := (p + hugePage - 1) &^ (hugePage - 1)
	end := (p + uintptr(len(b))) &^ (hugePage - 1)
	if beg >= end {
		return
	}
	_ = syscall.Madvise(b[beg-p:end-p], syscall.MADV_HUGEPAGE)
}
