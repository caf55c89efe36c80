package caddy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/redact"
)

// UpstreamPlaceholder in upstreamHost stands for Route.Upstream, the app's
// provider object name (<product>-<lane>): "{upstream}" dials the app's
// container by name on a Docker network, "{upstream}.internal" a DNS name
// derived from it.
const UpstreamPlaceholder = "{upstream}"

// DefaultServer is the server holding the routes when the config names
// none: the name Caddy gives the first server of a Caddyfile.
const DefaultServer = "srv0"

// maxAttempts bounds how often one call recomputes its write after another
// editor changed the route list (412 on If-Match). Each 412 means another
// write landed, so this many concurrent editors always get through.
const maxAttempts = 16

type config struct {
	Admin        string   `json:"admin"`
	Server       string   `json:"server"`
	UpstreamHost string   `json:"upstreamHost"`
	Listen       []string `json:"listen"`
}

// Provider is the caddy ingress. It is safe for concurrent use.
type Provider struct {
	name string
	cfg  config
	api  *httpapi.Client
	red  *redact.Redactor
}

var _ providers.Ingress = (*Provider)(nil)

func newProvider(cfg providers.Config) (any, error) {
	var c config
	if err := json.Unmarshal(cfg.Raw, &c); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	u, err := url.Parse(c.Admin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("admin: want an http(s) URL, got %q", c.Admin)
	}
	if c.UpstreamHost == "" {
		return nil, errors.New("upstreamHost is required")
	}
	if c.Server == "" {
		c.Server = DefaultServer
	}
	if strings.ContainsAny(c.Server, "/?#%") || c.Server == "." || c.Server == ".." {
		return nil, fmt.Errorf("server: %q cannot be a config path segment", c.Server)
	}
	if len(c.Listen) == 0 {
		c.Listen = []string{":443"}
	}
	red := cfg.Redact()
	// No keep-alive: Caddy's admin server drops its connections when a
	// config change reloads it, and a write sent on a pooled connection
	// it just dropped fails with EOF (and is not safe to resend).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &Provider{
		name: cfg.Name,
		cfg:  c,
		red:  red,
		api: &httpapi.Client{
			Base:     strings.TrimRight(c.Admin, "/"),
			HTTP:     &http.Client{Transport: etagTransport{base: tr}},
			Redactor: red,
		},
	}, nil
}

func (p *Provider) serverPath() string { return "/config/apps/http/servers/" + p.cfg.Server }
func (p *Provider) routesPath() string { return p.serverPath() + "/routes" }

// host is the dial host of upstream's routes.
func (p *Provider) host(upstream string) string {
	return strings.ReplaceAll(p.cfg.UpstreamHost, UpstreamPlaceholder, upstream)
}

// ListRoutes returns the routes of target: those whose @id is
// launchplane-<object name>-<n>, sorted by domain. Upstream is the
// target's object name when the route dials the host this config gives
// it, else the host it dials, so a changed dial shows as drift.
func (p *Provider) ListRoutes(ctx context.Context, target string) ([]providers.Route, error) {
	rs, err := p.listRoutes(ctx, target)
	return rs, p.fail("list routes", target, err)
}

