package gitstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/launchplane/launchplane/state"
)

func cacheRepo(t *testing.T, cache string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(cache, "????????????????"))
	if len(dirs) != 1 {
		t.Fatalf("cache %s holds %v", cache, dirs)
	}
	return dirs[0]
}

func packs(t *testing.T, repo string) int {
	t.Helper()
	p, _ := filepath.Glob(filepath.Join(repo, "objects", "pack", "*.pack"))
	return len(p)
}

func TestRemoteFile(t *testing.T) {
	bare, url := bareRemote(t)
	cache := t.TempDir()
	s := mustOpen(t, url, Options{CacheDir: cache})
	if sn := snap(t, s); sn.Commit() != "" {
		t.Fatalf("empty remote has commit %s", sn.Commit())
	}
	c1 := write(t, s, "", nil, map[string]string{"targets/shop/prod.json": "1", "records/shop/prod/r1.json": "r"})
	if got := gitCLI(t, bare, "rev-parse", "main"); got != c1+"\n" {
		t.Fatalf("remote main %s, want %s", got, c1)
	}
	if got := gitCLI(t, bare, "show", "main:"+state.FormatFile); got != string(formatFile()) {
		t.Fatalf("format file %q", got)
	}
	gitCLI(t, bare, "fsck", "--strict", "--no-dangling")

	// Another Store with its own cache reads it and writes on top.
	other := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	sn := snap(t, other)
	if sn.Commit() != c1 || read(t, sn, "targets/shop/prod.json") != "1" {
		t.Fatalf("second reader: %s", sn.Commit())
	}
	c2 := write(t, other, c1, []string{"targets/shop/prod.json"}, map[string]string{"targets/shop/prod.json": "2"})
	if sn := snap(t, s); sn.Commit() != c2 || read(t, sn, "targets/shop/prod.json") != "2" {
		t.Fatalf("first store after the second wrote: %s", sn.Commit())
	}
	// A write from an old base: disjoint scope lands, same scope conflicts.
	c3 := write(t, s, c1, []string{"targets/blog/"}, map[string]string{"targets/blog/prod.json": "b"})
	if got := gitCLI(t, bare, "log", "--format=%H", "main"); got != c3+"\n"+c2+"\n"+c1+"\n" {
		t.Fatalf("remote history:\n%s", got)
	}
	_, err := tryWrite(s, c1, []string{"targets/shop/"}, map[string]string{"targets/shop/prod.json": "3"})
	if !errors.Is(err, state.ErrConflict) || !strings.Contains(err.Error(), "targets/shop/prod.json changed since "+c1[:12]) {
		t.Fatalf("same scope: %v", err)
	}
	// The cache is one bare repository named after the URL.
	repo := cacheRepo(t, cache)
	if got := gitCLI(t, repo, "rev-parse", "--is-bare-repository"); got != "true\n" {
		t.Fatalf("cache is not bare: %q", got)
	}

	// A push the remote refuses (not a race) is an error, not a conflict,
	// and not retried.
	hook := filepath.Join(bare, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho refused by policy >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = tryWrite(s, c3, nil, map[string]string{"x": "1"})
	if err == nil || errors.Is(err, state.ErrConflict) || !strings.HasPrefix(err.Error(), "push state to "+url+": ") {
		t.Fatalf("refused push: %v", err)
	}
	if got := gitCLI(t, bare, "rev-parse", "main"); got != c3+"\n" {
		t.Fatalf("refused push moved main to %s", got)
	}
}

// A cache holds the tip, not the history: the first fetch is depth 1; an
// old base or old snapshot deepens it as far as needed.
func TestRemoteShallowCache(t *testing.T) {
	bare, url := bareRemote(t)
	fastImport(t, bare, 200)
	cache := t.TempDir()
	s := mustOpen(t, url, Options{CacheDir: cache})
	sn := snap(t, s)
	if got := read(t, sn, "targets/p1/prod.json"); got != `{"n": 101}` {
		t.Fatalf("tip read %q", got)
	}
	repo := cacheRepo(t, cache)
	if got := gitCLI(t, repo, "rev-list", "--count", "refs/remotes/origin/main"); got != "1\n" {
		t.Fatalf("first fetch brought %s commits", got)
	}
	// Another writer adds a commit: the next fetch brings just that.
	other := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	c := write(t, other, snap(t, other).Commit(), nil, map[string]string{"targets/p1/prod.json": "new"})
	before := packs(t, repo)
	if sn := snap(t, s); sn.Commit() != c || read(t, sn, "targets/p1/prod.json") != "new" {
		t.Fatalf("after another write: %s", sn.Commit())
	}
	if n := packs(t, repo); n != before+1 {
		t.Fatalf("packs %d -> %d", before, n)
	}

	// An old snapshot (a saved plan's base) deepens the cache.
	old := strings.TrimSpace(gitCLI(t, bare, "rev-parse", "main~151"))
	osn, err := s.SnapshotAt(context.Background(), old)
	if err != nil || read(t, osn, "targets/p49/prod.json") != `{"n": 49}` {
		t.Fatalf("SnapshotAt(main~151): %v", err)
	}
	if _, err := s.SnapshotAt(context.Background(), strings.Repeat("cd", 20)); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("SnapshotAt(unknown): %v", err)
	}
	// An old base from a fresh cache: disjoint scope lands, changed scope
	// conflicts.
	fresh := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	base := strings.TrimSpace(gitCLI(t, bare, "rev-parse", "main~100"))
	if _, err := tryWrite(fresh, base, []string{"targets/p1/prod.json"}, map[string]string{"targets/p1/prod.json": "x"}); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("old base, changed scope: %v", err)
	}
	fresh2 := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	write(t, fresh2, base, []string{"notes.txt"}, map[string]string{"notes.txt": "p"})
	gitCLI(t, bare, "fsck", "--strict", "--no-dangling")
}

