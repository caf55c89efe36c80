package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// World is the fake's whole state and its injected faults: the JSON file
// named by the Provider's fake.path. Tests edit it to inject faults and
// read it to see what happened.
type World struct {
	Apps    map[string]*App     `json:"apps"`   // by target key
	Routes  map[string]*Route   `json:"routes"` // by domain
	Backups map[string][]Backup `json:"backups,omitempty"`
	Jobs    []JobRun            `json:"jobs,omitempty"`
	// Log lists every mutation in order: "deploy shop/prod <image>".
	Log []string `json:"log"`
	// Faults fail operations; each use decrements Times.
	Faults []*Fault `json:"faults,omitempty"`
	// Unhealthy targets fail their health checks.
	Unhealthy []string `json:"unhealthy,omitempty"`
	// Running lists jobs still running per target (set by tests): a
	// JobLister reports them.
	Running map[string][]string `json:"running,omitempty"`
	// Latency is added to every call ("50ms"), to measure parallelism.
	Latency string `json:"latency,omitempty"`
	// Hold makes calls of an operation wait until a file exists: a slow
	// provider whose end a test decides, without timing.
	Hold     *Hold             `json:"hold,omitempty"`
	Comments map[string]string `json:"comments,omitempty"` // "<pr>/<marker>" -> body
	Statuses map[string]string `json:"statuses,omitempty"` // "<sha>/<context>" -> state
	// CountCalls makes the fake count its calls by operation in Calls
	// (set by the benchmark harness, to know the calls per target).
	CountCalls bool           `json:"count_calls,omitempty"`
	Calls      map[string]int `json:"calls,omitempty"`
}

// Hold stalls operation Op (on any target) until File, relative to the
// world file's directory, exists.
type Hold struct {
	Op   string `json:"op"`
	File string `json:"file"`
}

// App is a deployed app.
type App struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Image          string            `json:"image"`
	Port           int               `json:"port"`
	Env            map[string]string `json:"env"`         // non-secret values only
	SecretKeys     []string          `json:"secret_keys"` // names only, never values
	SecretsSHA256  string            `json:"secrets_sha256,omitempty"`
	IdempotencyKey string            `json:"idempotency_key"`
	Deployments    int               `json:"deployments"`
	Stopped        bool              `json:"stopped,omitempty"`
}

// Route is a routed domain.
type Route struct {
	Target         string `json:"target"`
	Upstream       string `json:"upstream"`
	Port           int    `json:"port"`
	IdempotencyKey string `json:"idempotency_key"`
}

// Backup is a taken backup.
type Backup struct {
	ID       string    `json:"id"`
	Database string    `json:"database"`
	Location string    `json:"location"`
	Size     int64     `json:"size"`
	Checksum string    `json:"checksum"`
	Taken    time.Time `json:"taken"`
}

// JobRun is a job that ran.
type JobRun struct {
	Target  string   `json:"target"`
	Name    string   `json:"name"`
	Command []string `json:"command"`
	EnvKeys []string `json:"env_keys"`
}

// Fault fails Op on Target (empty: any target) the next Times calls with
// Error. With Crash the process exits instead, as a killed runner would.
// With Hold the call instead waits until the file Hold (relative to the
// world file) exists, then runs: a slow apply a test lets finish when it
// wants, without sleeping.
type Fault struct {
	Op     string `json:"op"`
	Target string `json:"target,omitempty"`
	Times  int    `json:"times"`
	Error  string `json:"error,omitempty"`
	Crash  bool   `json:"crash,omitempty"`
	// Echo makes a deploy fault behave like a careless API: its error
	// ends with the value of the app's env key Echo, a secret value the
	// fake then neither registers nor redacts. Only apply's own
	// redaction can keep it out of what is printed and recorded.
	Echo string `json:"echo,omitempty"`
	// Output, on op "deploy-output", makes a deploy succeed and report
	// the value of the app's env key Output in its facts (the lines of
	// its output), like an API that echoes what it ran: a secret value
	// the fake neither registers nor redacts. It is not consumed.
	Output string `json:"output,omitempty"`
	Hold   string `json:"hold,omitempty"`
}

// appEnv carries a deploy's env to an Echo fault.
type appEnv struct{}

// Provider is the fake.
type Provider struct {
	name  string
	store *store
	red   *redact.Redactor
}

type config struct {
	Path    string   `json:"path"`
	Without []string `json:"without"`
}