func (p *Provider) listRoutes(ctx context.Context, target string) ([]providers.Route, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	obj := providers.ObjectName(target)
	var out []providers.Route
	for _, e := range snap.routes {
		if e.owner() != obj || len(e.Hosts) == 0 {
			continue
		}
		host, port := splitDial(e.Dial)
		up := obj
		if host != p.host(obj) {
			up = host
		}
		for _, d := range e.Hosts {
			out = append(out, providers.Route{Target: target, Domain: d, Upstream: up, Port: port})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, nil
}

// EnsureRoute routes r.Domain to r.Upstream's port: it updates the
// target's route of that domain in place, or inserts one before the
// first catch-all route (creating the server or its route list when
// missing). A domain routed by a route Launchplane does not manage for
// this target is refused.
func (p *Provider) EnsureRoute(ctx context.Context, r providers.Route) (providers.RouteFacts, error) {
	ev := &providers.RouteFacts{Server: p.cfg.Server}
	err := p.ensure(ctx, r, ev)
	return *ev, p.fail("route", r.Target, err)
}

func (p *Provider) ensure(ctx context.Context, r providers.Route, ev *providers.RouteFacts) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case r.Target == "":
		return errors.New("route without a target")
	case r.Domain == "":
		return errors.New("route without a domain")
	case r.Port < 1 || r.Port > 65535:
		return fmt.Errorf("port %d out of range", r.Port)
	case r.Upstream == "" && strings.Contains(p.cfg.UpstreamHost, UpstreamPlaceholder):
		return fmt.Errorf("upstreamHost %q needs the route's upstream, which is empty", p.cfg.UpstreamHost)
	}
	obj := providers.ObjectName(r.Target)
	dial := net.JoinHostPort(p.host(r.Upstream), strconv.Itoa(r.Port))
	ev.Dial = dial
	taken := map[string]bool{} // ids refused as duplicates by Caddy
	var last error
	wait := 100 * time.Millisecond
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		ev.Attempts = attempt
		err := p.ensureOnce(ctx, r, obj, dial, taken, ev)
		var again *changedError
		if !errors.As(err, &again) {
			return err
		}
		last = again.err
		if again.transient {
			// The admin server is being replaced (Caddy starts a new one
			// on every config load and drops the old one's connections)
			// or a gateway in front of it failed: give it a moment.
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w (after: %v)", ctx.Err(), last)
			case <-t.C:
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
	if last == nil {
		last = errors.New("the route list kept changing")
	}
	return fmt.Errorf("gave up after %d attempts: %w", maxAttempts, last)
}

// changedError asks for another attempt: the config changed between the
// read a write was computed from and the write, or the write's outcome is
// unknown (transient). err is Caddy's refusal or the failure, nil when a
// re-read found the change. Computing the write again from a fresh read
// is always safe: it finds the route written if the write landed.
type changedError struct {
	err       error
	transient bool
}

func (e *changedError) Error() string {
	if e.err == nil {
		return "config changed meanwhile"
	}
	return e.err.Error()
}

func (e *changedError) Unwrap() error { return e.err }

// ensureOnce reads the route list and writes r's route once.
func (p *Provider) ensureOnce(ctx context.Context, r providers.Route, obj, dial string, taken map[string]bool, ev *providers.RouteFacts) error {
	snap, err := p.read(ctx)
	if err != nil {
		return err
	}
	ev.IfMatch = providers.Bool(snap.etag != "")
	var mine []existing
	for _, e := range snap.routes {
		if !e.routes(r.Domain) {
			continue
		}
		if e.owner() != obj {
			who := fmt.Sprintf("route %d", e.Index)
			if e.ID != "" {
				who += fmt.Sprintf(" (@id %q)", e.ID)
			}
			if e.owner() != "" {
				return fmt.Errorf("domain %s is already routed by %s of another Launchplane target", r.Domain, who)
			}
			return fmt.Errorf("domain %s is already routed by %s of server %s, which Launchplane does not manage; remove it or give the domain to Launchplane", r.Domain, who, p.cfg.Server)
		}
		mine = append(mine, e)
	}

	if len(mine) > 0 {
		// Update in place; extra routes of the same domain (left by an
		// editor without If-Match) go.
		want := newRoute(mine[0].ID, r.Domain, dial)
		ev.RouteID = want.ID
		ev.Action = "unchanged"
		if !mine[0].same(want) || len(mine) > 1 {
			for _, e := range mine {
				if err := p.unique(ctx, e.ID); err != nil {
					return err
				}
			}
		}
		if !mine[0].same(want) {
			ev.Action = "updated"
			if err := p.write(ctx, http.MethodPatch, "/id/"+want.ID, want, snap.etag); err != nil {
				return retry(err)
			}
		}
		for _, extra := range mine[1:] {
			if err := p.deleteID(ctx, extra.ID); err != nil {
				return err
			}
		}
		return p.verify(ctx, snap, want)
	}

	id, err := p.freeID(ctx, obj, snap, taken)
	if err != nil {
		return err
	}
	want := newRoute(id, r.Domain, dial)
	ev.RouteID = id
	ev.Action = "created"
	if !snap.exists {
		return p.create(ctx, want, ev)
	}
	method, path := http.MethodPost, p.routesPath() // append
	for _, e := range snap.routes {
		if e.CatchAll {
			method, path = http.MethodPut, p.routesPath()+"/"+strconv.Itoa(e.Index) // insert before it
			break
		}
	}
	if err := p.write(ctx, method, path, want, snap.etag); err != nil {
		if isDuplicateID(err) {
			taken[id] = true
		}
		return retry(err)
	}
	return p.verify(ctx, snap, want)
}

// retry turns a refusal caused by a concurrent edit, or a failure that
// leaves the write's outcome unknown, into a *changedError, and returns
// any other error as it is.
func retry(err error) error {
	switch {
	case isConflict(err):
		return &changedError{err: err}
	case isTransient(err):
		return &changedError{err: err, transient: true}
	}
	return err
}

// verify checks, when the write could not carry If-Match (a Caddy
// without Etags), that the route landed as written: an unconditional
// write may have raced another editor's.
func (p *Provider) verify(ctx context.Context, before snapshot, want route) error {
	if before.etag != "" {
		return nil
	}
	snap, err := p.read(ctx)
	if err != nil {
		return err
	}
	n := 0
	ok := false
	for _, e := range snap.routes {
		if e.ID == want.ID {
			n++
			ok = e.same(want)
		}
	}
	switch {
	case n > 1:
		return fmt.Errorf("route @id %q is duplicated after a concurrent edit (this Caddy sends no Etag, so writes cannot be conditional); remove one and retry", want.ID)
	case !ok:
		return &changedError{} // another editor's write won: compute again
	}
	return nil
}

// freeID is the first route id of obj not used in the route list, nor
// anywhere else in Caddy's config, nor refused before.
func (p *Provider) freeID(ctx context.Context, obj string, snap snapshot, taken map[string]bool) (string, error) {
	used := map[string]bool{}
	for _, e := range snap.routes {
		used[e.ID] = true
	}
	for n := 1; n <= 1000; n++ {
		id := routeID(obj, n)
		if used[id] || taken[id] {
			continue
		}
		// An @id is global to the config: another server may hold it.
		_, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: "/id/" + id}, nil)
		if errors.Is(err, providers.ErrNotFound) {
			return id, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free route id launchplane-%s-<n> up to n=1000", obj)
}

// create writes want where the server or its route list is missing: at
// the deepest existing object of apps.http.servers.<server>.routes, with
// If-Match on the whole config. The server Launchplane creates listens on
// the configured listen addresses.
func (p *Provider) create(ctx context.Context, want route, ev *providers.RouteFacts) error {
	var root any
	resp, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: "/config/"}, &root)
	if err != nil {
		return err
	}
	etag := resp.Header.Get("Etag")
	method, path, value, err := missingPart(root, p.cfg.Server, p.cfg.Listen, want)
	if err != nil {
		return err
	}
	if method == "" {
		return &changedError{} // the route list appeared meanwhile
	}
	ev.Created = path
	if err := p.write(ctx, method, path, value, etag); err != nil {
		return retry(err)
	}
	return p.verify(ctx, snapshot{etag: etag}, want)
}