// Writers race through a bare remote, each with its own cache: no commit
// is lost; of writers sharing a scope exactly one wins.
func TestRemoteRace(t *testing.T) {
	bare, url := bareRemote(t)
	ctx := context.Background()
	base := write(t, mustOpen(t, url, Options{CacheDir: t.TempDir()}), "", nil, map[string]string{"targets/init.json": "0"})
	const writers = 4
	race := func(scope func(i int) string) (won int, errs []error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		for i := 0; i < writers; i++ {
			s := mustOpen(t, url, Options{CacheDir: t.TempDir()})
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p := scope(i)
				_, err := s.Commit(ctx, state.Write{Base: base, Scopes: []string{p}, Message: fmt.Sprintf("w %s", p),
					Changes: []state.Change{{Path: p, Data: []byte(fmt.Sprint(i))}}})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else {
					errs = append(errs, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		return won, errs
	}
	if won, errs := race(func(i int) string { return fmt.Sprintf("targets/p%d/prod.json", i) }); won != writers {
		t.Fatalf("disjoint: %d of %d landed: %v", won, writers, errs)
	}
	log := gitCLI(t, bare, "log", "--format=%s", "main")
	for i := 0; i < writers; i++ {
		if !strings.Contains(log, fmt.Sprintf("w targets/p%d/prod.json\n", i)) {
			t.Errorf("commit %d lost:\n%s", i, log)
		}
	}
	won, errs := race(func(int) string { return "targets/same/prod.json" })
	if won != 1 {
		t.Fatalf("same scope: %d won: %v", won, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, state.ErrConflict) {
			t.Fatalf("same scope loser: %v", err)
		}
	}
	gitCLI(t, bare, "fsck", "--strict", "--no-dangling")
}

// Separate OS processes race through a bare remote: two with caches of
// their own, two sharing one (as two runs of one user do).
func TestRemoteProcesses(t *testing.T) {
	bare, url := bareRemote(t)
	shared := t.TempDir()
	const n = 8
	names := []string{"one", "two", "three", "four"}
	startChildren(t, url, n, names, []string{t.TempDir(), t.TempDir(), shared, shared})
	log := gitCLI(t, bare, "log", "--format=%s", "main")
	for _, name := range names {
		for i := 0; i < n; i++ {
			if !strings.Contains(log, fmt.Sprintf("%s %d\n", name, i)) {
				t.Errorf("commit %s %d lost", name, i)
			}
		}
	}
	if got := strings.Count(log, "\n"); got != len(names)*n {
		t.Errorf("%d commits, want %d:\n%s", got, len(names)*n, log)
	}
	files := strings.Fields(gitCLI(t, bare, "ls-tree", "-r", "--name-only", "main"))
	if len(files) != len(names)*(n+1)+1 {
		t.Errorf("files after the race: %v", files)
	}
	gitCLI(t, bare, "fsck", "--strict", "--no-dangling")
}

// Over smart HTTP (git http-backend), the token is basic auth for user
// x-access-token, and never appears in an error.
func TestRemoteHTTP(t *testing.T) {
	bare, _ := bareRemote(t)
	gitCLI(t, bare, "config", "http.receivepack", "true")
	execPath := strings.TrimSpace(gitCLI(t, bare, "--exec-path"))
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(bare), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}
	const token = "tok-9f8e7d6c5b4a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "x-access-token" || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="state"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	defer srv.Close()
	url := srv.URL + "/remote.git"

	s := mustOpen(t, url, Options{Token: token, CacheDir: t.TempDir()})
	c := write(t, s, "", nil, map[string]string{"targets/a/prod.json": "1"})
	if got := gitCLI(t, bare, "rev-parse", "main"); got != c+"\n" {
		t.Fatalf("remote main %s, want %s", got, c)
	}
	if sn := snap(t, mustOpen(t, url, Options{Token: token, CacheDir: t.TempDir()})); read(t, sn, "targets/a/prod.json") != "1" {
		t.Fatal("read over http")
	}

	bad := mustOpen(t, url, Options{Token: "tok-wrong-0123456", CacheDir: t.TempDir()})
	_, err := bad.Snapshot(context.Background())
	if err == nil || strings.Contains(err.Error(), "tok-wrong-0123456") || !strings.HasPrefix(err.Error(), "fetch state from "+url+": ") {
		t.Fatalf("wrong token: %v", err)
	}
	withCreds := strings.Replace(url, "http://", "http://someone:"+token+"x@", 1)
	s2 := mustOpen(t, withCreds, Options{CacheDir: t.TempDir()})
	_, err = tryWrite(s2, "", nil, map[string]string{"x": "1"})
	if err == nil || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "someone") {
		t.Fatalf("credentials in the URL: %v", err)
	}
	if _, err := Open(context.Background(), "https://user:"+token+"@[::1", Options{Token: token}); err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("bad URL: %v", err)
	}
}

