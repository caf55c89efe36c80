package gitstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/launchplane/launchplane/state"
)

// Fixtures are built once per test binary, shared by every run of a
// benchmark function, and removed by TestMain.
var (
	fixtureMu   sync.Mutex
	fixtureRoot string
	fixtures    = map[string]string{}
)

func fixture(b *testing.B, name string, build func(dir string)) string {
	b.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if dir, ok := fixtures[name]; ok {
		return dir
	}
	if fixtureRoot == "" {
		root, err := os.MkdirTemp("", "gitstore-bench-")
		if err != nil {
			b.Fatal(err)
		}
		fixtureRoot = root
	}
	dir := filepath.Join(fixtureRoot, name)
	build(dir)
	fixtures[name] = dir
	return dir
}

// localHistory is a local repository with n commits shaped like
// fastImport's (a tip tree of 100 targets and 1,000 records whatever n),
// built with plumbing: the commit objects one after another, one ref move
// at the end.
func localHistory(b *testing.B, n int) string {
	return fixture(b, fmt.Sprintf("local-%d", n), func(dir string) {
		s, err := Open(context.Background(), dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		var parent, root plumbing.Hash
		for i := 0; i < n; i++ {
			var changes []state.Change
			if i == 0 {
				for j := 0; j < 1000; j++ {
					if j < 100 {
						changes = append(changes, state.Change{Path: fmt.Sprintf("targets/p%d/prod.json", j), Data: []byte(fmt.Sprintf(`{"target": %d}`, j))})
					}
					changes = append(changes, state.Change{Path: fmt.Sprintf("records/p%d/prod/r%06d.json", j%100, j), Data: []byte(fmt.Sprintf(`{"record": %d}`, j))})
				}
			}
			changes = append(changes,
				state.Change{Path: fmt.Sprintf("targets/p%d/prod.json", i%100), Data: []byte(fmt.Sprintf(`{"n": %d}`, i))},
				state.Change{Path: fmt.Sprintf("records/p%d/prod/r%06d.json", i%100, i%1000), Data: []byte(fmt.Sprintf(`{"i": %d}`, i))})
			c, _, err := s.buildCommit(parent, root, state.Write{Message: fmt.Sprintf("w%d", i), Changes: changes})
			if err != nil {
				b.Fatal(err)
			}
			if root, err = s.rootTree(c); err != nil {
				b.Fatal(err)
			}
			parent = c
		}
		if ok, err := s.moveRef(context.Background(), plumbing.ZeroHash, parent); !ok || err != nil {
			b.Fatal(ok, err)
		}
	})
}

// BenchmarkSnapshotRead takes a snapshot and reads one file at the tip of
// a local repository with 10 and with 10,000 commits of history.
func BenchmarkSnapshotRead(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			s := mustOpen(b, localHistory(b, n), Options{})
			want := fmt.Sprintf(`{"n": %d}`, n-1)
			p := fmt.Sprintf("targets/p%d/prod.json", (n-1)%100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sn, err := s.Snapshot(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if got, err := sn.ReadFile(p); err != nil || string(got) != want {
					b.Fatalf("read %q %v", got, err)
				}
			}
		})
	}
}

// BenchmarkCommit writes 3 files (two targets and a record) into a tree of
// 3,000 target files (1,500 products x 2 lanes).
func BenchmarkCommit(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "s"), Options{})
	var changes []state.Change
	for i := 0; i < 3000; i++ {
		changes = append(changes, state.Change{Path: fmt.Sprintf("targets/p%d/%s.json", i/2, []string{"testing", "prod"}[i%2]), Data: []byte(`{}`)})
	}
	base, err := s.Commit(context.Background(), state.Write{Changes: changes, Message: "seed"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base, err = s.Commit(context.Background(), state.Write{Base: base, Message: "apply",
			Scopes: []string{"targets/p7/prod.json", "targets/p900/testing.json", "records/p7/prod/"},
			Changes: []state.Change{
				{Path: "targets/p7/prod.json", Data: []byte(fmt.Sprint(i))},
				{Path: fmt.Sprintf("records/p7/prod/r%d.json", i), Data: []byte("{}")},
				{Path: "targets/p900/testing.json", Data: []byte(fmt.Sprint(i))},
			}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// remoteHistory is a bare repository with n commits made by git
// fast-import, and its file:// URL.
func remoteHistory(b *testing.B, name string, n int) string {
	requireGit(b)
	dir := fixture(b, fmt.Sprintf("%s-%d.git", name, n), func(dir string) {
		gitCLI(b, fixtureRoot, "init", "--quiet", "--bare", "-b", "main", dir)
		fastImport(b, dir, n)
	})
	return "file://" + dir
}

// BenchmarkRemoteSnapshotRead fetches (nothing new) and reads one file from
// a file:// remote with 10 and with 10,000 commits.
func BenchmarkRemoteSnapshotRead(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			s := mustOpen(b, remoteHistory(b, "read", n), Options{CacheDir: b.TempDir()})
			snap(b, s)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := snap(b, s).ReadFile("targets/p1/prod.json"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRemoteOpen opens a remote into an empty cache (a fresh CI
// runner) and reads one file.
func BenchmarkRemoteOpen(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			url := remoteHistory(b, "read", n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cache := filepath.Join(b.TempDir(), fmt.Sprint(i))
				s, err := Open(context.Background(), url, Options{CacheDir: cache})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := snap(b, s).ReadFile("targets/p1/prod.json"); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

// BenchmarkRemoteCommit writes 2 files and pushes them to a remote with 10
// and with 10,000 commits.
func BenchmarkRemoteCommit(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			s := mustOpen(b, remoteHistory(b, "write", n), Options{CacheDir: b.TempDir()})
			base := snap(b, s).Commit()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				base, err = s.Commit(context.Background(), state.Write{Base: base, Message: "apply",
					Scopes: []string{"targets/p7/prod.json", "records/p7/prod/"},
					Changes: []state.Change{
						{Path: "targets/p7/prod.json", Data: []byte(fmt.Sprint(i))},
						{Path: fmt.Sprintf("records/p7/prod/b%d.json", i), Data: []byte("{}")},
					}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
