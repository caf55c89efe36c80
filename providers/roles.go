package providers

import (
	"context"
	"time"
)

// App is what a Deployer deploys: one target's app. Env holds resolved
// values, secret ones included; SecretKeys names those so an adapter never
// logs or records them.
type App struct {
	Target         string // target key <product>/<lane>
	Name           string // provider object name <product>-<lane>
	Image          string
	Port           int
	Env            map[string]string
	SecretKeys     []string
	IdempotencyKey string
}

// AppStatus is what a Deployer observes of an app.
type AppStatus struct {
	Exists         bool
	ID             string // provider object id
	Image          string
	Env            map[string]string // non-secret values only
	SecretKeys     []string
	IdempotencyKey string // of the last deploy that completed
}

// Evidence is what an adapter reports of an operation for the record. It
// must never hold a secret value.
type Evidence map[string]any

// Deployer observes, deploys and destroys apps.
type Deployer interface {
	Observe(ctx context.Context, target, name string) (AppStatus, error)
	// Deploy makes the app run App's image and env and waits for the
	// platform to report a new deployment finished.
	Deploy(ctx context.Context, app App) (id string, ev Evidence, err error)
	// Destroy removes the app; a missing app is not an error.
	Destroy(ctx context.Context, target, name string) error
}

// Route sends a domain to a target's app.
type Route struct {
	Target         string
	Domain         string
	Upstream       string // provider object name of the app
	Port           int
	IdempotencyKey string
}

// Ingress lists, ensures and deletes routes.
type Ingress interface {
	ListRoutes(ctx context.Context, target string) ([]Route, error)
	EnsureRoute(ctx context.Context, r Route) (Evidence, error)
	// DeleteRoute removes a route; a missing route is not an error.
	DeleteRoute(ctx context.Context, target, domain string) error
}

// HealthResult is the outcome of a health check.
type HealthResult struct {
	Healthy  bool
	Attempts int
	Status   int
	Latency  time.Duration
	Detail   string
}

// HealthChecker is optional: a provider that can answer health for its
// own targets (the fake does) instead of the built-in HTTP check.
type HealthChecker interface {
	CheckHealth(ctx context.Context, target, url string, timeout time.Duration) (HealthResult, error)
}

// Job is a one-off command in a target's runtime.
type Job struct {
	Target  string
	Name    string
	Command []string
	Env     map[string]string
}

// JobResult is a finished job.
type JobResult struct {
	ExitCode int
	Output   string // redacted by the caller before it is recorded
}

// Jobs runs one-off commands.
type Jobs interface {
	RunJob(ctx context.Context, j Job) (JobResult, error)
}

// Backup is a taken backup.
type Backup struct {
	ID       string
	Location string
	Size     int64
	Checksum string
	Taken    time.Time
}

// Backups takes and restores backups of a target's data.
type Backups interface {
	TakeBackup(ctx context.Context, target, database string) (Backup, error)
	RestoreBackup(ctx context.Context, target, database string, b Backup) error
}

// Feedback posts results where reviewers look.
type Feedback interface {
	UpsertComment(ctx context.Context, pr int, marker, body string) error
	SetStatus(ctx context.Context, sha, state, context, description, url string) error
}
