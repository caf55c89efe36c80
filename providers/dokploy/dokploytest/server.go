// Package dokploytest is an in-process stand-in for the Dokploy API, for
// tests of the Dokploy adapter and of the CLI. It follows the documented
// API (PROVIDER-APIS.md §1) for every endpoint the adapter uses:
//
//   - procedures at /api/<router>.<procedure>; queries are GET with flat
//     query parameters, mutations POST with a JSON body; results are
//     returned raw, without a tRPC envelope;
//   - the key in the x-api-key header, else 401 {"message":"Unauthorized"};
//   - errors as {message, code} with the tRPC code of the HTTP status;
//   - deploys only enqueue: application.deploy answers an empty body and
//     compose.deploy {success, message, composeId}, and no deployment id;
//     deployment lists are newest first, rows matched by their title;
//   - schedule.runManually and backup.manualBackup* are synchronous.
//
// It follows Dokploy's own source (Dokploy/dokploy at v0.30.2-51, commit
// 772b768) where the documentation is silent; each handler names the file
// it follows. SetVersion makes it answer as an older release does, and
// SetMember as the key of an organization member that is not an admin.
//
// The deployment queue is deterministic, with no timing: a queued deploy
// advances one step each time the deployment list of its service is read,
// as a client waiting for it does. The first read after the deploy
// creates its row with status running, the next one finishes it (done, or
// the status a fault asked for). So a client sees its deploy finish only
// by polling, and never on the deploy's answer. HoldDeploys freezes the
// queue, Drain runs it to the end.
//
// Faults and inspection are plain exported methods taking strings and
// ints, so a testscript command can drive them. Every fault is one-shot:
// it applies to the next matching call only.
package dokploytest

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/launchplane/launchplane/providers/dokploy/internal/dotenv"
)

// Version is the Dokploy release the server answers as by default.
const Version = "v0.30.2"

// Objects the server starts with.
const (
	ProjectID     = "proj-test"
	EnvironmentID = "env-test"      // environment of the services
	DestinationID = "dest-test"     // S3 destination for backups
	PostgresID    = "pg-test"       // a postgres database service
	PostgresApp   = "postgres-test" // its appName
)

// Service is an application or a compose service.
type Service struct {
	Kind          string // "application" or "compose"
	ID            string // applicationId or composeId
	Name          string
	AppName       string
	EnvironmentID string
	ServerID      string
	Description   string
	Env           string // as saved: KEY=value lines
	// Application: the docker provider.
	DockerImage      string
	RegistryUsername string
	RegistryURL      string
	registryPassword string
	// Compose: the file and its source.
	ComposeFile string
	ComposeType string
	SourceType  string
	Status      string // applicationStatus or composeStatus: idle, running, done, error
	CreatedAt   time.Time
	// Application: fields saveEnvironment sets next to env.
	BuildArgs     string
	BuildSecrets  string
	CreateEnvFile bool
}

// Deployment is a row of Dokploy's deployment table.
type Deployment struct {
	ID           string
	Title        string
	Description  string
	Status       string // running, done, error, cancelled, or "" (a fault)
	ServiceID    string // applicationId or composeId, "" for schedule and backup runs
	ScheduleID   string
	BackupID     string
	ErrorMessage string
	Log          []string
	CreatedAt    time.Time
}

// Domain is a domain of a service.
type Domain struct {
	ID              string
	Host            string
	Path            string
	Port            int
	HTTPS           bool
	CertificateType string
	ServiceID       string // applicationId or composeId
	ServiceName     string // compose service
	DomainType      string
}

// Schedule is a scheduled command of a service.
type Schedule struct {
	ID             string
	Name           string
	CronExpression string
	Command        string
	ShellType      string
	ScheduleType   string
	ServiceID      string
	ServiceName    string
	Enabled        bool
}

// Database is a database service (postgres, mysql, mariadb, mongo).
type Database struct {
	Type          string
	ID            string
	Name          string
	AppName       string
	EnvironmentID string
}

// BackupConfig is a backup configuration (backup.create).
type BackupConfig struct {
	ID              string
	Schedule        string
	Prefix          string
	DestinationID   string
	Database        string
	DatabaseType    string
	BackupType      string // database or compose
	DatabaseID      string // postgresId, mysqlId… (backupType database)
	ComposeID       string // backupType compose
	ServiceName     string
	Enabled         bool
	KeepLatestCount int
	// Metadata is backup.metadata (compose backups), e.g.
	// {"postgres": {"databaseUser": "odoo"}}.
	Metadata map[string]any
}

