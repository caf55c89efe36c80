package gitstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/launchplane/state"
)

func TestLocalCreateReadListDelete(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "nested", "state")
	s := mustOpen(t, dir, Options{})
	if sn := snap(t, s); sn.Commit() != "" {
		t.Fatalf("new repo has commit %s", sn.Commit())
	}
	// Created bare, HEAD on main.
	if got := gitCLI(t, dir, "rev-parse", "--is-bare-repository"); got != "true\n" {
		t.Fatalf("bare: %q", got)
	}
	if got := gitCLI(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/main\n" {
		t.Fatalf("HEAD: %q", got)
	}
	c1 := write(t, s, "", nil, map[string]string{
		"targets/shop/prod.json": "{}", "targets/shop/testing.json": "t",
		"records/shop/prod/r1.json": "r1", "deep/a/b/c/d.json": "d",
	})
	sn := snap(t, s)
	if sn.Commit() != c1 {
		t.Fatalf("tip %s, want %s", sn.Commit(), c1)
	}
	if got := read(t, sn, state.FormatFile); got != "{\"format_version\": \"1\"}\n" {
		t.Fatalf("format file %q", got)
	}
	if got := read(t, sn, "deep/a/b/c/d.json"); got != "d" {
		t.Fatalf("nested file %q", got)
	}
	for _, p := range []string{"nope.json", "targets/nope/prod.json", "deep/a/b/c/d.json/x"} {
		if _, err := sn.ReadFile(p); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("read missing %s: %v", p, err)
		}
	}
	if _, err := sn.ReadFile("targets/shop"); err == nil || errors.Is(err, state.ErrNotFound) {
		t.Errorf("read a directory: %v", err)
	}
	for dir, want := range map[string][]string{
		"":                  {"deep/", state.FormatFile, "records/", "targets/"},
		"targets":           {"shop/"},
		"targets/shop/":     {"prod.json", "testing.json"},
		"missing":           {},
		"targets/shop/x/y":  {},
		"deep/a/b/c/d.json": {}, // a file, not a directory
	} {
		got, err := sn.ListDir(dir)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ListDir(%q) = %q, %v; want %q", dir, got, err, want)
		}
	}
	// The real git reads what go-git wrote.
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
	if got := gitCLI(t, dir, "show", "main:records/shop/prod/r1.json"); got != "r1" {
		t.Fatalf("git show: %q", got)
	}

	// Delete: the only file of a directory takes the directory along; an
	// absent file is no error; the old snapshot still reads the old tree.
	c2 := write(t, s, c1, nil, map[string]string{"deep/a/b/c/d.json": "", "targets/shop/testing.json": "", "never/was.json": ""})
	sn2 := snap(t, s)
	if root, _ := sn2.ListDir(""); !reflect.DeepEqual(root, []string{state.FormatFile, "records/", "targets/"}) {
		t.Fatalf("root after delete %q", root)
	}
	if l, _ := sn2.ListDir("targets/shop"); !reflect.DeepEqual(l, []string{"prod.json"}) {
		t.Fatalf("targets/shop after delete %q", l)
	}
	if got := read(t, sn, "deep/a/b/c/d.json"); got != "d" {
		t.Fatalf("old snapshot changed: %q", got)
	}
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
	if got := gitCLI(t, dir, "log", "--format=%H %P"); got != c2+" "+c1+"\n"+c1+" \n" {
		t.Fatalf("history:\n%s", got)
	}
	// SnapshotAt reads an older commit.
	old, err := s.SnapshotAt(context.Background(), c1)
	if err != nil || read(t, old, "targets/shop/testing.json") != "t" {
		t.Fatalf("SnapshotAt: %v", err)
	}
	if _, err := s.SnapshotAt(context.Background(), strings.Repeat("ab", 20)); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("SnapshotAt unknown commit: %v", err)
	}
}

