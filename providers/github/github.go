package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// Limits GitHub enforces, checked before any call.
const (
	// MaxCommentBody is the most characters a comment body may hold;
	// GitHub answers 422 "body is too long" beyond it.
	MaxCommentBody = 65536
	// MaxStatusDescription is the most characters of a commit status
	// description; SetStatus cuts longer ones.
	MaxStatusDescription = 140
	// DefaultAPIURL is the REST API base used when neither the config nor
	// $GITHUB_API_URL names one.
	DefaultAPIURL = "https://api.github.com"
)

// AuthorEnv names the env var that says which login the token comments
// as, for an installation token other than an Actions GITHUB_TOKEN (a
// GitHub App's: "<app-slug>[bot]").
const AuthorEnv = "LAUNCHPLANE_GITHUB_AUTHOR"

// ActionsLogin is the login of the comments an Actions GITHUB_TOKEN
// writes: the GitHub Actions app's bot.
const ActionsLogin = "github-actions[bot]"

// States are the commit status states GitHub accepts.
var States = []string{"pending", "success", "failure", "error"}

// Options configure a Provider built without a config file, as
// `launchplane plan --comment` does in GitHub Actions.
type Options struct {
	// Name is the provider name errors carry (default "github").
	Name string
	// Repository is owner/name (default $GITHUB_REPOSITORY).
	Repository string
	// APIURL is the REST API base (default $GITHUB_API_URL, else
	// https://api.github.com); for GitHub Enterprise Server it ends in
	// /api/v3.
	APIURL string
	// Token authenticates every call (Authorization: Bearer). Required.
	// New registers it with Redactor.
	Token string
	// Author is the login the token comments as; UpsertComment counts
	// only that login's comments, so another user's comment carrying the
	// marker is never taken for Launchplane's. Empty: $LAUNCHPLANE_GITHUB_AUTHOR,
	// else found from the token (see Provider.identity).
	Author string
	// Redactor removes secrets from errors and from what is posted; nil
	// means a fresh one.
	Redactor *redact.Redactor
	// HTTPClient makes the calls; nil means a client without a timeout
	// of its own (each call is bounded by its context, 30s at most).
	HTTPClient *http.Client
}

// Provider is the GitHub feedback adapter: it keeps one comment per pull
// request and marker, and sets commit statuses. It is safe for
// concurrent use, but two concurrent UpsertComment calls for the same
// pull request and marker may both create a comment.
type Provider struct {
	name       string
	repository string // owner/name, checked on first use
	apiURL     string
	author     string // configured identity; empty: found from the token
	red        *redact.Redactor
	hc         *http.Client
	token      func() (string, error)

	// retryBackoff, when non-zero, replaces the first wait between tries
	// of a read (tests).
	retryBackoff time.Duration

	mu   sync.Mutex
	api  *rest  // built on first use
	self string // the token's login, found on first use
}

// New builds a Provider from opts. It reads $GITHUB_REPOSITORY and
// $GITHUB_API_URL for the fields left empty, and does no I/O.
func New(opts Options) (*Provider, error) {
	name := opts.Name
	if name == "" {
		name = "github"
	}
	if opts.Token == "" {
		return nil, errors.New("github: no token (set GITHUB_TOKEN)")
	}
	red := opts.Redactor
	if red == nil {
		red = redact.New()
	}
	red.Add(opts.Token)
	p := &Provider{
		name:       name,
		repository: firstOf(opts.Repository, os.Getenv("GITHUB_REPOSITORY")),
		apiURL:     firstOf(opts.APIURL, os.Getenv("GITHUB_API_URL"), DefaultAPIURL),
		author:     firstOf(opts.Author, os.Getenv(AuthorEnv)),
		red:        red,
		hc:         opts.HTTPClient,
		token:      func() (string, error) { return opts.Token, nil },
	}
	if _, _, err := splitRepository(p.repository); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return p, nil
}

// config is the spec.github block of a Provider document.
type config struct {
	Repository string               `json:"repository"`
	APIURL     string               `json:"apiUrl"`
	Token      *providers.SecretRef `json:"token"`
	Author     string               `json:"author"`
}

