//go:build !linux

package main

// adviseHugePages does nothing where there is no MADV_HUGEPAGE.
func adviseHugePages([]byte) {}
