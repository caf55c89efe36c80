package gitstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/launchplane/launchplane/state"
)

// The compare-and-swap on the branch, step by step and without racing
// goroutines: writer A reads the tip and builds its commit on it; writer
// B, from the same base, moves the branch first; A's move must then fail
// (never overwrite B's commit), and A's retry must either conflict (same
// scope) or be rebuilt on B's commit (disjoint scope).

func casWrite(path, data string, scopes ...string) state.Write {
	return state.Write{Changes: []state.Change{{Path: path, Data: []byte(data)}}, Scopes: scopes, Message: "cas write",
		Author: state.Signature{Name: "t", Email: "t@example.com"}}
}

func TestCompareAndSwapLocal(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	a := mustOpen(t, dir, Options{})
	b := mustOpen(t, dir, Options{})
	base := write(t, a, "", nil, map[string]string{"targets/shop/prod.json": "0"})

	// A builds its commit on the tip ...
	tip, err := a.localTip()
	if err != nil || tip.String() != base {
		t.Fatalf("tip %s, %v", tip, err)
	}
	root, err := a.rootTree(tip)
	if err != nil {
		t.Fatal(err)
	}
	wA := casWrite("targets/shop/prod.json", "a", "targets/shop/prod.json")
	commitA, _, err := a.buildCommit(tip, root, wA)
	if err != nil {
		t.Fatal(err)
	}
	// ... B lands first from the same base ...
	commitB := write(t, b, base, []string{"targets/shop/prod.json"}, map[string]string{"targets/shop/prod.json": "b"})
	// ... so A's move from the old tip must not happen.
	moved, err := a.moveRef(ctx, tip, commitA)
	if err != nil {
		t.Fatal(err)
	}
	if moved {
		t.Fatalf("A's commit replaced B's: the branch moved from %s although it was at %s", abbrev(tip), commitB[:12])
	}
	if got := gitCLI(t, dir, "rev-parse", "main"); got != commitB+"\n" {
		t.Fatalf("main is %s, want B's commit %s", got, commitB)
	}

	// A's retry through Commit: the same scope conflicts, naming the file.
	wA.Base = base
	if _, err := a.Commit(ctx, wA); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("A's retry on the same scope: %v, want a conflict", err)
	}
	if got := read(t, snap(t, a), "targets/shop/prod.json"); got != "b" {
		t.Fatalf("B's write lost: %q", got)
	}
	// A disjoint write from the same base is rebuilt on B's commit.
	wD := casWrite("targets/blog/prod.json", "a", "targets/blog/prod.json")
	wD.Base = base
	commitD, err := a.Commit(ctx, wD)
	if err != nil {
		t.Fatal(err)
	}
	if got := gitCLI(t, dir, "rev-parse", commitD+"^"); got != commitB+"\n" {
		t.Fatalf("disjoint write not rebuilt on B's commit: parent %s", got)
	}
	sn := snap(t, b)
	if read(t, sn, "targets/shop/prod.json") != "b" || read(t, sn, "targets/blog/prod.json") != "a" {
		t.Fatal("a write was dropped")
	}
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
}

// The same on a remote: A's push from the old tip must not land over B's.
func TestCompareAndSwapRemote(t *testing.T) {
	bare, url := bareRemote(t)
	ctx := context.Background()
	a := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	b := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	base := write(t, a, "", nil, map[string]string{"targets/shop/prod.json": "0"})
	snap(t, b)

	tip, err := a.fetchTip(ctx)
	if err != nil || tip.String() != base {
		t.Fatalf("tip %s, %v", tip, err)
	}
	root, err := a.rootTree(tip)
	if err != nil {
		t.Fatal(err)
	}
	wA := casWrite("targets/shop/prod.json", "a", "targets/shop/prod.json")
	commitA, objs, err := a.buildCommit(tip, root, wA)
	if err != nil {
		t.Fatal(err)
	}
	commitB := write(t, b, base, []string{"targets/shop/prod.json"}, map[string]string{"targets/shop/prod.json": "b"})
	moved, err := a.push(ctx, tip, commitA, objs)
	if err != nil {
		t.Fatal(err)
	}
	if moved {
		t.Fatalf("A's push replaced B's commit")
	}
	if got := gitCLI(t, bare, "rev-parse", "main"); got != commitB+"\n" {
		t.Fatalf("remote main is %s, want B's commit %s", got, commitB)
	}
	wA.Base = base
	if _, err := a.Commit(ctx, wA); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("A's retry on the same scope: %v, want a conflict", err)
	}
	if got := gitCLI(t, bare, "show", "main:targets/shop/prod.json"); got != "b" {
		t.Fatalf("B's write lost: %q", got)
	}
}
