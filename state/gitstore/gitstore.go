// Package gitstore is the state repository over git, with go-git plumbing
// only: reads look paths up in the tip tree (never the history, never a
// worktree); writes build blobs and just the trees on changed paths, encode
// the commit, and then move the branch with a compare-and-swap under git's
// own ref lock (a local repository) or push one ref update carrying only
// the new objects (a remote, kept in a shallow local cache).
package gitstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
)

// Options configure Open.
type Options struct {
	// Token authenticates to an http(s) remote as basic auth with user
	// x-access-token (callers pass LAUNCHPLANE_STATE_TOKEN).
	Token string
	// CacheDir holds the local caches of remote repositories; default
	// os.UserCacheDir()/launchplane/state.
	CacheDir string
	// Branch is the state branch; default "main".
	Branch string
	// NoCreate refuses a local path that holds no repository instead of
	// creating one there: read-only commands never create a state
	// repository (SPEC §7). The error wraps ErrNoRepository.
	NoCreate bool
}

// ErrNoRepository is wrapped by Open with NoCreate when the local path
// holds no repository.
var ErrNoRepository = errors.New("no state repository")

// Store is a state repository. It is safe for concurrent use; calls are
// serialised (go-git's storage is not safe for concurrent use).
type Store struct {
	mu     sync.Mutex
	loc    string // as given, credentials removed: the only form in messages
	red    *redact.Redactor
	branch plumbing.ReferenceName
	gitDir string
	st     *filesystem.Storage
	objs   objects
	trees  map[plumbing.Hash]*dirTree // decoded trees; content-addressed, so never stale
	// commitTrees maps commits to their trees; formatOK is the blob of
	// the last format file found readable.
	commitTrees map[plumbing.Hash]plumbing.Hash
	formatOK    plumbing.Hash
	// fast reads trees and blobs without go-git, concurrently.
	fast   *objReader
	remote *remote // nil for a local repository
	closed bool
	// lostRaces counts commits rebuilt because another writer moved the
	// branch first (see LostRaces).
	lostRaces atomic.Int64
}

// LostRaces is how many times this Store rebuilt a commit because another
// writer moved the branch first: the cost of concurrent writers.
func (s *Store) LostRaces() int64 { return s.lostRaces.Load() }

var _ state.Store = (*Store)(nil)

// maxCachedTrees bounds the decoded-tree cache; it is emptied when full.
const maxCachedTrees = 8192

// maxAttempts bounds how often Commit rebuilds on a moved tip.
const maxAttempts = 20

// Open opens the state repository at loc: a local path (created as a bare
// repository on first use; an existing bare or non-bare repository is used
// as is) or a remote URL (file://, http://, https://, ssh://, git@host:path)
// mirrored in a local cache under opts.CacheDir.
func Open(ctx context.Context, loc string, opts Options) (*Store, error) {
	if opts.Branch == "" {
		opts.Branch = "main"
	}
	branch := plumbing.NewBranchReferenceName(opts.Branch)
	if err := branch.Validate(); err != nil {
		return nil, fmt.Errorf("state branch %q: %w", opts.Branch, err)
	}
	s := &Store{loc: loc, branch: branch, trees: map[plumbing.Hash]*dirTree{}, commitTrees: map[plumbing.Hash]plumbing.Hash{}}
	if !isRemote(loc) {
		s.red = redact.New()
		if opts.NoCreate {
			if _, err := git.PlainOpenWithOptions(loc, &git.PlainOpenOptions{EnableDotGitCommonDir: true}); errors.Is(err, git.ErrRepositoryNotExists) {
				return nil, fmt.Errorf("%w at %s", ErrNoRepository, loc)
			}
		}
		if err := s.open(loc); err != nil {
			return nil, fmt.Errorf("open state repository %s: %w", s.loc, err)
		}
		return s, nil
	}
	if err := s.openRemote(ctx, loc, opts); err != nil {
		s.Close()
		return nil, s.red.Error(err)
	}
	return s, nil
}

