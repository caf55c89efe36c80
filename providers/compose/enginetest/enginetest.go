// Package enginetest runs a real docker stack for tests: a docker engine
// (Debian's dockerd, storage driver vfs, no iptables, its own data and
// exec roots under a private directory), the docker compose v2 CLI
// plugin, a registry (Debian's docker-registry) on a free loopback port,
// and test images FROM scratch pushed to it, so every image has a real
// repo@sha256 digest that compose pulls. Caddy (Debian's binary, in an
// image of its own) runs as a container on the stack's network, as in
// examples/compose-caddy.
//
// Shared starts the stack once per test binary; the binary's TestMain
// calls StopShared after the tests. A machine without docker, dockerd,
// docker-registry, the compose plugin or root skips the tests, unless
// the CI environment variable is set: then they fail (.ci/run installs
// everything).
package enginetest

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
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers/internal/testproc"
)

// Network is the external docker network the stack creates: apps and
// Caddy containers join it, and Caddy dials an app by its alias there.
const Network = "edge"

// CatchAllBody is what a Caddy's catch-all route answers, with 404.
const CatchAllBody = "enginetest: no route\n"

// Repo is the repository every test image is pushed to, under the
// registry's address: one product's images differ by digest only.
const Repo = "launchplane-test/app"

// Image names in Stack.Images (and their tags in Repo).
const (
	Healthy   = "healthy"   // answers "hello from healthy v1"; HEALTHCHECK passes
	Healthy2  = "healthy2"  // the same app, version v2: another digest
	Unhealthy = "unhealthy" // /healthz answers 503: never turns healthy
	Slow      = "slow"      // listens only after 4s, then healthy
	Exits     = "exits"     // exits with status 3 at once
	Recorder  = "recorder"  // healthy; as a job it prints its arguments
)

// ErrMissing is wrapped when the machine cannot run the stack.
var ErrMissing = errors.New("docker stack unavailable")

// Stack is a running engine and registry with the test images pushed.
type Stack struct {
	// Dir holds the engine's roots, the registry's storage and logs.
	Dir string
	// Host is the engine's DOCKER_HOST, unix://Dir/docker.sock.
	Host string
	// DockerConfig is a DOCKER_CONFIG dir whose cli-plugins holds the
	// compose plugin, so docker finds it whatever HOME says.
	DockerConfig string
	// Registry is the registry's address, 127.0.0.1:PORT.
	Registry string
	// Images maps each image name above to its pushed repo@sha256 ref.
	Images map[string]string
	// CaddyImage is the local image running Debian's caddy.
	CaddyImage string

	dockerd  *testproc.Proc
	registry *testproc.Proc
	once     sync.Once
	stopErr  error
}

// Required reports whether a missing stack must fail tests rather than
// skip them: it does under CI.
func Required() bool { return os.Getenv("CI") != "" }

var (
	sharedOnce  sync.Once
	shared      *Stack
	sharedErr   error
	sharedMu    sync.Mutex
	sharedStart = 5 * time.Minute
)

// SharedStack starts the stack on first use and returns it; later calls
// return the same stack (or the same error).
func SharedStack() (*Stack, error) {
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sharedStart)
		defer cancel()
		s, err := Launch(ctx)
		sharedMu.Lock()
		shared, sharedErr = s, err
		sharedMu.Unlock()
	})
	return shared, sharedErr
}

// Shared is SharedStack for a test: without what the stack needs the
// test is skipped, or failed under CI.
func Shared(t testing.TB) *Stack {
	t.Helper()
	s, err := SharedStack()
	if errors.Is(err, ErrMissing) && !Required() {
		t.Skipf("enginetest: %v: skipping (see .ci/run for the install steps)", err)
	}
	if err != nil {
		t.Fatalf("enginetest: %v", err)
	}
	return s
}

// StopShared stops the shared stack, if one was started. Call it from
// TestMain after the tests.
func StopShared() error {
	sharedMu.Lock()
	s := shared
	sharedMu.Unlock()
	if s == nil {
		return nil
	}
	return s.Stop()
}

// Check says what this machine lacks to run the stack, nil when nothing.
func Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: dockerd needs root", ErrMissing)
	}
	for _, bin := range []string{"dockerd", "docker", "docker-registry", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w: %s is not installed", ErrMissing, bin)
		}
	}
	if _, err := composePlugin(); err != nil {
		return err
	}
	if _, err := exec.LookPath("caddy"); err != nil {
		return fmt.Errorf("%w: caddy is not installed", ErrMissing)
	}
	return nil
}