// A cache that grew many packs is started afresh by the next Store opened
// while no other uses it; never under a Store that is open.
func TestCacheReset(t *testing.T) {
	defer func(n int) { maxCachePacks = n }(maxCachePacks)
	maxCachePacks = 2
	_, url := bareRemote(t)
	cache := t.TempDir()
	writer := mustOpen(t, url, Options{CacheDir: t.TempDir()})
	base := write(t, writer, "", nil, map[string]string{"x": "0"})
	s, err := Open(context.Background(), url, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		base = write(t, writer, base, nil, map[string]string{"x": fmt.Sprint(i)})
		snap(t, s)
	}
	repo := cacheRepo(t, cache)
	grown := packs(t, repo)
	if grown <= maxCachePacks {
		t.Fatalf("only %d packs", grown)
	}
	// Open while s is open: kept.
	kept := mustOpen(t, url, Options{CacheDir: cache})
	if packs(t, repo) != grown {
		t.Fatal("cache reset under an open store")
	}
	kept.Close()
	s.Close()
	fresh := mustOpen(t, url, Options{CacheDir: cache})
	if sn := snap(t, fresh); read(t, sn, "x") != "4" {
		t.Fatal("read after reset")
	}
	if n := packs(t, repo); n != 1 {
		t.Fatalf("%d packs after reset", n)
	}
}

func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://x-access-token:tok@github.com/o/r.git": "https://github.com/o/r.git",
		"https://tok@github.com/o/r.git":                "https://github.com/o/r.git",
		"ssh://git:pw@host/r.git":                       "ssh://git@host/r.git",
		"git@github.com:o/r.git":                        "git@github.com:o/r.git",
		"file:///srv/state.git":                         "file:///srv/state.git",
	} {
		if got := safeURL(in); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
	}
	for loc, want := range map[string]bool{
		"git@github.com:o/r.git": true, "file:///x": true, "https://h/r": true,
		".launchplane/state": false, "/abs/path": false, "dir/with@at:colon": false, `C:\state`: false,
	} {
		if isRemote(loc) != want {
			t.Errorf("isRemote(%q) != %v", loc, want)
		}
	}
}

// TestRemoteNoMainOtherBranches: a remote with branches but no main is
// not a fresh state repository: reading and writing fail, and nothing is
// pushed.
func TestRemoteNoMainOtherBranches(t *testing.T) {
	bare, url := bareRemote(t)
	work := t.TempDir()
	gitCLI(t, work, "init", "-q", "-b", "master")
	gitCLI(t, work, "commit", "-q", "--allow-empty", "-m", "first")
	gitCLI(t, work, "push", "-q", bare, "HEAD:refs/heads/master")
	s, err := Open(context.Background(), url, Options{CacheDir: t.TempDir()})
	if err == nil {
		defer s.Close()
		_, err = s.Snapshot(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "has no branch main but has master") {
		t.Fatalf("snapshot: %v, want a refusal naming master", err)
	}
	if out := gitOut(bare, "for-each-ref", "--format=%(refname)"); out != "refs/heads/master\n" {
		t.Errorf("remote refs changed: %q", out)
	}
}
