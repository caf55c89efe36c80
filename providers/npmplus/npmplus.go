package npmplus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/redact"
)

// UpstreamPlaceholder in forwardHost is replaced by Route.Upstream, the
// app's provider object name (<product>-<lane>).
const UpstreamPlaceholder = "{upstream}"

// Ownership marker. Each proxy host Launchplane manages carries these keys
// in its meta object. meta is a free-form object in the create and update
// schemas (upstream and NPMplus), stored as given on create and on update,
// and NPM's nginx step (internal/nginx.js configure) merges nginx_online
// and nginx_err into the host's existing meta rather than replacing it;
// the web UI sends the host's meta back unchanged when a user edits the
// host. A comment in advanced_config would also persist, but it is text
// users edit by hand and it ends up in the nginx config, so meta it is.
const (
	metaTarget   = "launchplane_target"   // target key that owns the host
	metaUpstream = "launchplane_upstream" // Route.Upstream
	metaPort     = "launchplane_port"     // Route.Port as last written
	metaKey      = "launchplane_key"      // Route.IdempotencyKey as last written
)

// markerPrefix starts the first line of advanced_config on a server
// without meta (newer NPMplus: migration meta_to_columns empties meta and
// proxy-host-object.json has none): "# launchplane-route target=…
// upstream=… port=… key=…", values query-escaped. A comment line is inert
// in the nginx config, and only a first line with this exact prefix
// counts.
const markerPrefix = "# launchplane-route "

type config struct {
	Certificate        string              `json:"certificate"`
	SSLForced          bool                `json:"sslForced"`
	URL                string              `json:"url"`
	Email              string              `json:"email"`
	Password           providers.SecretRef `json:"password"`
	ForwardHost        string              `json:"forwardHost"`
	ForwardScheme      string              `json:"forwardScheme"`
	CAFile             string              `json:"caFile"`
	InsecureSkipVerify bool                `json:"insecureSkipVerify"`
}

// Provider is an Ingress over the proxy hosts of one Nginx Proxy Manager
// or NPMplus instance: one proxy host per domain. It is safe for
// concurrent use.
type Provider struct {
	name    string
	cfg     providers.Config
	conf    config
	caFile  string // absolute
	base    string
	baseURL *url.URL
	scheme  string
	red     *redact.Redactor
	now     func() time.Time

	sem chan struct{} // serialises logins and refreshes

	mu       sync.Mutex // guards what follows
	api      *httpapi.Client
	loginAPI *httpapi.Client
	jar      *cookiejar.Jar
	pw       string
	token    string // Bearer token; "" with a cookie session
	cookies  bool
	expires  time.Time
	gen      int   // session generation, 0 before the first login
	loginErr error // refused credentials, kept for the instance
	style    style // how this server's proxy hosts look
}

// style is what a server's proxy hosts look like, learnt from its hosts
// (or from which create shape it accepts): NPM v2.15.1 and older NPMplus
// keep meta and forward_host/forward_port; NPMplus from its
// load-balancing migration forwards to npmplus_upstream_servers (and its
// PUT has no enabled), and from meta_to_columns has no meta at all.
type style struct {
	known     bool
	upstreams bool // npmplus_upstream_servers instead of forward_host/port
	noMeta    bool // marker in advanced_config, status at the top level
}

var _ providers.Ingress = (*Provider)(nil)

