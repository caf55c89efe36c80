// Command fleetbench measures the built launchplane binary end to end on
// generated fleets: validate, plan on an empty state, apply of every
// target through the fake provider, and plan with no changes, each as a
// whole process (wall time, CPU time, peak RSS; medians of -runs).
//
//	go run ./bench/fleetbench                          # 300,1000,3000,5000 targets
//	go run ./bench/fleetbench -sizes 3000 -runs 5
//	go run ./bench/fleetbench -critical                # apply's critical path
//	go run ./bench/fleetbench -smoke                   # CI: small size, checks results
//
// See bench/README.md for what each row means and the figures measured.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

func main() {
	var (
		bin      = flag.String("bin", "", "launchplane binary to measure (default: go build ./cmd/launchplane)")
		sizes    = flag.String("sizes", "300,1000,3000,5000", "fleet sizes in targets, comma-separated")
		runs     = flag.Int("runs", 3, "counted runs of each command (the median is shown)")
		applyN   = flag.Int("apply-runs", 1, "counted applies per size (each on a fresh state and world)")
		work     = flag.String("work", "", "working directory (default: a temporary one, removed after)")
		smoke    = flag.Bool("smoke", false, "CI smoke test: one small size, one run, results checked")
		critical = flag.Bool("critical", false, "measure apply's critical path: 100 targets, 50ms per fake call, parallelism 8")
		env      = flag.String("env", "", "extra environment for the measured binary, comma-separated K=V (e.g. GODEBUG=gctrace=1)")
		noApply  = flag.Bool("no-apply", false, "measure validate and the empty-state plan only")
		history  = flag.Int("history", 0, "then add this many commits to the state and plan again (plan cost vs history length)")
	)
	addTo := flag.String("add-history-to", "", "(internal) add -history commits to this state repository and exit")
	flag.Parse()
	if *addTo != "" {
		if err := addHistory(*addTo, *history); err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench:", err)
			os.Exit(1)
		}
		return
	}
	if *smoke {
		*sizes, *runs, *applyN, *history = "40", 1, 1, 20
	}
	if *noApply {
		*applyN = 0
	}
	if err := run(*bin, *sizes, *runs, *applyN, *work, *critical, *env, *history); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func run(bin, sizes string, runs, applyRuns int, work string, critical bool, extraEnv string, history int) error {
	if work == "" {
		d, err := os.MkdirTemp("", "fleetbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	work, _ = filepath.Abs(work)
	if bin == "" {
		bin = filepath.Join(work, "launchplane")
		build := exec.Command("go", "build", "-o", bin, "./cmd/launchplane")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	bin, _ = filepath.Abs(bin)
	m := &measurer{bin: bin}
	if extraEnv != "" {
		m.env = strings.Split(extraEnv, ",")
	}
	if critical {
		return criticalPath(m, work)
	}
	fmt.Printf("| targets | command | wall s median (min–max) | CPU s median | max RSS MiB median |\n|---|---|---|---|---|\n")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		if err := size(m, work, n, runs, applyRuns, history); err != nil {
			return fmt.Errorf("%d targets: %w", n, err)
		}
	}
	return nil
}

// size measures one fleet size.
func size(m *measurer, work string, n, runs, applyRuns, history int) error {
	dir := filepath.Join(work, strconv.Itoa(n))
	cfg := filepath.Join(dir, "cfg")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := (Fleet{Targets: n}).Write(cfg); err != nil {
		return err
	}
	empty := filepath.Join(dir, "empty.git")
	if err := gitInit(empty); err != nil {
		return err
	}
	if err := m.measure(dir, n, runs, step{what: "validate", args: []string{"validate", "--config", cfg}}); err != nil {
		return err
	}
	// plan --output json on an empty state: every target is created.
	if err := m.measure(dir, n, runs, step{what: "plan --output json, empty state", wantExit: 2,
		args:       []string{"plan", "--config", cfg, "--state", empty, "--output", "json", "--detailed-exitcode"},
		checkFirst: func(r result) error { return checkPlan(r.stdout, n) }}); err != nil {
		return err
	}
	if applyRuns == 0 {
		return nil
	}
	state := filepath.Join(dir, "state.git")
	if err := applyAll(m, dir, cfg, state, n, applyRuns); err != nil {
		return err
	}
	// plan with no changes: everything applied.
	noChanges := step{what: "plan, no changes", args: []string{"plan", "--config", cfg, "--state", state, "--detailed-exitcode"}}
	if err := m.measure(dir, n, runs, noChanges); err != nil {
		return err
	}
	if history == 0 {
		return nil
	}
	// In a process of its own: the harness's memory must not show in the
	// peak RSS of the commands it starts next.
	add := exec.Command(os.Args[0], "-add-history-to", state, "-history", strconv.Itoa(history))
	add.Stdout, add.Stderr = os.Stderr, os.Stderr
	if err := add.Run(); err != nil {
		return fmt.Errorf("add history: %w", err)
	}
	noChanges.what = fmt.Sprintf("plan, no changes, %d more commits", history)
	return m.measure(dir, n, runs, noChanges)
}

// applyAll measures an apply of every target through the fake, each on a
// fresh state and world, and checks the world and the commit it left.
func applyAll(m *measurer, dir, cfg, state string, n, runs int) error {
	world := filepath.Join(dir, "world.json")
	err := m.measure(dir, n, runs, step{what: "apply, all targets created",
		args: []string{"apply", "--config", cfg, "--state", state},
		before: func() error {
			os.RemoveAll(state)
			os.Remove(world)
			return gitInit(state)
		}})
	if err != nil {
		return err
	}
	if err := checkWorld(world, n); err != nil {
		return err
	}
	return checkCommit(state, n)
}

// step is one command measured at one size.
type step struct {
	what       string   // the row's label
	args       []string // launchplane's arguments
	wantExit   int
	before     func() error         // run before each run, unmeasured
	checkFirst func(r result) error // checks the first run's result
}

// measure runs st runs times and prints its row.
func (m *measurer) measure(dir string, n, runs int, st step) error {
	var rs []result
	for i := 0; i < runs; i++ {
		if st.before != nil {
			if err := st.before(); err != nil {
				return err
			}
		}
		r, err := m.run(dir, st.wantExit, st.args...)
		if err != nil {
			return err
		}
		if i == 0 && st.checkFirst != nil {
			if err := st.checkFirst(r); err != nil {
				return err
			}
		}
		rs = append(rs, r)
	}
	row(n, st.what, rs)
	return nil
}

// addHistory adds k commits to the state repository, each a record of
// one target, as k later applies of that target would.
func addHistory(loc string, k int) error {
	ctx := context.Background()
	st, err := gitstore.Open(ctx, loc, gitstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	for i := 0; i < k; i++ {
		sn, err := st.Snapshot(ctx)
		if err != nil {
			return err
		}
		p := fmt.Sprintf("records/app00000/testing/bench-%06d.json", i)
		if _, err := st.Commit(ctx, state.Write{Base: sn.Commit(), Scopes: []string{p}, Changes: []state.Change{{Path: p, Data: []byte("{}\n")}},
			Message: "bench: history", Author: state.Signature{Name: "fleetbench", Email: "fleetbench@localhost", When: time.Unix(int64(i), 0)}}); err != nil {
			return err
		}
	}
	return nil
}

// criticalPath applies 100 targets with 50ms spent in every fake call, at
// parallelism 8, and prints the time against the bound the issue sets.
func criticalPath(m *measurer, work string) error {
	const n, par, latency = 100, 8, 50 * time.Millisecond
	dir := filepath.Join(work, "critical")
	os.RemoveAll(dir)
	cfg := filepath.Join(dir, "cfg")
	if err := (Fleet{Targets: n}).Write(cfg); err != nil {
		return err
	}
	state := filepath.Join(dir, "state.git")
	if err := gitInit(state); err != nil {
		return err
	}
	world := filepath.Join(dir, "world.json")
	if err := os.WriteFile(world, []byte(`{"latency": "50ms", "count_calls": true}`), 0o644); err != nil {
		return err
	}
	r, err := m.run(dir, 0, "apply", "--config", cfg, "--state", state, "--parallelism", strconv.Itoa(par))
	if err != nil {
		return err
	}
	calls, err := countCalls(world)
	if err != nil {
		return err
	}
	perTarget := float64(calls) / n
	bound := time.Duration(math.Ceil(float64(n)/par)*math.Ceil(perTarget)) * latency
	fmt.Printf("apply %d targets, %v per fake call, parallelism %d: %.2fs wall, %.2fs CPU\n", n, latency, par, r.wall.Seconds(), r.cpu.Seconds())
	fmt.Printf("fake calls: %d (%.1f per target); critical path ceil(%d/%d) x %d x %v = %.2fs; ratio %.2f\n",
		calls, perTarget, n, par, int(math.Ceil(perTarget)), latency, bound.Seconds(), r.wall.Seconds()/bound.Seconds())

	// The same apply without latency: what the process costs beyond the
	// provider calls (start, load, plan, preflight, the two state commits).
	os.RemoveAll(state)
	if err := gitInit(state); err != nil {
		return err
	}
	if err := os.WriteFile(world, []byte(`{}`), 0o644); err != nil {
		return err
	}
	os.Remove(world + ".journal")
	r0, err := m.run(dir, 0, "apply", "--config", cfg, "--state", state, "--parallelism", strconv.Itoa(par))
	if err != nil {
		return err
	}
	fmt.Printf("the same apply with no latency: %.2fs wall, %.2fs CPU (the fixed cost beyond the calls)\n", r0.wall.Seconds(), r0.cpu.Seconds())
	return nil
}

type measurer struct {
	bin string
	env []string
}

type result struct {
	wall, cpu time.Duration
	rssKiB    int64
	stdout    []byte
}

// run runs the binary in dir with stdin closed and checks its exit code.
func (m *measurer) run(dir string, wantExit int, args ...string) (result, error) {
	cmd := exec.Command(m.bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), m.env...)
	// stdout goes to a file, as "> plan.json" would: a pipe read by this
	// process would time this process's reading too (the JSON of an
	// empty-state plan of 3,000 targets is 6 MB).
	out, err := os.CreateTemp(dir, "stdout-*")
	if err != nil {
		return result{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errb
	if len(m.env) > 0 {
		cmd.Stderr = io.MultiWriter(&errb, os.Stderr)
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return result{}, err
	}
	stdout, rerr := os.ReadFile(out.Name())
	if rerr != nil {
		return result{}, rerr
	}
	if code := cmd.ProcessState.ExitCode(); code != wantExit {
		tail := errb.String()
		if len(tail) > 2000 {
			tail = "…" + tail[len(tail)-2000:]
		}
		return result{}, fmt.Errorf("launchplane %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantExit, tail)
	}
	r := result{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), stdout: stdout}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss
	}
	return r, nil
}

func row(n int, what string, rs []result) {
	med := func(f func(result) float64) (float64, float64, float64) {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2], v[0], v[len(v)-1]
	}
	w, lo, hi := med(func(r result) float64 { return r.wall.Seconds() })
	c, _, _ := med(func(r result) float64 { return r.cpu.Seconds() })
	rss, _, _ := med(func(r result) float64 { return float64(r.rssKiB) / 1024 })
	fmt.Printf("| %d | %s | %.3f (%.3f–%.3f) | %.3f | %.0f |\n", n, what, w, lo, hi, c, rss)
}

func gitInit(dir string) error {
	out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git init: %v: %s", err, out)
	}
	return nil
}

// checkPlan checks that a JSON plan creates every target's app and route.
func checkPlan(b []byte, n int) error {
	var p struct {
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("plan --output json: %w", err)
	}
	if got := p.Summary["create"]; got != 2*n {
		return fmt.Errorf("plan creates %d resources, want %d (an app and a route per target)", got, 2*n)
	}
	return nil
}

// checkWorld checks that the fake deployed and routed every target.
func checkWorld(path string, n int) error {
	var w struct {
		Apps   map[string]json.RawMessage `json:"apps"`
		Routes map[string]json.RawMessage `json:"routes"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(w.Apps) != n || len(w.Routes) != n {
		return fmt.Errorf("%s: %d apps and %d routes, want %d of each", path, len(w.Apps), len(w.Routes), n)
	}
	return nil
}

// checkCommit checks that the state tip records every target, and that the
// commit subject stays a one-line summary whatever the fleet's size.
func checkCommit(state string, n int) error {
	out, err := exec.Command("git", "-C", state, "ls-tree", "-r", "--name-only", "main", "targets").Output()
	if err != nil {
		return fmt.Errorf("git ls-tree: %w", err)
	}
	if got := strings.Count(string(out), "\n"); got != n {
		return fmt.Errorf("state records %d targets, want %d", got, n)
	}
	subj, err := exec.Command("git", "-C", state, "log", "-1", "--format=%s", "main").Output()
	if err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	if len(subj) > 200 {
		return fmt.Errorf("apply commit subject is %d bytes: %.80s…", len(subj), subj)
	}
	return nil
}

// countCalls reads how many calls the fake served from its world file.
func countCalls(path string) (int, error) {
	var w struct {
		Calls map[string]int `json:"calls"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return 0, err
	}
	total := 0
	for _, c := range w.Calls {
		total += c
	}
	if total == 0 {
		return 0, fmt.Errorf("%s: the fake counted no calls", path)
	}
	return total, nil
}
