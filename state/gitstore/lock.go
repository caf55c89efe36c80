package gitstore

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Three locks guard a store, from the inside out:
//   - Store.mu serialises the calls of this process on one Store;
//   - the cache lock (lockFile on <cache>.lock, remote stores only)
//     serialises the processes that share a cache for a fetch or a push;
//   - the ref lock (acquireLock on <ref>.lock, local stores only) is
//     git's own, held for the few milliseconds a branch moves.

// lock takes the store's mutex for a read of objects already present;
// the returned function releases it.
func (s *Store) lock() (func(), error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("state repository %s: closed", s.loc)
	}
	return s.mu.Unlock, nil
}

// lockForSync takes the store's mutex and, for a remote, the cache's
// exclusive lock: what a fetch or a push needs. The returned function
// releases both.
func (s *Store) lockForSync(ctx context.Context) (func(), error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	if s.remote == nil {
		return unlock, nil
	}
	unlockCache, err := s.remote.lockCache(ctx)
	if err != nil {
		unlock()
		return nil, s.red.Error(err)
	}
	return func() {
		unlockCache()
		unlock()
	}, nil
}

// lockPoll paces the retries of a lock someone else holds: 1 ms,
// doubling up to 50 ms.
type lockPoll struct{ delay time.Duration }

// wait sleeps before the next try, or returns ctx's error when it ends.
func (p *lockPoll) wait(ctx context.Context) error {
	p.delay = max(p.delay, time.Millisecond)
	if err := sleep(ctx, p.delay); err != nil {
		return err
	}
	p.delay = min(2*p.delay, 50*time.Millisecond)
	return nil
}

// sleep waits d, or returns ctx's error when it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dropLock closes and removes a lock file that acquireLock created.
func dropLock(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
