package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// probeTimeout bounds the check whether a docker engine answers.
const probeTimeout = 5 * time.Second

// Provider is the compose adapter. It renders one compose project per
// target into <dir>/<name>/ and runs docker compose on it; in mode
// render-only it writes the files only and says so through Limitation.
type Provider struct {
	name        string
	renderOnly  bool   // mode render-only: never runs docker
	dir         string // absolute: projects live in dir/<name>/
	configDir   string
	docker      string
	dockerHost  string
	network     string
	waitTimeout time.Duration
	red         *redact.Redactor

	probeTimeout time.Duration

	mu     sync.Mutex
	probed *probe // the engine check, made once per instance
}

// probe is the outcome of the engine check.
type probe struct {
	ok      bool
	version string // server version, when ok
	reason  string // why no engine answers, when not ok
}

type config struct {
	Dir         string `json:"dir"`
	Mode        string `json:"mode"`
	DockerHost  string `json:"dockerHost"`
	Network     string `json:"network"`
	Docker      string `json:"docker"`
	WaitTimeout string `json:"waitTimeout"`
}

func newProvider(cfg providers.Config) (any, error) {
	var c config
	if err := json.Unmarshal(cfg.Raw, &c); err != nil {
		return nil, err
	}
	if c.Dir == "" {
		return nil, errors.New("compose: dir is required")
	}
	if c.Network != "" && !networkRE.MatchString(c.Network) {
		return nil, fmt.Errorf("compose: invalid network name %q", c.Network)
	}
	switch c.Mode {
	case "", modeDeploy, modeRenderOnly:
	default:
		return nil, fmt.Errorf("compose: invalid mode %q: want %s or %s", c.Mode, modeDeploy, modeRenderOnly)
	}
	p := &Provider{name: cfg.Name, renderOnly: c.Mode == modeRenderOnly, configDir: cfg.ConfigDir, dir: c.Dir, docker: c.Docker, dockerHost: c.DockerHost,
		network: c.Network, red: cfg.Redact(), probeTimeout: probeTimeout}
	if !filepath.IsAbs(p.dir) {
		p.dir = filepath.Join(cfg.ConfigDir, p.dir)
	}
	switch {
	case p.docker == "":
		p.docker = "docker"
	case strings.ContainsRune(p.docker, filepath.Separator) && !filepath.IsAbs(p.docker):
		p.docker = filepath.Join(cfg.ConfigDir, p.docker)
	}
	if c.WaitTimeout != "" {
		d, err := time.ParseDuration(c.WaitTimeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("compose: invalid waitTimeout %q", c.WaitTimeout)
		}
		p.waitTimeout = d
	}
	return p, nil
}

// The provider's modes (the "mode" config field).
const (
	modeDeploy     = "deploy"
	modeRenderOnly = "render-only"
)

// fail is err as the provider's error for op on target, redacted.
func (p *Provider) fail(op, target string, err error) error {
	if err == nil {
		return nil
	}
	return providers.Wrap(p.name, op, target, p.red.Error(err))
}

// projectName is the compose project name of ref: its provider object
// name, else its recorded id (which is the project name), else the name
// derived from the target key.
func projectName(ref providers.AppRef) (string, error) {
	name := ref.Name
	if name == "" {
		name = ref.ID
	}
	if name == "" {
		name = providers.ObjectName(ref.Target)
	}
	return name, validateProjectName(name)
}

func (p *Provider) projectDir(name string) string { return filepath.Join(p.dir, name) }

// relPath names path relative to the config dir when it is inside it,
// for evidence.
func (p *Provider) relPath(path string) string {
	if rel, err := filepath.Rel(p.configDir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(rel)
	}
	return path
}

