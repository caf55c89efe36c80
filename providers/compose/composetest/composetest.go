// Package composetest is a stub docker CLI for tests of the compose
// provider and of the launchplane CLI. It answers the docker and docker
// compose commands the provider runs, keeps its whole state in files of
// one directory, so separate processes see the same engine, and records
// every call.
//
// Two ways to install it:
//
//   - In Go tests: Install(t, dir) writes an executable script dir/docker
//     that re-executes the test binary as the stub; the test binary's
//     TestMain must call MainIfStub first. Point the provider at it with
//     the "docker" config field, or prepend dir to PATH.
//   - In testscript tests: register Main as the command "docker"
//     (testscript.Main(m, map[string]func(){"docker": composetest.Main}))
//     and set COMPOSETEST_DIR to the stub directory in Setup. Under -race
//     also set GORACE=atexit_sleep_ms=0, or every call takes a second more.
//
// The stub directory (COMPOSETEST_DIR) holds:
//
//	argv.log       one line per call: "docker ARGS…" (argv only, never the environment)
//	engine-up      present: the engine answers; content, if any: only with that DOCKER_HOST
//	fail-OP        the next call of OP fails: the content goes to stderr, exit 1
//	               (up first replaces the container, left running unhealthy,
//	               as a real up --wait does when the new container never
//	               turns healthy);
//	               a first line "exit N" sets the exit code
//	hang-OP        the next call of OP blocks until terminated (see Stub.Hang)
//	ps-array       present: compose ps prints one JSON array (Compose before 2.21)
//	state.json     the engine's projects (what was last up-ed) and running jobs
//
// OP is version, inspect, docker-ps (`docker ps`) or a compose subcommand:
// up, ps, down, run. Without engine-up every call fails as docker does
// when no daemon answers.
package composetest

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/launchplane/launchplane/providers/providertest"
)

// Stub is a stub docker's directory.
type Stub struct {
	// Dir is the stub directory (COMPOSETEST_DIR).
	Dir string
	// Path is the executable Install wrote, dir/docker; "" for Open.
	Path string
}

// Open returns the stub whose directory is dir, for tests that run the
// stub through testscript's command rather than Install.
func Open(dir string) *Stub { return &Stub{Dir: dir} }

// Install writes dir/docker, a script that runs this test binary as the
// stub with state in dir, and returns the stub. The engine starts down:
// call SetEngine to bring it up. The test binary's TestMain must call
// MainIfStub.
func Install(t testing.TB, dir string) *Stub {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("composetest: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("composetest: %v", err)
	}
	// A race-enabled binary sleeps GORACE's atexit_sleep_ms (1s by
	// default) before it exits: the stub does not need to.
	script := "#!/bin/sh\n" + DirEnv + "=" + shellQuote(dir) + " " + execEnv + "=1 " +
		`GORACE="${GORACE:+$GORACE }atexit_sleep_ms=0" exec ` + shellQuote(exe) + ` "$@"` + "\n"
	path := filepath.Join(dir, "docker")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatalf("composetest: %v", err)
	}
	return &Stub{Dir: dir, Path: path}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (s *Stub) path(name string) string { return filepath.Join(s.Dir, name) }

func (s *Stub) write(t testing.TB, name, content string) {
	t.Helper()
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatalf("composetest: %v", err)
	}
	if err := os.WriteFile(s.path(name), []byte(content), 0o644); err != nil {
		t.Fatalf("composetest: %v", err)
	}
}

func (s *Stub) remove(t testing.TB, name string) {
	t.Helper()
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("composetest: %v", err)
	}
}

// SetEngine brings the stub engine up or down.
func (s *Stub) SetEngine(t testing.TB, up bool) {
	t.Helper()
	if up {
		s.write(t, fileEngine, "")
	} else {
		s.remove(t, fileEngine)
	}
}

// RequireDockerHost brings the engine up for calls made with
// DOCKER_HOST=host only.
func (s *Stub) RequireDockerHost(t testing.TB, host string) {
	t.Helper()
	s.write(t, fileEngine, host+"\n")
}

// PSArray makes compose ps print one JSON array, as Compose did before
// 2.21, instead of one object per line.
func (s *Stub) PSArray(t testing.TB, on bool) {
	t.Helper()
	if on {
		s.write(t, filePSArray, "")
	} else {
		s.remove(t, filePSArray)
	}
}

// Fail makes the next call of op (version, inspect, docker-ps, up, ps,
// down, run) print message on stderr and exit 1.
func (s *Stub) Fail(t testing.TB, op, message string) {
	t.Helper()
	s.write(t, "fail-"+op, message+"\n")
}

// FailExit is Fail with exit code code.
func (s *Stub) FailExit(t testing.TB, op string, code int, message string) {
	t.Helper()
	s.write(t, "fail-"+op, "exit "+strconv.Itoa(code)+"\n"+message+"\n")
}

// Hang makes the next call of op block until it is terminated (SIGTERM
// or SIGINT). The returned channel is closed once that call is blocked,
// so a test can cancel its context at that moment without sleeping.
func (s *Stub) Hang(t testing.TB, op string) <-chan struct{} {
	t.Helper()
	fifo := s.path(fileHungFIFO)
	s.remove(t, fileHungFIFO)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("composetest: %v", err)
	}
	// Opened read-write so the open does not wait for the writer.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("composetest: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	s.write(t, "hang-"+op, "")
	hung := make(chan struct{})
	go func() {
		buf := make([]byte, 64)
		if _, err := f.Read(buf); err == nil {
			close(hung)
		}
	}()
	return hung
}

// SetRunningJobs sets the one-off containers `docker ps` lists.
func (s *Stub) SetRunningJobs(t testing.TB, jobs ...RunningJob) {
	t.Helper()
	st := s.State(t)
	st.RunningJobs = jobs
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	s.write(t, fileState, string(raw)+"\n")
}

// Calls returns the recorded calls, one "docker ARGS…" line each.
func (s *Stub) Calls(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile(s.path(fileArgv))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("composetest: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// ResetCalls empties the call log.
func (s *Stub) ResetCalls(t testing.TB) {
	t.Helper()
	s.remove(t, fileArgv)
}

// State returns the engine's state.
func (s *Stub) State(t testing.TB) State {
	t.Helper()
	st := State{Projects: map[string]*Project{}}
	raw, err := os.ReadFile(s.path(fileState))
	if errors.Is(err, fs.ErrNotExist) {
		return st
	}
	if err != nil {
		t.Fatalf("composetest: %v", err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("composetest: %s: %v", fileState, err)
	}
	if st.Projects == nil {
		st.Projects = map[string]*Project{}
	}
	return st
}

// Backend is the stub as the conformance suites' backend: a failed
// observe is a failed compose ps, deploy compose up, destroy compose
// down, job compose run.
func (s *Stub) Backend() providertest.Backend { return backend{s} }

type backend struct{ s *Stub }

var ops = map[providertest.Op]string{
	providertest.OpObserve: "ps",
	providertest.OpDeploy:  "up",
	providertest.OpDestroy: "down",
	providertest.OpRunJob:  "run",
}

func (b backend) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	o, ok := ops[op]
	if !ok {
		t.Fatalf("composetest: the compose provider has no operation %s", op)
	}
	b.s.Fail(t, o, message)
}