// isRemote reports whether loc is a URL (or scp-like git@host:path) rather
// than a local path.
func isRemote(loc string) bool {
	if strings.Contains(loc, "://") {
		return true
	}
	at, colon := strings.Index(loc, "@"), strings.Index(loc, ":")
	return at > 0 && colon > at && !strings.ContainsAny(loc[:at], `/\`)
}

// open opens the repository at dir, creating a bare one if dir is missing
// or empty.
func (s *Store) open(dir string) error {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = s.create(dir)
	}
	if err != nil {
		return err
	}
	opened, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return fmt.Errorf("unexpected storage %T", repo.Storer)
	}
	// The same repository, with pack files kept open for the process:
	// by default go-git opens and closes a pack for every object read, a
	// plan of thousands of targets reads thousands. Close releases them.
	st := filesystem.NewStorageWithOptions(opened.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	s.st, s.objs = st, objects{st}
	s.gitDir = st.Filesystem().Root()
	s.fast = newObjReader(filepath.Join(s.gitDir, "objects"))
	s.fast.loadPacks()
	return nil
}

// create makes a bare repository at dir (missing, or an empty directory)
// with HEAD on the branch. It builds it beside dir and renames it into
// place, so two processes creating the same repository both end up opening
// one complete repository.
func (s *Store) create(dir string) (*git.Repository, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, errors.New("directory exists and is not a git repository")
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".launchplane-init-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // gone after a successful rename
	if _, err := git.PlainInitWithOptions(tmp, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: s.branch},
	}); err != nil {
		return nil, err
	}
	// rename(2) replaces an empty directory atomically; os.Rename refuses
	// any existing directory.
	if err := syscall.Rename(tmp, dir); err != nil {
		// Someone else created it meanwhile: use theirs.
		if _, serr := os.Stat(filepath.Join(dir, "HEAD")); serr != nil {
			return nil, err
		}
	}
	return git.PlainOpen(dir)
}

// objects is the object storage. go-git indexes pack files once, so a
// pack another process added (a fetch into a shared cache, git gc) is
// invisible until reindexed: a missing object is looked up once more after
// re-reading the pack directory.
type objects struct{ *filesystem.Storage }

func (o objects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, err := o.Storage.EncodedObject(t, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		o.Storage.Reindex()
		obj, err = o.Storage.EncodedObject(t, h)
	}
	return obj, err
}

func (o objects) HasEncodedObject(h plumbing.Hash) error {
	err := o.Storage.HasEncodedObject(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		o.Storage.Reindex()
		err = o.Storage.HasEncodedObject(h)
	}
	return err
}

func (s *Store) has(h plumbing.Hash) bool {
	return s.objs.HasEncodedObject(h) == nil
}

// Close releases the store. Snapshots must not be used after Close.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.st != nil {
		err = s.st.Close()
	}
	if s.fast != nil {
		err = errors.Join(err, s.fast.close())
	}
	if s.remote != nil && s.remote.users != nil {
		return errors.Join(err, s.remote.users.Close())
	}
	return err
}

// Snapshot reads the branch tip; for a remote it fetches first.
func (s *Store) Snapshot(ctx context.Context) (state.Snapshot, error) {
	unlock, err := s.lockForSync(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	snap, err := s.snapshot(ctx)
	return snap, s.red.Error(err)
}

func (s *Store) snapshot(ctx context.Context) (state.Snapshot, error) {
	tip, err := s.currentTip(ctx)
	if err != nil {
		return nil, err
	}
	if tip.IsZero() {
		return &snapshot{s: s}, nil
	}
	root, err := s.rootTree(tip)
	if err != nil {
		return nil, fmt.Errorf("read state from %s: %w", s.loc, err)
	}
	if err := s.checkFormat(root); err != nil {
		return nil, err
	}
	return &snapshot{s: s, commit: tip, root: root}, nil
}

// SnapshotAt reads the state at an older commit; "" is the empty state.
func (s *Store) SnapshotAt(ctx context.Context, commit string) (state.Snapshot, error) {
	if commit == "" {
		return &snapshot{s: s}, nil
	}
	h, err := parseHash(commit)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockForSync(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s.remote != nil {
		if err := s.ensure(ctx, h); err != nil {
			return nil, s.red.Error(err)
		}
	}
	root, err := s.rootTree(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("state repository %s: commit %s: %w", s.loc, abbrev(h), state.ErrNotFound)
	}
	if err != nil {
		return nil, s.red.Error(fmt.Errorf("read state from %s at %s: %w", s.loc, abbrev(h), err))
	}
	return &snapshot{s: s, commit: h, root: root}, nil
}

// currentTip is the branch tip: the ref of a local repository, or the
// remote's branch after a fetch.
func (s *Store) currentTip(ctx context.Context) (plumbing.Hash, error) {
	if s.remote != nil {
		return s.fetchTip(ctx)
	}
	return s.localTip()
}

// rootTree is the tree of a commit.
func (s *Store) rootTree(commit plumbing.Hash) (plumbing.Hash, error) {
	if t, ok := s.commitTrees[commit]; ok {
		return t, nil
	}
	c, err := object.GetCommit(s.objs, commit)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if len(s.commitTrees) >= maxCachedTrees {
		clear(s.commitTrees)
	}
	s.commitTrees[commit] = c.TreeHash
	return c.TreeHash, nil
}

// checkFormat refuses a repository this launchplane cannot read.
func (s *Store) checkFormat(root plumbing.Hash) error {
	if e, ok, err := s.lookup(root, state.FormatFile); err == nil && ok && e.Hash == s.formatOK {
		return nil // the very file already checked
	}
	b, err := s.readFile(root, state.FormatFile)
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("state repository %s: %s is missing: not a launchplane state repository", s.loc, state.FormatFile)
	}
	if err != nil {
		return fmt.Errorf("read state from %s: %w", s.loc, err)
	}
	var f struct {
		FormatVersion string `json:"format_version"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("state repository %s: %s: %w", s.loc, state.FormatFile, err)
	}
	if f.FormatVersion != state.FormatVersion {
		return fmt.Errorf("state repository %s: unsupported format_version %q (this launchplane reads %q)", s.loc, f.FormatVersion, state.FormatVersion)
	}
	if e, ok, err := s.lookup(root, state.FormatFile); err == nil && ok {
		s.formatOK = e.Hash
	}
	return nil
}