// Tree entries are sorted as git sorts them: "a-b/" < "a.json" < "a/"
// ('-' < '.' < '/'), a directory compared as if its name ended in "/".
// The tree is the one the git CLI builds from the same files.
func TestTreeOrder(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, dir, Options{})
	files := map[string]string{
		"a.json": "1", "a-b/x": "2", "a/y": "3", "a0": "4", "a.b/z": "5", "b": "6",
		"targets/x-y/prod.json": "7", "targets/x/prod.json": "8", "targets/x.json": "9",
	}
	write(t, s, "", nil, files)
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
	for p, want := range files {
		if got := gitCLI(t, dir, "show", "main:"+p); got != want {
			t.Errorf("git show %s = %q", p, got)
		}
	}
	if got := gitCLI(t, dir, "ls-tree", "--name-only", "main"); got != "a-b\na.b\na.json\na\na0\nb\nlaunchplane-state.json\ntargets\n" {
		t.Errorf("root order:\n%s", got)
	}
	work := t.TempDir()
	gitCLI(t, work, "init", "--quiet")
	files[state.FormatFile] = string(formatFile())
	for p, d := range files {
		os.MkdirAll(filepath.Join(work, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(work, p), []byte(d), 0o644)
	}
	gitCLI(t, work, "add", "-A")
	if want, got := gitCLI(t, work, "write-tree"), gitCLI(t, dir, "rev-parse", "main^{tree}"); got != want {
		t.Fatalf("tree %s, git builds %s", got, want)
	}
}

// An existing repository is used as is: a non-bare one made by the git CLI
// gets its branch moved; one without the format file is refused.
func TestExistingRepositories(t *testing.T) {
	requireGit(t)
	work := t.TempDir()
	gitCLI(t, work, "init", "--quiet", "-b", "main")
	os.WriteFile(filepath.Join(work, state.FormatFile), formatFile(), 0o644)
	gitCLI(t, work, "add", "-A")
	gitCLI(t, work, "commit", "--quiet", "-m", "by the cli")
	s := mustOpen(t, work, Options{})
	sn := snap(t, s)
	write(t, s, sn.Commit(), nil, map[string]string{"targets/a/b.json": "x"})
	if got := gitCLI(t, work, "log", "--format=%s", "main"); got != "test write\nby the cli\n" {
		t.Fatalf("log:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(work, "targets")); err == nil {
		t.Fatal("the worktree was written")
	}

	other := t.TempDir()
	gitCLI(t, other, "init", "--quiet", "--bare", "-b", "main")
	tree := strings.TrimSpace(gitCLI(t, other, "mktree"))
	commit := strings.TrimSpace(gitCLI(t, other, "commit-tree", tree, "-m", "not launchplane"))
	gitCLI(t, other, "update-ref", "refs/heads/main", commit)
	s2 := mustOpen(t, other, Options{})
	if _, err := s2.Snapshot(context.Background()); err == nil || !strings.Contains(err.Error(), "launchplane-state.json is missing") {
		t.Fatalf("snapshot of a foreign repository: %v", err)
	}
	if _, err := tryWrite(s2, commit, nil, map[string]string{"x": "1"}); err == nil {
		t.Fatal("wrote into a foreign repository")
	}

	notRepo := t.TempDir()
	os.WriteFile(filepath.Join(notRepo, "f"), []byte("x"), 0o644)
	if _, err := Open(context.Background(), notRepo, Options{}); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Fatalf("open non-repo: %v", err)
	}
}

