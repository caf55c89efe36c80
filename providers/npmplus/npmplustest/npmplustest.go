// Package npmplustest is an in-process stand-in for the admin API of Nginx
// Proxy Manager and NPMplus, built to the documented behaviour
// (PROVIDER-APIS.md §2) for the adapter's tests and for CLI scripts.
//
// It serves HTTPS with httptest.NewTLSServer (CAPEM gives the certificate
// to pin) and implements what the adapter uses:
//
//   - POST /api/tokens {identity, secret[, scope]}: in ModeUpstream 200
//     {token, expires} and Bearer authentication; in ModeNPMplus 200
//     {expires} only, the token in a "__Host-Http-token" cookie (HttpOnly,
//     Secure, SameSite=Strict) that later requests must carry. Bad
//     credentials are 400 "Invalid email or password"; in ModeNPMplus more
//     than five failed logins are 429;
//   - GET /api/tokens: a fresh token (body or cookie, as at login);
//   - GET and POST /api/nginx/proxy-hosts, GET, PUT and DELETE
//     /api/nginx/proxy-hosts/{id}: create is 201, delete answers true;
//     bodies are validated with additionalProperties false (400 "data must
//     NOT have additional properties"), a hostname used by another host is
//     400 "<host> is already in use"; after a write the host's
//     meta.nginx_online and meta.nginx_err are set as NPM's nginx -t step
//     sets them; NPMplus-mode responses carry extra npmplus_* fields;
//   - errors as {"error": {"code", "message"}}: 403 "Permission Denied"
//     without a token (401 in ModeNPMplus, which rewrites it), 400 "Token
//     has expired" for an expired token, 403 for a foreign Origin or a
//     cross-site Sec-Fetch-Site header (ModeNPMplus).
//
// It follows the services' own source: Nginx Proxy Manager v2.15.1
// (NginxProxyManager/nginx-proxy-manager: backend/routes/tokens.js,
// backend/models/token.js, backend/app.js, backend/internal/nginx.js,
// backend/internal/proxy-host.js) and newer NPMplus (ZoeyVid/NPMplus:
// backend/routes/tokens.js, backend/schema/paths/nginx/proxy-hosts/post.json
// and hostID/put.json, backend/schema/components/proxy-host-object.json,
// backend/migrations/20260919000000_proxy_host_load_balancing.js and
// 20260926160524_meta_to_columns.js). The Mode is the version switch:
// ModeUpstream (NPM v2.15.1), ModeNPMplus (NPMplus with meta and
// forward_host) and ModeNPMplusNoMeta (NPMplus after meta_to_columns: no
// meta, npmplus_upstream_servers, npmplus_nginx_online at the top level).
//
// Faults are injected with FailNext (an HTTP error on the next call of an
// operation), FailNginx (the next write fails nginx -t) and ExpireTokens.
// Every method is safe for concurrent use.
package npmplustest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mode selects the authentication style of the server.
type Mode string

const (
	// ModeUpstream is Nginx Proxy Manager: the login body carries the
	// token, sent back as "Authorization: Bearer".
	ModeUpstream Mode = "upstream"
	// ModeNPMplus is newer NPMplus: the login body carries only expires,
	// the token travels in the __Host-Http-token cookie.
	ModeNPMplus Mode = "npmplus"
	// ModeNPMplusNoMeta is NPMplus after its load-balancing and
	// meta_to_columns migrations: proxy hosts have no meta (the schema
	// refuses it), forward to npmplus_upstream_servers instead of
	// forward_host/forward_port, report npmplus_nginx_online and
	// npmplus_nginx_err at the top level, and PUT has no enabled (the
	// enable route turns a host on). Expired or invalid tokens are 403
	// "Invalid or expired token".
	ModeNPMplusNoMeta Mode = "npmplus-nometa"
)

// ChallengeCookie is the cookie NPMplus sets for a login that needs a
// second factor (backend/routes/tokens.js).
const ChallengeCookie = "__Host-Http-challenge_token"