// composePlugin finds the docker compose CLI plugin where docker looks.
func composePlugin() (string, error) {
	var dirs []string
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		dirs = append(dirs, filepath.Join(d, "cli-plugins"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".docker", "cli-plugins"))
	}
	dirs = append(dirs, "/root/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
		"/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")
	for _, d := range dirs {
		p := filepath.Join(d, "docker-compose")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no docker compose CLI plugin in %s", ErrMissing, strings.Join(dirs, ", "))
}

// Launch starts the stack. ctx bounds the start only: call Stop when
// done.
func Launch(ctx context.Context) (s *Stack, err error) {
	if err := Check(); err != nil {
		return nil, err
	}
	plugin, _ := composePlugin()
	// A short path: the engine's unix sockets live under it.
	dir, err := os.MkdirTemp("", "lpe-")
	if err != nil {
		return nil, err
	}
	s = &Stack{Dir: dir, Host: "unix://" + filepath.Join(dir, "docker.sock"), DockerConfig: filepath.Join(dir, "docker-config")}
	defer func() {
		if err != nil {
			err = fmt.Errorf("start the docker stack: %w%s", err, s.logs())
			_ = s.Stop()
			s = nil
		}
	}()
	if err := os.MkdirAll(filepath.Join(s.DockerConfig, "cli-plugins"), 0o755); err != nil {
		return s, err
	}
	if err := os.Symlink(plugin, filepath.Join(s.DockerConfig, "cli-plugins", "docker-compose")); err != nil {
		return s, err
	}
	if err := s.startEngine(ctx); err != nil {
		return s, err
	}
	if err := s.startRegistry(ctx); err != nil {
		return s, err
	}
	if _, err := s.Docker(ctx, "network", "create", Network); err != nil {
		return s, err
	}
	if err := s.buildImages(ctx); err != nil {
		return s, err
	}
	if err := s.buildCaddyImage(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// Env is the environment docker needs to reach the stack.
func (s *Stack) Env() []string {
	return []string{"DOCKER_HOST=" + s.Host, "DOCKER_CONFIG=" + s.DockerConfig, "DOCKER_BUILDKIT=0"}
}

// Docker runs docker against the stack and returns its stdout; an error
// quotes its stderr.
func (s *Stack) Docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), s.Env()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (s *Stack) logf(name string) (*os.File, error) {
	return os.OpenFile(filepath.Join(s.Dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

func (s *Stack) startEngine(ctx context.Context) error {
	logf, err := s.logf("dockerd.log")
	if err != nil {
		return err
	}
	defer logf.Close()
	// --bridge=none: no default docker0 bridge, which another engine on
	// the machine may own; compose's networks are user-defined bridges,
	// taken from a pool of its own (256 /24s) rather than the 31 default
	// ones a developer's own engine uses too.
	cmd := exec.Command("dockerd", "--storage-driver=vfs", "--iptables=false", "--bridge=none",
		"--default-address-pool", "base=10.213.0.0/16,size=24",
		"--data-root", filepath.Join(s.Dir, "data"), "--exec-root", filepath.Join(s.Dir, "exec"),
		"--pidfile", filepath.Join(s.Dir, "docker.pid"), "-H", s.Host)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The engine stops its containers when the test process dies
	// without calling Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if s.dockerd, err = testproc.Start(cmd); err != nil {
		return err
	}
	return poll(ctx, s.dockerd.Done(), "the docker engine", func(ctx context.Context) bool {
		out, err := s.Docker(ctx, "version", "--format", "{{.Server.Version}}")
		return err == nil && strings.TrimSpace(out) != ""
	})
}

func (s *Stack) startRegistry(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Registry = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(s.Dir, "registry"), s.Registry)
	cfgPath := filepath.Join(s.Dir, "registry.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	logf, err := s.logf("registry.log")
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("docker-registry", "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if s.registry, err = testproc.Start(cmd); err != nil {
		return err
	}
	return poll(ctx, s.registry.Done(), "the registry", func(ctx context.Context) bool {
		code, _, err := get(ctx, "http://"+s.Registry+"/v2/", "")
		return err == nil && code == http.StatusOK
	})
}

// poll calls ready (each call bounded to 5s) until it is true, the
// process exits (done closed) or ctx ends.
func poll(ctx context.Context, done <-chan struct{}, what string, ready func(context.Context) bool) error {
	err := testproc.Poll(ctx, done, 100*time.Millisecond, func() bool {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return ready(pctx)
	})
	switch {
	case errors.Is(err, testproc.ErrExited):
		return fmt.Errorf("%s exited", what)
	case err != nil:
		return fmt.Errorf("%s did not answer: %w", what, err)
	}
	return nil
}

// images are the test images: the Dockerfile lines after COPY.
var images = map[string]string{
	Healthy:   "ENV APP_NAME=healthy APP_VERSION=v1\n" + healthcheck(1),
	Healthy2:  "ENV APP_NAME=healthy APP_VERSION=v2\n" + healthcheck(1),
	Unhealthy: "ENV APP_NAME=unhealthy APP_VERSION=v1 APP_MODE=unhealthy\n" + healthcheck(1),
	Slow:      "ENV APP_NAME=slow APP_VERSION=v1 APP_MODE=slow APP_DELAY=4s\n" + healthcheck(60),
	Exits:     "ENV APP_NAME=exits APP_VERSION=v1 APP_MODE=exit\n",
	Recorder:  "ENV APP_NAME=recorder APP_VERSION=v1\n" + healthcheck(1),
}

// healthcheck asks /healthz every half second; failures in the first
// startSeconds do not count.
func healthcheck(startSeconds int) string {
	return fmt.Sprintf("HEALTHCHECK --interval=500ms --timeout=2s --start-period=%ds --retries=3 CMD [\"/app\", \"health\"]\n", startSeconds)
}

// buildImages builds testapp, one image per entry of images, pushes
// each to the registry and removes it locally, so compose pulls it.
func (s *Stack) buildImages(ctx context.Context) error {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("cannot find the testapp source")
	}
	ctxDir := filepath.Join(s.Dir, "build")
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		return err
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "app"), ".")
	build.Dir = filepath.Join(filepath.Dir(self), "testapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build testapp: %v: %s", err, out)
	}
	names := make([]string, 0, len(images))
	for n := range images {
		names = append(names, n)
	}
	sort.Strings(names)
	s.Images = map[string]string{}
	for _, n := range names {
		df := "FROM scratch\nCOPY app /app\n" + images[n] + "ENTRYPOINT [\"/app\"]\n"
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
			return err
		}
		tag := s.Registry + "/" + Repo + ":" + n
		if _, err := s.Docker(ctx, "build", "-q", "-t", tag, ctxDir); err != nil {
			return err
		}
		if _, err := s.Docker(ctx, "push", "-q", tag); err != nil {
			return err
		}
		out, err := s.Docker(ctx, "image", "inspect", "--format", "{{json .RepoDigests}}", tag)
		if err != nil {
			return err
		}
		var digests []string
		if err := json.Unmarshal([]byte(out), &digests); err != nil || len(digests) != 1 {
			return fmt.Errorf("image %s: repo digests %s", tag, out)
		}
		s.Images[n] = digests[0]
		if _, err := s.Docker(ctx, "image", "rm", tag); err != nil {
			return err
		}
	}
	return nil
}

