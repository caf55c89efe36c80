package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// A local repository's branch moves under git's own ref lock protocol,
// which go-git's CheckAndSetReference does not follow: that one truncates
// and rewrites the ref file in place under flock, so a reader in another
// process can find it empty (go-git then reports the branch missing), a
// crash can leave it empty, and with no old value it overwrites blindly.
// Here the writer creates <ref>.lock with O_CREATE|O_EXCL (as git does),
// compares the current value with the expected one, writes the new value
// into the lock file and renames it over the ref: one writer at a time
// across processes (git's CLI included), readers see the old or the new
// value, never a partial one.

// staleLockAge is the age from which a ref lock is taken for the leftover
// of a crashed writer: a writer holds it for a few milliseconds.
const staleLockAge = 10 * time.Minute

// lockWait bounds the wait for a ref lock another writer holds.
var lockWait = 30 * time.Second

// localTip is the branch tip of a local repository; zero when unborn.
// A branch file that is empty or does not hold a commit id, a branch
// missing while other branches exist, are errors: never an empty state
// that the next write would start a new history over.
func (s *Store) localTip() (plumbing.Hash, error) {
	path := filepath.Join(s.gitDir, filepath.FromSlash(s.branch.String()))
	if b, err := os.ReadFile(path); err == nil {
		line := strings.TrimSuffix(string(b), "\n")
		if !plumbing.IsHash(line) || plumbing.NewHash(line).IsZero() {
			return plumbing.ZeroHash, fmt.Errorf("read state from %s: %s is unreadable (it holds %s, not a commit id): repair or remove it by hand", s.loc, s.branch, describeRef(b))
		}
		return plumbing.NewHash(line), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, fmt.Errorf("read state from %s: %s: %w", s.loc, s.branch, err)
	}
	ref, err := s.st.Reference(s.branch)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, s.checkNoOtherBranch()
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read state from %s: %w", s.loc, err)
	}
	if ref.Type() != plumbing.HashReference || ref.Hash().IsZero() {
		return plumbing.ZeroHash, fmt.Errorf("read state from %s: %s is unreadable (%s): repair or remove it by hand", s.loc, s.branch, ref)
	}
	return ref.Hash(), nil
}

// checkNoOtherBranch fails when the repository has branches but not the
// state branch: a wrong --state, or a branch renamed, not a fresh start.
// It reads the loose refs and packed-refs itself: go-git's iterator fails
// on the empty <ref>.lock of a writer at work.
func (s *Store) checkNoOtherBranch() error {
	var others []string
	heads := filepath.Join(s.gitDir, "refs", "heads")
	err := filepath.WalkDir(heads, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".lock") {
			return nil
		}
		rel, _ := filepath.Rel(heads, p)
		others = append(others, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("read state from %s: %w", s.loc, err)
	}
	if b, err := os.ReadFile(filepath.Join(s.gitDir, "packed-refs")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if _, name, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "refs/heads/") {
				others = append(others, strings.TrimPrefix(name, "refs/heads/"))
			}
		}
	}
	others = slices.DeleteFunc(others, func(n string) bool { return n == s.branch.Short() })
	if len(others) > 0 {
		slices.Sort(others)
		others = slices.Compact(others)
		return fmt.Errorf("read state from %s: it has no branch %s but has %s: not a fresh state repository; check --state", s.loc, s.branch.Short(), strings.Join(others, ", "))
	}
	return nil
}

// describeRef says what an unreadable ref file holds, briefly.
func describeRef(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return "nothing"
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return fmt.Sprintf("%q", b)
}

// moveRef moves the branch from old (zero: unborn) to commit. It reports
// false when another writer moved it first.
func (s *Store) moveRef(ctx context.Context, old, commit plumbing.Hash) (bool, error) {
	path := filepath.Join(s.gitDir, filepath.FromSlash(s.branch.String()))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("move %s in %s: %w", s.branch.Short(), s.loc, err)
	}
	f, err := acquireLock(ctx, path+".lock")
	if err != nil {
		return false, fmt.Errorf("move %s in %s: %w", s.branch.Short(), s.loc, err)
	}
	done := false
	defer func() {
		if !done {
			dropLock(f)
		}
	}()
	cur, err := s.localTip()
	if err != nil {
		return false, err
	}
	if cur != old {
		return false, nil
	}
	if _, err := f.WriteString(commit.String() + "\n"); err != nil {
		return false, fmt.Errorf("move %s in %s: %w", s.branch.Short(), s.loc, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("move %s in %s: %w", s.branch.Short(), s.loc, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return false, fmt.Errorf("move %s in %s: %w", s.branch.Short(), s.loc, err)
	}
	done = true
	return true, nil
}

// acquireLock creates the lock file path exclusively, waiting while
// another writer holds it. A lock older than staleLockAge is an error:
// its writer died and only a person can tell that no one else holds it.
func acquireLock(ctx context.Context, path string) (*os.File, error) {
	deadline := time.Now().Add(lockWait)
	var poll lockPoll
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if st, err := os.Stat(path); err == nil {
			if age := time.Since(st.ModTime()); age > staleLockAge {
				return nil, fmt.Errorf("lock file %s is %s old: a writer stopped while holding it; remove it if no launchplane or git process is writing", path, age.Round(time.Second))
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock file %s: held by another writer for over %s", path, lockWait)
		}
		if err := poll.wait(ctx); err != nil {
			return nil, fmt.Errorf("lock file %s: %w", path, err)
		}
	}
}