// missingPart is the write that adds apps.http.servers.<server>.routes
// holding want to the config root: a PUT of the outermost missing key
// (the objects inside it built from the inside out: the route list, the
// server with its listen addresses, servers, http, apps), a PATCH when
// that key holds null, a POST of the whole config when it is empty. An
// empty method means the route list exists.
func missingPart(root any, server string, listen []string, want route) (method, path string, value any, err error) {
	segs := []string{"apps", "http", "servers", server, "routes"}
	// depth counts the leading segments that exist; null is there
	// (present) but holds nothing.
	cur, depth, present := root, 0, false
	for depth < len(segs) {
		m, ok := cur.(map[string]any)
		if !ok {
			if cur == nil {
				break
			}
			return "", "", nil, fmt.Errorf("config at /%s is not an object", strings.Join(segs[:depth], "/"))
		}
		next, ok := m[segs[depth]]
		if !ok || next == nil {
			present = ok
			break
		}
		cur, depth = next, depth+1
	}
	if depth == len(segs) {
		return "", "", nil, nil
	}
	value = []any{want}
	for i := len(segs) - 1; i > depth; i-- {
		if segs[i] == "routes" {
			value = map[string]any{"listen": listen, "routes": value}
			continue
		}
		value = map[string]any{segs[i]: value}
	}
	switch {
	case root == nil:
		// An empty config has no object to put a key in.
		return http.MethodPost, "/config/", map[string]any{"apps": value}, nil
	case present:
		return http.MethodPatch, "/config/" + strings.Join(segs[:depth+1], "/"), value, nil // replace the null
	}
	return http.MethodPut, "/config/" + strings.Join(segs[:depth+1], "/"), value, nil
}