// File is a file in a backup destination.
type File struct {
	Path string
	Size int64
	MD5  string
}

type deployJob struct {
	serviceID, title, description string
	row                           *Deployment // nil until the first step
	status                        string      // how it ends
}

type fault struct {
	service, status, log string // next deploy or run of service ("" any)
}

type httpFault struct {
	status  int
	message string
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL; the API is under URL + "/api".
	URL string
	srv *httptest.Server

	mu           sync.Mutex
	apiKey       string
	version      string          // settings.getDokployVersion
	role         string          // of the key's member: owner, admin or member
	accessed     map[string]bool // a member's accessedServices
	seq          int
	clock        time.Time
	environments map[string]string // id -> name
	destinations map[string]string
	services     map[string]*Service
	deployments  []*Deployment
	domains      map[string]*Domain
	schedules    map[string]*Schedule
	databases    map[string]*Database
	backups      map[string]*BackupConfig
	files        map[string][]File // by destination
	calls        []string

	queue []*deployJob
	held  bool

	deployFaults []fault
	runFaults    []fault
	envDrops     []fault // service, key in log
	httpFaults   map[string][]httpFault
	pollWaiters  []*pollWaiter
}

type pollWaiter struct {
	service string // name
	left    int
	ch      chan struct{}
}

// New starts a server that accepts apiKey. It holds ProjectID with
// EnvironmentID, the backup destination DestinationID and the postgres
// service PostgresID; everything else starts empty.
func New(apiKey string) *Server {
	s := &Server{
		apiKey:       apiKey,
		version:      Version,
		role:         "owner",
		accessed:     map[string]bool{},
		clock:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		environments: map[string]string{EnvironmentID: "test"},
		destinations: map[string]string{DestinationID: "test-bucket"},
		services:     map[string]*Service{},
		domains:      map[string]*Domain{},
		schedules:    map[string]*Schedule{},
		databases:    map[string]*Database{PostgresID: {Type: "postgres", ID: PostgresID, Name: "postgres", AppName: PostgresApp, EnvironmentID: EnvironmentID}},
		backups:      map[string]*BackupConfig{},
		files:        map[string][]File{},
		httpFaults:   map[string][]httpFault{},
	}
	s.srv = httptest.NewServer(s.handler())
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.srv.Close()
}

// SetAPIKey changes the accepted API key.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// SetVersion makes the server answer as Dokploy version v (e.g.
// "v0.29.5"): procedures newer than v answer 404, and
// schedule.runManually answers true before v0.29.14.
func (s *Server) SetVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

// SetMember gives the API key's user role ("owner", "admin" or
// "member") in the organization. A member sees, in environment.one, only
// the services granted to it (Grant) or created with its key, and is
// refused others with 401 (apps/dokploy/server/api/routers/environment.ts,
// packages/server/src/services/permission.ts).
func (s *Server) SetMember(role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.role = role
}

// Grant gives a member access to the named service.
func (s *Server) Grant(service string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.byName(service); svc != nil {
		s.accessed[svc.ID] = true
	}
}

// SetBuildArgs sets the build args and secrets of the named application
// and its createEnvFile, as a user editing them in Dokploy would.
func (s *Server) SetBuildArgs(service, args, secrets string, createEnvFile bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.byName(service); svc != nil {
		svc.BuildArgs, svc.BuildSecrets, svc.CreateEnvFile = args, secrets, createEnvFile
	}
}

// SetSourceType sets the source of the named compose service (github,
// git, raw…), as a user would in Dokploy.
func (s *Server) SetSourceType(service, sourceType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.byName(service); svc != nil {
		svc.SourceType = sourceType
	}
}

// admin reports whether the key's user sees every service; the caller
// holds mu.
func (s *Server) admin() bool { return s.role == "owner" || s.role == "admin" }

// nextID returns a new id with prefix; the caller holds mu.
func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%d", prefix, s.seq)
}

// now advances the logical clock by a second, so rows are strictly
// ordered; the caller holds mu.
func (s *Server) now() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

// AddEnvironment adds an environment and returns its id.
func (s *Server) AddEnvironment(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("env")
	s.environments[id] = name
	return id
}

// AddDestination adds a backup destination and returns its id.
func (s *Server) AddDestination(bucket string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("dest")
	s.destinations[id] = bucket
	return id
}