// Upstream is an entry of npmplus_upstream_servers
// (backend/schema/components/upstream-server-object.json).
type Upstream struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Certificate is a certificate of /api/nginx/certificates.
type Certificate struct {
	ID          int      `json:"id"`
	NiceName    string   `json:"nice_name"`
	Provider    string   `json:"provider"`
	DomainNames []string `json:"domain_names"`
}

// CookieName is the cookie NPMplus keeps its token in.
const CookieName = "__Host-Http-token"

// Op names an API operation, for FailNext and Calls.
type Op string

// Operations of the API.
const (
	OpLogin   Op = "login"   // POST /api/tokens
	OpRefresh Op = "refresh" // GET /api/tokens
	OpList    Op = "list"    // GET /api/nginx/proxy-hosts
	OpCreate  Op = "create"  // POST /api/nginx/proxy-hosts
	OpGet     Op = "get"     // GET /api/nginx/proxy-hosts/{id}
	OpUpdate  Op = "update"  // PUT /api/nginx/proxy-hosts/{id}
	OpDelete  Op = "delete"  // DELETE /api/nginx/proxy-hosts/{id}
)

// TokenLifetime is how long an issued token is valid (NPM's default).
const TokenLifetime = 24 * time.Hour

// Host is a proxy host as the server keeps it.
type Host struct {
	ID                    int            `json:"id"`
	CreatedOn             string         `json:"created_on"`
	ModifiedOn            string         `json:"modified_on"`
	OwnerUserID           int            `json:"owner_user_id"`
	DomainNames           []string       `json:"domain_names"`
	ForwardScheme         string         `json:"forward_scheme"`
	ForwardHost           string         `json:"forward_host"`
	ForwardPort           int            `json:"forward_port"`
	AccessListID          int            `json:"access_list_id"`
	CertificateID         int            `json:"certificate_id"`
	SSLForced             bool           `json:"ssl_forced"`
	CachingEnabled        bool           `json:"caching_enabled"`
	BlockExploits         bool           `json:"block_exploits"`
	AdvancedConfig        string         `json:"advanced_config"`
	Meta                  map[string]any `json:"meta"`
	AllowWebsocketUpgrade bool           `json:"allow_websocket_upgrade"`
	HTTP2Support          bool           `json:"http2_support"`
	Enabled               bool           `json:"enabled"`
	Locations             []any          `json:"locations"`
	HSTSEnabled           bool           `json:"hsts_enabled"`
	HSTSSubdomains        bool           `json:"hsts_subdomains"`
	// ModeNPMplusNoMeta: the forward targets and nginx status columns.
	// ForwardHost and ForwardPort mirror the first upstream server.
	UpstreamServers []Upstream `json:"-"`
	NginxOnline     bool       `json:"-"`
	NginxErr        string     `json:"-"`
}

type fault struct {
	status  int
	message string
}

// Server is a running stand-in. Create it with New and Close it.
type Server struct {
	mode     Mode
	email    string
	password string
	ts       *httptest.Server

	mu          sync.Mutex
	hosts       map[int]*Host
	nextID      int
	tokens      map[string]time.Time // token -> expiry
	failedLogin int
	faults      map[Op][]fault
	nginxFaults []string
	calls       map[Op]int
	rejected    []string
	last        map[Op]map[string]any
	twoFactor   bool
	certs       []*Certificate
}

// New starts a server in mode that accepts the login email and password.
func New(mode Mode, email, password string) *Server {
	if mode != ModeUpstream && mode != ModeNPMplus && mode != ModeNPMplusNoMeta {
		panic(fmt.Sprintf("npmplustest: unknown mode %q", mode))
	}
	s := &Server{
		mode: mode, email: email, password: password,
		hosts: map[int]*Host{}, nextID: 1,
		tokens: map[string]time.Time{}, faults: map[Op][]fault{},
		calls: map[Op]int{}, last: map[Op]map[string]any{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/tokens", s.login)
	mux.HandleFunc("GET /api/tokens", s.authed(OpRefresh, s.refresh))
	mux.HandleFunc("GET /api/nginx/proxy-hosts", s.authed(OpList, s.list))
	mux.HandleFunc("POST /api/nginx/proxy-hosts", s.authed(OpCreate, s.create))
	mux.HandleFunc("GET /api/nginx/proxy-hosts/{id}", s.authed(OpGet, s.withHost(s.get)))
	mux.HandleFunc("PUT /api/nginx/proxy-hosts/{id}", s.authed(OpUpdate, s.withHost(s.update)))
	mux.HandleFunc("DELETE /api/nginx/proxy-hosts/{id}", s.authed(OpDelete, s.withHost(s.delete)))
	// Not counted, and no faults: the adapter's tests do not need them.
	mux.HandleFunc("POST /api/nginx/proxy-hosts/{id}/enable", s.authed("", s.withHost(s.enable)))
	mux.HandleFunc("GET /api/nginx/certificates", s.authed("", s.certificates))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found - "+r.URL.Path)
	})
	s.ts = httptest.NewTLSServer(s.guard(mux))
	return s
}

