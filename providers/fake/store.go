package fake

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// The world lives in memory for the process and on disk in two files:
//
//   - FILE, the whole world as JSON, replaced atomically (a temp file
//     renamed over it): what tests and people read and edit;
//   - FILE.journal, one JSON line per mutation since FILE was written,
//     appended with a single write, so a process killed after a mutation
//     leaves it on disk for the next one.
//
// A call costs what it changes: it appends its own line, and reads only
// the lines other processes appended since (FILE.lock serialises
// processes). FILE is rewritten when the journal outgrows it (amortised
// linear) and when the provider is closed, so after a run FILE alone is
// the complete world. A journal whose first line names another FILE than
// the one on disk (FILE was edited by hand since) is stale and dropped:
// the edit wins.

// journalSlack is how large the journal may grow, at least, before it is
// folded into FILE; beyond that it may grow to FILE's own size.
const journalSlack = 1 << 20

// entry is one journal line: the new value of every key a call changed
// (a null value deletes the key) and what it appended.
type entry struct {
	Base     string              `json:"base,omitempty"` // header line: sha256 of the FILE it follows
	Apps     map[string]*App     `json:"apps,omitempty"`
	Routes   map[string]*Route   `json:"routes,omitempty"`
	Backups  map[string][]Backup `json:"backups,omitempty"`
	Comments map[string]*string  `json:"comments,omitempty"`
	Statuses map[string]*string  `json:"statuses,omitempty"`
	Jobs     []JobRun            `json:"jobs,omitempty"`
	Log      []string            `json:"log,omitempty"`
	Faults   *[]*Fault           `json:"faults,omitempty"`
	Calls    map[string]int      `json:"calls,omitempty"`
}

// touched names the keys a call may change, so its journal line holds
// their values after the call.
type touched struct {
	apps, routes, backups, comments, statuses []string
}

// store is one world file's in-memory copy, shared by every Provider of
// the process that names the same file.
type store struct {
	mu   sync.Mutex
	path string
	w    *World
	// id is FILE's identity when it was last read or written: another
	// process's rewrite (or a hand edit) changes it.
	id      fileID
	base    string // sha256 of FILE's bytes as read or written
	size    int64  // FILE's size
	off     int64  // journal bytes already applied to w
	lock    *os.File
	journal *os.File
}

type fileID struct {
	exists     bool
	dev, ino   uint64
	size, mtim int64
}

var (
	storesMu sync.Mutex
	stores   = map[string]*store{}
)

// storeFor is the process's store of path.
func storeFor(path string) *store {
	abs, err := filepath.Abs(path)
	if err == nil {
		path = abs
	}
	storesMu.Lock()
	defer storesMu.Unlock()
	s := stores[path]
	if s == nil {
		s = &store{path: path}
		stores[path] = s
	}
	return s
}

// locked runs fn with the world current and this process and every other
// one locked out. fn returns the journal line of its changes (nil when
// nothing changed).
func (s *store) locked(fn func(w *World) (*entry, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.open(); err != nil {
		return err
	}
	if err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
	if err := s.sync(); err != nil {
		return err
	}
	e, ferr := fn(s.w)
	if e != nil {
		if err := s.append(e); err != nil {
			return errors.Join(ferr, err)
		}
	}
	return ferr
}

// latency is the world's injected latency as last seen (no lock: it is a
// hint for the caller to wait before its call).
func (s *store) latency() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		if err := s.open(); err != nil {
			return ""
		}
		if err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_SH); err != nil {
			return ""
		}
		defer syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		if err := s.sync(); err != nil {
			return ""
		}
	}
	return s.w.Latency
}

// hold is the world's Hold as last seen (no lock: it is a
// hint for the caller to wait before its call).
func (s *store) hold() *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		if err := s.open(); err != nil {
			return nil
		}
		if err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_SH); err != nil {
			return nil
		}
		defer syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		if err := s.sync(); err != nil {
			return nil
		}
	}
	return s.w.Hold
}

func (s *store) open() error {
	if s.lock != nil {
		return nil
	}
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	j, err := os.OpenFile(s.path+".journal", os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		lock.Close()
		return err
	}
	s.lock, s.journal = lock, j
	return nil
}

func identity(path string) (fileID, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileID{}, nil
	}
	if err != nil {
		return fileID{}, err
	}
	id := fileID{exists: true, size: st.Size(), mtim: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(sys.Dev), uint64(sys.Ino)
	}
	return id, nil
}

// sync brings w up to date under the lock: FILE again when it changed,
// then the journal lines appended since the last call.
func (s *store) sync() error {
	id, err := identity(s.path)
	if err != nil {
		return err
	}
	if s.w == nil || id != s.id {
		if err := s.reload(id); err != nil {
			return err
		}
	}
	st, err := s.journal.Stat()
	if err != nil {
		return err
	}
	if st.Size() < s.off {
		// Truncated without FILE changing: nothing else does that.
		if err := s.reload(id); err != nil {
			return err
		}
	}
	if st.Size() == s.off {
		return nil
	}
	buf := make([]byte, st.Size()-s.off)
	if _, err := s.journal.ReadAt(buf, s.off); err != nil && err != io.EOF {
		return err
	}
	// A line without its newline was cut short by a crash mid-write; it
	// never completed, so it is dropped.
	if i := bytes.LastIndexByte(buf, '\n'); i < len(buf)-1 {
		if err := s.journal.Truncate(s.off + int64(i+1)); err != nil {
			return err
		}
		buf = buf[:i+1]
	}
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(nil, len(buf)+1)
	first := s.off == 0
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("%s.journal: %w", s.path, err)
		}
		if first {
			first = false
			if e.Base != s.base {
				// FILE was replaced after these lines were written.
				s.off = 0
				return s.journal.Truncate(0)
			}
			continue
		}
		s.w.apply(&e)
	}
	s.off += int64(len(buf))
	return nil
}