// DeleteRoute removes target's routes of domain by @id; a missing route
// is not an error, and routes of others are never touched.
func (p *Provider) DeleteRoute(ctx context.Context, target, domain string) error {
	return p.fail("delete route", target, p.deleteRoute(ctx, target, domain))
}

func (p *Provider) deleteRoute(ctx context.Context, target, domain string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	snap, err := p.read(ctx)
	if err != nil {
		return err
	}
	obj := providers.ObjectName(target)
	for _, e := range snap.routes {
		if e.owner() == obj && e.routes(domain) {
			if err := p.unique(ctx, e.ID); err != nil {
				return err
			}
			if err := p.deleteID(ctx, e.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// unique refuses to write or delete by an @id that appears more than once
// in Caddy's whole config. Before v2.11.2 Caddy accepts duplicate @ids
// silently and /id/ reaches one copy, the last indexed (indexConfigObjects
// in caddy.go of caddyserver/caddy; the refusal came with commit 7b34e31,
// "core: Check whether @id is unique", in v2.11.2),
// so a PATCH or DELETE by such an id may change a route that is not
// Launchplane's: it is checked here, never left to Caddy.
func (p *Provider) unique(ctx context.Context, id string) error {
	var root any
	if _, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: "/config/"}, &root); err != nil {
		return err
	}
	if n := countID(root, id); n > 1 {
		return fmt.Errorf("route @id %q appears %d times in Caddy's config: Caddy before v2.11.2 accepts duplicate @ids and /id/%s reaches only one copy, so Launchplane will not write by it; give the other copies another @id (or remove them) and retry", id, n, id)
	}
	return nil
}

// countID counts the objects of v whose "@id" is id.
func countID(v any, id string) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["@id"].(string); ok && s == id {
			n++
		}
		for _, e := range x {
			n += countID(e, id)
		}
	case []any:
		for _, e := range x {
			n += countID(e, id)
		}
	}
	return n
}

func (p *Provider) deleteID(ctx context.Context, id string) error {
	// Deleting by @id twice is harmless: a failed connection or a 5xx is
	// tried again.
	_, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodDelete, Path: "/id/" + id, Idempotent: true}, nil)
	if errors.Is(err, providers.ErrNotFound) {
		return nil // gone already ("unknown object ID")
	}
	return err
}

// snapshot is the server's route list as read, with the Etag that makes
// a write conditional on it ("" when Caddy sent none).
type snapshot struct {
	exists bool // the route list exists (possibly empty)
	routes []existing
	etag   string
}

