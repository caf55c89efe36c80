// Command launchplane is a declarative GitOps runner for web products and
// Odoo tenants on self-hosted platforms. See README.md.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func main() { os.Exit(profiled(Main)) }

// profiled runs f, writing a CPU profile of the whole process to the file
// named by LAUNCHPLANE_CPUPROFILE when it is set (for measuring the built
// binary; see bench/README.md).
func profiled(f func() int) int {
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
