package gitstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
func (s *Store) localTip() (plumbing.Hash, error) {
	ref, err := s.st.Reference(s.branch)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read state from %s: %w", s.loc, err)
	}
	return ref.Hash(), nil
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
			f.Close()
			os.Remove(f.Name())
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
	delay := time.Millisecond
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
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lock file %s: %w", path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
