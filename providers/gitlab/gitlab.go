// Package gitlab posts plan notes on merge requests and commit statuses
// on GitLab (gitlab.com or self-managed), through GitLab's REST API v4
// called with net/http (client.go). It is the second implementation of
// the Feedback role, next to github, and reaches the binary only through
// the provider registry.
package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

const (
	// MaxNoteBody is the most characters a note body may hold (GitLab's
	// doc/api/notes.md: 1,000,000).
	MaxNoteBody = 1000000
	// DefaultAPIURL is the REST API base used when neither the config nor
	// the CI job's variables name one.
	DefaultAPIURL = "https://gitlab.com/api/v4"
	// TokenEnv is the variable the token is read from by default: a
	// project, group or personal access token. CI_JOB_TOKEN is never
	// used: GitLab's job token may not call the Notes API nor set commit
	// statuses (doc/ci/jobs/ci_job_token.md, "Job token access").
	TokenEnv = "GITLAB_TOKEN"
)

// Options configure a Provider built without a config file, as
// `launchplane plan --comment` does in GitLab CI.
type Options struct {
	// Name is the provider name errors carry (default "gitlab").
	Name string
	// Project is the numeric id or the path (group/project) of the
	// project (default $CI_PROJECT_ID).
	Project string
	// APIURL is the REST API v4 base (default $CI_API_V4_URL, else
	// $CI_SERVER_URL/api/v4, else https://gitlab.com/api/v4).
	APIURL string
	// Token is a personal, project or group access token with the api
	// scope, sent as PRIVATE-TOKEN. Required; New registers it with
	// Redactor.
	Token string
	// Ref and PipelineID, when set, attach commit statuses to that ref
	// and pipeline.
	Ref        string
	PipelineID int64
	// Redactor removes secrets from errors and from what is posted; nil
	// means a fresh one.
	Redactor *redact.Redactor
	// HTTPClient makes the calls; nil means one with Go's default
	// transport.
	HTTPClient *http.Client
}

// Provider is the GitLab feedback adapter: it keeps one note per merge
// request and marker, written by the token's own user, and sets commit
// statuses. Safe for concurrent use, but two concurrent UpsertComment
// calls for the same merge request and marker may both create a note.
type Provider struct {
	name       string
	project    string
	path       string // group/project, for messages; "" when unknown
	apiURL     string
	ref        string
	pipelineID int64
	red        *redact.Redactor
	hc         *http.Client
	token      func() (string, error)
	retryMax   int

	mu   sync.Mutex
	api  *rest // built on first use
	self int64 // the token's user id, 0 until read
}

// New builds a Provider from opts, reading the CI job's variables for
// the fields left empty. It does no I/O.
func New(opts Options) (*Provider, error) {
	name := firstOf(opts.Name, "gitlab")
	if opts.Token == "" {
		return nil, fmt.Errorf("gitlab: no token (set %s)", TokenEnv)
	}
	red := opts.Redactor
	if red == nil {
		red = redact.New()
	}
	red.Add(opts.Token)
	p := &Provider{
		name:       name,
		project:    firstOf(opts.Project, os.Getenv("CI_PROJECT_ID")),
		apiURL:     firstOf(opts.APIURL, apiURLFromEnv(os.Getenv)),
		ref:        opts.Ref,
		pipelineID: opts.PipelineID,
		red:        red,
		hc:         opts.HTTPClient,
		token:      func() (string, error) { return opts.Token, nil },
		retryMax:   3,
	}
	if p.project == "" {
		return nil, errors.New("gitlab: no project: set project in the provider or $CI_PROJECT_ID")
	}
	return p, nil
}

// apiURLFromEnv is GitLab CI's API base: $CI_API_V4_URL, else
// $CI_SERVER_URL/api/v4, else gitlab.com's.
func apiURLFromEnv(getenv func(string) string) string {
	if u := getenv("CI_API_V4_URL"); u != "" {
		return u
	}
	if u := getenv("CI_SERVER_URL"); u != "" {
		return strings.TrimSuffix(u, "/") + "/api/v4"
	}
	return DefaultAPIURL
}

// config is the spec.gitlab block of a Provider document.
type config struct {
	Project string               `json:"project"`
	APIURL  string               `json:"apiUrl"`
	Token   *providers.SecretRef `json:"token"`
}