// AddDatabase adds a database service of dbType (postgres, mysql, mariadb,
// mongo) to EnvironmentID and returns its id.
func (s *Server) AddDatabase(dbType, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID(dbType)
	s.databases[id] = &Database{Type: dbType, ID: id, Name: name, AppName: name + "-" + fmt.Sprintf("%06x", s.seq), EnvironmentID: EnvironmentID}
	return id
}

// AddService creates a service behind Launchplane's back (kind
// "application" or "compose") in environment envID and returns its id.
func (s *Server) AddService(kind, envID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addService(kind, envID, name, name, "").ID
}

func (s *Server) addService(kind, envID, name, appName, serverID string) *Service {
	prefix := "app"
	status := "idle"
	if kind == "compose" {
		prefix = "compose"
	}
	id := s.nextID(prefix)
	if appName == "" {
		appName = prefix // Dokploy generates app-… or compose-…
	}
	svc := &Service{Kind: kind, ID: id, Name: name, EnvironmentID: envID, ServerID: serverID, Status: status,
		AppName: appName + "-" + fmt.Sprintf("%06x", s.seq), CreatedAt: s.now()}
	if kind == "compose" {
		svc.ComposeType = "docker-compose"
		svc.SourceType = "github"
	}
	s.services[id] = svc
	return svc
}

// SetComposeFile gives the named compose service an inline (raw) compose
// file, as a user editing it in Dokploy would.
func (s *Server) SetComposeFile(service, file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.byName(service); svc != nil {
		svc.ComposeFile, svc.SourceType = file, "raw"
	}
}

// AddDeployment adds a deployment row to the named service, as if Dokploy
// had run a deploy; it returns the row's id.
func (s *Server) AddDeployment(service, title, description, status string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.byName(service)
	if svc == nil {
		return ""
	}
	d := &Deployment{ID: s.nextID("deployment"), Title: title, Description: description, Status: status, ServiceID: svc.ID, CreatedAt: s.now()}
	s.deployments = append(s.deployments, d)
	return d.ID
}

// AddScheduleRun adds a run of the named schedule of the named service
// with status (e.g. running) and returns the run's deployment id.
func (s *Server) AddScheduleRun(service, schedule, status string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.byName(service)
	if svc == nil {
		return ""
	}
	for _, sc := range s.schedules {
		if sc.ServiceID == svc.ID && sc.Name == schedule {
			d := &Deployment{ID: s.nextID("deployment"), Title: sc.Name, Status: status, ScheduleID: sc.ID, CreatedAt: s.now()}
			s.deployments = append(s.deployments, d)
			return d.ID
		}
	}
	return ""
}

// FailNextDeploy makes the next deploy of the named service ("" any) end
// with status: "error" or "cancelled" (logLine is written to its log), or
// "running" or "" (its row is created with that status and keeps it).
func (s *Server) FailNextDeploy(service, status, logLine string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deployFaults = append(s.deployFaults, fault{service: service, status: status, log: logLine})
}

// FailNextRun makes the next schedule run of the named service ("" any)
// end with status error, logLine in its log.
func (s *Server) FailNextRun(service, logLine string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runFaults = append(s.runFaults, fault{service: service, status: "error", log: logLine})
}

// DropNextEnvKey makes the next saveEnvironment of the named service (""
// any) silently drop key: it answers true but does not store it.
func (s *Server) DropNextEnvKey(service, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envDrops = append(s.envDrops, fault{service: service, log: key})
}

// FailNext makes the next call of endpoint (e.g. "application.one") answer
// HTTP status with {message, code}.
func (s *Server) FailNext(endpoint string, status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.httpFaults[endpoint] = append(s.httpFaults[endpoint], httpFault{status: status, message: message})
}

// FailNextAfter lets skip calls of endpoint pass, then makes the next one
// answer HTTP status with {message, code}.
func (s *Server) FailNextAfter(endpoint string, skip, status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range skip {
		s.httpFaults[endpoint] = append(s.httpFaults[endpoint], httpFault{})
	}
	s.httpFaults[endpoint] = append(s.httpFaults[endpoint], httpFault{status: status, message: message})
}

// ClearBackupMetadata removes the metadata of backup configuration id, as
// a configuration made without it has none.
func (s *Server) ClearBackupMetadata(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.backups[id]; b != nil {
		b.Metadata = nil
	}
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deployFaults, s.runFaults, s.envDrops = nil, nil, nil
	s.httpFaults = map[string][]httpFault{}
}

// HoldDeploys freezes the deployment queue: deploys stay queued, with no
// deployment row, until ReleaseDeploys or Drain.
func (s *Server) HoldDeploys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = true
}