// engine reports whether a docker engine answers `docker version`,
// asking once per instance. A canceled ctx is an error, not an answer.
func (p *Provider) engine(ctx context.Context) (probe, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probed != nil {
		return *p.probed, nil
	}
	if err := ctx.Err(); err != nil {
		return probe{}, err
	}
	pctx, cancel := context.WithTimeout(ctx, p.probeTimeout)
	defer cancel()
	res, err := p.run(pctx, invocation{args: []string{"version", "--format", "{{.Server.Version}}"}})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return probe{}, ctxErr
	}
	var pr probe
	version := strings.TrimSpace(string(res.stdout))
	var ce *commandError
	switch {
	case err == nil && version != "":
		pr = probe{ok: true, version: version}
	case err == nil:
		pr.reason = "docker version reports no server"
	case errors.Is(err, context.DeadlineExceeded):
		pr.reason = fmt.Sprintf("docker version did not answer within %s", p.probeTimeout)
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		pr.reason = fmt.Sprintf("no docker binary %q", p.docker)
	case errors.As(err, &ce) && ce.tail != "":
		pr.reason = lastLine(ce.tail)
	default:
		pr.reason = p.red.String(err.Error())
	}
	p.probed = &pr
	return pr, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Limitation says that the provider is render-only, as its Provider
// declares: deploys are recorded as rendered and health checks of its
// targets are skipped. In mode deploy it is "", without asking the
// engine: an engine that does not answer fails the operation that needs
// it.
func (p *Provider) Limitation(context.Context) string {
	if !p.renderOnly {
		return ""
	}
	return fmt.Sprintf("compose %s: mode render-only: the files are rendered and nothing runs, health is skipped", p.name)
}

// requireEngine is the engine's probe, or an error saying why no engine
// answers: in mode deploy nothing is done without one.
func (p *Provider) requireEngine(ctx context.Context) (probe, error) {
	eng, err := p.engine(ctx)
	if err != nil {
		return probe{}, err
	}
	if !eng.ok {
		return probe{}, fmt.Errorf("no docker engine answers (%s): nothing was deployed; set mode: render-only on the Provider to only render the files", eng.reason)
	}
	return eng, nil
}

// Observe reports the app. In mode deploy it asks docker compose ps and
// docker inspect for the app's container: its image (the digest
// reference rendered into compose.yaml), labels (idempotency key, secret
// key names) and env (read from the container, so a value changed by
// hand shows; the files are not read); a container that is not running, or
// whose health check does not pass, reports no idempotency key, so the
// deploy that made it is not taken as done. Render-only, the rendered
// files are what was deployed: the app exists when its compose.yaml
// does.
func (p *Provider) Observe(ctx context.Context, ref providers.AppRef) (providers.AppStatus, error) {
	const op = "observe"
	name, err := projectName(ref)
	if err != nil {
		return providers.AppStatus{}, p.fail(op, ref.Target, err)
	}
	if err := ctx.Err(); err != nil {
		return providers.AppStatus{}, p.fail(op, ref.Target, err)
	}
	if p.renderOnly {
		r, err := readRendered(p.projectDir(name))
		if err != nil {
			return providers.AppStatus{}, p.fail(op, ref.Target, fmt.Errorf("project %s: %w", name, err))
		}
		if !r.Exists {
			return providers.AppStatus{}, nil
		}
		return providers.AppStatus{Exists: true, ID: name, Image: r.Image, Env: publicEnv(r.Env, r.SecretKeys),
			SecretKeys: r.SecretKeys, IdempotencyKey: r.IdempotencyKey}, nil
	}
	if _, err := p.requireEngine(ctx); err != nil {
		return providers.AppStatus{}, p.fail(op, ref.Target, err)
	}
	ctr, ok, err := p.appContainer(ctx, name)
	if err != nil {
		return providers.AppStatus{}, p.fail(op, ref.Target, err)
	}
	if !ok {
		return providers.AppStatus{}, nil
	}
	secretKeys := splitKeys(ctr.Config.Labels[labelSecretKeys])
	key := ctr.Config.Labels[labelIdempotencyKey]
	if !ctr.settled() {
		key = ""
	}
	return providers.AppStatus{Exists: true, ID: name, Image: ctr.Config.Image, Env: containerEnv(ctr, secretKeys),
		SecretKeys: secretKeys, IdempotencyKey: key}, nil
}

