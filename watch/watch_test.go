package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/schema"
)

// failAfter bounds every wait: tests never sleep to let events arrive, they
// wait on channels, and this timeout only turns a hang into a failure.
const failAfter = 10 * time.Second

const sentinelPrefix = "zz-sentinel-"

// harness runs a Watcher on a temporary directory and records its calls.
//
// With a fake timer (the default), a batch ends only when the test says so:
// flush writes a sentinel file, waits until the watcher has taken it into
// its pending batch (events are delivered in order, so every earlier change
// has been taken in too), then ends the debounce wait. The call that follows
// therefore holds exactly the changes made before flush, which makes exact
// assertions possible without sleeping.
type harness struct {
	t    *testing.T
	dir  string
	w    *Watcher
	fire chan time.Time // nil with a real timer

	calls  chan []string
	errs   chan error
	runErr chan error
	cancel context.CancelFunc

	// block, if set before start, runs inside onChange after the call is
	// recorded.
	block func(ctx context.Context, n int)

	mu       sync.Mutex
	seen     map[string]int // paths marked pending, with counts
	notify   chan struct{}  // pinged after each mark
	inflight atomic.Int32
	ncalls   atomic.Int32
	nsent    int
}

type setup func(h *harness)

// withRealTimer uses the production timer with the given debounce.
func withRealTimer(d time.Duration) setup {
	return func(h *harness) { h.fire = nil; h.w.opts.Debounce = d }
}

func newHarness(t *testing.T, files map[string]string) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		dir:    t.TempDir(),
		fire:   make(chan time.Time),
		calls:  make(chan []string, 100),
		errs:   make(chan error, 100),
		runErr: make(chan error, 1),
		seen:   map[string]int{},
		notify: make(chan struct{}, 1),
	}
	for name, data := range files {
		h.write(name, data)
	}
	return h
}

// start creates the Watcher (after the initial files exist) and runs it.
func (h *harness) start(setups ...setup) {
	h.t.Helper()
	opts := Options{
		OnError: func(err error) {
			select {
			case h.errs <- err:
			default:
				h.t.Errorf("too many errors; dropped %v", err)
			}
		},
		marked: func(rel string) {
			h.mu.Lock()
			h.seen[rel]++
			h.mu.Unlock()
			select {
			case h.notify <- struct{}{}:
			default:
			}
		},
	}
	w, err := New(h.dir, opts)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	h.w = w
	for _, s := range setups {
		s(h)
	}
	if h.fire != nil {
		w.opts.fire = h.fire
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.runErr <- w.Run(ctx, h.onChange) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.runErr:
			if err != nil {
				h.t.Errorf("Run: %v", err)
			}
		case <-time.After(failAfter):
			h.t.Errorf("Run did not return after cancel")
		}
	})
}

func (h *harness) onChange(ctx context.Context, changed []string) {
	if n := h.inflight.Add(1); n > 1 {
		h.t.Errorf("%d onChange calls at once", n)
	}
	defer h.inflight.Add(-1)
	if !slices.IsSorted(changed) || len(slices.Compact(slices.Clone(changed))) != len(changed) {
		h.t.Errorf("changed not sorted and distinct: %q", changed)
	}
	n := int(h.ncalls.Add(1))
	h.calls <- changed
	if h.block != nil {
		h.block(ctx, n)
	}
}

func (h *harness) path(name string) string {
	return filepath.Join(h.dir, filepath.FromSlash(name))
}

func (h *harness) write(name, data string) {
	h.t.Helper()
	p := h.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) rename(from, to string) {
	h.t.Helper()
	if err := os.Rename(h.path(from), h.path(to)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) remove(name string) {
	h.t.Helper()
	if err := os.RemoveAll(h.path(name)); err != nil {
		h.t.Fatal(err)
	}
}

// waitSeen waits until the watcher has marked rel as changed.
func (h *harness) waitSeen(rel string) {
	h.t.Helper()
	timeout := time.After(failAfter)
	for {
		h.mu.Lock()
		n := h.seen[rel]
		h.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-h.notify:
		case <-timeout:
			h.t.Fatalf("watcher never saw %s", rel)
		}
	}
}

// endWait ends the fake debounce wait; it blocks until the watcher has
// something pending.
func (h *harness) endWait() {
	h.t.Helper()
	select {
	case h.fire <- time.Now():
	case <-time.After(failAfter):
		h.t.Fatal("watcher never started a debounce wait")
	}
}

func (h *harness) nextCall() []string {
	h.t.Helper()
	select {
	case c := <-h.calls:
		return stripSentinels(c)
	case <-time.After(failAfter):
		h.t.Fatal("onChange not called")
		return nil
	}
}