func newProvider(cfg providers.Config) (any, error) {
	var c config
	dec := json.NewDecoder(bytes.NewReader(cfg.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	root, base, err := baseOf(c.URL)
	if err != nil {
		return nil, err
	}
	if c.Email == "" {
		return nil, errors.New("email is required")
	}
	if c.Password.FromEnv == "" && c.Password.FromFile == "" {
		return nil, errors.New("password needs fromEnv or fromFile")
	}
	if strings.TrimSpace(c.ForwardHost) == "" {
		return nil, errors.New("forwardHost is required")
	}
	scheme := c.ForwardScheme
	switch scheme {
	case "":
		scheme = "http"
	case "http", "https":
	default:
		return nil, fmt.Errorf("forwardScheme %q: want http or https", scheme)
	}
	if c.CAFile != "" && c.InsecureSkipVerify {
		return nil, errors.New("caFile and insecureSkipVerify exclude each other: pin the CA with caFile")
	}
	ca := c.CAFile
	if ca != "" && !filepath.IsAbs(ca) {
		ca = filepath.Join(cfg.ConfigDir, ca)
	}
	return &Provider{
		name: cfg.Name, cfg: cfg, conf: c, caFile: ca,
		base: base, baseURL: root, scheme: scheme,
		red: cfg.Redact(), now: time.Now,
		sem: make(chan struct{}, 1),
	}, nil
}

// proxyHost is what the adapter reads of a proxy host; unknown fields
// (npmplus_* and whatever a version adds) are ignored.
type proxyHost struct {
	ID              int             `json:"id"`
	DomainNames     []string        `json:"domain_names"`
	ForwardScheme   string          `json:"forward_scheme"`
	ForwardHost     string          `json:"forward_host"`
	ForwardPort     int             `json:"forward_port"`
	Enabled         *flexBool       `json:"enabled"`
	Meta            map[string]any  `json:"meta"`
	UpstreamServers *[]upstream     `json:"npmplus_upstream_servers"`
	NginxOnline     *flexBool       `json:"npmplus_nginx_online"`
	NginxErr        *string         `json:"npmplus_nginx_err"`
	AdvancedConfig  string          `json:"advanced_config"`
	CertificateID   json.RawMessage `json:"certificate_id"`
	SSLForced       *flexBool       `json:"ssl_forced"`
}

// upstream is an entry of npmplus_upstream_servers.
type upstream struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// forward is the host and port h forwards to.
func (h *proxyHost) forward() (string, int) {
	if h.UpstreamServers != nil {
		if len(*h.UpstreamServers) != 1 {
			return "", 0 // a load-balanced host is never Launchplane's as written
		}
		u := (*h.UpstreamServers)[0]
		return u.Host, u.Port
	}
	return h.ForwardHost, h.ForwardPort
}

func (h *proxyHost) certificateID() int {
	n, _ := strconv.Atoi(strings.Trim(string(h.CertificateID), `"`))
	return n
}

// styleOf is the style h shows.
func styleOf(h *proxyHost) style {
	return style{known: true, upstreams: h.UpstreamServers != nil, noMeta: h.Meta == nil || h.NginxOnline != nil}
}

// markerOf parses the marker line of advanced_config; nil without one.
func markerOf(advanced string) map[string]string {
	first, _, _ := strings.Cut(advanced, "\n")
	rest, ok := strings.CutPrefix(first, markerPrefix)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			return nil
		}
		out[k] = uv
	}
	return out
}

// withoutMarker is advanced_config without its marker line.
func withoutMarker(advanced string) string {
	if markerOf(advanced) == nil {
		return advanced
	}
	_, rest, _ := strings.Cut(advanced, "\n")
	return rest
}

// flexBool reads a boolean sent as true/false or 1/0.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true", "1":
		*b = true
	case "false", "0", "null", "":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", data)
	}
	return nil
}

func (h *proxyHost) enabled() bool { return h.Enabled == nil || bool(*h.Enabled) }

func (h *proxyHost) online() bool {
	if h.NginxOnline != nil {
		return bool(*h.NginxOnline)
	}
	switch v := h.Meta["nginx_online"].(type) {
	case bool:
		return v
	case float64:
		return v == 1
	}
	return false
}