// settled reports whether the container runs and its health check, if
// it has one, passes: what `docker compose up --wait` waits for.
func (c container) settled() bool {
	if c.State.Status != "running" {
		return false
	}
	return c.State.Health == nil || c.State.Health.Status == "healthy"
}

// containerEnv is the container's env without the secret keys' entries:
// what runs, whatever the files say now (they may have been edited by
// hand, or written by a deploy that was cut short). The image's own
// variables (PATH…) are there too; only the keys Launchplane recorded
// are compared.
func containerEnv(c container, secretKeys []string) map[string]string {
	env := map[string]string{}
	for _, kv := range c.Config.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return publicEnv(env, secretKeys)
}

// appContainer finds the project's app container (stopped ones too) and
// inspects it.
func (p *Provider) appContainer(ctx context.Context, name string) (container, bool, error) {
	res, err := p.run(ctx, invocation{args: composeArgs(name, "", "ps", "-a", "--format", "json")})
	if err != nil {
		return container{}, false, err
	}
	entries, err := parsePS(res.stdout)
	if err != nil {
		return container{}, false, err
	}
	id := ""
	for _, e := range entries {
		if e.Service == service && labelsOf(e.Labels)["com.docker.compose.oneoff"] != "True" {
			id = e.ID
			break
		}
	}
	if id == "" {
		return container{}, false, nil
	}
	res, err = p.run(ctx, invocation{args: []string{"inspect", "--type", "container", id}})
	if err != nil {
		return container{}, false, err
	}
	var list []container
	if err := json.Unmarshal(res.stdout, &list); err != nil {
		return container{}, false, fmt.Errorf("docker inspect %s: %w", id, err)
	}
	if len(list) != 1 {
		return container{}, false, fmt.Errorf("docker inspect %s: %d containers", id, len(list))
	}
	return list[0], true, nil
}

// Deploy renders the app's project, compose.yaml and .env (mode 0600,
// the only place secret values are written), and runs `docker compose up
// -d --wait --remove-orphans`, which returns once the app runs (healthy,
// when the image has a health check). The id is the project name.
//
// In mode deploy an engine that does not answer fails the deploy before
// anything is written. A failed up puts the previous project back: its
// files, and `up --wait` again, so the engine runs what the state
// repository still records; a first deploy that fails is taken down.
// The evidence and the error say which, and whether that worked.
//
// In mode render-only it stops after rendering: the evidence says mode
// "render-only".
func (p *Provider) Deploy(ctx context.Context, app providers.App) (string, providers.DeployFacts, error) {
	const op = "deploy"
	for _, k := range app.SecretKeys {
		p.red.Add(app.Env[k])
	}
	name, err := projectName(app.AppRef)
	if err != nil {
		return "", providers.DeployFacts{}, p.fail(op, app.Target, err)
	}
	s, err := specOf(name, p.network, app)
	if err != nil {
		return "", providers.DeployFacts{}, p.fail(op, app.Target, err)
	}
	if err := ctx.Err(); err != nil {
		return "", providers.DeployFacts{}, p.fail(op, app.Target, err)
	}
	dir := p.projectDir(name)
	file := filepath.Join(dir, composeFile)
	ev := &providers.DeployFacts{Project: name, ComposeFile: p.relPath(file)}
	var eng probe
	if p.renderOnly {
		ev.Mode = modeRenderOnly
	} else {
		if eng, err = p.requireEngine(ctx); err != nil {
			return "", *ev, p.fail(op, app.Target, err)
		}
		ev.Mode = modeDeploy
		ev.Engine = eng.version
	}
	// What to put back if the deploy fails. Files that do not read back
	// (edited by hand) are overwritten all the same, but cannot be put
	// back.
	prev, prevErr := readProject(dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return name, *ev, p.fail(op, app.Target, err)
	}
	if err := writeProject(dir, projectFiles{compose: renderCompose(s), env: renderEnv(app.Env)}); err != nil {
		return name, *ev, p.fail(op, app.Target, err)
	}
	if p.renderOnly {
		return name, *ev, nil
	}
	res, err := p.up(ctx, name, file, keySet(app.Env))
	if err == nil {
		ev.Up = up(summarizeUp(res.stderr.tail(p, captureMax)))
		return name, *ev, nil
	}
	ev.Up = up(summarizeUp(res.stderr.tail(p, captureMax)))
	if ctx.Err() != nil {
		// Interrupted: the next apply observes what runs and reconciles.
		return name, *ev, p.fail(op, app.Target, err)
	}
	if prevErr != nil {
		ev.Restore = &providers.PutBack{Action: "none", Outcome: "skipped", Error: p.red.String(prevErr.Error())}
		return name, *ev, p.fail(op, app.Target, fmt.Errorf("%w; the previous project's files did not read back (%v): nothing was put back", err, prevErr))
	}
	return name, *ev, p.fail(op, app.Target, p.putBack(ctx, name, dir, prev, ev, err))
}

