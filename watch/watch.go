// Package watch reports saves of config files under a directory tree, for
// `launchplane watch` (SPEC §10): it calls back once per burst of changes,
// serially, with the changed paths relative to the directory.
//
// A path is a config file when the loader would read it: its name ends in
// ".yaml" or ".yml" and no element of its path relative to the directory
// starts with "." (so .git, .foo.yaml.swp and .#foo.yaml are ignored, as are
// editor leftovers such as foo.yaml~, #foo.yaml# and vim's 4913, which do not
// end in .yaml). Hidden directories are not watched at all.
//
// Directories, not files, are watched, so editors that save by writing a
// temporary file and renaming it over the original, or by removing and
// re-creating the file, are seen as a change of the original name. New
// subdirectories are watched as they appear and scanned right after the
// watch is added, so files created in them before the watch existed are
// reported too; removed or renamed-away directories are dropped and the
// config files known under them reported as changed.
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
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/launchplane/launchplane/schema"
)

// DefaultDebounce is the quiet period used when Options.Debounce is zero.
const DefaultDebounce = 150 * time.Millisecond

// ErrRootRemoved is reported through Options.OnError when the watched
// directory itself is removed or renamed. The watcher then waits for a
// directory of the same name to reappear and resumes watching it.
var ErrRootRemoved = errors.New("config directory removed, waiting for it to reappear")

// Options tune a Watcher. The zero value is ready to use.
type Options struct {
	// Debounce is how long the tree must stay quiet after a change before
	// onChange is called: every change restarts the wait. Zero means
	// DefaultDebounce.
	Debounce time.Duration

	// OnError receives problems the watcher survives: errors from the
	// operating system's notification queue (after an overflow the whole
	// tree is rescanned and every config file reported as changed), a new
	// subdirectory that cannot be watched, ErrRootRemoved. It is called from
	// Run's goroutine, possibly while onChange runs, and must not block for
	// long. Nil discards them.
	OnError func(error)

	// Test hooks, set only by this package's tests.
	//
	// fire, when set, replaces the debounce timer: the wait ends when a
	// value is received from it (it is only received from while changes are
	// pending).
	fire <-chan time.Time
	// marked is called from Run's goroutine with each path added to the
	// pending batch.
	marked func(rel string)
}

// Watcher watches a directory tree for changes to config files. Create one
// with New, then call Run once.
type Watcher struct {
	root string // absolute, symlinks resolved
	opts Options
	fsw  *fsnotify.Watcher

	// Owned by New, then by Run's goroutine.
	dirs     map[string]struct{} // absolute paths of watched directories
	files    map[string]struct{} // known config files, relative slash paths
	pending  map[string]struct{} // changed since the last onChange call
	marks    int                 // counts mark calls, to see if an event changed anything
	rootGone bool                // root removed; its parent is watched instead

	started   atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Run watches dir until ctx is canceled, calling onChange as New and
// (*Watcher).Run describe. It returns nil on cancellation and an error if
// dir cannot be watched.
func Run(ctx context.Context, dir string, opts Options, onChange func(ctx context.Context, changed []string)) error {
	w, err := New(dir, opts)
	if err != nil {
		return err
	}
	return w.Run(ctx, onChange)
}

// New starts watching dir and every non-hidden directory below it. Changes
// made after New returns are reported by Run, even those made before Run is
// called, so a caller can do its initial work between the two without
// missing a save. It fails if dir does not exist (the error then matches
// fs.ErrNotExist), is not a directory, or part of the tree cannot be
// watched.
func New(dir string, opts Options) (*Watcher, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("watch %s: not a directory", dir)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	w := &Watcher{
		root:    root,
		opts:    opts,
		fsw:     fsw,
		dirs:    map[string]struct{}{},
		files:   map[string]struct{}{},
		pending: map[string]struct{}{},
	}
	if err := w.addTree(root, false); err != nil {
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops watching and releases the operating system's resources. Run
// closes the Watcher when it returns; Close is for a Watcher whose Run is
// never called. It may be called more than once; closing a Watcher while
// Run is running makes Run return nil.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		w.closed.Store(true)
		if err := w.fsw.Close(); err != nil {
			w.closeErr = fmt.Errorf("watch %s: close: %w", w.root, err)
		}
	})
	return w.closeErr
}