// URL is the server's base URL (https://127.0.0.1:port), without /api.
func (s *Server) URL() string { return s.ts.URL }

// CAPEM is the PEM of the certificate the server presents, to write to
// the adapter's caFile.
func (s *Server) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ts.Certificate().Raw})
}

// Client returns a new HTTP client that trusts the server's certificate,
// without a cookie jar (set one for ModeNPMplus sessions).
func (s *Server) Client() *http.Client {
	c := *s.ts.Client()
	return &c
}

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// Mode is the server's authentication style.
func (s *Server) Mode() Mode { return s.mode }

// cookieAuth reports whether the server keeps sessions in a cookie.
func (s *Server) cookieAuth() bool { return s.mode != ModeUpstream }

// Set2FA makes the account need a second factor: a login answers
// {requiresTotp, expires} and sets the challenge cookie (NPMplus) or
// {requires_2fa, challenge_token} (NPM), and no session.
func (s *Server) Set2FA(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.twoFactor = on
}

// AddCertificate stores a certificate named niceName and returns its id.
func (s *Server) AddCertificate(niceName string, domains ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCert(niceName, "other", domains)
}

func (s *Server) addCert(name, provider string, domains []string) int {
	c := &Certificate{ID: len(s.certs) + 1, NiceName: name, Provider: provider, DomainNames: append([]string{}, domains...)}
	s.certs = append(s.certs, c)
	return c.ID
}

// Certificates returns the stored certificates.
func (s *Server) Certificates() []Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Certificate{}
	for _, c := range s.certs {
		out = append(out, *c)
	}
	return out
}

// InvalidateTokens forgets every token issued so far, as a restart with a
// new signing key does: NPM answers such a JWT 500 "Internal Error"
// (backend/models/token.js rejects with the jwt error, which
// backend/app.js hides), NPMplus 403 "Invalid or expired token".
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// ExpireTokens makes every token issued so far expired: the next call
// that presents one is answered 400 "Token has expired" (NPM) or 403
// "Invalid or expired token" (NPMplus).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Minute)
	for t := range s.tokens {
		s.tokens[t] = past
	}
}

// FailNext makes the next call of op answer status with message in the
// error body, before the call has any effect. Calls queue up.
func (s *Server) FailNext(op Op, status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], fault{status: status, message: message})
}

// FailNginx makes the next successful create or update fail nginx -t as
// NPM does: the write is kept and answered 201/200, but the host's
// meta.nginx_online becomes false and meta.nginx_err holds message.
func (s *Server) FailNginx(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nginxFaults = append(s.nginxFaults, message)
}

// AddHost stores h as if created through the UI (by someone else than
// the adapter) and returns its id. Its nginx config is online.
func (s *Server) AddHost(h Host) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.ID = s.nextID
	s.nextID++
	now := stamp()
	h.CreatedOn, h.ModifiedOn = now, now
	if h.OwnerUserID == 0 {
		h.OwnerUserID = 1
	}
	if h.ForwardScheme == "" {
		h.ForwardScheme = "http"
	}
	if h.Meta == nil {
		h.Meta = map[string]any{}
	}
	h.Meta["nginx_online"] = true
	h.Meta["nginx_err"] = nil
	if s.mode == ModeNPMplusNoMeta {
		h.Meta = map[string]any{}
		h.NginxOnline, h.NginxErr = true, ""
		if len(h.UpstreamServers) == 0 && h.ForwardHost != "" {
			h.UpstreamServers = []Upstream{{Host: h.ForwardHost, Port: h.ForwardPort}}
		}
	}
	if h.Locations == nil {
		h.Locations = []any{}
	}
	s.hosts[h.ID] = &h
	return h.ID
}