// up runs `docker compose up -d --wait --remove-orphans` on the project,
// without the runner's variables named like the app's env keys.
func (p *Provider) up(ctx context.Context, name, file string, drop map[string]bool) (result, error) {
	args := []string{"up", "-d", "--wait", "--remove-orphans"}
	if p.waitTimeout > 0 {
		args = append(args, "--wait-timeout", strconv.Itoa(int(math.Ceil(p.waitTimeout.Seconds()))))
	}
	return p.run(ctx, invocation{args: composeArgs(name, file, args...), drop: drop})
}

// putBack undoes a deploy whose up failed with upErr: the previous
// project's files are written back and brought up again, or, when there
// was none, the new project is taken down and its directory removed. It
// returns upErr with what was done, and records it in ev.Restore.
func (p *Provider) putBack(ctx context.Context, name, dir string, prev projectFiles, ev *providers.DeployFacts, upErr error) error {
	if !prev.exists() {
		_, err := p.run(ctx, invocation{args: composeArgs(name, "", "down", "--remove-orphans")})
		if err == nil {
			err = os.RemoveAll(dir)
		}
		if err != nil {
			ev.Restore = &providers.PutBack{Action: "take down the new project", Outcome: "failed", Error: p.red.String(err.Error())}
			return fmt.Errorf("%w; taking the new project down failed too, it may still run: %v", upErr, err)
		}
		ev.Restore = &providers.PutBack{Action: "take down the new project", Outcome: "done"}
		return fmt.Errorf("%w; there was no previous deploy: the new project was taken down", upErr)
	}
	r := &providers.PutBack{Action: "bring the previous project back", Image: prev.image}
	ev.Restore = r
	err := writeProject(dir, prev)
	if err == nil {
		_, err = p.up(ctx, name, filepath.Join(dir, composeFile), keySet(prev.envMap))
	}
	if err != nil {
		r.Outcome, r.Error = "failed", p.red.String(err.Error())
		return fmt.Errorf("%w; bringing the previous project (%s) back failed too: %v", upErr, prev.image, err)
	}
	r.Outcome = "done"
	return fmt.Errorf("%w; the previous project (%s) runs again", upErr, prev.image)
}

