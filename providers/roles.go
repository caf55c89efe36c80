package providers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// AppRef names one target's app at a provider. ID is the provider object
// id recorded in the state repository; it may be empty (never recorded)
// or stale (the object was removed behind Launchplane's back), so an
// adapter falls back to finding the object by Name.
type AppRef struct {
	Target string // target key <product>/<lane> or <product>/preview/pr-<N>
	Name   string // provider object name <product>-<lane> (SPEC §3)
	ID     string
}

// App is what a Deployer deploys: one target's app. Env holds resolved
// values, secret ones included; SecretKeys names those so an adapter never
// logs, records or returns them.
type App struct {
	AppRef
	Image          string // repo@sha256:<digest>
	Port           int
	Env            map[string]string
	SecretKeys     []string // sorted
	IdempotencyKey string
	// Title is unique to this deploy (record id); adapters whose platform
	// keeps a deployment history label the deployment with it.
	Title string
}

// AppStatus is what a Deployer observes of an app.
type AppStatus struct {
	Exists         bool
	ID             string // provider object id
	Image          string
	Env            map[string]string // non-secret values only
	SecretKeys     []string          // sorted names of secret env entries
	IdempotencyKey string            // of the last deploy that completed, "" when unknown
}

// DeployFacts are what a Deployer reports of one deploy, for the record:
// a closed shape, one named field per fact an adapter gives (an adapter
// that learns a new fact adds a field here; the state codec decodes
// records into it strictly, so a fact no adapter gives is refused on
// read). Free-text fields (Up, Restore.Error: a platform's output) are
// redacted by the adapter and again by apply (Redacted) before they are
// recorded; the record's write guard refuses any resolved secret value
// all the same. The zero value is no facts. Adapters never put the
// image, the app's id or the domain here: apply records those itself.
type DeployFacts struct {
	// dokploy
	ServiceType      string `json:"service_type,omitempty"`
	Created          *bool  `json:"created,omitempty"` // the service was created by this deploy
	ServiceID        string `json:"service_id,omitempty"`
	DeploymentTitle  string `json:"deployment_title,omitempty"`
	DeploymentID     string `json:"deployment_id,omitempty"`
	DeploymentStatus string `json:"deployment_status,omitempty"`
	Restored         *bool  `json:"restored,omitempty"` // the previous image and env were put back after a failure
	// compose
	Project     string    `json:"project,omitempty"`
	ComposeFile string    `json:"compose_file,omitempty"`
	Mode        string    `json:"mode,omitempty"`
	Engine      string    `json:"engine,omitempty"`
	Up          *[]string `json:"up,omitempty"` // summary of `compose up`, one line a service
	Restore     *PutBack  `json:"restore,omitempty"`
	// fake
	Deployment int `json:"deployment,omitempty"` // the app's deploy count
}

// Redacted is f with its free-text facts (the lines of Up, the error of
// Restore: a platform's own output) passed through redact; ids, names
// and flags are kept as they are.
func (f DeployFacts) Redacted(redact func(string) string) DeployFacts {
	if f.Up != nil {
		up := make([]string, len(*f.Up))
		for i, l := range *f.Up {
			up[i] = redact(l)
		}
		f.Up = &up
	}
	if f.Restore != nil {
		r := *f.Restore
		r.Error = redact(r.Error)
		f.Restore = &r
	}
	return f
}