// reload reads FILE whole.
func (s *store) reload(id fileID) error {
	w := &World{}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, w); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
	}
	w.init()
	s.w, s.id, s.base, s.size, s.off = w, id, digest(b), int64(len(b)), 0
	return nil
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (w *World) init() {
	if w.Apps == nil {
		w.Apps = map[string]*App{}
	}
	if w.Routes == nil {
		w.Routes = map[string]*Route{}
	}
}

// append writes e as one journal line (after the header when the journal
// is new) and folds the journal into FILE once it outgrows it.
func (s *store) append(e *entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	var buf []byte
	if s.off == 0 {
		hdr, _ := json.Marshal(entry{Base: s.base})
		buf = append(append(buf, hdr...), '\n')
	}
	buf = append(append(buf, line...), '\n')
	if _, err := s.journal.Write(buf); err != nil {
		return err
	}
	s.off += int64(len(buf))
	if s.off > max(s.size, journalSlack) {
		return s.compact()
	}
	return nil
}

// compact writes the world to FILE atomically and empties the journal.
func (s *store) compact() error {
	var kept []*Fault
	for _, f := range s.w.Faults {
		if f.Times > 0 {
			kept = append(kept, f)
		}
	}
	s.w.Faults = kept
	b, err := json.MarshalIndent(s.w, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	// Killed here, the journal's header names the old FILE: dropped.
	if err := s.journal.Truncate(0); err != nil {
		return err
	}
	id, err := identity(s.path)
	if err != nil {
		return err
	}
	s.id, s.base, s.size, s.off = id, digest(b), int64(len(b)), 0
	return nil
}

// flush leaves FILE complete: the journal, this process's lines and any
// other's, folded into it.
func (s *store) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	if err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
	if err := s.sync(); err != nil {
		return err
	}
	if s.off == 0 {
		return nil
	}
	return s.compact()
}

// apply replays a journal line.
func (w *World) apply(e *entry) {
	for k, a := range e.Apps {
		if a == nil {
			delete(w.Apps, k)
		} else {
			w.Apps[k] = a
		}
	}
	for k, r := range e.Routes {
		if r == nil {
			delete(w.Routes, k)
		} else {
			w.Routes[k] = r
		}
	}
	for k, b := range e.Backups {
		if w.Backups == nil {
			w.Backups = map[string][]Backup{}
		}
		if b == nil {
			delete(w.Backups, k)
		} else {
			w.Backups[k] = b
		}
	}
	setStrings(&w.Comments, e.Comments)
	setStrings(&w.Statuses, e.Statuses)
	w.Jobs = append(w.Jobs, e.Jobs...)
	w.Log = append(w.Log, e.Log...)
	if e.Faults != nil {
		w.Faults = *e.Faults
	}
	for op, n := range e.Calls {
		if w.Calls == nil {
			w.Calls = map[string]int{}
		}
		w.Calls[op] += n
	}
}

func setStrings(m *map[string]string, d map[string]*string) {
	for k, v := range d {
		if *m == nil {
			*m = map[string]string{}
		}
		if v == nil {
			delete(*m, k)
		} else {
			(*m)[k] = *v
		}
	}
}

// record is the journal line of a call that touched t and appended to the
// log and jobs from the given lengths on; nil when nothing changed.
func (w *World) record(t touched, logFrom, jobsFrom int) *entry {
	e := &entry{}
	changed := false
	for _, k := range t.apps {
		if e.Apps == nil {
			e.Apps = map[string]*App{}
		}
		e.Apps[k], changed = w.Apps[k], true
	}
	for _, k := range t.routes {
		if e.Routes == nil {
			e.Routes = map[string]*Route{}
		}
		e.Routes[k], changed = w.Routes[k], true
	}
	for _, k := range t.backups {
		if e.Backups == nil {
			e.Backups = map[string][]Backup{}
		}
		e.Backups[k], changed = w.Backups[k], true
	}
	e.Comments, changed = strDelta(w.Comments, t.comments, changed)
	e.Statuses, changed = strDelta(w.Statuses, t.statuses, changed)
	if len(w.Log) > logFrom {
		e.Log, changed = w.Log[logFrom:], true
	}
	if len(w.Jobs) > jobsFrom {
		e.Jobs, changed = w.Jobs[jobsFrom:], true
	}
	if !changed {
		return nil
	}
	return e
}

func strDelta(m map[string]string, keys []string, changed bool) (map[string]*string, bool) {
	if len(keys) == 0 {
		return nil, changed
	}
	d := map[string]*string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			d[k] = &v
		} else {
			d[k] = nil
		}
	}
	return d, true
}
