package dokploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/redact"
)

// Defaults of the optional config fields.
const (
	DefaultTimeout        = 10 * time.Minute
	DefaultPollInterval   = 2 * time.Second
	DefaultComposeService = "app"
	DefaultBackupPrefix   = "launchplane"
)

// Keys Launchplane keeps in a service's environment next to the app's own.
const (
	// SecretKeysVar lists, comma-separated, the env keys whose values are
	// secret, so Observe can leave their values out.
	SecretKeysVar = "LAUNCHPLANE_SECRET_KEYS"
	// ImageVar carries the image of a compose service: its compose file
	// reads ${LAUNCHPLANE_IMAGE}.
	ImageVar = "LAUNCHPLANE_IMAGE"
)

// neverCron is a cron expression that never fires (30 February): the
// schedules and backup configs Launchplane creates only run on demand,
// and are disabled as well.
const neverCron = "0 0 30 2 *"

type config struct {
	URL             string              `json:"url"`
	APIKey          providers.SecretRef `json:"apiKey"`
	EnvironmentID   string              `json:"environmentId"`
	ServerID        string              `json:"serverId"`
	ServiceType     string              `json:"serviceType"`
	Timeout         string              `json:"timeout"`
	PollInterval    string              `json:"pollInterval"`
	ComposeService  string              `json:"composeService"`
	HTTPS           *bool               `json:"https"`
	CertificateType string              `json:"certificateType"`
	Registry        *struct {
		URL      string              `json:"url"`
		Username string              `json:"username"`
		Password providers.SecretRef `json:"password"`
	} `json:"registry"`
	Backup *backupConfig `json:"backup"`
}

type backupConfig struct {
	DestinationID   string `json:"destinationId"`
	DatabaseType    string `json:"databaseType"`
	DatabaseID      string `json:"databaseId"`
	ServiceName     string `json:"serviceName"`
	Prefix          string `json:"prefix"`
	KeepLatestCount int    `json:"keepLatestCount"`
	// Compose backups: Dokploy builds the dump command from these only.
	DatabaseUser     string               `json:"databaseUser"`
	DatabasePassword *providers.SecretRef `json:"databasePassword"`
}

// Provider is a Dokploy instance: one environment of it, whose
// applications (or compose services) it deploys, routes, runs jobs in and
// backs up.
type Provider struct {
	name    string
	cfg     providers.Config
	c       config
	red     *redact.Redactor
	kind    kind
	timeout time.Duration
	poll    time.Duration
	https   bool
	cert    string

	api  *httpapi.Client // ordinary calls
	long *httpapi.Client // synchronous runs: schedule.runManually, backup.manualBackup*

	mu  sync.Mutex
	key string

	openMu  sync.Mutex
	opened  bool   // the version and the key's role were checked
	version string // settings.getDokployVersion
}

var (
	_ providers.Deployer  = (*Provider)(nil)
	_ providers.Ingress   = (*Provider)(nil)
	_ providers.Jobs      = (*Provider)(nil)
	_ providers.JobLister = (*Provider)(nil)
	_ providers.Backups   = (*Provider)(nil)
)

func newProvider(cfg providers.Config) (any, error) {
	return New(cfg)
}