// meta reads a marker key: from meta, or from the marker line of
// advanced_config on a server without meta.
func (h *proxyHost) meta(key string) string {
	switch v := h.Meta[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	if m := markerOf(h.AdvancedConfig); m != nil {
		return m[strings.TrimPrefix(key, "launchplane_")]
	}
	return ""
}

// nginxErr is the nginx -t message of h.
func (h *proxyHost) nginxErr() string {
	if h.NginxErr != nil {
		return *h.NginxErr
	}
	return h.meta("nginx_err")
}

func (h *proxyHost) has(domain string) bool {
	for _, d := range h.DomainNames {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// hostBody is the only shape the adapter writes: the four required core
// fields, meta, and enabled when a disabled host must come back. NPM's
// schemas refuse unknown keys, and they disagree between versions about
// the rest, so nothing else is sent.
type hostBody struct {
	DomainNames     []string       `json:"domain_names,omitempty"`
	ForwardScheme   string         `json:"forward_scheme,omitempty"`
	ForwardHost     string         `json:"forward_host,omitempty"`
	ForwardPort     int            `json:"forward_port,omitempty"`
	UpstreamServers []upstream     `json:"npmplus_upstream_servers,omitempty"`
	AdvancedConfig  *string        `json:"advanced_config,omitempty"`
	CertificateID   any            `json:"certificate_id,omitempty"`
	SSLForced       *bool          `json:"ssl_forced,omitempty"`
	Meta            map[string]any `json:"meta,omitempty"`
	Enabled         *bool          `json:"enabled,omitempty"`
}

// forwardHost is the forward_host for upstream.
func (p *Provider) forwardHost(upstream string) (string, error) {
	fh := p.conf.ForwardHost
	if strings.Contains(fh, UpstreamPlaceholder) {
		if upstream == "" {
			return "", fmt.Errorf("forwardHost %q needs the route's upstream, which is empty", fh)
		}
		fh = strings.ReplaceAll(fh, UpstreamPlaceholder, upstream)
	}
	if len(fh) > 255 {
		return "", fmt.Errorf("forward host %q is longer than 255 characters", fh)
	}
	return fh, nil
}

func (p *Provider) list(ctx context.Context) ([]proxyHost, error) {
	var raw json.RawMessage
	if err := p.call(ctx, httpapi.Request{Method: http.MethodGet, Path: "/api/nginx/proxy-hosts"}, &raw); err != nil {
		return nil, err
	}
	return decodeHosts(raw)
}

func find(hosts []proxyHost, domain string) *proxyHost {
	for i := range hosts {
		if hosts[i].has(domain) {
			return &hosts[i]
		}
	}
	return nil
}

// owns refuses a host of domain that another target, or nobody known to
// Launchplane, owns: a route never takes a host over silently.
func owns(h *proxyHost, target, domain string) error {
	switch owner := h.meta(metaTarget); owner {
	case target:
		return nil
	case "":
		return fmt.Errorf("domain %s is already served by proxy host %d, which launchplane does not manage: remove it or its domain in NPM first", domain, h.ID)
	default:
		return fmt.Errorf("domain %s is already served by proxy host %d of launchplane target %s", domain, h.ID, owner)
	}
}

// intact reports whether h is still exactly what the adapter last wrote
// and is serving: only then does ListRoutes report its idempotency key,
// so drift (a hand edit, a disabled host, a failed nginx config) makes
// apply ensure the route again.
func (p *Provider) intact(h *proxyHost) bool {
	fh, err := p.forwardHost(h.meta(metaUpstream))
	host, port := h.forward()
	return err == nil && len(h.DomainNames) == 1 && h.enabled() && h.online() &&
		h.ForwardScheme == p.scheme && host == fh &&
		strconv.Itoa(port) == h.meta(metaPort)
}

// current reports whether h already is the proxy host of r, with the
// certificate cert (0: whatever it has) and ssl_forced as configured.
func (p *Provider) current(h *proxyHost, r providers.Route, fh string, cert any) bool {
	host, port := h.forward()
	ok := p.intact(h) && strings.EqualFold(h.DomainNames[0], r.Domain) && host == fh &&
		port == r.Port && h.meta(metaUpstream) == r.Upstream && h.meta(metaKey) == r.IdempotencyKey
	if p.conf.Certificate != "" {
		forced := h.SSLForced != nil && bool(*h.SSLForced)
		ok = ok && h.certificateID() > 0 && forced == p.conf.SSLForced
		if id, named := cert.(int); named {
			ok = ok && h.certificateID() == id
		}
	}
	return ok
}

// body is the full write of r in the server's style: the marker in meta
// (the host's other meta keys kept, not the nginx status, which NPM sets
// again after the write) or in the first line of advanced_config; the
// forward in forward_host/forward_port or npmplus_upstream_servers.
func (p *Provider) body(r providers.Route, fh string, old *proxyHost, st style, cert any) hostBody {
	b := hostBody{DomainNames: []string{r.Domain}, ForwardScheme: p.scheme}
	if st.upstreams {
		b.UpstreamServers = []upstream{{Host: fh, Port: r.Port}}
	} else {
		b.ForwardHost, b.ForwardPort = fh, r.Port
	}
	if cert != nil {
		b.CertificateID = cert
		forced := p.conf.SSLForced
		b.SSLForced = &forced
	}
	if st.noMeta {
		line := markerPrefix + "target=" + url.QueryEscape(r.Target) + " upstream=" + url.QueryEscape(r.Upstream) +
			" port=" + strconv.Itoa(r.Port)
		if r.IdempotencyKey != "" {
			line += " key=" + url.QueryEscape(r.IdempotencyKey)
		}
		adv := line + "\n"
		if old != nil {
			adv += withoutMarker(old.AdvancedConfig)
		}
		b.AdvancedConfig = &adv
		return b
	}
	meta := map[string]any{}
	if old != nil {
		for k, v := range old.Meta {
			if k != "nginx_online" && k != "nginx_err" {
				meta[k] = v
			}
		}
	}
	meta[metaTarget] = r.Target
	meta[metaUpstream] = r.Upstream
	meta[metaPort] = r.Port
	if r.IdempotencyKey != "" {
		meta[metaKey] = r.IdempotencyKey
	} else {
		delete(meta, metaKey)
	}
	b.Meta = meta
	return b
}

// certificate is the certificate_id to write for a host (nil: none
// configured): the id of the certificate named in the config, or "new"
// (NPM requests a Let's Encrypt certificate for the host's domain_names,
// internal/proxy-host.js) unless the host already has one.
func (p *Provider) certificate(ctx context.Context, h *proxyHost) (any, error) {
	switch name := p.conf.Certificate; {
	case name == "":
		return nil, nil
	case name == "new":
		if h != nil && h.certificateID() > 0 {
			return h.certificateID(), nil
		}
		return "new", nil
	default:
		var certs []struct {
			ID       int    `json:"id"`
			NiceName string `json:"nice_name"`
		}
		if err := p.call(ctx, httpapi.Request{Method: http.MethodGet, Path: "/api/nginx/certificates"}, &certs); err != nil {
			return nil, fmt.Errorf("list certificates: %w", err)
		}
		for _, c := range certs {
			if c.NiceName == name {
				return c.ID, nil
			}
		}
		return nil, fmt.Errorf("no certificate named %q in NPM: create it there first, or set certificate to \"new\"", name)
	}
}

// learn records the style the server's hosts show.
func (p *Provider) learn(hosts []proxyHost) style {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" { // a Bearer session: Nginx Proxy Manager (p.mu held)
		p.style = style{known: true}
	} else if !p.style.known && len(hosts) > 0 {
		p.style = styleOf(&hosts[0])
	}
	return p.style
}

// bearer reports whether the session is a Bearer token (Nginx Proxy
// Manager, whose hosts always have meta and forward_host).
func (p *Provider) bearer() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.token != ""
}

func (p *Provider) setStyle(st style) {
	p.mu.Lock()
	p.style = st
	p.mu.Unlock()
}

// shapeRefused reports a 400 of a schema without some key the adapter
// sent (additionalProperties false, or a missing required key).
func shapeRefused(err error) bool {
	var ae *providers.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest &&
		(strings.Contains(ae.Body, "additional properties") || strings.Contains(ae.Body, "required property"))
}

func hostPath(id int) string { return "/api/nginx/proxy-hosts/" + strconv.Itoa(id) }

// verify reads host id back: NPM answers a write 201/200 even when nginx
// rejected the generated config, and records the outcome only in
// meta.nginx_online and meta.nginx_err.
func (p *Provider) verify(ctx context.Context, id int, domain string) error {
	var h proxyHost
	if err := p.call(ctx, httpapi.Request{Method: http.MethodGet, Path: hostPath(id)}, &h); err != nil {
		return fmt.Errorf("read back proxy host %d: %w", id, err)
	}
	if h.online() {
		return nil
	}
	why := h.nginxErr()
	if why == "" {
		return fmt.Errorf("nginx did not bring proxy host %d (%s) online", id, domain)
	}
	return fmt.Errorf("nginx rejected the config of proxy host %d (%s): %s", id, domain, httpapi.OneLine(p.red.String(why), maxNginxMessage))
}

// maxNginxMessage is how much of nginx's own message an error keeps.
const maxNginxMessage = 300

func inUse(err error) bool {
	var ae *providers.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Body, "already in use")
}