func formatFile() []byte {
	return []byte(`{"format_version": "` + state.FormatVersion + `"}` + "\n")
}

// Empty is the empty state: what a plan reads where no state repository
// exists yet.
func Empty() state.Snapshot { return &snapshot{} }

type snapshot struct {
	s      *Store
	commit plumbing.Hash // zero: the empty state
	root   plumbing.Hash
}

func (sn *snapshot) Commit() string {
	if sn.commit.IsZero() {
		return ""
	}
	return sn.commit.String()
}

// ReadFile reads a file; it is safe for concurrent use, and reads of
// packed and loose objects run in parallel (only the tree lookup is
// serialised).
func (sn *snapshot) ReadFile(p string) ([]byte, error) {
	if err := state.CheckPath(p); err != nil {
		return nil, err
	}
	if sn.commit.IsZero() {
		return nil, fmt.Errorf("state file %s: %w", p, state.ErrNotFound)
	}
	unlock, err := sn.s.lock()
	if err != nil {
		return nil, err
	}
	e, err := sn.s.fileEntry(sn.root, p)
	unlock()
	if err != nil {
		return nil, err
	}
	if b, err := sn.s.fastRead(e.Hash, plumbing.BlobObject); !errors.Is(err, errNotHere) {
		if err != nil {
			return nil, fmt.Errorf("state file %s: %w", p, err)
		}
		return b, nil
	}
	if unlock, err = sn.s.lock(); err != nil {
		return nil, err
	}
	defer unlock()
	return sn.s.slowBlob(p, e.Hash)
}

// fileEntry is the tree entry of the file at p.
func (s *Store) fileEntry(root plumbing.Hash, p string) (object.TreeEntry, error) {
	e, ok, err := s.lookup(root, p)
	if err != nil {
		return e, fmt.Errorf("state file %s: %w", p, err)
	}
	if !ok {
		return e, fmt.Errorf("state file %s: %w", p, state.ErrNotFound)
	}
	if e.Mode == filemode.Dir {
		return e, fmt.Errorf("state file %s: is a directory", p)
	}
	return e, nil
}

// fastRead reads object h of type t with the fast reader; errNotHere
// when it does not have it (or has it as another type): go-git decides.
func (s *Store) fastRead(h plumbing.Hash, t plumbing.ObjectType) ([]byte, error) {
	if s.fast == nil {
		return nil, errNotHere
	}
	typ, b, err := s.fast.read(h)
	if err == nil && typ != t {
		return nil, errNotHere
	}
	return b, err
}

// readFile reads the file at p under root (the caller holds the lock).
func (s *Store) readFile(root plumbing.Hash, p string) ([]byte, error) {
	e, err := s.fileEntry(root, p)
	if err != nil {
		return nil, err
	}
	if b, err := s.fastRead(e.Hash, plumbing.BlobObject); !errors.Is(err, errNotHere) {
		if err != nil {
			return nil, fmt.Errorf("state file %s: %w", p, err)
		}
		return b, nil
	}
	return s.slowBlob(p, e.Hash)
}