// newProvider is the registered factory. It reads no secret: the token
// is resolved with cfg.Secret on the first call that needs it.
func newProvider(cfg providers.Config) (any, error) {
	var c config
	if len(cfg.Raw) > 0 {
		if err := json.Unmarshal(cfg.Raw, &c); err != nil {
			return nil, err
		}
	}
	ref := providers.SecretRef{FromEnv: TokenEnv}
	if c.Token != nil && (c.Token.FromEnv != "" || c.Token.FromFile != "") {
		ref = *c.Token
	}
	return &Provider{
		name:     cfg.Name,
		project:  firstOf(c.Project, os.Getenv("CI_PROJECT_ID")),
		apiURL:   firstOf(c.APIURL, apiURLFromEnv(os.Getenv)),
		red:      cfg.Redact(),
		token:    func() (string, error) { return cfg.Secret(ref) },
		retryMax: 3,
	}, nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// client returns the REST client, resolving the token on first use. A
// failure is not kept: the next call tries again.
func (p *Provider) client() (*rest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.api != nil {
		return p.api, nil
	}
	if p.project == "" {
		return nil, errors.New("no project: set project in the provider or $CI_PROJECT_ID")
	}
	token, err := p.token()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if token == "" {
		return nil, errors.New("token: empty")
	}
	p.red.Add(token)
	api, err := newREST(p.apiURL, token, p.project, p.hc, p.retryMax, p.red)
	if err != nil {
		return nil, err
	}
	p.api = api
	return api, nil
}

// me is the id of the token's user, read once.
func (p *Provider) me(ctx context.Context, api *rest) (int64, error) {
	p.mu.Lock()
	self := p.self
	p.mu.Unlock()
	if self != 0 {
		return self, nil
	}
	self, err := api.currentUser(ctx)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.self = self
	p.mu.Unlock()
	return self, nil
}

// fail is err as the provider's error for op, redacted.
func (p *Provider) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	return providers.Wrap(p.name, op, "", p.red.Error(err))
}

// UpsertComment keeps one note per merge request (iid) and marker.
//
// The body is redacted and, when it does not already hold marker, marker
// is put on a line of its own before it; a body still over MaxNoteBody
// characters is refused before any call.
//
// The notes are listed 100 a page, oldest first (sort=asc: GitLab's
// default is newest first), following X-Next-Page, until the first note
// that counts: written by the token's own user (GET /user), not a system
// note, and holding marker as providers.HoldsMarker says. That note is
// updated (PUT) unless its body is already body; later ones are left as
// they are. When no page holds one, a note is created (POST).
//
// Only the token's own notes count because GitLab lets a Maintainer edit
// anyone's note: a note another member wrote with the marker in it is
// never overwritten.
func (p *Provider) UpsertComment(ctx context.Context, iid int, marker, body string) error {
	const op = "comment"
	if err := ctx.Err(); err != nil {
		return p.fail(op, fmt.Errorf("note on merge request %d: %w", iid, err))
	}
	if iid <= 0 {
		return p.fail(op, fmt.Errorf("merge request iid %d: must be positive", iid))
	}
	if strings.TrimSpace(marker) == "" {
		return p.fail(op, errors.New("empty marker"))
	}
	// The client first: it registers the token with the redactor,
	// which the body then goes through.
	api, err := p.client()
	if err != nil {
		return p.fail(op, err)
	}
	body = providers.MarkBody(p.red.String(body), marker)
	if n := utf8.RuneCountInString(body); n > MaxNoteBody {
		return p.fail(op, fmt.Errorf("note body is %d characters, over GitLab's limit of %d", n, MaxNoteBody))
	}
	self, err := p.me(ctx, api)
	if err != nil {
		return p.fail(op, err)
	}
	return p.fail(op, providers.UpsertMarked(ctx, notes{api, iid, self}, marker, body))
}

// notes are a merge request's notes as providers.UpsertMarked sees
// them: a note counts when the token's user (self) wrote it and it is
// not a system note.
type notes struct {
	api  *rest
	iid  int
	self int64
}

func (t notes) Page(ctx context.Context, page int64) ([]providers.Marked, int64, error) {
	list, next, err := t.api.listNotes(ctx, t.iid, page)
	if err != nil {
		return nil, 0, err
	}
	if next != 0 && next <= page {
		return nil, 0, fmt.Errorf("list notes of %s!%d: X-Next-Page %d does not follow page %d", t.api.project, t.iid, next, page)
	}
	out := make([]providers.Marked, 0, len(list))
	for _, n := range list {
		out = append(out, providers.Marked{ID: n.ID, Body: n.Body, Own: !n.System && n.AuthorID == t.self})
	}
	return out, next, nil
}

func (t notes) Update(ctx context.Context, id int64, body string) error {
	return t.api.updateNote(ctx, t.iid, id, body)
}

func (t notes) Create(ctx context.Context, body string) error {
	return t.api.createNote(ctx, t.iid, body)
}

// states maps the Feedback role's states to GitLab's; GitLab's own
// (running, failed, canceled, skipped) pass as they are.
var states = map[string]string{
	"pending": "pending", "success": "success", "failure": "failed", "error": "failed",
	"running": "running", "failed": "failed", "canceled": "canceled", "skipped": "skipped",
}

// SetStatus sets a commit status on sha, named context_ (GitLab's name).
// state is one of the role's (pending, success, failure, error: failure
// and error are GitLab's failed) or GitLab's own; description and url
// are redacted.
func (p *Provider) SetStatus(ctx context.Context, sha, state, context_, description, url string) error {
	const op = "status"
	if err := ctx.Err(); err != nil {
		return p.fail(op, fmt.Errorf("status of %s: %w", sha, err))
	}
	st, ok := states[state]
	if !ok {
		return p.fail(op, fmt.Errorf("state %q: want pending, success, failure or error", state))
	}
	if strings.TrimSpace(sha) == "" {
		return p.fail(op, errors.New("empty commit sha"))
	}
	api, err := p.client()
	if err != nil {
		return p.fail(op, err)
	}
	return p.fail(op, api.setStatus(ctx, sha, st, context_, p.red.String(description), p.red.String(url), p.ref, p.pipelineID))
}

var _ providers.Feedback = (*Provider)(nil)