// New builds the adapter from its config block. It does no I/O and reads
// no secret: the API key is read on first use.
func New(cfg providers.Config) (*Provider, error) {
	var c config
	dec := json.NewDecoder(bytes.NewReader(cfg.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if c.URL == "" || c.EnvironmentID == "" || (c.APIKey.FromEnv == "" && c.APIKey.FromFile == "") {
		return nil, errors.New("config: url, apiKey and environmentId are required")
	}
	p := &Provider{name: cfg.Name, cfg: cfg, c: c, red: cfg.Redact(), kind: appKind,
		timeout: DefaultTimeout, poll: DefaultPollInterval, https: true, cert: "letsencrypt"}
	switch c.ServiceType {
	case "", "application":
	case "compose":
		p.kind = composeKind
	default:
		return nil, fmt.Errorf("config: serviceType %q is not application or compose", c.ServiceType)
	}
	var err error
	if p.timeout, err = duration("timeout", c.Timeout, DefaultTimeout); err != nil {
		return nil, err
	}
	if p.poll, err = duration("pollInterval", c.PollInterval, DefaultPollInterval); err != nil {
		return nil, err
	}
	if c.ComposeService == "" {
		p.c.ComposeService = DefaultComposeService
	}
	if c.HTTPS != nil {
		p.https = *c.HTTPS
	}
	if c.CertificateType != "" {
		p.cert = c.CertificateType
	}
	if !p.https {
		p.cert = "none"
	}
	if b := p.c.Backup; b != nil {
		if b.DatabaseType == "" {
			b.DatabaseType = "postgres"
		}
		if b.Prefix == "" {
			b.Prefix = DefaultBackupPrefix
		}
		b.Prefix = strings.Trim(b.Prefix, "/")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("config: url %q is not an http(s) URL", p.red.String(c.URL))
	}
	base := strings.TrimRight(c.URL, "/") + "/api"
	header := func(h http.Header) error {
		p.mu.Lock()
		key := p.key
		p.mu.Unlock()
		if key == "" {
			return errors.New("no API key")
		}
		h.Set("x-api-key", key)
		return nil
	}
	p.api = &httpapi.Client{Base: base, Redactor: p.red, Header: header}
	p.long = &httpapi.Client{Base: base, Redactor: p.red, Header: header, Timeout: p.timeout}
	return p, nil
}

func duration(field, s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: %s %q is not a positive duration", field, s)
	}
	return d, nil
}

// ready reads the API key on first use, then opens the provider once:
// it checks the Dokploy version and that the key sees every service.
func (p *Provider) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.readKey(); err != nil {
		return err
	}
	p.openMu.Lock()
	defer p.openMu.Unlock()
	if p.opened {
		return nil
	}
	if err := p.open(ctx); err != nil {
		return err
	}
	p.opened = true
	return nil
}

func (p *Provider) readKey() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != "" {
		return nil
	}
	key, err := p.cfg.Secret(p.c.APIKey)
	if err != nil {
		// Not "apiKey: …": the redactor masks what follows a secret-shaped key.
		return fmt.Errorf("cannot read the API key (apiKey, %s): %w", p.c.APIKey, err)
	}
	if key == "" {
		return fmt.Errorf("apiKey from %s is empty", p.c.APIKey)
	}
	p.red.Add(key)
	p.key = key
	return nil
}

// open probes the server: settings.getDokployVersion (the package
// version, apps/dokploy/server/api/routers/settings.ts) must be at least
// MinVersion, and user.get (the key's member row,
// apps/dokploy/server/api/routers/user.ts) must show an owner or admin:
// environment.one shows a member only the services granted to it
// (routers/environment.ts), so a lookup by name would miss the others and
// Launchplane would create duplicates.
func (p *Provider) open(ctx context.Context) error {
	var version string
	if err := p.get(ctx, "settings.getDokployVersion", nil, &version); err != nil {
		var pe *procedureError
		if errors.As(err, &pe) {
			return fmt.Errorf("dokploy at %s answers no version (settings.getDokployVersion 404): it is not Dokploy %s or newer", p.red.String(p.c.URL), MinVersion)
		}
		return err
	}
	if !validVersion(version) {
		return fmt.Errorf("settings.getDokployVersion: %q is not a Dokploy version", p.red.String(version))
	}
	if olderThan(version, MinVersion) {
		return fmt.Errorf("dokploy %s is older than %s, the oldest release Launchplane supports: upgrade Dokploy", version, MinVersion)
	}
	var member struct {
		Role string `json:"role"`
	}
	if err := p.get(ctx, "user.get", nil, &member); err != nil {
		return err
	}
	if member.Role != "owner" && member.Role != "admin" {
		return fmt.Errorf("the API key belongs to a member (role %s) of the organization, who sees only the services granted to it: Launchplane would not find the others and create duplicates; use the key of an owner or admin", member.Role)
	}
	p.version = version
	return nil
}

var versionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)([-+].*)?$`)

func validVersion(v string) bool { return versionRE.MatchString(v) }

// olderThan compares two release versions like v0.30.2 (a -canary or
// other suffix is ignored).
func olderThan(a, b string) bool {
	x, y := versionRE.FindStringSubmatch(a), versionRE.FindStringSubmatch(b)
	for i := 1; i <= 3; i++ {
		m, _ := strconv.Atoi(x[i])
		n, _ := strconv.Atoi(y[i])
		if m != n {
			return m < n
		}
	}
	return false
}

// procedureError is a 404 of a procedure the server does not have:
// @dokploy/trpc-openapi answers an unknown route (or a wrong method) with
// {"message":"Not found","code":"NOT_FOUND"}, while a missing object is
// "<Thing> not found". It does not unwrap to providers.ErrNotFound.
type procedureError struct{ msg string }

func (e *procedureError) Error() string { return e.msg }

// wrap makes err the provider's error for op on target, redacted.
func (p *Provider) wrap(op, target string, err error) error {
	if err == nil {
		return nil
	}
	return providers.Wrap(p.name, op, target, p.red.Error(err))
}

// apiError is a Dokploy refusal in words; it unwraps to the
// *providers.APIError (and so to ErrNotFound or ErrUnauthorized).
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// explain turns a failed call of proc into an error a user understands.
func (p *Provider) explain(proc string, err error) error {
	if err == nil {
		return nil
	}
	var ae *providers.APIError
	if !errors.As(err, &ae) {
		return err // transport and context errors name the call already
	}
	var body struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	_ = json.Unmarshal([]byte(ae.Body), &body)
	msg := strings.TrimSpace(httpapi.Message(ae.Body))
	if ae.Status == http.StatusNotFound && msg == "Not found" {
		return &procedureError{msg: fmt.Sprintf("%s: dokploy has no such procedure (404 Not found): is url a Dokploy %s or newer?", proc, MinVersion)}
	}
	if ae.Status == http.StatusUnauthorized && msg == "You don't have access to this service" {
		return &apiError{msg: fmt.Sprintf("%s: dokploy denied access to the service (401): the API key's user is not an owner or admin of the organization", proc), err: ae}
	}
	if ae.Status == http.StatusUnauthorized {
		if msg == "" || msg == "Unauthorized" {
			return &apiError{msg: "dokploy refused the API key (401 Unauthorized): check apiKey", err: ae}
		}
		return &apiError{msg: fmt.Sprintf("%s: dokploy denied access (401 Unauthorized): %s: check that apiKey belongs to the organization of environment %s",
			proc, msg, p.c.EnvironmentID), err: ae}
	}
	code := body.Code
	if code == "" {
		code = http.StatusText(ae.Status)
	}
	if msg == "" {
		return &apiError{msg: fmt.Sprintf("%s: dokploy answered %d %s", proc, ae.Status, code), err: ae}
	}
	return &apiError{msg: fmt.Sprintf("%s: dokploy answered %d %s: %s", proc, ae.Status, code, msg), err: ae}
}

// get calls a query procedure with flat query parameters.
func (p *Provider) get(ctx context.Context, proc string, q url.Values, out any) error {
	_, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: "/" + proc, Query: q}, out)
	return p.explain(proc, err)
}

// post calls a mutation procedure with a JSON body.
func (p *Provider) post(ctx context.Context, proc string, body, out any) error {
	_, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodPost, Path: "/" + proc, Body: body}, out)
	return p.explain(proc, err)
}

// postLong calls a synchronous, long-running mutation: it may take up to
// the provider's timeout.
func (p *Provider) postLong(ctx context.Context, proc string, body, out any) error {
	_, err := p.long.Do(ctx, httpapi.Request{Method: http.MethodPost, Path: "/" + proc, Body: body}, out)
	return p.explain(proc, err)
}

// kind is what differs between applications and compose services.
type kind struct {
	name        string // application | compose
	idKey       string // applicationId | composeId
	list        string // the array of environment.one holding them
	one         string
	create      string
	saveEnv     string
	deploy      string
	remove      string
	deployments string
	domains     string
}

var (
	appKind = kind{name: "application", idKey: "applicationId", list: "applications",
		one: "application.one", create: "application.create", saveEnv: "application.saveEnvironment",
		deploy: "application.deploy", remove: "application.delete", deployments: "deployment.all",
		domains: "domain.byApplicationId"}
	composeKind = kind{name: "compose", idKey: "composeId", list: "compose",
		one: "compose.one", create: "compose.create", saveEnv: "compose.saveEnvironment",
		deploy: "compose.deploy", remove: "compose.delete", deployments: "deployment.allByCompose",
		domains: "domain.byComposeId"}
)

// service is an application or compose service as application.one and
// compose.one return it (the fields Launchplane reads).
type service struct {
	BuildArgs     *string     `json:"buildArgs"`
	BuildSecrets  *string     `json:"buildSecrets"`
	CreateEnvFile *bool       `json:"createEnvFile"`
	ApplicationID string      `json:"applicationId"`
	ComposeID     string      `json:"composeId"`
	Name          string      `json:"name"`
	AppName       string      `json:"appName"`
	EnvironmentID string      `json:"environmentId"`
	Env           *string     `json:"env"`
	DockerImage   *string     `json:"dockerImage"`
	SourceType    string      `json:"sourceType"`
	ComposeFile   *string     `json:"composeFile"`
	Backups       []backupRow `json:"backups"`
}

func (s *service) id() string {
	if s.ApplicationID != "" {
		return s.ApplicationID
	}
	return s.ComposeID
}

func (s *service) env() string {
	if s.Env == nil {
		return ""
	}
	return *s.Env
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// one reads a service by id.
func (p *Provider) one(ctx context.Context, id string) (*service, error) {
	var s service
	if err := p.get(ctx, p.kind.one, url.Values{p.kind.idKey: {id}}, &s); err != nil {
		return nil, err
	}
	if s.id() == "" {
		return nil, fmt.Errorf("%s: answer without %s", p.kind.one, p.kind.idKey)
	}
	return &s, nil
}

// find returns the service of ref, or nil when there is none: by the
// recorded id first, ignored when stale (404), then by name in the
// environment.
func (p *Provider) find(ctx context.Context, ref providers.AppRef) (*service, error) {
	if ref.ID != "" {
		s, err := p.one(ctx, ref.ID)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, providers.ErrNotFound) {
			return nil, err
		}
	}
	name := ref.Name
	if name == "" {
		name = providers.ObjectName(ref.Target)
	}
	id, err := p.lookup(ctx, name)
	if err != nil || id == "" {
		return nil, err
	}
	s, err := p.one(ctx, id)
	if errors.Is(err, providers.ErrNotFound) {
		return nil, nil // removed since the environment was read
	}
	return s, err
}

// lookup finds the id of the service called name in the environment; ""
// when there is none.
func (p *Provider) lookup(ctx context.Context, name string) (string, error) {
	var env map[string]json.RawMessage
	if err := p.get(ctx, "environment.one", url.Values{"environmentId": {p.c.EnvironmentID}}, &env); err != nil {
		return "", err
	}
	var list []struct {
		ApplicationID string `json:"applicationId"`
		ComposeID     string `json:"composeId"`
		Name          string `json:"name"`
	}
	if raw, ok := env[p.kind.list]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", fmt.Errorf("environment.one: %s: %w", p.kind.list, err)
		}
	}
	var ids []string
	for _, s := range list {
		if s.Name == name {
			ids = append(ids, s.ApplicationID+s.ComposeID)
		}
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("%d %s services named %q in environment %s (%s): remove the extra ones", len(ids), p.kind.name, name,
		p.c.EnvironmentID, strings.Join(ids, ", "))
}

// create makes the service called name in the environment.
func (p *Provider) create(ctx context.Context, name, target string) (*service, error) {
	body := map[string]any{"name": name, "appName": appNameOf(name), "environmentId": p.c.EnvironmentID,
		"description": "managed by Launchplane for " + target}
	if p.c.ServerID != "" {
		body["serverId"] = p.c.ServerID
	}
	if p.kind.name == "compose" {
		// raw from the start (apiCreateCompose picks sourceType): a
		// service left with the default github would be refused.
		body["composeType"] = "docker-compose"
		body["composeFile"] = p.composeFile()
		body["sourceType"] = "raw"
	}
	var s service
	if err := p.post(ctx, p.kind.create, body, &s); err != nil {
		return nil, err
	}
	id := s.id()
	if id == "" { // an answer without the row: find it
		var err error
		if id, err = p.lookup(ctx, name); err != nil {
			return nil, err
		}
		if id == "" {
			return nil, fmt.Errorf("%s: %s %q created but not found in environment %s", p.kind.create, p.kind.name, name, p.c.EnvironmentID)
		}
	}
	return p.one(ctx, id)
}

var notAppName = regexp.MustCompile(`[^a-z0-9._-]+`)

// appNameOf is a valid appName for a service called name: Dokploy allows
// only [a-zA-Z0-9._-], at most 63 characters, and appends "-" and 6
// random characters itself (APP_NAME_REGEX and buildAppName in
// packages/server/src/db/schema/utils.ts).
func appNameOf(name string) string {
	s := strings.Trim(notAppName.ReplaceAllString(strings.ToLower(name), "-"), "-.")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-.")
	}
	if s == "" {
		s = "app"
	}
	return s
}

// composeFile is the file of a compose service Launchplane creates.
func (p *Provider) composeFile() string {
	return fmt.Sprintf(`# Managed by Launchplane: the image is ${%[1]s} and the app's