// PutBack is what an adapter did to undo a failed deploy.
type PutBack struct {
	Action  string `json:"action"`
	Image   string `json:"image,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
}

// RouteFacts are what an Ingress reports of one EnsureRoute, for the
// record; closed like DeployFacts. The domain itself is the caller's.
type RouteFacts struct {
	Action string `json:"action,omitempty"` // created, updated, unchanged
	// caddy
	Server   string `json:"server,omitempty"`
	Dial     string `json:"dial,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	IfMatch  *bool  `json:"if_match,omitempty"`
	RouteID  string `json:"route_id,omitempty"`
	Created  string `json:"created,omitempty"` // the config path a route was created under
	// npmplus
	Forward     string `json:"forward,omitempty"`
	ProxyHostID int    `json:"proxy_host_id,omitempty"`
	// dokploy
	ServiceID    string `json:"service_id,omitempty"`
	DomainID     string `json:"domain_id,omitempty"`
	Changed      *bool  `json:"changed,omitempty"`
	Redeployed   bool   `json:"redeployed,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
}

// Bool is a pointer to b, for the facts whose false is a fact too.
func Bool(b bool) *bool { return &b }

// Deployer observes, deploys and destroys apps.
type Deployer interface {
	// Observe reports the app; a missing app is Exists false, not an
	// error.
	Observe(ctx context.Context, ref AppRef) (AppStatus, error)
	// Deploy finds or creates the app by name, makes it run App's image
	// and env, and waits until the platform reports this deploy finished.
	// Deploying the same App twice leaves one app.
	Deploy(ctx context.Context, app App) (id string, facts DeployFacts, err error)
	// Destroy removes the app; a missing app is not an error.
	Destroy(ctx context.Context, ref AppRef) error
}

// Route sends a domain to a target's app.
type Route struct {
	Target         string
	Domain         string
	Upstream       string // provider object name of the app
	Port           int
	IdempotencyKey string // "" when the ingress cannot store it
}

// Ingress lists, ensures and deletes routes.
type Ingress interface {
	// ListRoutes returns the routes of target, sorted by domain.
	ListRoutes(ctx context.Context, target string) ([]Route, error)
	// EnsureRoute creates or updates the route of r.Domain; it is
	// idempotent.
	EnsureRoute(ctx context.Context, r Route) (RouteFacts, error)
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
	// Body is the start of the last unhealthy answer's body (at most
	// 4 KiB), "" when there was none; callers redact it before showing it.
	Body string
}

// HealthChecker is optional: a provider that can answer health for its
// own targets (the fake does) instead of the built-in HTTP check.
type HealthChecker interface {
	CheckHealth(ctx context.Context, target, url string, timeout time.Duration) (HealthResult, error)
}

// Limited is optional: a deployer working in a reduced mode (compose
// without a docker engine renders files only) says why. Health checks of
// its targets are then skipped, never passed, and the plan and the
// evidence carry the note. "" means no limitation.
type Limited interface {
	Limitation(ctx context.Context) string
}

// Stopper is optional: a Deployer that can stop an app and start it
// again without changing it, so data can be replaced while nothing runs
// (a database cloned from prod is neutralized before the app starts).
type Stopper interface {
	// Stop stops the app; a missing or stopped app is not an error.
	Stop(ctx context.Context, ref AppRef) error
	// Start starts a stopped app as it was deployed.
	Start(ctx context.Context, ref AppRef) error
}

// Job is a one-off command in a target's runtime.
type Job struct {
	Target  string
	AppName string // provider object name of the app whose runtime runs it
	Name    string // what the job is for: "post-deploy", "sanitize"
	Command []string
	// Env is passed to the job's environment, never its command line;
	// SecretKeys names the entries whose values are secret.
	Env        map[string]string
	SecretKeys []string
}

// JobResult is a finished job.
type JobResult struct {
	ID       string // provider's id of the run, when it has one
	ExitCode int
	Output   string // tail of the output; the caller redacts it before recording
}

// Jobs runs one-off commands. RunJob waits for the job; a job that ran
// and failed returns its result and an error wrapping ErrJobFailed.
type Jobs interface {
	RunJob(ctx context.Context, j Job) (JobResult, error)
}

// JobLister is optional: it lists a target's jobs still running, so a
// second job is refused while one runs.
type JobLister interface {
	RunningJobs(ctx context.Context, target string) ([]string, error)
}

// Backup is a taken backup.
type Backup struct {
	ID       string
	Location string
	Size     int64
	Checksum string
	Taken    time.Time
	Duration time.Duration
}

// Backups takes backups of a target's database.
type Backups interface {
	TakeBackup(ctx context.Context, target, database string) (Backup, error)
}

// Restorer is optional: a Backups provider that can also restore. A
// provider without it cannot make a rollback after a schema change safe.
type Restorer interface {
	// RestoreBackup restores b, which this provider took; an unknown
	// backup is an error wrapping ErrNotFound.
	RestoreBackup(ctx context.Context, target, database string, b Backup) error
}

// Feedback posts results where reviewers look.
type Feedback interface {
	// UpsertComment keeps one comment per pull request and marker: it
	// creates it, or updates the comment whose body holds marker.
	UpsertComment(ctx context.Context, pr int, marker, body string) error
	// SetStatus sets a commit status (state: pending, success, failure,
	// error).
	SetStatus(ctx context.Context, sha, state, context, description, url string) error
}

// Proposal is a one-file change proposed as a pull (or merge) request.
type Proposal struct {
	Base       string // commit the branch starts from (the checkout's)
	BaseBranch string // the request's base branch, e.g. main
	Branch     string // head branch; reset to Base on every proposal
	Path       string // file, relative to the repository root
	Old, New   []byte // the file at Base, and as proposed
	Message    string // commit message
	Title      string
	Body       string
}

// Proposed is the pull request a Proposal opened or updated.
type Proposed struct {
	Number  int
	URL     string
	Created bool // false: an open one was updated
}

// Proposer is optional: a Feedback provider that can propose a change
// to its repository (a publish's bump of a Target file).
type Proposer interface {
	// Propose opens or updates the pull request of p.Branch, which then
	// holds one commit writing p.New over p.Old on top of p.Base.
	Propose(ctx context.Context, p Proposal) (Proposed, error)
}

// Dispatcher is optional: a Feedback provider that can start its
// repository's workflows with an event (`launchplane request`).
type Dispatcher interface {
	// Dispatch sends one event of eventType carrying payload (a JSON
	// object) to the provider's repository.
	Dispatch(ctx context.Context, eventType string, payload json.RawMessage) error
}

// Is reports whether the fact b is known and equal to want.
func Is(b *bool, want bool) bool { return b != nil && *b == want }

// ErrNotReviewed is wrapped by PlanLookup.ReviewedComment when what a
// commit brings was never shown for review: the commit merged no pull or
// merge request, or the one it merged holds no plan comment written by
// the token's own identity. Callers refuse to apply (exit 3), never
// apply unbound.
var ErrNotReviewed = errors.New("not reviewed")

// Reviewed is the plan comment of the pull or merge request a commit
// merged, as PlanLookup found it.
type Reviewed struct {
	Change    int    // its number (GitLab: iid)
	ChangeRef string // "acme/platform#12", "group/project!12"
	// Body is the body of the first comment, oldest first, that the
	// token's own identity wrote and that holds the marker (HoldsMarker):
	// the comment UpsertComment keeps up to date.
	Body string
	// Ignored counts the comments read that carry the marker but do not
	// count (another author's, a system note, the marker quoted or in
	// code).
	Ignored int
}

// PlanLookup is optional: a Feedback provider that can find what a pull
// or merge request showed before it was merged, so an apply on the
// default branch binds to the plan reviewers saw.
type PlanLookup interface {
	// ReviewedComment finds the one pull or merge request that merged
	// commit sha (the CI job's commit on the default branch, CIJob.SHA)
	// and, on it, the comment that UpsertComment would update for
	// marker: written by the token's own identity, marker on a line of
	// its own outside quotes and code (HoldsMarker). Which requests count
	// as having merged sha is the forge's rule, documented by each
	// adapter; several that count is an error, never a pick. No request,
	// or no such comment on it, is an error wrapping ErrNotReviewed; an
	// API failure is an error that does not.
	ReviewedComment(ctx context.Context, sha, marker string) (Reviewed, error)
}

// FindMarked reads t page by page, as UpsertMarked does, until the first
// comment that counts (Own) and holds marker (HoldsMarker), and returns
// it; found is false when no page holds one. ignored counts the comments
// read that carry marker anywhere in their body but were passed over.
// Nothing is written.
func FindMarked(ctx context.Context, t Thread, marker string) (c Marked, found bool, ignored int, err error) {
	for page := int64(1); ; {
		list, next, err := t.Page(ctx, page)
		if err != nil {
			return Marked{}, false, ignored, err
		}
		for _, m := range list {
			if m.Own && HoldsMarker(m.Body, marker) {
				return m, true, ignored, nil
			}
			if strings.Contains(m.Body, marker) {
				ignored++
			}
		}
		if next == 0 {
			return Marked{}, false, ignored, nil
		}
		page = next
	}
}
