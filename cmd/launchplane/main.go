// Command launchplane is a declarative GitOps runner for web products and
// Odoo tenants on self-hosted platforms. See README.md.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

func main() { os.Exit(profiled(Main)) }

// profiled runs f, writing a CPU profile of the whole process to the file
// named by LAUNCHPLANE_CPUPROFILE and an allocation profile to the file
// named by LAUNCHPLANE_MEMPROFILE when they are set (for measuring the
// built binary; see bench/README.md).
func profiled(f func() int) int {
	if path := os.Getenv("LAUNCHPLANE_MEMPROFILE"); path != "" {
		defer writeProfile("allocs", path)
	}
	path := os.Getenv("LAUNCHPLANE_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "launchplane: cpu profile: %v\n", err)
		return exitError
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(os.Stderr, "launchplane: cpu profile: %v\n", err)
		return exitError
	}
	defer pprof.StopCPUProfile()
	return f()
}

// writeProfile writes the named runtime profile to path, after a
// collection: the allocation profile counts up to the last one.
func writeProfile(name, path string) {
	runtime.GC()
	out, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup(name).WriteTo(out, 0)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "launchplane: %s profile: %v\n", name, err)
	}
}