// Run reports changes until ctx is canceled, then closes the Watcher,
// waits for a running onChange to return and returns nil. It may be called
// only once.
//
// onChange is called once per burst of changes, after Options.Debounce of
// quiet, with the sorted, distinct paths (slash-separated, relative to the
// directory) of the config files created, written, removed or renamed in
// the burst; a path may name a file that no longer exists. onChange is not
// called for the tree as it was at New: callers do their initial work
// themselves. Calls never overlap: changes arriving while onChange runs are
// collected into one more call, made as soon as it returns if the quiet
// period has ended by then, else when it ends. The ctx passed to onChange
// is Run's ctx, canceled on shutdown; onChange should then return promptly.
//
// Run returns an error only when watching cannot go on: the directory was
// removed and its parent cannot be watched, or the notification queue
// closed unexpectedly.
func (w *Watcher) Run(ctx context.Context, onChange func(ctx context.Context, changed []string)) (err error) {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("watch: Run called more than once")
	}
	b := w.newBatcher(ctx, onChange)
	defer func() {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		b.waitCall()
	}()
	defer b.stopTimer()

	for {
		select {
		case <-ctx.Done():
			return nil

		case ev, ok := <-w.fsw.Events:
			if !ok {
				return w.channelClosed()
			}
			if err := w.applyEvent(b, ev); err != nil {
				return err
			}

		case err, ok := <-w.fsw.Errors:
			if !ok {
				return w.channelClosed()
			}
			w.queueError(b, err)

		case <-b.timerC:
			b.quietEnded()

		case <-b.done:
			b.callReturned()
		}
	}
}

// applyEvent handles one event; one that changed a config file restarts
// the quiet period.
func (w *Watcher) applyEvent(b *batcher, ev fsnotify.Event) error {
	before := w.marks
	if err := w.handle(ev); err != nil {
		return err
	}
	if w.marks != before {
		b.arm()
	}
	return nil
}

// queueError reports an error of the notification queue; after an
// overflow, events were lost, so the tree is rescanned.
func (w *Watcher) queueError(b *batcher, err error) {
	w.report(fmt.Errorf("watch %s: %w", w.root, err))
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		return
	}
	before := w.marks
	w.rescan()
	if w.marks != before {
		b.arm()
	}
}

// batcher turns Run's pending changes into onChange calls: one per burst,
// after the quiet period, never two at once.
type batcher struct {
	w        *Watcher
	ctx      context.Context
	onChange func(ctx context.Context, changed []string)

	timer  *time.Timer      // nil with the test hook Options.fire
	timerC <-chan time.Time // nil unless the debounce wait is running
	done   chan struct{}    // onChange returned
	busy   bool             // onChange is running
	due    bool             // the quiet period ended while busy
}

func (w *Watcher) newBatcher(ctx context.Context, onChange func(ctx context.Context, changed []string)) *batcher {
	b := &batcher{w: w, ctx: ctx, onChange: onChange, done: make(chan struct{}, 1)}
	if w.opts.fire == nil {
		b.timer = time.NewTimer(time.Hour)
		b.timer.Stop()
	}
	return b
}

// arm (re)starts the quiet period.
func (b *batcher) arm() {
	b.due = false
	if b.timer == nil {
		b.timerC = b.w.opts.fire
		return
	}
	b.timer.Reset(b.w.opts.Debounce) // go ≥ 1.23: no stale value is received
	b.timerC = b.timer.C
}

func (b *batcher) stopTimer() {
	if b.timer != nil {
		b.timer.Stop()
	}
}

// quietEnded calls onChange with the pending changes, or, while a call
// runs, notes that the next one is due when it returns.
func (b *batcher) quietEnded() {
	b.timerC = nil
	switch {
	case len(b.w.pending) == 0:
	case b.busy:
		b.due = true
	default:
		b.flush()
	}
}

// callReturned makes the call that came due while the last one ran.
func (b *batcher) callReturned() {
	b.busy = false
	if b.due && len(b.w.pending) > 0 {
		b.flush()
	}
}

// flush hands the pending changes, sorted, to onChange on its own
// goroutine.
func (b *batcher) flush() {
	changed := slices.Sorted(maps.Keys(b.w.pending))
	clear(b.w.pending)
	b.busy, b.due = true, false
	go func() {
		defer func() { b.done <- struct{}{} }()
		b.onChange(b.ctx, changed)
	}()
}

// waitCall waits for a running onChange to return.
func (b *batcher) waitCall() {
	if b.busy {
		<-b.done
	}
}

func (w *Watcher) channelClosed() error {
	if w.closed.Load() {
		return nil
	}
	return fmt.Errorf("watch %s: notification queue closed unexpectedly", w.root)
}

func (w *Watcher) report(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}

// mark adds a changed config file to the pending batch.
func (w *Watcher) mark(rel string) {
	w.pending[rel] = struct{}{}
	w.marks++
	if w.opts.marked != nil {
		w.opts.marked(rel)
	}
}