// ReleaseDeploys lets queued deploys advance again when polled.
func (s *Server) ReleaseDeploys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
}

// Drain runs every queued deploy to its end, held or not.
func (s *Server) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 {
		s.advance("", true)
	}
}

// Queued returns how many deploys wait in the queue.
func (s *Server) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Polled returns a channel closed once the deployment list of the named
// service (which may not exist yet) has been read n more times.
func (s *Server) Polled(service string, n int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.pollWaiters = append(s.pollWaiters, &pollWaiter{service: service, left: n, ch: ch})
	return ch
}

// polled counts a read of svc's deployments; the caller holds mu.
func (s *Server) polled(svc *Service) {
	kept := s.pollWaiters[:0]
	for _, w := range s.pollWaiters {
		if w.service == svc.Name {
			w.left--
			if w.left <= 0 {
				close(w.ch)
				continue
			}
		}
		kept = append(kept, w)
	}
	s.pollWaiters = kept
}

// advance moves the first queued deploy of serviceID ("" every service)
// one step: the first step creates its row, the second finishes it. The
// caller holds mu.
func (s *Server) advance(serviceID string, force bool) {
	if s.held && !force {
		return
	}
	busy := map[string]bool{} // Dokploy deploys one service at a time
	kept := s.queue[:0]
	for _, j := range s.queue {
		if busy[j.serviceID] || (serviceID != "" && j.serviceID != serviceID) {
			kept = append(kept, j)
			continue
		}
		busy[j.serviceID] = true
		if s.step(j) {
			kept = append(kept, j)
		}
	}
	s.queue = kept
}

// step advances j; it reports whether j stays queued. The caller holds mu.
func (s *Server) step(j *deployJob) bool {
	svc := s.services[j.serviceID]
	if svc == nil {
		return false // deleted while queued
	}
	if j.row == nil {
		title := j.title
		if title == "" {
			title = "Manual deployment"
		}
		j.status = "done"
		var line string
		for i, f := range s.deployFaults {
			if f.service == "" || f.service == svc.Name {
				s.deployFaults = append(s.deployFaults[:i:i], s.deployFaults[i+1:]...)
				j.status, line = f.status, f.log
				break
			}
		}
		what := svc.DockerImage
		if svc.Kind == "compose" {
			what = "compose project " + svc.AppName
		}
		j.row = &Deployment{ID: s.nextID("deployment"), Title: title, Description: j.description, Status: "running",
			ServiceID: svc.ID, CreatedAt: s.now(), Log: []string{"Deploying " + what}}
		if line != "" {
			j.row.Log = append(j.row.Log, line)
		}
		s.deployments = append(s.deployments, j.row)
		svc.Status = "running"
		// The deploy expands ${{project.X}}, ${{environment.X}} and
		// ${{X}} in the env and throws on an unknown reference
		// (prepareEnvironmentVariables in
		// packages/server/src/utils/docker/utils.ts).
		if ref := unknownReference(svc.Env); ref != "" && j.status == "done" {
			j.status = "error"
			j.row.Log = append(j.row.Log, "Error: Invalid service environment variable: "+ref)
		}
		if j.status == "" || j.status == "running" {
			j.row.Status = j.status // stuck: it stays so
			return false
		}
		return true
	}
	d := j.row
	switch j.status {
	case "done":
		d.Log = append(d.Log, "Done ✅")
		svc.Status = "done"
	case "error":
		d.Log = append(d.Log, "Error occurred ❌, check the logs for details.")
		d.ErrorMessage = "Error building"
		svc.Status = "error"
	case "cancelled":
		d.Log = append(d.Log, "Deployment cancelled")
		svc.Status = "idle"
	}
	d.Status = j.status
	// For a compose service whose file comes from git, Dokploy renames
	// the row to the commit after it ran (the finally block of
	// deployCompose in packages/server/src/services/compose.ts).
	if svc.Kind == "compose" && svc.SourceType != "raw" {
		d.Title, d.Description = "Update compose.yaml", "Commit: 3f2c1a9d"
	}
	return false
}

var reference = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// unknownReference returns the first ${{…}} reference of env that the
// service's own variables do not define (the stand-in has no project or
// environment variables), or "".
func unknownReference(env string) string {
	vars := dotenv.Parse(env)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, m := range reference.FindAllStringSubmatch(vars[k], -1) {
			if _, ok := vars[m[1]]; !ok {
				return m[1]
			}
		}
	}
	return ""
}

