// Package caddytest starts a real Caddy for tests: the caddy provider's own
// tests and the CLI's end-to-end scripts. Each instance gets free loopback
// ports, a private directory for Caddy's data and a JSON config with an
// admin endpoint and one plain-HTTP server whose only route is a catch-all
// answering 404 with CatchAllBody.
//
// Start ties an instance to a test (skipped when caddy is not installed,
// unless the CI environment variable is set); Launch is the same without
// a testing.TB, for testscript commands, and returns an instance whose
// Stop must be called.
package caddytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers/internal/testproc"
)

// Server is the name of the HTTP server the config defines under
// apps.http.servers (Caddy's own default name).
const Server = "srv0"

// CatchAllBody is what the catch-all route answers, with status 404.
const CatchAllBody = "caddytest: no route\n"

// ErrNotInstalled is wrapped by Launch when no caddy binary is found.
var ErrNotInstalled = errors.New("caddy is not installed")

// Options tune Launch. The zero value is the usual setup.
type Options struct {
	// Binary is the caddy executable; "" looks up $CADDY, then "caddy" in
	// PATH.
	Binary string
	// Dir holds the config, Caddy's data and its log; "" makes a
	// temporary directory that Stop removes.
	Dir string
	// NoServer leaves the HTTP server out: apps.http has no servers, and
	// its http_port is HTTPAddr's port, so a server a test creates that
	// listens on HTTPAddr serves plain HTTP (Caddy applies no automatic
	// HTTPS to a server listening only on the HTTP port).
	NoServer bool
	// ReadyTimeout bounds the wait for Caddy to answer (default 30s).
	ReadyTimeout time.Duration
}

// Caddy is a running caddy process.
type Caddy struct {
	// AdminURL is the admin API, http://127.0.0.1:<port>.
	AdminURL string
	// HTTPAddr is the HTTP server's listen address, 127.0.0.1:<port>.
	HTTPAddr string
	// Server is the HTTP server's name under apps.http.servers.
	Server string
	// Dir holds config.json, caddy.log and Caddy's data.
	Dir string

	proc    *testproc.Proc
	tempDir bool
	once    sync.Once
	stopErr error
}

// Required reports whether a missing caddy must fail tests rather than
// skip them: it does under CI (the CI environment variable is set).
func Required() bool { return os.Getenv("CI") != "" }

// Binary finds the caddy executable: $CADDY when set, else "caddy" in
// PATH. A missing binary is an error wrapping ErrNotInstalled.
func Binary() (string, error) {
	name := "caddy"
	if env := os.Getenv("CADDY"); env != "" {
		name = env
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	return p, nil
}

// Start launches a Caddy for t and stops it when t's cleanup runs. Without
// a caddy binary t is skipped, or failed when Required.
func Start(t testing.TB) *Caddy {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options. A Dir left empty is a t.TempDir().
func StartWith(t testing.TB, opts Options) *Caddy {
	t.Helper()
	if opts.Binary == "" {
		bin, err := Binary()
		if err != nil {
			if Required() {
				t.Fatalf("caddytest: %v (CI is set: install caddy, e.g. apt-get install -y caddy)", err)
			}
			t.Skipf("caddytest: %v: skipping (install caddy, e.g. apt-get install -y caddy, to run this test)", err)
		}
		opts.Binary = bin
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c, err := Launch(context.Background(), opts)
	if err != nil {
		t.Fatalf("caddytest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("caddytest: %v", err)
		}
	})
	return c
}

// Launch starts caddy and waits until its admin API and HTTP server
// answer. ctx bounds the start only, not the process's life: call Stop
// when done. Ports are picked free on 127.0.0.1; a start that loses a
// port to another process is tried again with new ports.
func Launch(ctx context.Context, opts Options) (*Caddy, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = Binary(); err != nil {
			return nil, err
		}
	}
	dir, temp := opts.Dir, false
	if dir == "" {
		d, err := os.MkdirTemp("", "caddytest-")
		if err != nil {
			return nil, fmt.Errorf("start caddy: %w", err)
		}
		dir, temp = d, true
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		c, err := launch(ctx, bin, dir, opts)
		if err == nil {
			c.tempDir = temp
			return c, nil
		}
		lastErr = err
		if ctx.Err() != nil || !errors.Is(err, errExited) {
			break
		}
	}
	if temp {
		_ = os.RemoveAll(dir)
	}
	return nil, lastErr
}

// errExited marks a caddy that exited before it was ready (a port taken
// between picking it and Caddy binding it, among others).
var errExited = errors.New("caddy exited before it was ready")

func launch(ctx context.Context, bin, dir string, opts Options) (*Caddy, error) {
	ports, err := testproc.FreePorts(2)
	if err != nil {
		return nil, fmt.Errorf("start caddy: %w", err)
	}
	c := &Caddy{
		AdminURL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		Server:   Server,
		Dir:      dir,
	}
	cfg := Config(ports[0], ports[1], filepath.Join(dir, "data"))
	if opts.NoServer {
		cfg["apps"] = map[string]any{"http": map[string]any{"http_port": ports[1]}}
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("start caddy: %w", err)
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return nil, fmt.Errorf("start caddy: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(dir, "caddy.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start caddy: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor

	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Caddy writes its data and autosave under HOME and XDG dirs: keep
	// them in dir, away from the user's.
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"XDG_DATA_HOME="+filepath.Join(dir, "xdg-data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"),
	)
	cmd.SysProcAttr = sysProcAttr()
	if c.proc, err = testproc.Start(cmd); err != nil {
		return nil, fmt.Errorf("start caddy: %w", err)
	}
	if err := c.waitReady(ctx, opts.ReadyTimeout, !opts.NoServer); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("start caddy: %w; log:\n%s", err, c.LogTail(4096))
	}
	return c, nil
}

// Config is the JSON config caddytest runs: admin on 127.0.0.1:adminPort
// (not persisted), and server Server on 127.0.0.1:httpPort with automatic
// HTTPS off and a catch-all 404 route. Exported so scripts can write the
// same config for a caddy they start themselves.
func Config(adminPort, httpPort int, storageDir string) map[string]any {
	return map[string]any{
		"admin": map[string]any{
			"listen": fmt.Sprintf("127.0.0.1:%d", adminPort),
			"config": map[string]any{"persist": false},
		},
		"storage": map[string]any{"module": "file_system", "root": storageDir},
		"apps": map[string]any{
			"http": map[string]any{
				"servers": map[string]any{
					Server: map[string]any{
						"listen":          []string{fmt.Sprintf("127.0.0.1:%d", httpPort)},
						"automatic_https": map[string]any{"disable": true},
						"routes": []any{
							map[string]any{
								"handle": []any{map[string]any{
									"handler":     "static_response",
									"status_code": 404,
									"body":        CatchAllBody,
								}},
							},
						},
					},
				},
			},
		},
	}
}

// waitReady polls the admin API (and the HTTP server when there is one)
// until both answer, the process exits, ctx ends or timeout passes.
func (c *Caddy) waitReady(ctx context.Context, timeout time.Duration, httpServer bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	probe := func(url string) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return true
	}
	err := testproc.Poll(ctx, c.proc.Done(), 25*time.Millisecond, func() bool {
		return probe(c.AdminURL+"/config/") && (!httpServer || probe("http://"+c.HTTPAddr+"/"))
	})
	switch {
	case errors.Is(err, testproc.ErrExited):
		return fmt.Errorf("%w: %v", errExited, c.proc.Err())
	case err != nil:
		return fmt.Errorf("caddy did not answer on %s: %w", c.AdminURL, err)
	}
	return nil
}

