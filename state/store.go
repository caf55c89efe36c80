// Package state is the state repository: recorded-state types with their
// typed kinds, outcomes and statuses (types.go), evidence typed per step
// and record kind, a closed set of Go types (evidence.go), the one codec
// that reads and writes target, preview and record files, validates
// records against record.schema.json, picks each evidence's type from its
// step or record kind and decodes it strictly, and upgrades records of an
// older form in one place (codec.go, wire.go), and the Store interface
// that state/gitstore implements over git.
package state

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

var (
	// ErrNotFound is wrapped by ReadFile when a path is missing.
	ErrNotFound = errors.New("not found")
	// ErrConflict is wrapped by Commit when another writer changed a path
	// under one of the write's Scopes since its Base.
	ErrConflict = errors.New("state conflict")
)

// Snapshot is a read-only view of the state repository at one commit (the
// branch tip when taken). It stays valid while its Store is open.
type Snapshot interface {
	// Commit is the hex sha of the snapshot; "" when the branch has no
	// commits yet.
	Commit() string
	// ReadFile reads a slash path relative to the repository root; it
	// wraps ErrNotFound when the path is missing.
	ReadFile(path string) ([]byte, error)
	// ListDir returns the sorted names of the entries directly under dir
	// ("" is the root); directories end in "/". A missing dir is empty.
	ListDir(dir string) ([]string, error)
}

// Change is one file written or removed by a Write.
type Change struct {
	Path   string // slash-separated, relative, clean, no ".." (see CheckPath)
	Data   []byte
	Delete bool // remove Path (no error if already absent)
}

// Trailer is a git trailer of the commit message.
type Trailer struct{ Key, Value string }

// Signature is the author and committer of a write.
type Signature struct {
	Name, Email string
	When        time.Time
}

// Write is one commit.
type Write struct {
	Base    string   // commit the changes were computed against ("" = unborn branch)
	Changes []Change // applied on top of the branch tip
	// Scopes are the paths, or directory prefixes ending in "/", this
	// write owns, e.g. "targets/shop/prod.json", "records/shop/prod/".
	// Only they are checked for other writers' changes since Base: a
	// change outside every scope is applied over whatever the tip holds.
	Scopes   []string
	Message  string // subject, blank line, optional body
	Trailers []Trailer
	Author   Signature // also the committer
}

// Store is a state repository.
type Store interface {
	// Snapshot reads the branch tip (fetching first for a remote).
	Snapshot(ctx context.Context) (Snapshot, error)
	// SnapshotAt reads an older commit; "" is the empty state. It wraps
	// ErrNotFound when the repository does not have the commit.
	SnapshotAt(ctx context.Context, commit string) (Snapshot, error)
	// Commit writes w on the branch tip and returns the new commit. If the
	// tip moved since w.Base and another writer changed anything under
	// w.Scopes, it fails with an error wrapping ErrConflict that names the
	// first changed path; otherwise the changes are re-applied on the new
	// tip. It never drops another writer's commit and never half-writes.
	Commit(ctx context.Context, w Write) (commit string, err error)
	Close() error
}

// PolicyFile is the state repository's policy (SPEC §2): people write it,
// Launchplane only reads it; a Store refuses to write it.
const PolicyFile = "policy.yaml"

// FormatFile is the file that marks a state repository and its format.
const FormatFile = "launchplane-state.json"

// CheckPath validates a change path: relative, clean, slash-separated, with
// no "..", "." or ".git" element and no control characters.
func CheckPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "\\") {
		return fmt.Errorf("invalid state path %q", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "." || el == ".." || strings.EqualFold(el, ".git") {
			return fmt.Errorf("invalid state path %q", p)
		}
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid state path %q", p)
		}
	}
	return nil
}

// CheckScope validates a scope: a path, or a directory prefix ending in "/".
func CheckScope(s string) error {
	if err := CheckPath(strings.TrimSuffix(s, "/")); err != nil {
		return fmt.Errorf("invalid state scope %q", s)
	}
	return nil
}

// CheckTrailer validates a trailer: a key git parses as a trailer token
// (letters, digits and "-") and a one-line value.
func CheckTrailer(t Trailer) error {
	if t.Key == "" {
		return fmt.Errorf("invalid trailer key %q", t.Key)
	}
	for _, r := range t.Key {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("invalid trailer key %q", t.Key)
		}
	}
	if strings.ContainsAny(t.Value, "\r\n") {
		return fmt.Errorf("trailer %s: value has a line break", t.Key)
	}
	return nil
}

// FormatMessage is the commit message with trailers appended as git
// trailers: "Key: Value" lines in a last paragraph of their own.
func FormatMessage(msg string, trailers []Trailer) string {
	msg = strings.TrimRight(msg, "\n")
	if len(trailers) == 0 {
		return msg + "\n"
	}
	var b strings.Builder
	b.WriteString(msg)
	b.WriteString("\n\n")
	for _, t := range trailers {
		b.WriteString(t.Key + ": " + strings.ReplaceAll(t.Value, "\n", " ") + "\n")
	}
	return b.String()
}
