//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gitstore

import (
	"context"
	"os"
)

// lockFile takes an exclusive lock file at path (O_CREATE|O_EXCL), removed
// by the returned function.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := acquireLock(ctx, path)
	if err != nil {
		return nil, err
	}
	return func() { dropLock(f) }, nil
}

// Without flock there is no shared lock: a cache is never started afresh.
func tryLockExclusive(*os.File) bool             { return false }
func lockShared(context.Context, *os.File) error { return nil }