// buildCaddyImage puts Debian's caddy binary and the libraries it links
// into an image FROM scratch.
func (s *Stack) buildCaddyImage(ctx context.Context) error {
	bin, err := exec.LookPath("caddy")
	if err != nil {
		return err
	}
	bin, err = filepath.EvalSymlinks(bin)
	if err != nil {
		return err
	}
	root := filepath.Join(s.Dir, "caddy-image")
	files := []string{bin}
	out, err := exec.CommandContext(ctx, "ldd", bin).Output()
	if err == nil { // a static binary has nothing to copy
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
				files = append(files, f[2])
			case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
				files = append(files, f[0])
			}
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, "rootfs", f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, raw, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, "rootfs", "caddy.json"), caddyConfig, 0o644); err != nil {
		return err
	}
	df := "FROM scratch\nCOPY rootfs/ /\nENV HOME=/data XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config\n" +
		"ENTRYPOINT [\"" + bin + "\", \"run\", \"--config\", \"/caddy.json\"]\n"
	if err := os.WriteFile(filepath.Join(root, "Dockerfile"), []byte(df), 0o644); err != nil {
		return err
	}
	s.CaddyImage = "launchplane-test/caddy:local"
	_, err = s.Docker(ctx, "build", "-q", "-t", s.CaddyImage, root)
	return err
}

