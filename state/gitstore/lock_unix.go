//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gitstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flock applies how (LOCK_EX, LOCK_SH, with LOCK_NB) to f, waiting with
// growing pauses while another process holds a conflicting lock.
func flock(ctx context.Context, f *os.File, how int) error {
	var poll lockPoll
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return err
		}
		if err := poll.wait(ctx); err != nil {
			return err
		}
	}
}

// lockFile takes an exclusive lock on the file path, held until the
// returned function is called. The lock goes with the process if it dies.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(ctx, f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// tryLockExclusive takes an exclusive lock on f if no one holds a lock.
func tryLockExclusive(f *os.File) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

// lockShared takes (or turns an exclusive lock into) a shared lock on f.
func lockShared(ctx context.Context, f *os.File) error {
	return flock(ctx, f, syscall.LOCK_SH)
}