func TestTrailers(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, dir, Options{})
	_, err := s.Commit(context.Background(), state.Write{
		Changes: []state.Change{{Path: "x", Data: []byte("1")}},
		Message: "apply shop/prod\n\nTwo targets, one record.\n",
		Trailers: []state.Trailer{
			{Key: "Launchplane-Plan", Value: "abc"},
			{Key: "Launchplane-Actor", Value: "ci@example.com"},
			{Key: "Launchplane-Records", Value: "deploy-1 deploy-2"},
		},
		Author: state.Signature{Name: "Ci Bot", Email: "ci@example.com", When: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := gitCLI(t, dir, "log", "-1", "--format=%(trailers:only,unfold)")
	if want := "Launchplane-Plan: abc\nLaunchplane-Actor: ci@example.com\nLaunchplane-Records: deploy-1 deploy-2\n\n"; got != want {
		t.Fatalf("trailers %q, want %q", got, want)
	}
	if got := gitCLI(t, dir, "log", "-1", "--format=%(trailers:key=Launchplane-Plan,valueonly)"); got != "abc\n\n" {
		t.Fatalf("plan trailer %q", got)
	}
	if got := gitCLI(t, dir, "log", "-1", "--format=%s|%an|%ae|%cn|%aI"); got != "apply shop/prod|Ci Bot|ci@example.com|Ci Bot|2024-05-06T07:08:09+00:00\n" {
		t.Fatalf("header %q", got)
	}
}

func TestRejectsBadWrites(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "s"), Options{})
	base := write(t, s, "", nil, map[string]string{"file": "1", "dir/x": "2"})
	for name, w := range map[string]state.Write{
		"empty path":      {Changes: []state.Change{{Path: ""}}},
		"absolute":        {Changes: []state.Change{{Path: "/abs"}}},
		"dotdot":          {Changes: []state.Change{{Path: "../x"}}},
		"inner dotdot":    {Changes: []state.Change{{Path: "a/../b"}}},
		"double slash":    {Changes: []state.Change{{Path: "a//b"}}},
		"dot":             {Changes: []state.Change{{Path: "."}}},
		"trailing slash":  {Changes: []state.Change{{Path: "a/"}}},
		"dot git":         {Changes: []state.Change{{Path: "a/.git/config"}}},
		"backslash":       {Changes: []state.Change{{Path: `a\b`}}},
		"newline":         {Changes: []state.Change{{Path: "a\nb"}}},
		"bad scope":       {Scopes: []string{"../x/"}},
		"trailer key":     {Trailers: []state.Trailer{{Key: "Bad Key", Value: "v"}}},
		"trailer value":   {Trailers: []state.Trailer{{Key: "K", Value: "a\nb"}}},
		"file and dir":    {Changes: []state.Change{{Path: "n", Data: []byte("1")}, {Path: "n/m", Data: []byte("2")}}},
		"under a file":    {Changes: []state.Change{{Path: "file/x", Data: []byte("1")}}},
		"over a dir":      {Changes: []state.Change{{Path: "dir", Data: []byte("1")}}},
		"delete a dir":    {Changes: []state.Change{{Path: "dir", Delete: true}}},
		"empty message":   {Message: " "},
		"bad base commit": {Base: "xyz"},
		"policy write":    {Changes: []state.Change{{Path: "policy.yaml", Data: []byte("spec: {rules: []}")}}},
		"policy delete":   {Changes: []state.Change{{Path: "policy.yaml", Delete: true}}},
	} {
		if w.Message == "" {
			w.Message = "m"
		}
		if w.Base == "" {
			w.Base = base
		}
		if _, err := s.Commit(context.Background(), w); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if sn := snap(t, s); sn.Commit() != base {
		t.Fatalf("a rejected write moved the branch to %s", sn.Commit())
	}
	// Deleting below a file is deleting something absent.
	write(t, s, base, nil, map[string]string{"file/x": ""})
	if _, err := snap(t, s).ReadFile("../x"); err == nil {
		t.Fatal("read ../x")
	}
}

func TestUnsupportedFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s := mustOpen(t, dir, Options{})
	c := write(t, s, "", nil, map[string]string{"x": "1"})
	c2 := write(t, s, c, nil, map[string]string{state.FormatFile: `{"format_version": "2"}`})
	want := fmt.Sprintf(`state repository %s: unsupported format_version "2" (this launchplane reads "1")`, dir)
	if _, err := s.Snapshot(context.Background()); err == nil || err.Error() != want {
		t.Fatalf("snapshot: %v", err)
	}
	if _, err := tryWrite(s, c2, nil, map[string]string{"y": "1"}); err == nil || !strings.Contains(err.Error(), `unsupported format_version "2"`) {
		t.Fatalf("write: %v", err)
	}
}