func newProvider(cfg providers.Config) (any, error) {
	var c config
	if err := json.Unmarshal(cfg.Raw, &c); err != nil {
		return nil, err
	}
	p := c.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(cfg.ConfigDir, p)
	}
	without := map[string]bool{}
	for _, w := range c.Without {
		without[w] = true
	}
	return limit(&Provider{name: cfg.Name, store: storeFor(p), red: cfg.Redact()}, without), nil
}

// limit returns p without the capabilities named in without ("health",
// "backups", "restore"), so tests see how Launchplane treats a platform
// that lacks them: the returned value simply does not implement those
// interfaces.
func limit(p *Provider, without map[string]bool) any {
	type base interface {
		providers.Deployer
		providers.Stopper
		providers.Ingress
		providers.Jobs
		providers.JobLister
		providers.Feedback
		io.Closer
	}
	hc, bk := !without["health"], !without["backups"]
	rs := bk && !without["restore"]
	switch {
	case hc && bk && rs:
		return p
	case hc && bk:
		return struct {
			base
			providers.HealthChecker
			providers.Backups
		}{p, p, p}
	case hc:
		return struct {
			base
			providers.HealthChecker
		}{p, p}
	case bk && rs:
		return struct {
			base
			providers.Backups
			providers.Restorer
		}{p, p, p}
	case bk:
		return struct {
			base
			providers.Backups
		}{p, p}
	}
	return struct{ base }{p}
}

// update runs fn on the world, this process and every other one locked
// out. A call that changes the world says which keys it touches (its
// target's app, a domain's route, …): the journal gets their new values
// and what fn appended to the log. A fault fails the call before fn runs;
// a Hold (of the world or of a fault) makes it wait, unlocked, until a
// file exists. op and target select faults.
func (p *Provider) update(ctx context.Context, op, target string, t touched, fn func(w *World) error) error {
	if err := ctx.Err(); err != nil {
		return p.fail(op, target, err)
	}
	// Latency stands for the network: it is spent before taking the lock,
	// so concurrent calls overlap as they would against a real API.
	if d, err := time.ParseDuration(p.store.latency()); err == nil && d > 0 {
		tm := time.NewTimer(d)
		select {
		case <-ctx.Done():
			tm.Stop()
			return p.fail(op, target, ctx.Err())
		case <-tm.C:
		}
	}
	if h := p.store.hold(); h != nil && h.Op == op {
		if err := waitFile(ctx, filepath.Join(filepath.Dir(p.store.path), h.File)); err != nil {
			return p.fail(op, target, err)
		}
	}
	var crash bool
	var held, echo string
	err := p.store.locked(func(w *World) (*entry, error) {
		var calls map[string]int
		if w.CountCalls {
			w.Calls = inc(w.Calls, op)
			calls = map[string]int{op: 1}
		}
		if f := w.fault(op, target); f != nil {
			f.Times--
			faults := append([]*Fault(nil), w.Faults...)
			if f.Hold != "" {
				held = f.Hold
				return &entry{Faults: &faults, Calls: calls}, nil
			}
			msg := f.Error
			if msg == "" {
				msg = "injected fault"
			}
			crash, echo = f.Crash, f.Echo
			return &entry{Faults: &faults, Calls: calls}, errors.New(msg)
		}
		logFrom, jobsFrom := len(w.Log), len(w.Jobs)
		if err := fn(w); err != nil {
			return callsOnly(calls), err
		}
		e := w.record(t, logFrom, jobsFrom)
		if e == nil {
			return callsOnly(calls), nil
		}
		e.Calls = calls
		return e, nil
	})
	if held != "" && err == nil {
		fmt.Fprintf(os.Stderr, "fake %s: holding %s %s until %s exists\n", p.name, op, target, held)
		if err := waitFile(ctx, filepath.Join(filepath.Dir(p.store.path), held)); err != nil {
			return p.fail(op, target, err)
		}
		return p.update(ctx, op, target, t, fn)
	}
	if crash {
		// As a killed runner would: what happened so far is on disk.
		_ = p.store.flush()
		fmt.Fprintf(os.Stderr, "fake %s: injected crash during %s %s\n", p.name, op, target)
		os.Exit(137)
	}
	if env, ok := ctx.Value(appEnv{}).(map[string]string); ok && err != nil && echo != "" {
		// unredacted, as a careless API would answer
		return providers.Wrap(p.name, op, target, errors.New(err.Error()+" "+env[echo]))
	}
	return p.fail(op, target, err)
}