// Hosts returns copies of the live (not deleted) hosts, by id.
func (s *Server) Hosts() []Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Host, 0, len(s.hosts))
	for _, h := range s.sorted() {
		out = append(out, copyHost(h))
	}
	return out
}

// Host returns a copy of the host with id.
func (s *Server) Host(id int) (Host, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[id]
	if !ok {
		return Host{}, false
	}
	return copyHost(h), true
}

// SetHost replaces the stored host of h.ID, as an edit in the UI would
// (e.g. to simulate drift). It reports whether the host existed.
func (s *Server) SetHost(h Host) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hosts[h.ID]; !ok {
		return false
	}
	c := copyHost(&h)
	s.hosts[h.ID] = &c
	return true
}

// Calls is how many requests of op reached the server (failed ones
// included).
func (s *Server) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Rejected lists the request keys refused because the schema does not
// allow them (additionalProperties: false), in order.
func (s *Server) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejected...)
}

// LastBody is the decoded JSON body of the last request of op, or nil.
func (s *Server) LastBody(op Op) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[op]
}

// ---- HTTP plumbing ----

type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, message string) {
	var e apiError
	e.Error.Code = status
	e.Error.Message = message
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func stamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// guard applies NPMplus' request checks: the Origin header, when sent,
// must be the server's own origin, and Sec-Fetch-Site must be absent,
// same-origin or none.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cookieAuth() {
			if o := r.Header.Get("Origin"); o != "" && o != "https://"+r.Host {
				writeError(w, http.StatusForbidden, "Invalid Origin")
				return
			}
			switch r.Header.Get("Sec-Fetch-Site") {
			case "", "same-origin", "none":
			default:
				writeError(w, http.StatusForbidden, "Invalid Sec-Fetch-Site")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// begin counts a call of op and answers an injected fault. It returns
// false when the request was answered. The caller holds no lock.
func (s *Server) begin(w http.ResponseWriter, op Op) bool {
	s.mu.Lock()
	s.calls[op]++
	var f *fault
	if q := s.faults[op]; len(q) > 0 {
		f = &q[0]
		s.faults[op] = q[1:]
	}
	s.mu.Unlock()
	if f != nil {
		writeError(w, f.status, f.message)
		return false
	}
	return true
}

// authenticate checks the request's token; it holds s.mu. It answers the
// request and returns false when the token is missing, unknown or
// expired.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	var tok string
	if s.cookieAuth() {
		// Authentication comes from the cookie only: NPMplus closed the
		// Bearer fallback.
		if c, err := r.Cookie(CookieName); err == nil {
			tok = c.Value
		}
	} else if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	if tok == "" {
		if s.cookieAuth() {
			writeError(w, http.StatusUnauthorized, "Permission Denied")
		} else {
			writeError(w, http.StatusForbidden, "Permission Denied")
		}
		return false
	}
	exp, ok := s.tokens[tok]
	if s.cookieAuth() && (!ok || time.Now().After(exp)) {
		writeError(w, http.StatusForbidden, "Invalid or expired token")
		return false
	}
	if !ok { // a jwt error other than expiry: hidden as a 500
		writeError(w, http.StatusInternalServerError, "Internal Error")
		return false
	}
	if time.Now().After(exp) {
		writeError(w, http.StatusBadRequest, "Token has expired")
		return false
	}
	return true
}

// decodeBody reads a JSON object body into raw; it answers a bad body and
// records it as the last body of op.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, op Op) (map[string]json.RawMessage, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read body")
		return nil, false
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil || generic == nil {
		writeError(w, http.StatusBadRequest, "data must be object")
		return nil, false
	}
	if op != OpLogin { // never keep a password
		s.last[op] = generic
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	return raw, true
}

// reject answers the first key of raw that is not in allowed.
func (s *Server) reject(w http.ResponseWriter, raw map[string]json.RawMessage, allowed map[string]bool) bool {
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !allowed[k] {
			s.rejected = append(s.rejected, k)
			writeError(w, http.StatusBadRequest, "data must NOT have additional properties")
			return true
		}
	}
	return false
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + hex.EncodeToString(b[:12]) + "." + hex.EncodeToString(b[12:])
}