func (p *Provider) read(ctx context.Context) (snapshot, error) {
	var raws []json.RawMessage
	resp, err := p.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: p.routesPath()}, &raws)
	if err != nil {
		if isMissingPath(err) {
			return snapshot{}, nil
		}
		return snapshot{}, err
	}
	routes, err := parseRoutes(raws)
	if err != nil {
		return snapshot{}, fmt.Errorf("server %s: %w", p.cfg.Server, err)
	}
	// "null" is a server without a route list.
	return snapshot{exists: raws != nil, routes: routes, etag: resp.Header.Get("Etag")}, nil
}

// write sends a config change, conditional on etag when there is one.
func (p *Provider) write(ctx context.Context, method, path string, body any, etag string) error {
	h := http.Header{}
	if etag != "" {
		h.Set("If-Match", etag)
	}
	_, err := p.api.Do(ctx, httpapi.Request{Method: method, Path: path, Body: body, Header: h}, nil)
	return err
}

// fail makes err the provider's error for op on target: Caddy's
// {"error": …} message instead of its JSON, redacted, in an OpError.
func (p *Provider) fail(op, target string, err error) error {
	if err == nil {
		return nil
	}
	var ae *providers.APIError
	if errors.As(err, &ae) {
		ae.Body = httpapi.Message(ae.Body)
		if ae.Status == http.StatusForbidden && strings.Contains(ae.Body, "host not allowed") {
			err = fmt.Errorf("%w (the admin URL's host is not one of Caddy's allowed origins: set admin.origins in Caddy's config, or reach it as localhost)", err)
		}
	}
	return providers.Wrap(p.name, op, target, p.red.Error(err))
}

func apiStatus(err error) (int, string) {
	var ae *providers.APIError
	if errors.As(err, &ae) {
		return ae.Status, ae.Body
	}
	return 0, ""
}

// isConflict reports a write refused because the config changed since it
// was read: 412 on If-Match, 409 (or, in Caddy 2.6, 500) for a key
// created meanwhile, 400 for an @id taken meanwhile.
func isConflict(err error) bool {
	status, body := apiStatus(err)
	switch status {
	case http.StatusPreconditionFailed, http.StatusConflict:
		return true
	case http.StatusInternalServerError:
		return strings.Contains(body, "key already exists")
	}
	return isDuplicateID(err)
}

func isDuplicateID(err error) bool {
	status, body := apiStatus(err)
	return status == http.StatusBadRequest && strings.Contains(strings.ToLower(body), "duplicate id")
}

// isTransient reports a write whose outcome is unknown: the connection
// failed (Caddy drops the admin connections of the server a config load
// replaces, so concurrent editors meet resets and EOFs), or a gateway in
// front of Caddy answered 502, 503 or 504.
func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	status, _ := apiStatus(err)
	switch status {
	case 0:
		return true // no answer: httpapi's error for a failed connection
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isMissingPath reports a read of a path whose parent does not exist:
// Caddy answers 400 "invalid traversal path" (2.6) or 404.
func isMissingPath(err error) bool {
	status, body := apiStatus(err)
	return status == http.StatusNotFound || (status == http.StatusBadRequest && strings.Contains(body, "invalid traversal path"))
}

// etagTransport moves an Etag sent as an HTTP trailer into the response
// header once the body is read. Caddy 2.6 sends the Etag of GET /config/
// as a trailer ("Trailer: ETag"); later versions send a header.
type etagTransport struct{ base http.RoundTripper }

func (t etagTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if _, ok := resp.Trailer["Etag"]; ok && resp.Header.Get("Etag") == "" {
		resp.Body = &trailerBody{ReadCloser: resp.Body, resp: resp}
	}
	return resp, nil
}

type trailerBody struct {
	io.ReadCloser
	resp *http.Response
}

func (b *trailerBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if err == io.EOF {
		if v := b.resp.Trailer.Get("Etag"); v != "" && b.resp.Header.Get("Etag") == "" {
			b.resp.Header.Set("Etag", v)
		}
	}
	return n, err
}