func inc(m map[string]int, op string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[op]++
	return m
}

func callsOnly(calls map[string]int) *entry {
	if calls == nil {
		return nil
	}
	return &entry{Calls: calls}
}

// Close writes the whole world to the world file, so it alone is
// complete once the run is over.
func (p *Provider) Close() error { return p.store.flush() }

// waitFile waits until path exists (a Hold), polling as a client polls a
// slow API: the test creates it from another process.
func waitFile(ctx context.Context, path string) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// opNames are the operation names errors use, by fault op.
var opNames = map[string]string{"list-routes": "list routes", "ensure-route": "route", "delete-route": "delete route", "health": "health check"}

// fail is err as the provider's error for op on target, redacted.
func (p *Provider) fail(op, target string, err error) error {
	if err == nil {
		return nil
	}
	name := op
	if n, ok := opNames[op]; ok {
		name = n
	}
	return providers.Wrap(p.name, name, target, p.red.Error(err))
}

func (w *World) fault(op, target string) *Fault {
	for _, f := range w.Faults {
		if f.Times > 0 && f.Op == op && (f.Target == "" || f.Target == target) {
			return f
		}
	}
	return nil
}

func appID(target string) string {
	h := sha256.Sum256([]byte(target))
	return "app-" + hex.EncodeToString(h[:4])
}

// Observe reports the app of target.
func (p *Provider) Observe(ctx context.Context, ref providers.AppRef) (providers.AppStatus, error) {
	var st providers.AppStatus
	err := p.update(ctx, "observe", ref.Target, touched{}, func(w *World) error {
		a := w.Apps[ref.Target]
		if a == nil {
			return nil
		}
		st = providers.AppStatus{Exists: true, ID: a.ID, Image: a.Image, Env: a.Env, SecretKeys: a.SecretKeys, IdempotencyKey: a.IdempotencyKey}
		return nil
	})
	return st, err
}

// Deploy records the app. Secret values are reduced to a hash over the
// sorted key=value pairs, so a changed secret is still a change.
func (p *Provider) Deploy(ctx context.Context, app providers.App) (string, providers.DeployFacts, error) {
	id := appID(app.Target)
	var ev providers.DeployFacts
	secret := map[string]bool{}
	echo, output := false, ""
	_ = p.store.locked(func(w *World) (*entry, error) {
		if f := w.fault("deploy", app.Target); f != nil && f.Echo != "" {
			echo = true
		}
		if f := w.fault("deploy-output", app.Target); f != nil {
			output = f.Output
		}
		return nil, nil
	})
	if echo {
		ctx = context.WithValue(ctx, appEnv{}, app.Env)
	}
	for _, k := range app.SecretKeys {
		secret[k] = true
		if !echo { // a careless API registers nothing
			p.red.Add(app.Env[k])
		}
	}
	err := p.update(ctx, "deploy", app.Target, touched{apps: []string{app.Target}}, func(w *World) error {
		env := map[string]string{}
		h := sha256.New()
		var keys []string
		for k := range app.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if secret[k] {
				fmt.Fprintf(h, "%s=%s\n", k, app.Env[k])
				continue
			}
			env[k] = app.Env[k]
		}
		a := w.Apps[app.Target]
		if a == nil {
			a = &App{ID: id}
			w.Apps[app.Target] = a
		}
		a.Name, a.Image, a.Port, a.Env = app.Name, app.Image, app.Port, env
		a.SecretKeys = append([]string(nil), app.SecretKeys...)
		sort.Strings(a.SecretKeys)
		a.SecretsSHA256 = hex.EncodeToString(h.Sum(nil))
		a.IdempotencyKey = app.IdempotencyKey
		a.Stopped = false
		a.Deployments++
		w.Log = append(w.Log, fmt.Sprintf("deploy %s %s", app.Target, app.Image))
		ev = providers.DeployFacts{Deployment: a.Deployments}
		if output != "" {
			ev.Up = &[]string{"ran with " + output + "=" + app.Env[output]}
		}
		return nil
	})
	return id, ev, err
}