// issue creates a token and answers it in the mode's style; s.mu is held.
func (s *Server) issue(w http.ResponseWriter) {
	tok := newToken()
	exp := time.Now().Add(TokenLifetime)
	s.tokens[tok] = exp
	expires := exp.UTC().Format("2006-01-02T15:04:05.000Z")
	if s.twoFactor && s.cookieAuth() {
		// backend/routes/tokens.js: the challenge goes in its own cookie,
		// and the body says requiresTotp; no session.
		http.SetCookie(w, &http.Cookie{Name: ChallengeCookie, Value: "s:challenge-" + tok[len(tok)-8:], Path: "/",
			Expires: exp, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
		delete(s.tokens, tok)
		writeJSON(w, http.StatusOK, map[string]any{"requiresTotp": true, "expires": expires})
		return
	}
	if s.twoFactor {
		delete(s.tokens, tok)
		writeJSON(w, http.StatusOK, map[string]any{"requires_2fa": true, "challenge_token": "challenge-" + tok[len(tok)-8:]})
		return
	}
	if s.cookieAuth() {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "s:" + tok, Path: "/",
			Expires: exp, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
		// The cookie is "signed": the value the client returns is s:<token>.
		s.tokens["s:"+tok] = exp
		delete(s.tokens, tok)
		writeJSON(w, http.StatusOK, map[string]any{"expires": expires})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires": expires})
}

// authed serves an authenticated call of op: it counts the call and
// answers an injected fault (op "": neither), then takes s.mu, held while
// next runs, and checks the request's token.
func (s *Server) authed(op Op, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if op != "" && !s.begin(w, op) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.authenticate(w, r) {
			return
		}
		next(w, r)
	}
}

// withHost serves a call on the proxy host of the request's {id},
// answering 404 when there is none; s.mu is held.
func (s *Server) withHost(next func(w http.ResponseWriter, r *http.Request, h *Host)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, ok := s.lookup(w, r)
		if !ok {
			return
		}
		next(w, r, h)
	}
}

// ---- tokens ----

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, OpLogin) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cookieAuth() && s.failedLogin >= 5 {
		writeError(w, http.StatusTooManyRequests, "Too many failed login attempts, please try again later")
		return
	}
	raw, ok := s.decodeBody(w, r, OpLogin)
	if !ok {
		return
	}
	if s.reject(w, raw, map[string]bool{"identity": true, "secret": true, "scope": true}) {
		return
	}
	var identity, secret string
	if json.Unmarshal(raw["identity"], &identity) != nil || json.Unmarshal(raw["secret"], &secret) != nil || identity == "" || secret == "" {
		writeError(w, http.StatusBadRequest, "data must have required property 'identity' and 'secret'")
		return
	}
	if !strings.EqualFold(identity, s.email) || secret != s.password {
		s.failedLogin++
		writeError(w, http.StatusBadRequest, "Invalid email or password")
		return
	}
	s.issue(w)
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	s.issue(w)
}

// ---- proxy hosts ----

var coreKeys = []string{
	"domain_names", "forward_scheme", "forward_host", "forward_port", "certificate_id", "ssl_forced",
	"hsts_enabled", "hsts_subdomains", "http2_support", "block_exploits", "caching_enabled",
	"allow_websocket_upgrade", "access_list_id", "advanced_config", "enabled", "meta", "locations",
}

var npmplusKeys = []string{
	"npmplus_http3_support", "npmplus_access_list_ids", "npmplus_access_list_type",
	"npmplus_crowdsec_appsec", "npmplus_auth_request",
}