// flush ends the current batch and returns it, without the sentinel.
func (h *harness) flush() []string {
	h.t.Helper()
	h.nsent++
	name := fmt.Sprintf("%s%d.yaml", sentinelPrefix, h.nsent)
	h.write(name, "")
	h.waitSeen(name)
	h.endWait()
	return h.nextCall()
}

func (h *harness) expectBatch(want ...string) {
	h.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := h.flush(); !slices.Equal(got, want) {
		h.t.Errorf("changed = %q, want %q", got, want)
	}
}

func (h *harness) nextError() error {
	h.t.Helper()
	select {
	case err := <-h.errs:
		return err
	case <-time.After(failAfter):
		h.t.Fatal("OnError not called")
		return nil
	}
}

// inject delivers err as the fsnotify backend would.
func (h *harness) inject(err error) {
	h.t.Helper()
	select {
	case h.w.fsw.Errors <- err:
	case <-time.After(failAfter):
		h.t.Fatal("watcher does not read errors")
	}
}

func (h *harness) noErrors() {
	h.t.Helper()
	select {
	case err := <-h.errs:
		h.t.Errorf("OnError(%v)", err)
	default:
	}
}

func stripSentinels(changed []string) []string {
	out := []string{}
	for _, c := range changed {
		if !strings.HasPrefix(c, sentinelPrefix) {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) watched() []string {
	var rels []string
	for _, p := range h.w.fsw.WatchList() {
		rel, ok := h.w.rel(p)
		if !ok {
			rel = "outside:" + p
		}
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	return rels
}

func TestEditIsReported(t *testing.T) {
	h := newHarness(t, map[string]string{"shop.yaml": "a", "other.yml": "b"})
	h.start()
	h.write("shop.yaml", "changed")
	h.expectBatch("shop.yaml")
	h.write("other.yml", "changed")
	h.write("new.yaml", "x")
	h.expectBatch("new.yaml", "other.yml")
	h.noErrors()
}

func TestRenameOverOriginalIsReportedOnce(t *testing.T) {
	h := newHarness(t, map[string]string{"shop.yaml": "v1"})
	h.start()

	// Atomic save: write a temporary file, rename it over the original.
	h.write(".shop.yaml.tmp123", "v2")
	h.rename(".shop.yaml.tmp123", "shop.yaml")
	h.expectBatch("shop.yaml")

	h.write("shop.yaml.tmp", "v3")
	h.rename("shop.yaml.tmp", "shop.yaml")
	h.expectBatch("shop.yaml")

	// Vim: probe file 4913, swap file, backup by renaming the original.
	h.write("4913", "")
	h.remove("4913")
	h.write(".shop.yaml.swp", "swap")
	h.rename("shop.yaml", "shop.yaml~")
	h.write("shop.yaml", "v4")
	h.remove("shop.yaml~")
	h.remove(".shop.yaml.swp")
	h.expectBatch("shop.yaml")

	// The new inode is watched through its directory: later edits count.
	h.write("shop.yaml", "v5")
	h.expectBatch("shop.yaml")
	h.noErrors()
}

func TestRemoveThenCreateIsReported(t *testing.T) {
	h := newHarness(t, map[string]string{"shop.yaml": "v1", "gone.yaml": "x"})
	h.start()
	h.remove("shop.yaml")
	h.write("shop.yaml", "v2")
	h.expectBatch("shop.yaml")
	h.remove("gone.yaml")
	h.expectBatch("gone.yaml")
	h.noErrors()
}

func TestBurstGivesOneCall(t *testing.T) {
	h := newHarness(t, map[string]string{"shop.yaml": "v0"})
	h.start()
	for i := range 20 {
		h.write("shop.yaml", fmt.Sprintf("v%d", i+1))
	}
	h.expectBatch("shop.yaml")
	select {
	case c := <-h.calls:
		t.Errorf("extra call %q", c)
	default:
	}
}

func TestRealTimerDebounces(t *testing.T) {
	h := newHarness(t, map[string]string{"shop.yaml": "v0"})
	h.start(withRealTimer(50 * time.Millisecond))
	for i := range 20 {
		h.write("shop.yaml", fmt.Sprintf("v%d", i+1))
	}
	h.write("last.yaml", "x")
	// The burst is normally one call; a very slow machine may split it, so
	// only require that the calls, in order, cover exactly what was changed.
	var got [][]string
	for !slices.Contains(h.lastOf(got), "last.yaml") {
		got = append(got, h.nextCall())
	}
	var all []string
	for _, c := range got {
		all = append(all, c...)
	}
	slices.Sort(all)
	if all = slices.Compact(all); !slices.Equal(all, []string{"last.yaml", "shop.yaml"}) {
		t.Errorf("calls %q, want shop.yaml and last.yaml", got)
	}
	t.Logf("%d call(s) for a burst of 21 writes: %q", len(got), got)
	h.noErrors()
}

func (h *harness) lastOf(calls [][]string) []string {
	if len(calls) == 0 {
		return nil
	}
	return calls[len(calls)-1]
}

func TestNewSubdirectoryIsWatched(t *testing.T) {
	h := newHarness(t, nil)
	h.start()

	// The file is created right after the directory, usually before the
	// watcher adds a watch on it: the scan after adding finds it.
	h.write("products/shop.yaml", "x")
	h.expectBatch("products/shop.yaml")

	h.write("products/shop.yaml", "y")
	h.expectBatch("products/shop.yaml")

	// A whole tree at once (mkdir -p, then files).
	if err := os.MkdirAll(h.path("a/b/c"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.write("a/b/c/deep.yaml", "x")
	h.write("a/top.yml", "x")
	h.expectBatch("a/b/c/deep.yaml", "a/top.yml")

	h.write("a/b/c/deep.yaml", "y")
	h.expectBatch("a/b/c/deep.yaml")

	if got, want := h.watched(), []string{".", "a", "a/b", "a/b/c", "products"}; !slices.Equal(got, want) {
		t.Errorf("watched = %q, want %q", got, want)
	}
	h.noErrors()
}

func TestDirectoryMovedInIsScanned(t *testing.T) {
	h := newHarness(t, nil)
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, "tree/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tree/a.yaml", "tree/sub/b.yaml", "tree/notes.txt"} {
		if err := os.WriteFile(filepath.Join(outside, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.start()
	if err := os.Rename(filepath.Join(outside, "tree"), h.path("tree")); err != nil {
		t.Fatal(err)
	}
	h.expectBatch("tree/a.yaml", "tree/sub/b.yaml")
	h.write("tree/sub/b.yaml", "y")
	h.expectBatch("tree/sub/b.yaml")
	h.noErrors()
}

func TestRemovedDirectoryIsDropped(t *testing.T) {
	h := newHarness(t, map[string]string{
		"keep.yaml":       "x",
		"sub/a.yaml":      "x",
		"sub/deep/b.yaml": "x",
	})
	h.start()
	h.remove("sub")
	h.expectBatch("sub/a.yaml", "sub/deep/b.yaml")
	if got, want := h.watched(), []string{"."}; !slices.Equal(got, want) {
		t.Errorf("watched = %q, want %q", got, want)
	}

	h.write("sub/a.yaml", "again")
	h.expectBatch("sub/a.yaml")
	h.write("sub/a.yaml", "edited")
	h.expectBatch("sub/a.yaml")
	h.noErrors()
}

func TestRenamedDirectory(t *testing.T) {
	h := newHarness(t, map[string]string{"sub/a.yaml": "x", "sub/deep/b.yaml": "x"})
	h.start()
	h.rename("sub", "moved")
	h.expectBatch("moved/a.yaml", "moved/deep/b.yaml", "sub/a.yaml", "sub/deep/b.yaml")
	if got, want := h.watched(), []string{".", "moved", "moved/deep"}; !slices.Equal(got, want) {
		t.Errorf("watched = %q, want %q", got, want)
	}
	h.write("moved/deep/b.yaml", "y")
	h.expectBatch("moved/deep/b.yaml")
	h.noErrors()
}

func TestIgnoredFiles(t *testing.T) {
	h := newHarness(t, map[string]string{
		".git/config.yaml":      "x",
		".git/objects/ab.yaml":  "x",
		"products/.hidden.yaml": "x",
	})
	h.start()
	if got, want := h.watched(), []string{".", "products"}; !slices.Equal(got, want) {
		t.Errorf("watched = %q, want %q", got, want)
	}
	for _, name := range []string{
		".hidden.yaml", ".shop.yaml.swp", ".shop.yaml.swx", "shop.yaml~",
		"4913", "#shop.yaml#", ".#shop.yaml", "notes.txt", "shop.yaml.bak",
		".git/config.yaml", ".git/objects/cd.yaml", ".cache/x/y.yaml",
		"products/.hidden.yaml", "products/README.md",
	} {
		h.write(name, "x")
	}
	h.remove(".cache")
	h.rename("notes.txt", "notes.md")
	h.expectBatch()
	h.noErrors()
}

func TestCallsAreSerial(t *testing.T) {
	h := newHarness(t, map[string]string{"a.yaml": "x", "b.yaml": "x"})
	release := make(chan struct{})
	returned := make(chan struct{})
	h.block = func(ctx context.Context, n int) {
		if n == 1 {
			<-release
			close(returned)
		}
	}
	h.start()

	h.write("first.yaml", "x")
	if got := h.flush(); !slices.Equal(got, []string{"first.yaml"}) {
		t.Fatalf("first call = %q", got)
	}

	// onChange #1 is blocked: these changes are collected meanwhile, and the
	// quiet period ends while it still runs.
	h.write("a.yaml", "y")
	h.write("b.yaml", "y")
	h.write("zz-sentinel-while-busy.yaml", "")
	h.waitSeen("zz-sentinel-while-busy.yaml")
	h.endWait()
	// A change after the wait ended restarts it; it still joins the same
	// follow-up call.
	h.write("a.yaml", "z")
	h.write("zz-sentinel-late.yaml", "")
	h.waitSeen("zz-sentinel-late.yaml")
	h.endWait()
	select {
	case c := <-h.calls:
		t.Fatalf("call %q while the previous one runs", c)
	default:
	}

	close(release)
	<-returned
	if got, want := h.nextCall(), []string{"a.yaml", "b.yaml"}; !slices.Equal(got, want) {
		t.Errorf("follow-up call = %q, want %q", got, want)
	}
	// Exactly one follow-up: the next call holds only the next change.
	h.write("c.yaml", "x")
	h.expectBatch("c.yaml")
	if n := h.ncalls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	h.noErrors()
}

func TestCancelReturnsNil(t *testing.T) {
	h := newHarness(t, map[string]string{"a.yaml": "x"})
	h.start()
	h.cancel()
	select {
	case err := <-h.runErr:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		h.runErr <- err // for the cleanup
	case <-time.After(failAfter):
		t.Fatal("Run did not return after cancel")
	}
	if l := h.w.fsw.WatchList(); l != nil {
		t.Errorf("watcher not closed: still watching %q", l)
	}
}

func TestCancelWhileOnChangeRuns(t *testing.T) {
	h := newHarness(t, nil)
	var sawCancel atomic.Bool
	h.block = func(ctx context.Context, n int) {
		<-ctx.Done()
		sawCancel.Store(true)
	}
	h.start()
	h.flush() // onChange is now blocked until cancel
	h.write("a.yaml", "x")
	h.cancel()
	select {
	case err := <-h.runErr:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		h.runErr <- err
	case <-time.After(failAfter):
		t.Fatal("Run did not return after cancel")
	}
	// Run waited for onChange.
	if !sawCancel.Load() {
		t.Error("Run returned before onChange")
	}
}

func TestRunTwice(t *testing.T) {
	w, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	nop := func(context.Context, []string) {}
	if err := w.Run(ctx, nop); err != nil {
		t.Errorf("Run = %v", err)
	}
	if err := w.Run(ctx, nop); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestCloseWithoutRun(t *testing.T) {
	w, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Run on a closed watcher returns at once.
	if err := w.Run(context.Background(), func(context.Context, []string) {}); err != nil {
		t.Errorf("Run after Close = %v", err)
	}
}

func TestMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	err := Run(context.Background(), dir, Options{}, func(context.Context, []string) {
		t.Error("onChange called")
	})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Run = %v, want fs.ErrNotExist", err)
	}
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("error %v does not name %s", err, dir)
	}

	file := filepath.Join(t.TempDir(), "file.yaml")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("New(file) = %v, want not a directory", err)
	}
}

func TestRootRemovedAndRecreated(t *testing.T) {
	h := newHarness(t, map[string]string{"a.yaml": "x", "sub/b.yaml": "x"})
	h.start()
	h.remove(".")
	if err := h.nextError(); !errors.Is(err, ErrRootRemoved) {
		t.Fatalf("OnError(%v), want ErrRootRemoved", err)
	}
	h.endWait()
	if got, want := h.nextCall(), []string{"a.yaml", "sub/b.yaml"}; !slices.Equal(got, want) {
		t.Errorf("changed = %q, want %q", got, want)
	}

	h.write("sub/c.yaml", "x")
	h.expectBatch("sub/c.yaml")
	h.write("sub/c.yaml", "y")
	h.expectBatch("sub/c.yaml")
	if got, want := h.watched(), []string{".", "sub"}; !slices.Equal(got, want) {
		t.Errorf("watched = %q, want %q", got, want)
	}
	h.noErrors()
}

func TestErrorsAreSurvived(t *testing.T) {
	h := newHarness(t, map[string]string{"a.yaml": "x", "sub/b.yaml": "x"})
	h.start()
	boom := errors.New("boom")
	// Inject errors as the fsnotify backend would deliver them.
	h.inject(boom)
	if err := h.nextError(); !errors.Is(err, boom) {
		t.Errorf("OnError(%v), want boom", err)
	}
	h.write("a.yaml", "y")
	h.expectBatch("a.yaml")

	// After an overflow, events may be lost: everything is rescanned and
	// reported.
	h.inject(fsnotify.ErrEventOverflow)
	if err := h.nextError(); !errors.Is(err, fsnotify.ErrEventOverflow) {
		t.Errorf("OnError(%v), want overflow", err)
	}
	h.expectBatch("a.yaml", "sub/b.yaml")
	h.noErrors()
}

func TestRealTimerFollowUp(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	h.block = func(ctx context.Context, n int) {
		if n == 1 {
			<-release
		}
	}
	h.start(withRealTimer(20 * time.Millisecond))
	// Empty files: creating one is a single event, so a short debounce
	// cannot split it into two calls.
	h.write("a.yaml", "")
	if got := h.nextCall(); !slices.Equal(got, []string{"a.yaml"}) {
		t.Fatalf("first call = %q", got)
	}
	// Whether the quiet period ends before or after onChange returns, the
	// change made meanwhile comes in one follow-up call.
	h.write("b.yaml", "")
	h.waitSeen("b.yaml")
	close(release)
	if got := h.nextCall(); !slices.Equal(got, []string{"b.yaml"}) {
		t.Errorf("follow-up call = %q, want [b.yaml]", got)
	}
	h.noErrors()
}

// The watcher follows exactly the paths the loader reads (plus those it
// refuses by name, so that fixing one is seen): the same tree, built
// before New and again while Run runs, must give schema.Load's list.
// Both sides are pinned, so neither can drift alone, and neither can
// agree with the other by reading nothing.
func TestWatchesWhatTheLoaderReads(t *testing.T) {
	read := []string{
		"a.yaml", "b.yml", "dir.yaml/p.yaml", "link.yaml", "sub/c.yaml",
		"sub/deep/d.yml", "x y.yaml",
	}
	refused := []string{"away.yaml", "broken.yaml"} // symlinks: out of the tree, to nothing
	ignored := []string{
		".e.yaml", ".hidden/f.yaml", "sub/.g.yaml", "sub/.hid/h.yaml", "i.yaml~",
		"#j.yaml#", ".#k.yaml", "4913", "l.json", "m.YAML", "n.yaml.swp",
		"o.yamlx", "sub/q.yml.bak", "README.md",
	}
	outside := filepath.Join(t.TempDir(), "outside.yaml")
	if err := os.WriteFile(outside, []byte("# outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{ // name -> target
		"link.yaml":   "a.yaml",
		"linkdir":     "sub", // a directory inside: walked where it is, not through the link
		"linknot.txt": "a.yaml",
		"away.yaml":   outside,
		"broken.yaml": "missing.yaml",
	}
	build := func(h *harness) {
		for _, name := range slices.Concat(read, ignored) {
			if _, ok := links[name]; !ok {
				h.write(name, "# config\n")
			}
		}
		for name, target := range links {
			if err := os.Symlink(target, h.path(name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := slices.Sorted(slices.Values(slices.Concat(read, refused)))

	// The loader: exactly read, and a diagnostic naming each refused path.
	check := func(dir string) {
		t.Helper()
		cfg, ds := schema.Load(dir)
		if cfg == nil {
			t.Fatalf("Load: %v", ds)
		}
		if !slices.Equal(cfg.Files, read) {
			t.Errorf("schema.Load read %q, want %q", cfg.Files, read)
		}
		for _, name := range refused {
			if !slices.ContainsFunc(ds, func(d diag.Diagnostic) bool { return d.Pos.File == name }) {
				t.Errorf("schema.Load says nothing of %s: %v", name, ds)
			}
		}
	}

	t.Run("scan", func(t *testing.T) {
		h := newHarness(t, nil)
		build(h)
		check(h.dir)
		w, err := New(h.dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if got := slices.Sorted(maps.Keys(w.files)); !slices.Equal(got, want) {
			t.Errorf("watcher knows %q, want %q", got, want)
		}
	})
	t.Run("events", func(t *testing.T) {
		h := newHarness(t, nil)
		h.start()
		build(h)
		check(h.dir)
		h.expectBatch(want...)
		h.noErrors()
	})
}