// fail is err as the provider's error. Every part of err is already
// redacted where it was built: API bodies and transport errors by the
// shared client, nginx_err by verify.
func (p *Provider) fail(op, target string, err error) error {
	return providers.Wrap(p.name, op, target, err)
}

// ListRoutes returns the routes of target: the proxy hosts whose meta
// names target, one route per domain, sorted by domain. A route's
// IdempotencyKey is reported only while its host is exactly as last
// written and online.
func (p *Provider) ListRoutes(ctx context.Context, target string) ([]providers.Route, error) {
	if err := ctx.Err(); err != nil {
		return nil, p.fail("list routes", target, err)
	}
	if p.cfg.Resolve == nil {
		return nil, p.fail("list routes", target, fmt.Errorf("%w: the npmplus password is only read at apply", providers.ErrCannotObserve))
	}
	hosts, err := p.list(ctx)
	if err != nil {
		return nil, p.fail("list routes", target, err)
	}
	var out []providers.Route
	for i := range hosts {
		h := &hosts[i]
		if h.meta(metaTarget) != target {
			continue
		}
		key := ""
		if p.intact(h) {
			key = h.meta(metaKey)
		}
		_, port := h.forward()
		for _, d := range h.DomainNames {
			out = append(out, providers.Route{Target: target, Domain: d, Upstream: h.meta(metaUpstream), Port: port, IdempotencyKey: key})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, nil
}

// EnsureRoute creates or updates the proxy host of r.Domain, then reads
// it back and requires nginx to have accepted it. A domain served by a
// host of another target, or by a host Launchplane does not manage, is
// refused.
func (p *Provider) EnsureRoute(ctx context.Context, r providers.Route) (providers.RouteFacts, error) {
	ev := &providers.RouteFacts{}
	if err := ctx.Err(); err != nil {
		return *ev, p.fail("route", r.Target, err)
	}
	err := p.ensure(ctx, r, ev)
	return *ev, p.fail("route", r.Target, err)
}

func (p *Provider) ensure(ctx context.Context, r providers.Route, ev *providers.RouteFacts) error {
	if r.Domain == "" || r.Target == "" {
		return errors.New("route needs a target and a domain")
	}
	if r.Port < 1 || r.Port > 65535 {
		return fmt.Errorf("port %d: want 1-65535", r.Port)
	}
	fh, err := p.forwardHost(r.Upstream)
	if err != nil {
		return err
	}
	ev.Forward = fmt.Sprintf("%s://%s:%d", p.scheme, fh, r.Port)
	for attempt := 0; ; attempt++ {
		hosts, err := p.list(ctx)
		if err != nil {
			return err
		}
		st := p.learn(hosts)
		if h := find(hosts, r.Domain); h != nil {
			return p.updateHost(ctx, r, fh, h, st, ev)
		}
		cert, err := p.certificate(ctx, nil)
		if err != nil {
			return err
		}
		id, err := p.createHost(ctx, r, fh, st, cert)
		if inUse(err) {
			if attempt == 0 {
				continue // a host took the domain since the list: look again
			}
			return fmt.Errorf("domain %s is used by an NPM host launchplane cannot see (a redirection or 404 host, or another user's proxy host): %w", r.Domain, err)
		}
		if err != nil {
			return err
		}
		ev.ProxyHostID = id
		ev.Action = "created"
		return p.verify(ctx, id, r.Domain)
	}
}

// updateHost brings the existing proxy host h of r's domain to r, if it
// is not already there, and enables it.
func (p *Provider) updateHost(ctx context.Context, r providers.Route, fh string, h *proxyHost, st style, ev *providers.RouteFacts) error {
	if err := owns(h, r.Target, r.Domain); err != nil {
		return err
	}
	ev.ProxyHostID = h.ID
	cert, err := p.certificate(ctx, h)
	if err != nil {
		return err
	}
	if p.current(h, r, fh, cert) {
		ev.Action = "unchanged"
		return nil
	}
	if !p.bearer() {
		st = styleOf(h) // this host's own shape
	}
	body := p.body(r, fh, h, st, cert)
	enable := !h.enabled()
	if enable && !st.upstreams {
		on := true
		body.Enabled = &on
		enable = false
	}
	if err := p.call(ctx, httpapi.Request{Method: http.MethodPut, Path: hostPath(h.ID), Body: body, Idempotent: true}, nil); err != nil {
		return err
	}
	if enable {
		// NPMplus' PUT has no enabled (hostID/put.json): its
		// enable route turns the host on.
		if err := p.call(ctx, httpapi.Request{Method: http.MethodPost, Path: hostPath(h.ID) + "/enable"}, nil); err != nil {
			return err
		}
	}
	ev.Action = "updated"
	return p.verify(ctx, h.ID, r.Domain)
}

// createHost creates the proxy host of r with the certificate cert and
// returns its id. On an NPMplus
// whose shape is not known yet (no hosts), it learns it from this create.
func (p *Provider) createHost(ctx context.Context, r providers.Route, fh string, st style, cert any) (int, error) {
	var created proxyHost
	var err error
	post := func(st style) error {
		return p.call(ctx, httpapi.Request{Method: http.MethodPost, Path: "/api/nginx/proxy-hosts", Body: p.body(r, fh, nil, st, cert)}, &created)
	}
	if st.known {
		err = post(st)
	} else {
		// An NPMplus without hosts yet: try the newest shape first;
		// an older schema refuses its keys before doing anything.
		st = style{known: true, upstreams: true, noMeta: true}
		err = post(st)
		if shapeRefused(err) {
			st = style{known: true}
			err = post(st)
		}
		if err == nil {
			p.setStyle(st)
		}
	}
	if err != nil {
		return 0, err
	}
	if created.ID == 0 {
		return 0, errors.New("create proxy host: the answer holds no id")
	}
	return created.ID, nil
}

// DeleteRoute removes the route of domain from target: it deletes the
// proxy host of domain when target owns it, or only drops domain from it
// when the host serves more domains. A missing route, or a domain served
// by a host target does not own, is not an error: target has no route
// there.
func (p *Provider) DeleteRoute(ctx context.Context, target, domain string) error {
	if err := ctx.Err(); err != nil {
		return p.fail("delete route", target, err)
	}
	return p.fail("delete route", target, p.remove(ctx, target, domain))
}

func (p *Provider) remove(ctx context.Context, target, domain string) error {
	hosts, err := p.list(ctx)
	if err != nil {
		return err
	}
	h := find(hosts, domain)
	if h == nil || h.meta(metaTarget) != target {
		return nil
	}
	if len(h.DomainNames) > 1 {
		var rest []string
		for _, d := range h.DomainNames {
			if !strings.EqualFold(d, domain) {
				rest = append(rest, d)
			}
		}
		if err := p.call(ctx, httpapi.Request{Method: http.MethodPut, Path: hostPath(h.ID), Body: hostBody{DomainNames: rest}, Idempotent: true}, nil); err != nil {
			return err
		}
		return p.verify(ctx, h.ID, strings.Join(rest, ","))
	}
	err = p.call(ctx, httpapi.Request{Method: http.MethodDelete, Path: hostPath(h.ID), Idempotent: true}, nil)
	if errors.Is(err, providers.ErrNotFound) {
		return nil
	}
	return err
}