// allowed is the key set of the mode's create (or update) schema.
func (s *Server) allowed(create bool) map[string]bool {
	m := map[string]bool{}
	for _, k := range coreKeys {
		m[k] = true
	}
	if s.cookieAuth() {
		for _, k := range npmplusKeys {
			m[k] = true
		}
	}
	if s.mode == ModeNPMplusNoMeta {
		// post.json and hostID/put.json after the load-balancing and
		// meta_to_columns migrations: no meta, no forward_host or
		// forward_port, and PUT has no enabled.
		delete(m, "meta")
		delete(m, "forward_host")
		delete(m, "forward_port")
		if !create {
			delete(m, "enabled")
		}
		m["npmplus_upstream_servers"] = true
		m["npmplus_load_balance_method"] = true
		m["npmplus_forward_path"] = true
	}
	return m
}

// render is the JSON form of h the API answers, with the fields the
// mode's schema adds.
func (s *Server) render(h *Host) map[string]any {
	b, _ := json.Marshal(h)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["certificate"] = nil
	m["access_list"] = nil
	m["ssl_key_type"] = "ecdsa"
	m["default_server"] = false
	if s.mode == ModeNPMplusNoMeta {
		// The model strips meta; the status is in columns.
		delete(m, "meta")
		delete(m, "forward_host")
		delete(m, "forward_port")
		ups := h.UpstreamServers
		if ups == nil {
			ups = []Upstream{}
		}
		m["npmplus_upstream_servers"] = ups
		m["npmplus_load_balance_method"] = nil
		m["npmplus_nginx_online"] = h.NginxOnline
		m["npmplus_nginx_err"] = h.NginxErr
	}
	if s.cookieAuth() {
		m["npmplus_http3_support"] = false
		m["npmplus_access_list_ids"] = []any{}
		m["npmplus_access_list_type"] = "all"
		m["npmplus_crowdsec_appsec"] = false
		m["npmplus_auth_request"] = ""
	}
	return m
}

func (s *Server) sorted() []*Host {
	out := make([]*Host, 0, len(s.hosts))
	for _, h := range s.hosts {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("query"))
	out := []map[string]any{}
	for _, h := range s.sorted() {
		if q != "" && !strings.Contains(strings.ToLower(strings.Join(h.DomainNames, ",")), q) {
			continue
		}
		out = append(out, s.render(h))
	}
	writeJSON(w, http.StatusOK, out)
}

// lookup finds the host of the request's {id}; s.mu is held.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*Host, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "data/id must be integer")
		return nil, false
	}
	h, ok := s.hosts[id]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Not Found - %d", id))
		return nil, false
	}
	return h, true
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, h *Host) {
	writeJSON(w, http.StatusOK, s.render(h))
}

// apply validates raw (a create body when create) and writes it to h.
// It answers and returns false on a validation error.
func (s *Server) apply(w http.ResponseWriter, raw map[string]json.RawMessage, h *Host, create bool) bool {
	if s.reject(w, raw, s.allowed(create)) {
		return false
	}
	next := copyHost(h)
	msg := s.missingKey(raw, create)
	if msg == "" {
		msg = s.decodeForward(raw, &next)
	}
	if msg == "" {
		msg = s.decodeCertificate(raw, &next)
	}
	if msg == "" {
		msg = decodeOptions(raw, &next)
	}
	if msg == "" {
		msg = s.domainInUse(next.DomainNames, h.ID)
	}
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return false
	}
	if next.CertificateID == -1 {
		next.CertificateID = s.addCert(strings.Join(next.DomainNames, ", "), "letsencrypt", next.DomainNames)
	}
	*h = next
	return true
}

// missingKey is the schema's message for a create body without a required
// key, or an update body without any.
func (s *Server) missingKey(raw map[string]json.RawMessage, create bool) string {
	if !create {
		if len(raw) == 0 {
			return "data must NOT have fewer than 1 properties"
		}
		return ""
	}
	required := []string{"domain_names", "forward_scheme", "forward_host", "forward_port"}
	if s.mode == ModeNPMplusNoMeta {
		required = []string{"domain_names", "forward_scheme", "npmplus_upstream_servers"}
	}
	for _, k := range required {
		if _, ok := raw[k]; !ok {
			return fmt.Sprintf("data must have required property '%s'", k)
		}
	}
	return ""
}