func keySet(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// Destroy stops and removes the app's containers (`docker compose down
// --remove-orphans`, volumes kept; not in mode render-only), then
// removes the project directory. A missing app is not an error.
func (p *Provider) Destroy(ctx context.Context, ref providers.AppRef) error {
	const op = "destroy"
	name, err := projectName(ref)
	if err != nil {
		return p.fail(op, ref.Target, err)
	}
	if err := ctx.Err(); err != nil {
		return p.fail(op, ref.Target, err)
	}
	dir := p.projectDir(name)
	if !p.renderOnly {
		if _, err := p.requireEngine(ctx); err != nil {
			return p.fail(op, ref.Target, err)
		}
		file := filepath.Join(dir, composeFile)
		if _, err := os.Stat(file); err != nil {
			file = "" // compose finds the project's containers by name alone
		}
		if _, err := p.run(ctx, invocation{args: composeArgs(name, file, "down", "--remove-orphans")}); err != nil {
			return p.fail(op, ref.Target, err)
		}
	}
	return p.fail(op, ref.Target, os.RemoveAll(dir))
}

// runnable is the project name of ref when its app can be acted on: the
// context alive, mode deploy (in render-only nothing runs, and saying the
// app was stopped or started would be a lie) and an engine that answers.
func (p *Provider) runnable(ctx context.Context, ref providers.AppRef, verb string) (string, error) {
	name, err := projectName(ref)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if p.renderOnly {
		return "", fmt.Errorf("mode render-only: nothing runs, so the app cannot be %s", verb)
	}
	if _, err := p.requireEngine(ctx); err != nil {
		return "", err
	}
	return name, nil
}

// Stop stops the app's container (`docker stop`, the container kept,
// one-off job containers left alone), so a database can be replaced
// while the app serves nothing. A missing or stopped app is not an
// error. In mode render-only nothing runs, and Stop fails rather than
// pretend the app was stopped.
func (p *Provider) Stop(ctx context.Context, ref providers.AppRef) error {
	const op = "stop"
	name, err := p.runnable(ctx, ref, "stopped")
	if err != nil {
		return p.fail(op, ref.Target, err)
	}
	ctr, ok, err := p.appContainer(ctx, name)
	if err != nil || !ok {
		return p.fail(op, ref.Target, err)
	}
	_, err = p.run(ctx, invocation{args: []string{"stop", ctr.ID}})
	return p.fail(op, ref.Target, err)
}

// Start starts the app's stopped container as it was deployed (`docker
// compose start --wait app`: no recreate, so image and env are those of
// the deploy) and waits until it runs, healthy when the image has a
// health check. A project that was never deployed is an error wrapping
// providers.ErrNotFound.
func (p *Provider) Start(ctx context.Context, ref providers.AppRef) error {
	const op = "start"
	name, err := p.runnable(ctx, ref, "started")
	if err != nil {
		return p.fail(op, ref.Target, err)
	}
	dir := p.projectDir(name)
	r, err := readRendered(dir)
	if err != nil {
		return p.fail(op, ref.Target, fmt.Errorf("project %s: %w", name, err))
	}
	_, ok, err := p.appContainer(ctx, name)
	if err != nil {
		return p.fail(op, ref.Target, err)
	}
	if !r.Exists || !ok {
		return p.fail(op, ref.Target, fmt.Errorf("project %s has no app container to start: %w", name, providers.ErrNotFound))
	}
	args := []string{"start", "--wait"}
	if p.waitTimeout > 0 {
		args = append(args, "--wait-timeout", strconv.Itoa(int(math.Ceil(p.waitTimeout.Seconds()))))
	}
	args = append(args, service)
	_, err = p.run(ctx, invocation{args: composeArgs(name, filepath.Join(dir, composeFile), args...), drop: keySet(r.Env)})
	return p.fail(op, ref.Target, err)
}

// RunJob runs j's command in a one-off container of the app's service:
// `docker compose run --rm -T -l launchplane.job=NAME -e KEY… app CMD…`.
// Env values reach docker through its environment, never its command
// line. In mode render-only it fails.
func (p *Provider) RunJob(ctx context.Context, j providers.Job) (providers.JobResult, error) {
	const op = "job"
	for _, k := range j.SecretKeys {
		p.red.Add(j.Env[k])
	}
	name, err := projectName(providers.AppRef{Target: j.Target, Name: j.AppName})
	if err != nil {
		return providers.JobResult{}, p.fail(op, j.Target, err)
	}
	keys := make([]string, 0, len(j.Env))
	for k := range j.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := validateJobEnvKey(k); err != nil {
			return providers.JobResult{}, p.fail(op, j.Target, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return providers.JobResult{}, p.fail(op, j.Target, err)
	}
	if p.renderOnly {
		return providers.JobResult{}, p.fail(op, j.Target, errors.New("mode render-only: jobs cannot run"))
	}
	if _, err := p.requireEngine(ctx); err != nil {
		return providers.JobResult{}, p.fail(op, j.Target, err)
	}
	dir := p.projectDir(name)
	r, err := readRendered(dir)
	if err != nil {
		return providers.JobResult{}, p.fail(op, j.Target, fmt.Errorf("project %s: %w", name, err))
	}
	if !r.Exists {
		return providers.JobResult{}, p.fail(op, j.Target, fmt.Errorf("project %s is not deployed: %w", name, providers.ErrNotFound))
	}
	// The job's container gets the app's env too: its secrets may show
	// in the output.
	for _, k := range r.SecretKeys {
		p.red.Add(r.Env[k])
	}
	args := []string{"run", "--rm", "-T"}
	if j.Name != "" {
		args = append(args, "-l", labelJob+"="+j.Name)
	}
	for _, k := range keys {
		args = append(args, "-e", k)
	}
	args = append(args, service)
	args = append(args, j.Command...)
	drop := keySet(r.Env)
	res, err := p.run(ctx, invocation{args: composeArgs(name, filepath.Join(dir, composeFile), args...), drop: drop, add: j.Env, combined: true})
	out := providers.JobResult{Output: res.stderr.tail(p, outputTail)}
	var ce *commandError
	if errors.As(err, &ce) && ce.code >= 0 {
		out.ExitCode = ce.code
		msg := fmt.Sprintf("%s: exit code %d", ce.cmd, ce.code)
		if out.Output != "" {
			msg += ": " + lastLines(out.Output, errorTail)
		}
		return out, p.fail(op, j.Target, fmt.Errorf("%w: %s", providers.ErrJobFailed, msg))
	}
	if err != nil {
		return out, p.fail(op, j.Target, err)
	}
	return out, nil
}

// lastLines is the end of s, at most n bytes, cut at a line boundary.
func lastLines(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "…" + s
}

// validateJobEnvKey refuses keys that cannot be passed as "-e KEY", and
// keys that would change the docker CLI's own behaviour, since job env
// values travel through its environment.
func validateJobEnvKey(k string) error {
	if !envKeyRE.MatchString(k) {
		return fmt.Errorf("invalid job env key %q: want letters, digits and '_', not starting with a digit", k)
	}
	switch {
	case k == "PATH" || k == "HOME",
		strings.HasPrefix(k, "DOCKER_"), strings.HasPrefix(k, "COMPOSE_"), strings.HasPrefix(k, "BUILDKIT_"):
		return fmt.Errorf("job env key %s would change the docker CLI's own environment", k)
	}
	return nil
}

// RunningJobs lists the target's one-off containers still running, as
// "<job name> (<container>)": `docker ps` filtered on the compose
// project and its one-off label. In mode render-only nothing runs.
func (p *Provider) RunningJobs(ctx context.Context, target string) ([]string, error) {
	const op = "job"
	name := providers.ObjectName(target)
	if err := validateProjectName(name); err != nil {
		return nil, p.fail(op, target, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, p.fail(op, target, err)
	}
	if p.renderOnly {
		return nil, nil // nothing runs
	}
	if _, err := p.requireEngine(ctx); err != nil {
		return nil, p.fail(op, target, err)
	}
	res, err := p.run(ctx, invocation{args: []string{"ps",
		"--filter", "label=com.docker.compose.project=" + name,
		"--filter", "label=com.docker.compose.oneoff=True",
		"--format", "json"}})
	if err != nil {
		return nil, p.fail(op, target, err)
	}
	entries, err := parsePS(res.stdout)
	if err != nil {
		return nil, p.fail(op, target, err)
	}
	var out []string
	for _, e := range entries {
		ctr := e.Names
		if ctr == "" {
			ctr = e.Name
		}
		job := labelsOf(e.Labels)[labelJob]
		if job == "" {
			job = "job"
		}
		out = append(out, fmt.Sprintf("%s (%s)", job, ctr))
	}
	sort.Strings(out)
	return out, nil
}

var (
	_ providers.Deployer  = (*Provider)(nil)
	_ providers.Jobs      = (*Provider)(nil)
	_ providers.Limited   = (*Provider)(nil)
	_ providers.JobLister = (*Provider)(nil)
	_ providers.Stopper   = (*Provider)(nil)
)

// up keeps an empty summary of `compose up` as an empty list, not as no
// summary.
func up(lines []string) *[]string { return &lines }