// rel returns p relative to the root as a slash path, and whether p is
// inside the root ("." for the root itself).
func (w *Watcher) rel(p string) (string, bool) {
	r, err := filepath.Rel(w.root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// handle applies one event. Only a failure that stops watching is returned.
func (w *Watcher) handle(ev fsnotify.Event) error {
	p := filepath.Clean(ev.Name)
	if w.rootGone {
		if p == w.root && ev.Has(fsnotify.Create) {
			w.restoreRoot()
		}
		return nil
	}
	rel, ok := w.rel(p)
	if !ok {
		return nil
	}
	if rel == "." {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			return w.loseRoot()
		}
		return nil
	}
	if hidden(rel) {
		return nil
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if _, ok := w.dirs[p]; ok {
			w.removeTree(p)
		} else if schema.IsConfigFile(rel) {
			delete(w.files, rel)
			w.mark(rel)
		}
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			if err := w.addTree(p, true); err != nil {
				w.report(err)
			}
		} else if schema.IsConfigFile(rel) {
			w.files[rel] = struct{}{}
			w.mark(rel)
		}
	}
	if ev.Has(fsnotify.Write) && schema.IsConfigFile(rel) {
		w.files[rel] = struct{}{}
		w.mark(rel)
	}
	// Chmod alone changes no content: ignored.
	return nil
}

// addTree watches dir and the non-hidden directories below it and records
// the config files found, marking them changed if report is set. Each
// directory is watched before it is read, so a file created in it is either
// seen by the scan or reported by an event. Directories that vanish during
// the scan are skipped; other failures are collected and the scan goes on.
func (w *Watcher) addTree(dir string, report bool) error {
	var errs []error
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("watch %s: %w", p, err))
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, ok := w.rel(p)
		if !ok {
			return nil
		}
		if rel != "." && hidden(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if err := w.fsw.Add(p); err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, fmt.Errorf("watch %s: %w", p, err))
				}
				return fs.SkipDir
			}
			w.dirs[p] = struct{}{}
			return nil
		}
		if schema.IsConfigFile(rel) {
			w.files[rel] = struct{}{}
			if report {
				w.mark(rel)
			}
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	return errors.Join(errs...)
}

// removeTree stops watching dir and the directories below it and marks the
// config files known under it as changed. The operating system may already
// have dropped the watches, so failures to remove them are expected.
func (w *Watcher) removeTree(dir string) {
	prefix := dir + string(filepath.Separator)
	for d := range w.dirs {
		if d == dir || strings.HasPrefix(d, prefix) {
			_ = w.fsw.Remove(d)
			delete(w.dirs, d)
		}
	}
	rel, _ := w.rel(dir)
	for f := range w.files {
		if rel == "." || strings.HasPrefix(f, rel+"/") {
			delete(w.files, f)
			w.mark(f)
		}
	}
}

// loseRoot handles the removal of the root: everything known under it has
// changed, and its parent is watched until it reappears.
func (w *Watcher) loseRoot() error {
	w.removeTree(w.root)
	w.rootGone = true
	parent := filepath.Dir(w.root)
	if err := w.fsw.Add(parent); err != nil {
		return fmt.Errorf("watch %s: directory removed and its parent cannot be watched: %w", w.root, err)
	}
	w.report(fmt.Errorf("watch %s: %w", w.root, ErrRootRemoved))
	// It may have come back before the parent was watched.
	if fi, err := os.Stat(w.root); err == nil && fi.IsDir() {
		w.restoreRoot()
	}
	return nil
}

// restoreRoot resumes watching a root that reappeared, reporting every
// config file in it.
func (w *Watcher) restoreRoot() {
	if fi, err := os.Lstat(w.root); err != nil || !fi.IsDir() {
		return
	}
	_ = w.fsw.Remove(filepath.Dir(w.root))
	w.rootGone = false
	if err := w.addTree(w.root, true); err != nil {
		w.report(err)
	}
}

// rescan rebuilds the watches and known files after events were lost,
// marking every config file known before or found now as changed.
func (w *Watcher) rescan() {
	if w.rootGone {
		w.restoreRoot()
		return
	}
	for d := range w.dirs {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			w.removeTree(d)
		}
	}
	if _, err := os.Stat(w.root); err != nil {
		if err := w.loseRoot(); err != nil {
			w.report(err)
		}
		return
	}
	old := w.files
	w.files = map[string]struct{}{}
	for f := range old {
		w.mark(f)
	}
	if err := w.addTree(w.root, true); err != nil {
		w.report(err)
	}
}

// hidden reports whether an element of the slash path rel starts with ".".
func hidden(rel string) bool {
	for elem := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(elem, ".") {
			return true
		}
	}
	return false
}