// decodeForward reads the host's names and where it forwards to.
func (s *Server) decodeForward(raw map[string]json.RawMessage, next *Host) string {
	if v, ok := raw["domain_names"]; ok {
		var names []string
		if json.Unmarshal(v, &names) != nil || len(names) < 1 || len(names) > 100 {
			return "data/domain_names must be an array of 1 to 100 hostnames"
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || len(n) > 255 || seen[strings.ToLower(n)] {
				return "data/domain_names must NOT have duplicate or empty items"
			}
			seen[strings.ToLower(n)] = true
		}
		next.DomainNames = names
	}
	if v, ok := raw["forward_scheme"]; ok {
		var sc string
		valid := map[string]bool{"http": true, "https": true}
		if s.cookieAuth() { // NPMplus' schema adds these
			for _, x := range []string{"path", "empty", "grpc", "grpcs"} {
				valid[x] = true
			}
		}
		if json.Unmarshal(v, &sc) != nil || !valid[sc] {
			return "data/forward_scheme must be equal to one of the allowed values"
		}
		next.ForwardScheme = sc
	}
	if v, ok := raw["forward_host"]; ok {
		var fh string
		if json.Unmarshal(v, &fh) != nil || fh == "" || len(fh) > 255 {
			return "data/forward_host must NOT have fewer than 1 characters"
		}
		next.ForwardHost = fh
	}
	if v, ok := raw["forward_port"]; ok {
		var p int
		if json.Unmarshal(v, &p) != nil || p < 1 || p > 65535 {
			return "data/forward_port must be integer between 1 and 65535"
		}
		next.ForwardPort = p
	}
	if v, ok := raw["npmplus_upstream_servers"]; ok {
		var ups []Upstream
		if json.Unmarshal(v, &ups) != nil || len(ups) < 1 {
			return "data/npmplus_upstream_servers must NOT have fewer than 1 items"
		}
		for _, u := range ups {
			if u.Host == "" || u.Port < 1 || u.Port > 65535 {
				return "data/npmplus_upstream_servers must be host and port 1-65535"
			}
		}
		next.UpstreamServers = ups
		next.ForwardHost, next.ForwardPort = ups[0].Host, ups[0].Port
	}
	return ""
}

// decodeCertificate reads certificate_id: an existing certificate, 0 for
// none, or "new" (-1 until apply requests it).
func (s *Server) decodeCertificate(raw map[string]json.RawMessage, next *Host) string {
	v, ok := raw["certificate_id"]
	if !ok {
		return ""
	}
	var id int
	var isNew string
	switch {
	case json.Unmarshal(v, &id) == nil && id >= 0:
		if id > 0 && !s.hasCert(id) {
			return "Certificate could not be found"
		}
		next.CertificateID = id
	case json.Unmarshal(v, &isNew) == nil && isNew == "new":
		// internal/proxy-host.js: "new" requests a Let's Encrypt
		// certificate for the host's domain_names (createQuickCertificate).
		next.CertificateID = -1
	default:
		return "data/certificate_id must be integer or \"new\""
	}
	return ""
}

// decodeOptions reads meta, enabled, advanced_config and the boolean
// switches.
func decodeOptions(raw map[string]json.RawMessage, next *Host) string {
	if v, ok := raw["meta"]; ok {
		var m map[string]any
		if json.Unmarshal(v, &m) != nil || m == nil {
			return "data/meta must be object"
		}
		next.Meta = m
	}
	if v, ok := raw["enabled"]; ok {
		var e bool
		if json.Unmarshal(v, &e) != nil {
			return "data/enabled must be boolean"
		}
		next.Enabled = e
	}
	if v, ok := raw["advanced_config"]; ok {
		var a string
		if json.Unmarshal(v, &a) != nil {
			return "data/advanced_config must be string"
		}
		next.AdvancedConfig = a
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{
		{"ssl_forced", &next.SSLForced},
		{"hsts_enabled", &next.HSTSEnabled},
		{"hsts_subdomains", &next.HSTSSubdomains},
		{"http2_support", &next.HTTP2Support},
		{"block_exploits", &next.BlockExploits},
		{"caching_enabled", &next.CachingEnabled},
		{"allow_websocket_upgrade", &next.AllowWebsocketUpgrade},
	} {
		if v, ok := raw[f.key]; ok {
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return "data/" + f.key + " must be boolean"
			}
			*f.dst = b
		}
	}
	return ""
}

