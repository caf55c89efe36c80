package state

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ReadTarget reads one target file; nil when it does not exist.
func ReadTarget(snap Snapshot, key string) (*TargetState, error) {
	b, err := snap.ReadFile(TargetPath(key))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return DecodeTarget(TargetPath(key), b)
}

// HolderText says who holds a target and until when.
func HolderText(key string, f *InFlight) string {
	return fmt.Sprintf("%s is being applied by %s since %s (record %s, held until %s)", key, f.Actor,
		f.Started.UTC().Format(time.RFC3339), f.Record, f.Expires.UTC().Format(time.RFC3339))
}

// TargetChanged reports whether a target's file or records differ between
// two snapshots. Records are append-only, so their names are enough.
func TargetChanged(a, b Snapshot, key string) bool {
	fa, ea := a.ReadFile(TargetPath(key))
	fb, eb := b.ReadFile(TargetPath(key))
	if (ea == nil) != (eb == nil) || string(fa) != string(fb) {
		return true
	}
	la, _ := a.ListDir(RecordsDir(key))
	lb, _ := b.ListDir(RecordsDir(key))
	return strings.Join(la, ",") != strings.Join(lb, ",")
}