# environment the .env file, both from this service's environment.
services:
  %[2]s:
    image: ${%[1]s:?set by launchplane}
    restart: unless-stopped
    env_file:
      - .env
`, ImageVar, p.c.ComposeService)
}

// nonce is a short random string that makes a deployment title unique.
func nonce() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logTail shortens a log to its last lines, on one line.
func logTail(log string, lines, limit int) string {
	var kept []string
	for _, l := range strings.Split(log, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	if len(kept) > lines {
		kept = kept[len(kept)-lines:]
	}
	s := strings.Join(kept, " | ")
	if len(s) > limit {
		i := len(s) - limit
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		s = "…" + s[i:]
	}
	return s
}

// logs reads the last n lines of a deployment's (or run's) log, redacted.
func (p *Provider) logs(ctx context.Context, deploymentID string, n int) (string, error) {
	resp, err := p.api.Raw(ctx, httpapi.Request{Method: http.MethodGet, Path: "/deployment.readLogs",
		Query: url.Values{"deploymentId": {deploymentID}, "tail": {fmt.Sprint(n)}}})
	if err != nil {
		return "", p.explain("deployment.readLogs", err)
	}
	var s string
	if json.Unmarshal(resp.Body, &s) != nil {
		s = string(resp.Body)
	}
	return p.red.String(s), nil
}

// MinVersion is the oldest Dokploy release the adapter works with:
// schedule.runManually answers {status, deploymentId} from v0.29.14
// (true before), deployment.readLogs exists from v0.29.6 and the
// environment router from v0.25.0.
const MinVersion = "v0.29.14"