// domainInUse refuses a hostname of another live host (NPM checks proxy,
// redirection and dead hosts alike; only proxy hosts exist here).
func (s *Server) domainInUse(names []string, self int) string {
	for _, n := range names {
		for _, o := range s.hosts {
			if o.ID == self {
				continue
			}
			for _, on := range o.DomainNames {
				if strings.EqualFold(on, n) {
					return n + " is already in use"
				}
			}
		}
	}
	return ""
}

func (s *Server) hasCert(id int) bool {
	for _, c := range s.certs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// certificates lists the certificates (GET /api/nginx/certificates).
func (s *Server) certificates(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	for _, c := range s.certs {
		out = append(out, map[string]any{"id": c.ID, "nice_name": c.NiceName, "provider": c.Provider, "domain_names": c.DomainNames,
			"expires_on": "2027-01-01 00:00:00", "owner_user_id": 1})
	}
	writeJSON(w, http.StatusOK, out)
}

// enable turns a disabled host on (POST /api/nginx/proxy-hosts/{id}/enable).
func (s *Server) enable(w http.ResponseWriter, r *http.Request, h *Host) {
	if h.Enabled {
		writeError(w, http.StatusBadRequest, "Host is already enabled")
		return
	}
	h.Enabled = true
	s.configure(h)
	writeJSON(w, http.StatusOK, true)
}

// configure stands for NPM's nginx step after a write: it merges the
// nginx -t outcome into meta, as internal/nginx.js does; s.mu is held.
func (s *Server) configure(h *Host) {
	if h.Meta == nil {
		h.Meta = map[string]any{}
	}
	online, msg := true, ""
	if len(s.nginxFaults) > 0 {
		online, msg = false, s.nginxFaults[0]
		s.nginxFaults = s.nginxFaults[1:]
	}
	if s.mode == ModeNPMplusNoMeta {
		h.NginxOnline, h.NginxErr = online, msg
		return
	}
	h.Meta["nginx_online"] = online
	h.Meta["nginx_err"] = nil
	if !online {
		h.Meta["nginx_err"] = msg
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.decodeBody(w, r, OpCreate)
	if !ok {
		return
	}
	h := &Host{ID: 0, OwnerUserID: 1, Enabled: true, Meta: map[string]any{}, Locations: []any{}}
	if s.mode == ModeNPMplusNoMeta {
		h.NginxErr = ""
	}
	if !s.apply(w, raw, h, true) {
		return
	}
	h.ID = s.nextID
	s.nextID++
	now := stamp()
	h.CreatedOn, h.ModifiedOn = now, now
	s.hosts[h.ID] = h
	// NPM answers with the row fetched before nginx is configured: the
	// response carries no nginx_online; only a read-back shows it.
	resp := s.render(h)
	s.configure(h)
	writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, h *Host) {
	raw, ok := s.decodeBody(w, r, OpUpdate)
	if !ok {
		return
	}
	if !s.apply(w, raw, h, false) {
		return
	}
	h.ModifiedOn = stamp()
	if h.Enabled {
		s.configure(h)
	}
	writeJSON(w, http.StatusOK, s.render(h))
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, h *Host) {
	delete(s.hosts, h.ID)
	writeJSON(w, http.StatusOK, true)
}

func copyHost(h *Host) Host {
	c := *h
	c.DomainNames = append([]string(nil), h.DomainNames...)
	c.Locations = append([]any{}, h.Locations...)
	c.UpstreamServers = append([]Upstream(nil), h.UpstreamServers...)
	if h.Meta != nil {
		c.Meta = make(map[string]any, len(h.Meta))
		for k, v := range h.Meta {
			c.Meta[k] = v
		}
	}
	return c
}