// Stop ends caddy: an interrupt, then a kill if it has not exited within
// 10 seconds. It removes a temporary Dir. Stop may be called more than
// once; it returns the first call's result.
func (c *Caddy) Stop() error {
	c.once.Do(func() {
		c.stopErr = c.stop()
		if c.tempDir {
			if err := os.RemoveAll(c.Dir); err != nil && c.stopErr == nil {
				c.stopErr = fmt.Errorf("stop caddy: %w", err)
			}
		}
	})
	return c.stopErr
}

func (c *Caddy) stop() error {
	if err := c.proc.Stop(os.Interrupt, 10*time.Second); err != nil {
		return fmt.Errorf("stop caddy (pid %d): %w", c.proc.Pid(), err)
	}
	return nil
}

// Pid is the caddy process id.
func (c *Caddy) Pid() int { return c.proc.Pid() }

// LogTail returns the last n bytes of Caddy's log, for failure messages.
func (c *Caddy) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(c.Dir, "caddy.log"))
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimRight(string(b), "\n")
}

// Get requests path (e.g. "/") from the HTTP server with the given Host
// header, on a new connection, and returns the status and body.
func (c *Caddy) Get(ctx context.Context, host, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.HTTPAddr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := freshClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, string(b), nil
}

// freshClient opens a connection per request: a kept-alive connection
// may still lead to a server an older config started.
var freshClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// Await requests path with the given Host until the answer has status
// and body, and returns an error describing the last answer when ctx
// ends first (a 10s deadline is added when ctx has none).
//
// A config change through the admin API returns once the new config
// runs, but Caddy stops the old config's servers in the background
// (it waits for their shutdown only when exiting), so a request sent
// right after a change may still be served by the old routes. Await is
// how a test checks the outcome of a change.
func (c *Caddy) Await(ctx context.Context, host, path string, status int, body string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		gotStatus, gotBody, err := c.Get(ctx, host, path)
		if err == nil && gotStatus == status && gotBody == body {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%d %q", gotStatus, gotBody)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("request to host %s%s: last answer %s, want %d %q: %w", host, path, last, status, body, ctx.Err())
		case <-tick.C:
		}
	}
}

// sysProcAttr asks the kernel to kill caddy if the test process dies
// without running its cleanups (Linux only; elsewhere nil).
var sysProcAttr = func() *syscall.SysProcAttr { return nil }