// newProvider is the registered factory. It reads no secret: the token
// is resolved with cfg.Secret on the first call that needs it, and a
// missing repository is reported then too, so a plan without --refresh
// never needs either.
func newProvider(cfg providers.Config) (any, error) {
	var c config
	if len(cfg.Raw) > 0 {
		if err := json.Unmarshal(cfg.Raw, &c); err != nil {
			return nil, err
		}
	}
	// The schema refuses a malformed repository in a Provider document;
	// one given by a command (a request's --to) is checked here, before
	// anything is sent.
	if c.Repository != "" {
		if _, _, err := splitRepository(c.Repository); err != nil {
			return nil, err
		}
	}
	ref := providers.SecretRef{FromEnv: "GITHUB_TOKEN"}
	if c.Token != nil && (c.Token.FromEnv != "" || c.Token.FromFile != "") {
		ref = *c.Token
	}
	return &Provider{
		name:       cfg.Name,
		repository: firstOf(c.Repository, os.Getenv("GITHUB_REPOSITORY")),
		apiURL:     firstOf(c.APIURL, os.Getenv("GITHUB_API_URL"), DefaultAPIURL),
		author:     firstOf(c.Author, os.Getenv(AuthorEnv)),
		red:        cfg.Redact(),
		token:      func() (string, error) { return cfg.Secret(ref) },
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

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

func splitRepository(s string) (owner, repo string, err error) {
	if s == "" {
		return "", "", errors.New("no repository: set repository in the provider or $GITHUB_REPOSITORY")
	}
	if !repoPattern.MatchString(s) {
		return "", "", fmt.Errorf("repository %q is not owner/name", s)
	}
	owner, repo, _ = strings.Cut(s, "/")
	return owner, repo, nil
}

// client returns the REST client, resolving the token and building the
// client on first use. A failure is not kept: the next call tries again.
func (p *Provider) client() (*rest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.api != nil {
		return p.api, nil
	}
	owner, repo, err := splitRepository(p.repository)
	if err != nil {
		return nil, err
	}
	token, err := p.token()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if token == "" {
		return nil, errors.New("token: empty")
	}
	p.red.Add(token)
	api, err := newREST(p.apiURL, token, owner, repo, p.hc, p.red)
	if err != nil {
		return nil, err
	}
	if p.retryBackoff > 0 {
		api.backoff = p.retryBackoff
	}
	p.api = api
	return api, nil
}

// identity returns the login the token comments as, found once:
//
//   - the configured one (Options.Author, the provider's author, or
//     $LAUNCHPLANE_GITHUB_AUTHOR), as is;
//   - else GET /user's login, for a user's token (classic or
//     fine-grained personal access token);
//   - else, when GET /user answers 403 "Resource not accessible by
//     integration" (an installation token) inside GitHub Actions
//     ($GITHUB_ACTIONS=true), ActionsLogin: GitHub documents the
//     workflow's GITHUB_TOKEN as an installation access token of the
//     GitHub Actions app, whose comments are github-actions[bot]'s. A
//     GitHub App's installation token comments as "<slug>[bot]" and must
//     be named in $LAUNCHPLANE_GITHUB_AUTHOR; UpsertComment checks the
//     author of the comment it creates and fails, naming the login to
//     set, when it is not the identity it assumed.
//   - else (an installation token outside Actions) an error: the
//     identity is not guessed.
//
// A failure is not kept: the next call tries again.
func (p *Provider) identity(ctx context.Context, api *rest) (string, error) {
	p.mu.Lock()
	self := p.self
	p.mu.Unlock()
	if self != "" {
		return self, nil
	}
	if p.author != "" {
		self = p.author
	} else {
		login, installation, err := api.whoami(ctx)
		switch {
		case errors.Is(err, providers.ErrUnauthorized):
			return "", err
		case err != nil:
			return "", fmt.Errorf("%w (or set %s to the login the token comments as)", err, AuthorEnv)
		case installation && os.Getenv("GITHUB_ACTIONS") != "true":
			return "", fmt.Errorf("the token is an installation token (GET /user: 403 %s), whose login GitHub does not tell: set %s to the login it comments as (a GitHub App's: <app-slug>[bot]; an Actions GITHUB_TOKEN's: %s)", resourceNotAccessible, AuthorEnv, ActionsLogin)
		case installation:
			self = ActionsLogin
		default:
			self = login
		}
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

// UpsertComment keeps one comment per pull request and marker.
//
// The body is redacted and, when it does not already hold marker, marker
// is put on a line of its own before it; a body still over
// MaxCommentBody characters is refused before any call.
//
// The pull request's conversation comments are listed 100 a page, oldest
// first, following the Link header, until the first comment that holds
// marker: that comment is updated (PATCH), unless its body is already
// body, and the rest are not fetched. Later comments with the marker are
// left as they are, so the comment keeps its place in the conversation.
// When no page holds it, a comment is created (POST).
//
// A comment holds marker as providers.HoldsMarker says: never inside a
// quote or a code block, so a reply quoting Launchplane's comment is not
// taken for it. Only comments written by the token's identity count
// (see identity): another user's comment carrying the marker is neither
// edited nor taken for the plan; when the identity cannot be found, no
// comment is listed or written.
func (p *Provider) UpsertComment(ctx context.Context, pr int, marker, body string) error {
	const op = "comment"
	if err := ctx.Err(); err != nil {
		return p.fail(op, fmt.Errorf("comment on pull request %d: %w", pr, err))
	}
	if pr <= 0 {
		return p.fail(op, fmt.Errorf("pull request number %d: must be positive", pr))
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
	if n := utf8.RuneCountInString(body); n > MaxCommentBody {
		return p.fail(op, fmt.Errorf("comment body is %d characters, over GitHub's limit of %d", n, MaxCommentBody))
	}
	self, err := p.identity(ctx, api)
	if err != nil {
		return p.fail(op, err)
	}
	return p.fail(op, providers.UpsertMarked(ctx, comments{api, p.repository, pr, self}, marker, body))
}

// comments are a pull request's conversation comments as
// providers.UpsertMarked sees them: a comment counts when the token's
// identity (self, see identity) wrote it.
type comments struct {
	api        *rest
	repository string
	pr         int
	self       string
}

func (t comments) Page(ctx context.Context, page int64) ([]providers.Marked, int64, error) {
	list, next, err := t.api.listComments(ctx, t.pr, int(page))
	if err != nil {
		return nil, 0, err
	}
	if next != 0 && int64(next) <= page {
		return nil, 0, fmt.Errorf("list comments of %s#%d: the Link header's next page %d does not follow page %d", t.repository, t.pr, next, page)
	}
	out := make([]providers.Marked, 0, len(list))
	for _, c := range list {
		// Only the token's own comments: anyone may post the marker.
		out = append(out, providers.Marked{ID: c.ID, Body: c.Body, Own: strings.EqualFold(c.Author, t.self)})
	}
	return out, int64(next), nil
}

func (t comments) Update(ctx context.Context, id int64, body string) error {
	return t.api.editComment(ctx, id, body)
}

// Create posts the comment and checks that its author is the identity
// assumed: otherwise the next upsert would not find this comment and
// post another, so it says so rather than duplicate the plan on every
// run.
func (t comments) Create(ctx context.Context, body string) error {
	created, err := t.api.createComment(ctx, t.pr, body)
	if err != nil {
		return err
	}
	if !strings.EqualFold(created.Author, t.self) {
		return fmt.Errorf("comment %d on %s#%d was posted as %q, but the token's identity was taken to be %q, so the next plan would post another: set %s=%s (or author in the github provider)",
			created.ID, t.repository, t.pr, created.Author, t.self, AuthorEnv, created.Author)
	}
	return nil
}

// SetStatus sets a commit status on sha. state must be one of States;
// description is redacted and cut to MaxStatusDescription characters;
// empty context, description and url are left for GitHub's defaults.
func (p *Provider) SetStatus(ctx context.Context, sha, state, context_, description, url string) error {
	const op = "status"
	if err := ctx.Err(); err != nil {
		return p.fail(op, fmt.Errorf("status of %s: %w", sha, err))
	}
	if !validState(state) {
		return p.fail(op, fmt.Errorf("state %q: want one of %s", state, strings.Join(States, ", ")))
	}
	if strings.TrimSpace(sha) == "" {
		return p.fail(op, errors.New("empty commit sha"))
	}
	api, err := p.client() // registers the token with the redactor first
	if err != nil {
		return p.fail(op, err)
	}
	description = cut(p.red.String(description), MaxStatusDescription)
	url = p.red.String(url)
	return p.fail(op, api.createStatus(ctx, sha, state, context_, description, url))
}

func validState(s string) bool {
	for _, x := range States {
		if s == x {
			return true
		}
	}
	return false
}

// cut keeps at most n characters of s, the last one "…" when s was
// longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var (
	_ providers.Feedback   = (*Provider)(nil)
	_ providers.Proposer   = (*Provider)(nil)
	_ providers.Dispatcher = (*Provider)(nil)
)