// Destroy removes the app of target.
func (p *Provider) Destroy(ctx context.Context, ref providers.AppRef) error {
	return p.update(ctx, "destroy", ref.Target, touched{apps: []string{ref.Target}}, func(w *World) error {
		if _, ok := w.Apps[ref.Target]; ok {
			delete(w.Apps, ref.Target)
			w.Log = append(w.Log, "destroy "+ref.Target)
		}
		return nil
	})
}

// ListRoutes lists the routes of target, sorted by domain.
func (p *Provider) ListRoutes(ctx context.Context, target string) ([]providers.Route, error) {
	var out []providers.Route
	err := p.update(ctx, "list-routes", target, touched{}, func(w *World) error {
		for d, r := range w.Routes {
			if r.Target == target {
				out = append(out, providers.Route{Target: target, Domain: d, Upstream: r.Upstream, Port: r.Port, IdempotencyKey: r.IdempotencyKey})
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, err
}

// EnsureRoute creates or updates the route of a domain. A domain routed to
// another target is refused.
func (p *Provider) EnsureRoute(ctx context.Context, r providers.Route) (providers.RouteFacts, error) {
	err := p.update(ctx, "ensure-route", r.Target, touched{routes: []string{r.Domain}}, func(w *World) error {
		if old := w.Routes[r.Domain]; old != nil && old.Target != r.Target {
			return fmt.Errorf("domain %s is routed to %s", r.Domain, old.Target)
		}
		w.Routes[r.Domain] = &Route{Target: r.Target, Upstream: r.Upstream, Port: r.Port, IdempotencyKey: r.IdempotencyKey}
		w.Log = append(w.Log, fmt.Sprintf("route %s %s", r.Domain, r.Upstream))
		return nil
	})
	return providers.RouteFacts{}, err
}

// DeleteRoute removes the route of a domain.
func (p *Provider) DeleteRoute(ctx context.Context, target, domain string) error {
	return p.update(ctx, "delete-route", target, touched{routes: []string{domain}}, func(w *World) error {
		if r := w.Routes[domain]; r != nil && r.Target == target {
			delete(w.Routes, domain)
			w.Log = append(w.Log, "unroute "+domain)
		}
		return nil
	})
}

// CheckHealth answers for the fake's own targets: healthy unless listed
// in Unhealthy or the app is missing.
func (p *Provider) CheckHealth(ctx context.Context, target, url string, timeout time.Duration) (providers.HealthResult, error) {
	var res providers.HealthResult
	err := p.update(ctx, "health", target, touched{}, func(w *World) error {
		res = providers.HealthResult{Healthy: true, Attempts: 1, Status: 200, Detail: "fake: " + url}
		if w.Apps[target] == nil {
			res = providers.HealthResult{Attempts: 1, Status: 502, Detail: "fake: no app deployed"}
		} else if w.Apps[target].Stopped {
			res = providers.HealthResult{Attempts: 1, Status: 502, Detail: "fake: app stopped"}
		}
		for _, u := range w.Unhealthy {
			if u == target {
				res = providers.HealthResult{Attempts: 1, Status: 503, Detail: "fake: target marked unhealthy"}
			}
		}
		return nil
	})
	return res, err
}

// RunJob records a job. Env values are never stored, only keys.
func (p *Provider) RunJob(ctx context.Context, j providers.Job) (providers.JobResult, error) {
	for _, k := range j.SecretKeys {
		p.red.Add(j.Env[k])
	}
	err := p.update(ctx, "job", j.Target, touched{}, func(w *World) error {
		if w.Apps[j.Target] == nil {
			return fmt.Errorf("no app deployed")
		}
		var keys []string
		for k := range j.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.Jobs = append(w.Jobs, JobRun{Target: j.Target, Name: j.Name, Command: j.Command, EnvKeys: keys})
		w.Log = append(w.Log, fmt.Sprintf("job %s %s", j.Target, strings.Join(j.Command, " ")))
		return nil
	})
	return providers.JobResult{Output: "fake: ok"}, err
}

// RunningJobs lists the target's jobs the world says still run.
func (p *Provider) RunningJobs(ctx context.Context, target string) ([]string, error) {
	var out []string
	err := p.update(ctx, "running-jobs", target, touched{}, func(w *World) error {
		out = append(out, w.Running[target]...)
		return nil
	})
	return out, err
}

// TakeBackup records a backup.
func (p *Provider) TakeBackup(ctx context.Context, target, database string) (providers.Backup, error) {
	var b Backup
	err := p.update(ctx, "backup", target, touched{backups: []string{target}}, func(w *World) error {
		if w.Backups == nil {
			w.Backups = map[string][]Backup{}
		}
		n := len(w.Backups[target]) + 1
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", target, database, n)))
		b = Backup{ID: fmt.Sprintf("backup-%d", n), Database: database, Location: fmt.Sprintf("fake://%s/%s-%d.dump", target, database, n),
			Size: 1024 * int64(n), Checksum: "sha256:" + hex.EncodeToString(sum[:]), Taken: time.Now().UTC()}
		w.Backups[target] = append(w.Backups[target], b)
		w.Log = append(w.Log, fmt.Sprintf("backup %s %s", target, b.ID))
		return nil
	})
	return providers.Backup{ID: b.ID, Location: b.Location, Size: b.Size, Checksum: b.Checksum, Taken: b.Taken, Duration: time.Millisecond}, err
}

// RestoreBackup records a restore of a backup it took.
// RestoreBackup records a restore of a backup it took, of this target or
// another (a clone from prod): backups are found by id and location.
func (p *Provider) RestoreBackup(ctx context.Context, target, database string, b providers.Backup) error {
	return p.update(ctx, "restore", target, touched{}, func(w *World) error {
		for from, list := range w.Backups {
			for _, x := range list {
				if x.ID == b.ID && (b.Location == "" || x.Location == b.Location) {
					if from == target {
						w.Log = append(w.Log, fmt.Sprintf("restore %s %s", target, b.ID))
					} else {
						w.Log = append(w.Log, fmt.Sprintf("restore %s %s from %s", target, b.ID, from))
					}
					return nil
				}
			}
		}
		return fmt.Errorf("backup %s: %w", b.ID, providers.ErrNotFound)
	})
}

// Stop stops the app of ref.Target.
func (p *Provider) Stop(ctx context.Context, ref providers.AppRef) error {
	return p.update(ctx, "stop", ref.Target, touched{apps: []string{ref.Target}}, func(w *World) error {
		if a := w.Apps[ref.Target]; a != nil && !a.Stopped {
			a.Stopped = true
			w.Log = append(w.Log, "stop "+ref.Target)
		}
		return nil
	})
}

// Start starts the stopped app of ref.Target.
func (p *Provider) Start(ctx context.Context, ref providers.AppRef) error {
	return p.update(ctx, "start", ref.Target, touched{apps: []string{ref.Target}}, func(w *World) error {
		a := w.Apps[ref.Target]
		if a == nil {
			return fmt.Errorf("app %s: %w", ref.Name, providers.ErrNotFound)
		}
		if a.Stopped {
			a.Stopped = false
			w.Log = append(w.Log, "start "+ref.Target)
		}
		return nil
	})
}

// UpsertComment keeps one comment per PR and marker.
func (p *Provider) UpsertComment(ctx context.Context, pr int, marker, body string) error {
	key := fmt.Sprintf("%d/%s", pr, marker)
	body = p.red.String(body) // what is posted is free text: redacted, like a real forge adapter's
	return p.update(ctx, "comment", "", touched{comments: []string{key}}, func(w *World) error {
		if w.Comments == nil {
			w.Comments = map[string]string{}
		}
		w.Comments[key] = body
		return nil
	})
}

// SetStatus records a commit status.
func (p *Provider) SetStatus(ctx context.Context, sha, state, context_, description, url string) error {
	switch state {
	case "pending", "success", "failure", "error":
	default:
		return providers.Wrap(p.name, "status", "", fmt.Errorf("state %q: want pending, success, failure or error", state))
	}
	return p.update(ctx, "status", "", touched{statuses: []string{sha + "/" + context_}}, func(w *World) error {
		if w.Statuses == nil {
			w.Statuses = map[string]string{}
		}
		w.Statuses[sha+"/"+context_] = state
		return nil
	})
}

var (
	_ providers.Deployer      = (*Provider)(nil)
	_ providers.Ingress       = (*Provider)(nil)
	_ providers.HealthChecker = (*Provider)(nil)
	_ providers.Jobs          = (*Provider)(nil)
	_ providers.Backups       = (*Provider)(nil)
	_ providers.Restorer      = (*Provider)(nil)
	_ providers.JobLister     = (*Provider)(nil)
	_ providers.Stopper       = (*Provider)(nil)
	_ providers.Feedback      = (*Provider)(nil)
)
