package gitstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/state"
)

// TestMain also runs the test binary as a child writer process (see
// startChildren), and removes the benchmarks' shared fixtures.
func TestMain(m *testing.M) {
	if loc := os.Getenv("GITSTORE_CHILD_LOC"); loc != "" {
		os.Exit(child(loc))
	}
	code := m.Run()
	if fixtureRoot != "" {
		os.RemoveAll(fixtureRoot)
	}
	os.Exit(code)
}

// child waits for a line on stdin (so that all children start together),
// then makes GITSTORE_CHILD_N commits, each read-modify-write from a fresh
// snapshot, scoped to its own target.
func child(loc string) int {
	name := os.Getenv("GITSTORE_CHILD_NAME")
	n, _ := strconv.Atoi(os.Getenv("GITSTORE_CHILD_N"))
	ctx := context.Background()
	s, err := Open(ctx, loc, Options{CacheDir: os.Getenv("GITSTORE_CHILD_CACHE")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	bufio.NewReader(os.Stdin).ReadString('\n')
	target := "targets/" + name + "/prod.json"
	for i := 0; i < n; i++ {
		sn, err := s.Snapshot(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_, err = s.Commit(ctx, state.Write{
			Base:   sn.Commit(),
			Scopes: []string{target, "records/" + name + "/"},
			Changes: []state.Change{
				{Path: target, Data: []byte(strconv.Itoa(i))},
				{Path: fmt.Sprintf("records/%s/r%d.json", name, i), Data: []byte("{}")},
			},
			Message: fmt.Sprintf("%s %d", name, i),
			Author:  state.Signature{Name: name, Email: name + "@example.com"},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// startChildren runs one child writer per name against loc, all released
// at once, and waits for them.
func startChildren(t *testing.T, loc string, n int, names, caches []string) {
	t.Helper()
	type proc struct {
		cmd *exec.Cmd
		out *strings.Builder
	}
	var procs []proc
	var release []*os.File
	for i, name := range names {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "GITSTORE_CHILD_LOC="+loc, "GITSTORE_CHILD_NAME="+name,
			"GITSTORE_CHILD_N="+strconv.Itoa(n), "GITSTORE_CHILD_CACHE="+caches[i])
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = r
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		release = append(release, w)
		procs = append(procs, proc{cmd, out})
	}
	for _, w := range release {
		w.WriteString("go\n")
		w.Close()
	}
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("child %s: %v\n%s", names[i], err, p.out)
		}
	}
}

func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git CLI not installed")
	}
}

// gitEnv isolates the git CLI from the user's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+home,
		"GIT_AUTHOR_NAME=cli", "GIT_AUTHOR_EMAIL=cli@example.com", "GIT_COMMITTER_NAME=cli", "GIT_COMMITTER_EMAIL=cli@example.com")
}

func gitCLI(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = gitEnv(t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// bareRemote is an empty bare repository made by the git CLI, and its
// file:// URL.
func bareRemote(t testing.TB) (dir, url string) {
	t.Helper()
	requireGit(t)
	dir = filepath.Join(t.TempDir(), "remote.git")
	gitCLI(t, filepath.Dir(dir), "init", "--quiet", "--bare", "-b", "main", dir)
	return dir, "file://" + dir
}

// fastImport appends n commits to main of the repository dir with git
// fast-import. The tip tree has the same size whatever n: on an empty
// branch the first commit writes the format file, 100 targets
// (targets/p<j>/prod.json) and 1,000 records (records/p<j%100>/prod/r<j>.json),
// all different;
// commit i then rewrites target p<i%100> as {"n": i} and record r<i%1000>.
func fastImport(t testing.TB, dir string, n int) {
	t.Helper()
	var b strings.Builder
	data := func(s string) { fmt.Fprintf(&b, "data %d\n%s\n", len(s), s) }
	parent := strings.TrimSpace(gitOut(dir, "rev-parse", "--verify", "--quiet", "main"))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "commit refs/heads/main\ncommitter cli <cli@example.com> %d +0000\n", 1700000000+i)
		data(fmt.Sprintf("w%d", i))
		if i == 0 && parent != "" {
			fmt.Fprintf(&b, "from %s\n", parent)
		}
		if i == 0 && parent == "" {
			fmt.Fprintf(&b, "M 100644 inline %s\n", state.FormatFile)
			data(string(formatFile()))
			for j := 0; j < 1000; j++ {
				if j < 100 {
					fmt.Fprintf(&b, "M 100644 inline targets/p%d/prod.json\n", j)
					data(fmt.Sprintf(`{"target": %d}`, j))
				}
				fmt.Fprintf(&b, "M 100644 inline records/p%d/prod/r%06d.json\n", j%100, j)
				data(fmt.Sprintf(`{"record": %d}`, j))
			}
		}
		fmt.Fprintf(&b, "M 100644 inline targets/p%d/prod.json\n", i%100)
		data(fmt.Sprintf(`{"n": %d}`, i))
		fmt.Fprintf(&b, "M 100644 inline records/p%d/prod/r%06d.json\n", i%100, i%1000)
		data(fmt.Sprintf(`{"i": %d}`, i))
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	cmd.Env = gitEnv(t.TempDir())
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
}

func gitOut(dir string, args ...string) string {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = gitEnv(os.TempDir())
	out, _ := cmd.Output()
	return string(out)
}

// write commits files (an empty value deletes) and fails the test on error.
func write(t testing.TB, s state.Store, base string, scopes []string, files map[string]string) string {
	t.Helper()
	sha, err := tryWrite(s, base, scopes, files)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func tryWrite(s state.Store, base string, scopes []string, files map[string]string) (string, error) {
	var changes []state.Change
	for p, d := range files {
		if d == "" {
			changes = append(changes, state.Change{Path: p, Delete: true})
		} else {
			changes = append(changes, state.Change{Path: p, Data: []byte(d)})
		}
	}
	return s.Commit(context.Background(), state.Write{
		Base: base, Changes: changes, Scopes: scopes, Message: "test write",
		Author: state.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)},
	})
}

func snap(t testing.TB, s state.Store) state.Snapshot {
	t.Helper()
	sn, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func read(t testing.TB, sn state.Snapshot, p string) string {
	t.Helper()
	b, err := sn.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func mustOpen(t testing.TB, loc string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), loc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
