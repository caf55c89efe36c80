package compose

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

const (
	// captureMax bounds what is kept of a command's output: its tail.
	captureMax = 64 << 10
	// errorTail is how much of stderr an error quotes.
	errorTail = 1 << 10
	// outputTail is how much of a job's output its result keeps.
	outputTail = 4 << 10
	// killDelay is how long a canceled command has, after SIGTERM to its
	// process group, before it is killed.
	killDelay = 5 * time.Second
)

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
	cut bool // something was dropped from the front
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

// tail returns the redacted last n bytes, starting at a line boundary.
// Redaction runs over the whole kept buffer before it is cut, so a cut
// never splits a secret; a line cut by the buffer's own limit is dropped
// for the same reason.
func (t *tailBuffer) tail(p *Provider, n int) string {
	s := p.red.String(string(t.buf))
	if t.cut {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		} else {
			s = ""
		}
	}
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[len(s)-n:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		s = "…" + s
	}
	return s
}

// commandError is a docker command that did not succeed. Its message
// names the command (argv, which never holds an env value) and quotes
// the redacted tail of its stderr.
type commandError struct {
	cmd  string
	code int // exit code, -1 when the command did not exit by itself
	tail string
	err  error
}

func (e *commandError) Error() string {
	var msg string
	if e.code >= 0 {
		msg = fmt.Sprintf("%s: exit code %d", e.cmd, e.code)
	} else {
		msg = fmt.Sprintf("%s: %v", e.cmd, e.err)
	}
	if e.tail != "" {
		msg += ": " + e.tail
	}
	return msg
}

func (e *commandError) Unwrap() error { return e.err }

// invocation is one docker command.
type invocation struct {
	args []string
	// drop lists env keys removed from the inherited environment, so the
	// runner's own variables cannot stand in for the app's.
	drop map[string]bool
	// add is set in the command's environment: job env values, which
	// never go on the command line.
	add map[string]string
	// combined sends stdout to the stderr capture too (job output).
	combined bool
}

// result is what a docker command printed.
type result struct {
	stdout []byte // whole, for the JSON answers of ps and inspect
	stderr *tailBuffer
}

// run runs docker with inv. A canceled ctx yields an error wrapping
// ctx.Err(); a command that exits non-zero a *commandError.
func (p *Provider) run(ctx context.Context, inv invocation) (result, error) {
	res := result{stderr: &tailBuffer{max: captureMax}}
	name := "docker " + strings.Join(inv.args, " ")
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, p.docker, inv.args...)
	cmd.Env = p.environ(inv.drop, inv.add)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = res.stderr
	if inv.combined {
		cmd.Stdout = res.stderr
	}
	// docker runs compose as a child process: a canceled command gets
	// SIGTERM on its whole process group, and is killed killDelay later.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = killDelay
	err := cmd.Run()
	res.stdout = stdout.Bytes()
	if err == nil {
		return res, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return res, fmt.Errorf("%s: %w", name, ctxErr)
	}
	ce := &commandError{cmd: name, code: -1, tail: res.stderr.tail(p, errorTail), err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		ce.code = ee.ExitCode()
	}
	return res, ce // the tail is redacted; callers redact the rest with fail
}

// projectSelectors are the runner's variables that would make docker
// compose load another model than the rendered one: the flags -p and -f
// say which project, alone.
var projectSelectors = map[string]bool{
	"COMPOSE_FILE": true, "COMPOSE_PROJECT_NAME": true, "COMPOSE_PROFILES": true,
	"COMPOSE_ENV_FILES": true, "COMPOSE_PATH_SEPARATOR": true,
}

// environ is the inherited environment without drop's keys, with
// DOCKER_HOST set when configured and add's entries appended (os/exec
// keeps the last of duplicate keys).
func (p *Provider) environ(drop map[string]bool, add map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || projectSelectors[k] || p.dockerHost != "" && k == "DOCKER_HOST" {
			continue
		}
		env = append(env, kv)
	}
	if p.dockerHost != "" {
		env = append(env, "DOCKER_HOST="+p.dockerHost)
	}
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+add[k])
	}
	return env
}

// composeArgs is "compose -p NAME [-f FILE] ARGS…".
func composeArgs(name, file string, args ...string) []string {
	out := []string{"compose", "-p", name}
	if file != "" {
		out = append(out, "-f", file)
	}
	return append(out, args...)
}

// psEntry is one line of `docker compose ps --format json`, and of
// `docker ps --format json`.
type psEntry struct {
	ID      string `json:"ID"`
	Name    string `json:"Name"`
	Names   string `json:"Names"`
	Service string `json:"Service"`
	State   string `json:"State"`
	Labels  string `json:"Labels"`
}

// parsePS reads ps output: one JSON object per line (NDJSON, Compose
// 2.21 and later), or one JSON array (older releases).
func parsePS(out []byte) ([]psEntry, error) {
	trimmed := bytes.TrimSpace(out)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if trimmed[0] == '[' {
		var list []psEntry
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, fmt.Errorf("ps output: %w", err)
		}
		return list, nil
	}
	var list []psEntry
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e psEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("ps output: %w", err)
		}
		list = append(list, e)
	}
	return list, sc.Err()
}

// labelsOf parses ps's comma-joined "k=v,k=v" Labels column.
func labelsOf(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// container is what docker inspect says of a container.
type container struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Config struct {
		Image  string            `json:"Image"`
		Labels map[string]string `json:"Labels"`
		Env    []string          `json:"Env"`
	} `json:"Config"`
	State struct {
		Status string `json:"Status"`
		Health *struct {
			Status string `json:"Status"`
		} `json:"Health"`
	} `json:"State"`
}

// summarizeUp reduces compose's progress lines (" Container x  Started")
// to the last state of each resource, sorted.
func summarizeUp(out string) []string {
	last := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		switch f[0] {
		case "Container", "Network", "Volume", "Image":
			last[f[0]+" "+f[1]] = strings.Join(f[2:], " ")
		}
	}
	out2 := make([]string, 0, len(last))
	for k, v := range last {
		out2 = append(out2, k+" "+v)
	}
	sort.Strings(out2)
	return out2
}