// byName finds a service by name; the caller holds mu.
func (s *Server) byName(name string) *Service {
	var best *Service
	for _, svc := range s.services {
		if svc.Name == name && (best == nil || svc.CreatedAt.Before(best.CreatedAt)) {
			best = svc
		}
	}
	return best
}

// Service returns the named service (the oldest of that name).
func (s *Server) Service(name string) (Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.byName(name)
	if svc == nil {
		return Service{}, false
	}
	return *svc, true
}

// Services returns every service, sorted by creation.
func (s *Server) Services() []Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Service, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, *svc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// ofService calls read on the named service with mu held; the zero
// value when there is no such service.
func ofService[T any](s *Server, service string, read func(svc *Service) T) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.byName(service)
	if svc == nil {
		var zero T
		return zero
	}
	return read(svc)
}

// copies copies the rows that keep selects (nil: all), in order.
func copies[T any](rows []*T, keep func(*T) bool) []T {
	var out []T
	for _, r := range rows {
		if keep == nil || keep(r) {
			out = append(out, *r)
		}
	}
	return out
}

// Env returns the named service's environment, parsed.
func (s *Server) Env(service string) map[string]string {
	return ofService(s, service, func(svc *Service) map[string]string { return dotenv.Parse(svc.Env) })
}

// Deployments returns the deployments of the named service, newest first.
func (s *Server) Deployments(service string) []Deployment {
	return ofService(s, service, func(svc *Service) []Deployment {
		return copies(s.deploymentsOf(func(d *Deployment) bool { return d.ServiceID == svc.ID }), nil)
	})
}

// deploymentsOf returns matching rows newest first; the caller holds mu.
func (s *Server) deploymentsOf(match func(*Deployment) bool) []*Deployment {
	var out []*Deployment
	for _, d := range s.deployments {
		if match(d) {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
}

// Domains returns the domains of the named service, sorted by host.
func (s *Server) Domains(service string) []Domain {
	return ofService(s, service, func(svc *Service) []Domain {
		out := copies(slices.Collect(maps.Values(s.domains)), func(d *Domain) bool { return d.ServiceID == svc.ID })
		slices.SortFunc(out, func(a, b Domain) int { return strings.Compare(a.Host, b.Host) })
		return out
	})
}

// Schedules returns the schedules of the named service, sorted by name.
func (s *Server) Schedules(service string) []Schedule {
	return ofService(s, service, func(svc *Service) []Schedule {
		out := copies(slices.Collect(maps.Values(s.schedules)), func(sc *Schedule) bool { return sc.ServiceID == svc.ID })
		slices.SortFunc(out, func(a, b Schedule) int { return strings.Compare(a.Name, b.Name) })
		return out
	})
}

// ScheduleRuns returns the runs (deployment rows) of the named schedule of
// the named service, newest first.
func (s *Server) ScheduleRuns(service, schedule string) []Deployment {
	return ofService(s, service, func(svc *Service) []Deployment {
		var out []Deployment
		for _, sc := range s.schedules {
			if sc.ServiceID == svc.ID && sc.Name == schedule {
				out = append(out, copies(s.deploymentsOf(func(d *Deployment) bool { return d.ScheduleID == sc.ID }), nil)...)
			}
		}
		return out
	})
}

// BackupConfigs returns every backup configuration, sorted by id.
func (s *Server) BackupConfigs() []BackupConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []BackupConfig
	for _, b := range s.backups {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Files returns the files of a backup destination, sorted by path.
func (s *Server) Files(destinationID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]File(nil), s.files[destinationID]...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Calls returns every call so far as "METHOD procedure", in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Count returns how many times procedure was called.
func (s *Server) Count(procedure string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.HasSuffix(c, " "+procedure) {
			n++
		}
	}
	return n
}

// backupFile writes a new backup file for b and returns it; the caller
// holds mu.
func (s *Server) backupFile(b *BackupConfig, dir string) File {
	ts := s.now().Format("2006-01-02T15-04-05.000Z")
	ext := "sql.gz"
	if b.DatabaseType == "mongo" {
		ext = "bson.gz"
	}
	prefix := strings.Trim(b.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	p := dir + "/" + prefix + ts + "." + ext
	sum := md5.Sum([]byte(p))
	f := File{Path: p, Size: int64(1000 + s.seq), MD5: hex.EncodeToString(sum[:])}
	s.files[b.DestinationID] = append(s.files[b.DestinationID], f)
	return f
}