// slowBlob reads the blob h of the file p through go-git (the caller
// holds the lock).
func (s *Store) slowBlob(p string, h plumbing.Hash) ([]byte, error) {
	blob, err := object.GetBlob(s.objs, h)
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", p, err)
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", p, err)
	}
	defer r.Close()
	// The blob's size is known: read it into a buffer of that size, and
	// still read to the end, in case the size was wrong.
	b := make([]byte, 0, max(blob.Size, 0)+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("state file %s: %w", p, err)
		}
	}
}

func (sn *snapshot) ListDir(dir string) ([]string, error) {
	dir = strings.TrimSuffix(dir, "/")
	if dir != "" {
		if err := state.CheckPath(dir); err != nil {
			return nil, err
		}
	}
	if sn.commit.IsZero() {
		return []string{}, nil
	}
	unlock, err := sn.s.lock()
	if err != nil {
		return nil, err
	}
	h := sn.root
	if dir != "" {
		e, ok, err := sn.s.lookup(sn.root, dir)
		if err != nil {
			unlock()
			return nil, fmt.Errorf("state dir %s: %w", dir, err)
		}
		if !ok || e.Mode != filemode.Dir {
			unlock()
			return []string{}, nil
		}
		h = e.Hash
	}
	t, cached := sn.s.trees[h]
	unlock()
	if !cached {
		// Read and decode outside the lock: listings run in parallel.
		if t, err = sn.s.treeUnlocked(h); err != nil {
			return nil, fmt.Errorf("state dir %s: %w", dir, err)
		}
	}
	out := make([]string, 0, len(t.Entries))
	for _, e := range t.Entries {
		if e.Mode == filemode.Dir {
			out = append(out, e.Name+"/")
		} else {
			out = append(out, e.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// treeUnlocked is tree for a caller that does not hold the lock: the
// fast reader's read and the decoding happen without it.
func (s *Store) treeUnlocked(h plumbing.Hash) (*dirTree, error) {
	b, err := s.fastRead(h, plumbing.TreeObject)
	if errors.Is(err, errNotHere) {
		unlock, err := s.lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
		return s.tree(h)
	}
	if err != nil {
		return nil, err
	}
	t, err := decodeTree(b)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	s.keepTree(h, t)
	unlock()
	return t, nil
}

// Commit writes w on the branch tip (see state.Store).
func (s *Store) Commit(ctx context.Context, w state.Write) (string, error) {
	if err := checkWrite(w); err != nil {
		return "", err
	}
	var base plumbing.Hash
	if w.Base != "" {
		h, err := parseHash(w.Base)
		if err != nil {
			return "", err
		}
		base = h
	}
	unlock, err := s.lockForSync(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	h, err := s.commit(ctx, base, w)
	if err != nil {
		return "", s.red.Error(err)
	}
	return h.String(), nil
}

func (s *Store) commit(ctx context.Context, base plumbing.Hash, w state.Write) (plumbing.Hash, error) {
	var tip plumbing.Hash
	var err error
	if s.remote == nil {
		tip, err = s.localTip()
	} else if tip = s.remote.tip; tip != base {
		// The cache may be behind base: look at the remote first. (When it
		// equals base, a push that finds the branch moved says so.)
		tip, err = s.fetchTip(ctx)
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("write state to %s: %w", s.loc, err)
		}
		began := time.Now()
		var root plumbing.Hash
		if !tip.IsZero() {
			if root, err = s.rootTree(tip); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("write state to %s: %w", s.loc, err)
			}
			if err := s.checkFormat(root); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		if tip != base {
			if err := s.checkScopes(ctx, base, tip, root, w.Scopes); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		commit, objs, err := s.buildCommit(tip, root, w)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("write state to %s: %w", s.loc, err)
		}
		var moved bool
		if s.remote != nil {
			moved, err = s.push(ctx, tip, commit, objs)
		} else {
			moved, err = s.moveRef(ctx, tip, commit)
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if moved {
			return commit, nil
		}
		// Another writer moved the branch first: back off, re-read the
		// branch and rebuild on it.
		s.lostRaces.Add(1)
		if err := backoff(ctx, attempt, time.Since(began)); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("write state to %s: %w", s.loc, err)
		}
		if tip, err = s.currentTip(ctx); err != nil {
			return plumbing.ZeroHash, err
		}
		if tip == commit {
			return commit, nil // the very same commit landed (an identical write)
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("write state to %s: the branch kept moving, gave up after %d attempts: %w", s.loc, maxAttempts, state.ErrConflict)
}

// backoff waits a random time below backoffCeil, so that writers that
// keep colliding spread out.
func backoff(ctx context.Context, attempt int, took time.Duration) error {
	return sleep(ctx, rand.N(backoffCeil(attempt, took)))
}

// backoffCeil grows with the attempt and with how long the lost attempt
// took (a fetch, a rebuild and a push): writers whose round trips take
// seconds (a remote over a slow network, a loaded runner) must spread
// over seconds, or they keep meeting. Measured with scripts/measure-cas.sh:
// with a fixed 1s ceiling, 13 of 32 concurrent appliers on a loaded
// machine gave up after maxAttempts.
func backoffCeil(attempt int, took time.Duration) time.Duration {
	ceil := 10 * time.Millisecond << min(attempt, 10)
	if d := took * time.Duration(min(attempt, 8)+1); d > ceil {
		ceil = d
	}
	return max(min(ceil, 30*time.Second), time.Millisecond)
}

// checkScopes fails with ErrConflict when anything under scopes differs
// between base and the tip (whose tree is root). It compares tree entry
// hashes along the scope paths, never the history.
func (s *Store) checkScopes(ctx context.Context, base, tip, root plumbing.Hash, scopes []string) error {
	var baseRoot plumbing.Hash
	if !base.IsZero() {
		if s.remote != nil {
			if err := s.ensure(ctx, base); err != nil {
				return err
			}
		}
		r, err := s.rootTree(base)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return fmt.Errorf("write state to %s: base commit %s is not in the repository: %w", s.loc, abbrev(base), state.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("write state to %s: base commit %s: %w", s.loc, abbrev(base), err)
		}
		baseRoot = r
	}
	for _, sc := range scopes {
		p, dir := strings.TrimSuffix(sc, "/"), strings.HasSuffix(sc, "/")
		a, err := s.scopeEntry(baseRoot, p, dir)
		if err != nil {
			return fmt.Errorf("write state to %s: %w", s.loc, err)
		}
		b, err := s.scopeEntry(root, p, dir)
		if err != nil {
			return fmt.Errorf("write state to %s: %w", s.loc, err)
		}
		if a == b {
			continue
		}
		changed := p
		if dir {
			if changed, err = s.firstDiff(a.Hash, b.Hash, p+"/"); err != nil {
				return fmt.Errorf("write state to %s: %w", s.loc, err)
			}
		}
		now := "the empty state"
		if !tip.IsZero() {
			now = abbrev(tip)
		}
		was := "the empty state"
		if !base.IsZero() {
			was = abbrev(base)
		}
		return fmt.Errorf("write state to %s: %s changed since %s (now %s): %w", s.loc, changed, was, now, state.ErrConflict)
	}
	return nil
}

// scopeEntry is what a scope covers in the tree root: the entry at p, kept
// only if it is a directory for a prefix scope and a file otherwise.
func (s *Store) scopeEntry(root plumbing.Hash, p string, dir bool) (object.TreeEntry, error) {
	e, ok, err := s.lookup(root, p)
	if err != nil || !ok || (e.Mode == filemode.Dir) != dir {
		return object.TreeEntry{}, err
	}
	return object.TreeEntry{Mode: e.Mode, Hash: e.Hash}, nil
}

func checkWrite(w state.Write) error {
	if strings.TrimSpace(w.Message) == "" {
		return errors.New("write state: empty commit message")
	}
	for _, c := range w.Changes {
		if err := state.CheckPath(c.Path); err != nil {
			return fmt.Errorf("write state: %w", err)
		}
		if c.Path == state.PolicyFile {
			return fmt.Errorf("write state: %s is the operators' to write, never launchplane's", state.PolicyFile)
		}
	}
	for _, sc := range w.Scopes {
		if err := state.CheckScope(sc); err != nil {
			return fmt.Errorf("write state: %w", err)
		}
	}
	for _, t := range w.Trailers {
		if err := state.CheckTrailer(t); err != nil {
			return fmt.Errorf("write state: %w", err)
		}
	}
	return nil
}

func parseHash(s string) (plumbing.Hash, error) {
	if !plumbing.IsHash(s) || plumbing.NewHash(s).IsZero() {
		return plumbing.ZeroHash, fmt.Errorf("invalid state commit %q", s)
	}
	return plumbing.NewHash(s), nil
}

// abbrev is a commit's abbreviated hash, as git prints it in messages.
func abbrev(h plumbing.Hash) string { return h.String()[:12] }

// sig fills in a signature's defaults.
func sig(a state.Signature) object.Signature {
	if a.Name == "" {
		a.Name = "launchplane"
	}
	if a.Email == "" {
		a.Email = "launchplane@localhost"
	}
	if a.When.IsZero() {
		a.When = time.Now()
	}
	return object.Signature{Name: a.Name, Email: a.Email, When: a.When}
}