// Two Stores on one repository, both from the same base: disjoint scopes
// both land (the second rebased); the same scope is a conflict that names
// the changed file, and the first writer's data stays.
func TestConcurrentScopesLocal(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	a := mustOpen(t, dir, Options{})
	b := mustOpen(t, dir, Options{})
	base := write(t, a, "", nil, map[string]string{"targets/shop/prod.json": "0", "targets/blog/prod.json": "0"})
	first := write(t, a, base, []string{"targets/shop/prod.json", "records/shop/prod/"}, map[string]string{"targets/shop/prod.json": "a", "records/shop/prod/r1.json": "a"})
	second := write(t, b, base, []string{"targets/blog/prod.json", "records/blog/prod/"}, map[string]string{"targets/blog/prod.json": "b"})
	if got := gitCLI(t, dir, "rev-parse", second+"^"); got != first+"\n" {
		t.Fatalf("second writer not rebased on the first: parent %s", got)
	}
	sn := snap(t, a)
	for p, want := range map[string]string{"targets/shop/prod.json": "a", "targets/blog/prod.json": "b", "records/shop/prod/r1.json": "a"} {
		if got := read(t, sn, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for _, sc := range [][]string{{"records/shop/prod/"}, {"records/"}, {"targets/shop/prod.json"}} {
		_, err := tryWrite(b, base, sc, map[string]string{"records/shop/prod/r2.json": "b", "targets/shop/prod.json": "b"})
		if !errors.Is(err, state.ErrConflict) {
			t.Fatalf("scope %v: %v", sc, err)
		}
		want := "records/shop/prod/r1.json changed since " + base[:12]
		if sc[0] == "targets/shop/prod.json" {
			want = "targets/shop/prod.json changed since " + base[:12]
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("scope %v: %v, want it to name %q", sc, err, want)
		}
	}
	if got := read(t, snap(t, a), "targets/shop/prod.json"); got != "a" {
		t.Fatalf("first writer lost: %q", got)
	}
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
}

// Many writers race from one base, on the unborn branch and then on a
// commit, each through its own Store: every disjoint write lands, and of
// writers sharing a scope exactly one wins.
func TestLocalRaceGoroutines(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	const writers = 8
	race := func(base string, scope func(i int) string) (won int, errs []error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		for i := 0; i < writers; i++ {
			s := mustOpen(t, dir, Options{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p := scope(i)
				_, err := tryWrite(s, base, []string{p}, map[string]string{p: fmt.Sprint(i)})
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
	if won, errs := race("", func(i int) string { return fmt.Sprintf("targets/p%d.json", i) }); won != writers {
		t.Fatalf("unborn branch: %d of %d landed: %v", won, writers, errs)
	}
	base := snap(t, mustOpen(t, dir, Options{})).Commit()
	if won, errs := race(base, func(i int) string { return fmt.Sprintf("targets/q%d.json", i) }); won != writers {
		t.Fatalf("disjoint: %d of %d landed: %v", won, writers, errs)
	}
	base = snap(t, mustOpen(t, dir, Options{})).Commit()
	won, errs := race(base, func(int) string { return "targets/same.json" })
	if won != 1 {
		t.Fatalf("same scope: %d won", won)
	}
	for _, err := range errs {
		if !errors.Is(err, state.ErrConflict) {
			t.Fatalf("same scope loser: %v", err)
		}
	}
	if n := strings.Count(gitCLI(t, dir, "log", "--format=%s", "main"), "test write\n"); n != 2*writers+1 {
		t.Fatalf("%d commits, want %d", n, 2*writers+1)
	}
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
}

// Two processes write to one local repository: the ref lock is held across
// processes, so no commit is lost.
func TestLocalRaceProcesses(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	const n = 15
	startChildren(t, dir, n, []string{"one", "two", "three"}, []string{"", "", ""})
	log := gitCLI(t, dir, "log", "--format=%s", "main")
	for _, name := range []string{"one", "two", "three"} {
		for i := 0; i < n; i++ {
			if !strings.Contains(log, fmt.Sprintf("%s %d\n", name, i)) {
				t.Errorf("commit %s %d lost", name, i)
			}
		}
	}
	gitCLI(t, dir, "fsck", "--strict", "--no-dangling")
}

// A reader in another Store never sees the branch vanish while it moves
// (go-git's CheckAndSetReference truncates the ref file in place, and a
// reader then finds the branch missing).
func TestReadersSeeNoTornRef(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	w := mustOpen(t, dir, Options{})
	base := write(t, w, "", nil, map[string]string{"x": "0"})
	r := mustOpen(t, dir, Options{})
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			c, err := tryWrite(w, base, nil, map[string]string{"x": fmt.Sprint(i + 1)})
			if err != nil {
				errc <- err
				return
			}
			base = c
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			select {
			case err := <-errc:
				t.Fatal(err)
			default:
			}
			t.Logf("%d reads", reads)
			return
		default:
		}
		sn, err := r.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sn.Commit() == "" {
			t.Fatalf("read %d saw the branch missing", reads)
		}
		reads++
	}
}

// A lock left by a dead writer is reported, not waited for forever nor
// broken; a live one is waited for until the context ends.
func TestRefLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, dir, Options{})
	base := write(t, s, "", nil, map[string]string{"x": "0"})
	lock := filepath.Join(dir, "refs", "heads", "main.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Commit(ctx, state.Write{Base: base, Message: "m", Changes: []state.Change{{Path: "x", Data: []byte("1")}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("held lock: %v", err)
	}
	old := time.Now().Add(-11 * time.Minute)
	os.Chtimes(lock, old, old)
	_, err = tryWrite(s, base, nil, map[string]string{"x": "1"})
	if err == nil || !strings.Contains(err.Error(), "main.lock is 11m0s old") || !strings.Contains(err.Error(), "remove it if no launchplane or git process is writing") {
		t.Fatalf("stale lock: %v", err)
	}
	if snap(t, s).Commit() != base {
		t.Fatal("branch moved under a lock")
	}
	os.Remove(lock)
	write(t, s, base, nil, map[string]string{"x": "1"})
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("lock left behind: %v", err)
	}
}

// Snapshots are read while other goroutines write through the same Store
// (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "state"), Options{})
	base := write(t, s, "", nil, map[string]string{"targets/a/prod.json": "a", "targets/b/prod.json": "b"})
	sn := snap(t, s)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if got, err := sn.ReadFile("targets/a/prod.json"); err != nil || string(got) != "a" {
					t.Errorf("read: %q %v", got, err)
				}
				if _, err := sn.ListDir("targets"); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			p := fmt.Sprintf("records/w%d/r.json", i)
			if _, err := tryWrite(s, base, []string{p}, map[string]string{p: "x"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if l, _ := snap(t, s).ListDir("records"); len(l) != 4 {
		t.Fatalf("records %v", l)
	}
}

// Entries other tools wrote (executable, symlink, submodule) survive a
// write next to them, with their modes.
func TestForeignEntriesKept(t *testing.T) {
	requireGit(t)
	work := t.TempDir()
	gitCLI(t, work, "init", "--quiet", "-b", "main")
	os.WriteFile(filepath.Join(work, state.FormatFile), formatFile(), 0o644)
	os.MkdirAll(filepath.Join(work, "bin"), 0o755)
	os.WriteFile(filepath.Join(work, "bin", "tool.sh"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("bin/tool.sh", filepath.Join(work, "link"))
	gitCLI(t, work, "add", "-A")
	gitCLI(t, work, "update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("ab", 20)+",sub")
	gitCLI(t, work, "commit", "--quiet", "-m", "tools")
	s := mustOpen(t, work, Options{})
	sn := snap(t, s)
	if root, _ := sn.ListDir(""); !reflect.DeepEqual(root, []string{"bin/", state.FormatFile, "link", "sub"}) {
		t.Fatalf("root %q", root)
	}
	write(t, s, sn.Commit(), nil, map[string]string{"bin/tool.sh": "#!/bin/sh\necho 2\n", "bin/new.json": "{}"})
	got := gitCLI(t, work, "ls-tree", "-r", "--format=%(objectmode) %(path)", "main")
	want := "100644 bin/new.json\n100755 bin/tool.sh\n100644 launchplane-state.json\n120000 link\n160000 sub\n"
	if got != want {
		t.Fatalf("ls-tree:\n%s\nwant:\n%s", got, want)
	}
	gitCLI(t, work, "fsck", "--strict", "--no-dangling")
}

// Options.Branch names the state branch, HEAD included on creation.
func TestBranchOption(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, dir, Options{Branch: "launchplane/state"})
	c := write(t, s, "", nil, map[string]string{"x": "1"})
	if got := gitCLI(t, dir, "rev-parse", "launchplane/state"); got != c+"\n" {
		t.Fatalf("branch at %s", got)
	}
	if got := gitCLI(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/launchplane/state\n" {
		t.Fatalf("HEAD %s", got)
	}
	if _, err := Open(context.Background(), dir, Options{Branch: "bad..name"}); err == nil {
		t.Fatal("bad branch name accepted")
	}
}

// The backoff ceiling grows with the attempt and with the duration of the
// attempt that lost, within bounds.
func TestBackoffCeil(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		took    time.Duration
		want    time.Duration
	}{
		{0, 0, 10 * time.Millisecond},
		{3, time.Millisecond, 80 * time.Millisecond},
		{0, 2 * time.Second, 2 * time.Second},
		{2, 2 * time.Second, 6 * time.Second},
		{50, 10 * time.Second, 30 * time.Second},
		{15, 0, 10 * time.Millisecond << 10},
	} {
		if got := backoffCeil(tc.attempt, tc.took); got != tc.want {
			t.Errorf("backoffCeil(%d, %s) = %s, want %s", tc.attempt, tc.took, got, tc.want)
		}
	}
}