// Caddy is a caddy container on Network.
type Caddy struct {
	// Name is the container's name.
	Name string
	// AdminURL is its admin API, published on http://127.0.0.1:PORT.
	AdminURL string
	// HTTPAddr is its HTTP server srv0, published on 127.0.0.1:PORT.
	HTTPAddr string
}

// StartCaddy runs a caddy container named name on Network, with its admin
// API and a plain-HTTP server "srv0" (catch-all: 404 CatchAllBody)
// published on free loopback ports.
func (s *Stack) StartCaddy(ctx context.Context, name string) (*Caddy, error) {
	ports := make([]int, 2)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	c := &Caddy{Name: name, AdminURL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), HTTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[1])}
	if _, err := s.Docker(ctx, "run", "-d", "--name", name, "--network", Network,
		"-p", fmt.Sprintf("127.0.0.1:%d:2019", ports[0]), "-p", fmt.Sprintf("127.0.0.1:%d:80", ports[1]), s.CaddyImage); err != nil {
		return nil, err
	}
	err := poll(ctx, nil, "caddy "+name, func(ctx context.Context) bool {
		code, body, err := get(ctx, "http://"+c.HTTPAddr+"/", "")
		return err == nil && code == http.StatusNotFound && body == CatchAllBody
	})
	if err != nil {
		logs, _ := s.Docker(context.Background(), "logs", "--tail", "30", name)
		_, _ = s.Docker(context.Background(), "rm", "-f", name)
		return nil, fmt.Errorf("caddy %s: %w; logs:\n%s", name, err, logs)
	}
	return c, nil
}

// caddyConfig is every caddy container's config: the admin API on all
// of the container's interfaces (published on loopback only), and a
// plain-HTTP server srv0 whose only route is the catch-all.
var caddyConfig = []byte(`{
  "admin": {"listen": "0.0.0.0:2019", "config": {"persist": false}},
  "apps": {"http": {"servers": {"srv0": {
    "listen": [":80"],
    "automatic_https": {"disable": true},
    "routes": [{"handle": [{"handler": "static_response", "status_code": 404, "body": "enginetest: no route\n"}]}]
  }}}}
}`)

// StopCaddy removes a caddy container.
func (s *Stack) StopCaddy(name string) error {
	_, err := s.Docker(context.Background(), "rm", "-f", name)
	return err
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

// get requests url with an optional Host header.
func get(ctx context.Context, url, host string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Stop removes every container, stops the engine and the registry, and
// removes Dir. It may be called more than once.
func (s *Stack) Stop() error {
	s.once.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Stack) stop() error {
	var errs []error
	if s.dockerd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if ids, err := s.Docker(ctx, "ps", "-aq"); err == nil && strings.TrimSpace(ids) != "" {
			if _, err := s.Docker(ctx, append([]string{"rm", "-f"}, strings.Fields(ids)...)...); err != nil {
				errs = append(errs, err)
			}
		}
		// A stopped engine leaves its networks' bridges in the host's
		// network namespace, and each holds an address range: removing
		// the networks removes them.
		if ids, err := s.Docker(ctx, "network", "ls", "-q", "--filter", "type=custom"); err == nil && strings.TrimSpace(ids) != "" {
			if _, err := s.Docker(ctx, append([]string{"network", "rm"}, strings.Fields(ids)...)...); err != nil {
				errs = append(errs, err)
			}
		}
		cancel()
		errs = append(errs, terminate(s.dockerd, 30*time.Second))
	}
	if s.registry != nil {
		errs = append(errs, terminate(s.registry, 10*time.Second))
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// terminate sends SIGTERM, then SIGKILL after grace, and waits.
func terminate(p *testproc.Proc, grace time.Duration) error {
	if err := p.Stop(syscall.SIGTERM, grace); err != nil {
		return fmt.Errorf("kill %s (pid %d): %w", p.Cmd.Path, p.Pid(), err)
	}
	return nil
}

// logs is the tail of the engine's and the registry's logs, for errors.
func (s *Stack) logs() string {
	var b strings.Builder
	for _, n := range []string{"dockerd.log", "registry.log"} {
		raw, err := os.ReadFile(filepath.Join(s.Dir, n))
		if err != nil || len(raw) == 0 {
			continue
		}
		if len(raw) > 2048 {
			raw = raw[len(raw)-2048:]
		}
		fmt.Fprintf(&b, "\n--- %s (tail)\n%s", n, raw)
	}
	return b.String()
}

func freePort() (int, error) {
	ports, err := testproc.FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}
