package gitstore

import (
	"fmt"
	"strings"
	"testing"
)

// A commit of thousands of files (an apply of a whole fleet) is written as
// one pack file, not a loose file per object; git and a new Store read it,
// and a push to a remote carries it.
func TestLargeCommitIsOnePack(t *testing.T) {
	requireGit(t)
	files := map[string]string{}
	for i := 0; i < 600; i++ {
		files[fmt.Sprintf("targets/app%04d/prod.json", i)] = fmt.Sprintf(`{"n": %d}`, i)
	}
	t.Run("local", func(t *testing.T) {
		dir := t.TempDir() + "/state"
		c1 := write(t, mustOpen(t, dir, Options{}), "", nil, files)
		counts := "\n" + gitCLI(t, dir, "count-objects", "-v")
		if !strings.Contains(counts, "\ncount: 0\n") || !strings.Contains(counts, "\npacks: 1\n") {
			t.Errorf("want no loose objects and one pack:\n%s", counts)
		}
		gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
		sn := snap(t, mustOpen(t, dir, Options{}))
		if sn.Commit() != c1 || read(t, sn, "targets/app0599/prod.json") != `{"n": 599}` {
			t.Fatalf("a new store reads %s", sn.Commit())
		}
		// A small commit on top stays loose.
		write(t, mustOpen(t, dir, Options{}), c1, nil, map[string]string{"targets/app0000/prod.json": "x"})
		if counts := "\n" + gitCLI(t, dir, "count-objects", "-v"); !strings.Contains(counts, "\npacks: 1\n") || strings.Contains(counts, "\ncount: 0\n") {
			t.Errorf("a small commit should add loose objects, no pack:\n%s", counts)
		}
	})
	t.Run("remote", func(t *testing.T) {
		bare, url := bareRemote(t)
		c1 := write(t, mustOpen(t, url, Options{CacheDir: t.TempDir()}), "", nil, files)
		gitCLI(t, bare, "fsck", "--strict", "--no-dangling")
		if got := gitCLI(t, bare, "show", "main:targets/app0123/prod.json"); got != `{"n": 123}` {
			t.Fatalf("remote reads %q", got)
		}
		sn := snap(t, mustOpen(t, url, Options{CacheDir: t.TempDir()}))
		if sn.Commit() != c1 {
			t.Fatalf("another cache reads %s, want %s", sn.Commit(), c1)
		}
	})
}
