package npmplus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/httpapi"
	"github.com/launchplane/launchplane/providers/npmplus/npmplustest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

const (
	email    = "admin@example.com"
	password = providertest.CredentialCanary
	provName = "edge"
)

var modes = []npmplustest.Mode{npmplustest.ModeUpstream, npmplustest.ModeNPMplus, npmplustest.ModeNPMplusNoMeta}

// server starts a stand-in that stops with the test.
func server(t *testing.T, mode npmplustest.Mode) *npmplustest.Server {
	t.Helper()
	s := npmplustest.New(mode, email, password)
	t.Cleanup(s.Close)
	return s
}

// open builds the adapter as apply does: a fresh Redactor, and a Resolve
// that registers what it returns. conf starts with a caFile pinning the
// server's certificate; edit changes it before it is encoded.
func open(t *testing.T, s *npmplustest.Server, edit func(c map[string]any)) *Provider {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "npm-ca.pem"), s.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := map[string]any{
		"url":         s.URL(),
		"email":       email,
		"password":    map[string]string{"fromEnv": "NPM_PASSWORD"},
		"forwardHost": "{upstream}",
		"caFile":      "npm-ca.pem",
	}
	secret := password
	if edit != nil {
		edit(c)
		if pw, ok := c["_password"].(string); ok {
			secret = pw
			delete(c, "_password")
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	red := redact.New()
	inst, err := newProvider(providers.Config{Name: provName, Raw: raw, ConfigDir: dir, Redactor: red,
		Resolve: func(ref providers.SecretRef) (string, error) {
			if ref.FromEnv != "NPM_PASSWORD" {
				return "", fmt.Errorf("unexpected secret reference %s", ref)
			}
			red.Add(secret)
			return secret, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Provider)
}

// backend turns the suite's faults into the stand-in's HTTP failures. A
// 400 is used because the shared client retries 5xx answers to reads.
type backend struct{ s *npmplustest.Server }

func (b backend) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	switch op {
	case providertest.OpEnsureRoute:
		b.s.FailNext(npmplustest.OpCreate, http.StatusBadRequest, message)
	case providertest.OpListRoutes:
		b.s.FailNext(npmplustest.OpList, http.StatusBadRequest, message)
	case providertest.OpDeleteRoute:
		b.s.FailNext(npmplustest.OpDelete, http.StatusBadRequest, message)
	default:
		t.Fatalf("npmplus backend: no fault for %s", op)
	}
}

func TestConformance(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			providertest.RunIngress(t, providertest.Setup[providers.Ingress]{Provider: provName,
				New: func(t *testing.T) (providers.Ingress, providertest.Backend) {
					s := server(t, mode)
					return open(t, s, nil), backend{s}
				}})
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func route(target, domain string, port int) providers.Route {
	return providers.Route{Target: target, Domain: domain, Upstream: providers.ObjectName(target), Port: port, IdempotencyKey: "key-" + domain + fmt.Sprint(port)}
}

func hostOf(t *testing.T, s *npmplustest.Server, domain string) npmplustest.Host {
	t.Helper()
	for _, h := range s.Hosts() {
		for _, d := range h.DomainNames {
			if d == domain {
				return h
			}
		}
	}
	t.Fatalf("no proxy host for %s in %+v", domain, s.Hosts())
	return npmplustest.Host{}
}

func TestCreateWritesMarkerAndForward(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, func(c map[string]any) { c["forwardHost"] = "{upstream}.apps.internal"; c["forwardScheme"] = "https" })
			ev, err := p.EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 8080))
			if err != nil {
				t.Fatal(err)
			}
			h := hostOf(t, s, "shop.example.com")
			if h.ForwardHost != "shop-prod.apps.internal" || h.ForwardPort != 8080 || h.ForwardScheme != "https" {
				t.Errorf("host forwards to %s://%s:%d", h.ForwardScheme, h.ForwardHost, h.ForwardPort)
			}
			if mode == npmplustest.ModeNPMplusNoMeta {
				// No meta on this server: the marker is the first line of advanced_config.
				if want := "# launchplane-route target=shop%2Fprod upstream=shop-prod port=8080 key=key-shop.example.com8080\n"; h.AdvancedConfig != want {
					t.Errorf("advanced_config %q, want %q", h.AdvancedConfig, want)
				}
			} else if h.Meta[metaTarget] != "shop/prod" || h.Meta[metaUpstream] != "shop-prod" || h.Meta[metaKey] != "key-shop.example.com8080" {
				t.Errorf("host meta %v lacks the launchplane marker", h.Meta)
			}
			if ev.Action != "created" || ev.ProxyHostID != h.ID || ev.Forward != "https://shop-prod.apps.internal:8080" {
				t.Errorf("evidence %v", ev)
			}
			ev, err = p.EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 8080))
			if err != nil || ev.Action != "unchanged" {
				t.Fatalf("second ensure: %v, %v", ev, err)
			}
			if n := s.Calls(npmplustest.OpUpdate); n != 0 {
				t.Errorf("an unchanged route was written %d time(s)", n)
			}
		})
	}
}

func TestFixedForwardHost(t *testing.T) {
	s := server(t, npmplustest.ModeUpstream)
	p := open(t, s, func(c map[string]any) { c["forwardHost"] = "10.0.0.7" })
	r := route("shop/prod", "shop.example.com", 8080)
	if _, err := p.EnsureRoute(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	if h := hostOf(t, s, r.Domain); h.ForwardHost != "10.0.0.7" {
		t.Errorf("forward host %q", h.ForwardHost)
	}
	rs, err := p.ListRoutes(ctx(t), "shop/prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0] != r {
		t.Fatalf("routes %+v, want %+v", rs, r)
	}
}

func TestOnlyCoreFieldsAreSent(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, nil)
			if _, err := p.EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 8080)); err != nil {
				t.Fatal(err)
			}
			if _, err := p.EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 9090)); err != nil {
				t.Fatal(err)
			}
			// On an NPMplus without hosts, the first create tries the
			// newest shape, which an NPMplus with meta refuses.
			if r := s.Rejected(); len(r) != 0 && (mode != npmplustest.ModeNPMplus || len(r) != 1 || r[0] != "npmplus_upstream_servers") {
				t.Fatalf("the server refused keys %v", r)
			}
			core := map[string]bool{"domain_names": true, "forward_scheme": true, "forward_host": true, "forward_port": true, "meta": true}
			if mode == npmplustest.ModeNPMplusNoMeta {
				core = map[string]bool{"domain_names": true, "forward_scheme": true, "npmplus_upstream_servers": true, "advanced_config": true}
			}
			for _, op := range []npmplustest.Op{npmplustest.OpCreate, npmplustest.OpUpdate} {
				body := s.LastBody(op)
				if body == nil {
					t.Fatalf("no %s request reached the server", op)
				}
				for k := range body {
					if !core[k] {
						t.Errorf("%s sent key %q beyond the core fields", op, k)
					}
				}
			}
		})
	}
}

// The stand-in's schema check is real: an unknown key is refused.
func TestStandInRefusesUnknownKeys(t *testing.T) {
	s := server(t, npmplustest.ModeUpstream)
	p := open(t, s, nil)
	if _, err := p.ListRoutes(ctx(t), "shop/prod"); err != nil { // logs in
		t.Fatal(err)
	}
	for _, body := range []map[string]any{
		{"domain_names": []string{"x.example.com"}, "forward_scheme": "http", "forward_host": "x", "forward_port": 80, "launchplane": "x"},
		{"domain_names": []string{"y.example.com"}, "forward_scheme": "http", "forward_host": "y", "forward_port": 80, "npmplus_http3_support": true},
	} {
		err := p.call(ctx(t), httpapi.Request{Method: http.MethodPost, Path: "/api/nginx/proxy-hosts", Body: body}, nil)
		var ae *providers.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Body, "additional properties") {
			t.Errorf("unknown key: %v, want HTTP 400 additional properties", err)
		}
	}
	if got := s.Rejected(); strings.Join(got, ",") != "launchplane,npmplus_http3_support" {
		t.Errorf("rejected %v", got)
	}
	if len(s.Hosts()) != 0 {
		t.Errorf("a refused body created a host: %+v", s.Hosts())
	}
}

func TestNginxOffline(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, nil)
			r := route("shop/prod", "shop.example.com", 8080)
			s.FailNginx("nginx: [emerg] unknown directive \"bogus\" in /data/nginx/proxy_host/1.conf:61\nnginx: configuration file test failed auth=" + password)
			_, err := p.EnsureRoute(ctx(t), r)
			providertest.CheckError(t, err, provName, "route", "shop/prod")
			want := `route shop/prod via edge: nginx rejected the config of proxy host 1 (shop.example.com): nginx: [emerg] unknown directive "bogus" in /data/nginx/proxy_host/1.conf:61 nginx: configuration file test failed auth=[REDACTED]`
			if err.Error() != want {
				t.Fatalf("error\n%s\nwant\n%s", err, want)
			}
			// The host stays, without a key: apply must ensure it again.
			rs, err := p.ListRoutes(ctx(t), "shop/prod")
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || rs[0].IdempotencyKey != "" {
				t.Fatalf("routes of an offline host: %+v", rs)
			}
			ev, err := p.EnsureRoute(ctx(t), r)
			if err != nil {
				t.Fatalf("ensure after nginx recovered: %v", err)
			}
			if ev.Action != "updated" || ev.ProxyHostID != 1 {
				t.Errorf("evidence %v", ev)
			}
			rs, _ = p.ListRoutes(ctx(t), "shop/prod")
			if len(rs) != 1 || rs[0].IdempotencyKey != r.IdempotencyKey {
				t.Fatalf("routes after recovery: %+v", rs)
			}
		})
	}
}

func TestTokenExpiredLogsInAgain(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, nil)
			if _, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080)); err != nil {
				t.Fatal(err)
			}
			s.ExpireTokens()
			// Concurrent calls after expiry share one new login.
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = p.EnsureRoute(ctx(t), route("shop/prod", fmt.Sprintf("b%d.example.com", i), 8080))
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("ensure after the token expired: %v", err)
				}
			}
			if n := s.Calls(npmplustest.OpLogin); n != 2 {
				t.Errorf("%d logins, want 2 (the first, and one after expiry)", n)
			}
			rs, err := p.ListRoutes(ctx(t), "shop/prod")
			if err != nil || len(rs) != 5 {
				t.Fatalf("routes %+v, %v", rs, err)
			}
		})
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, nil)
			if _, err := p.ListRoutes(ctx(t), "shop/prod"); err != nil {
				t.Fatal(err)
			}
			p.mu.Lock()
			exp := p.expires
			p.mu.Unlock()
			if exp.IsZero() {
				t.Fatal("login announced no expiry")
			}
			// The clock jumps once to a minute before expiry.
			jumped := false
			p.now = func() time.Time {
				if !jumped {
					jumped = true
					return exp.Add(-time.Minute)
				}
				return time.Now()
			}
			if _, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080)); err != nil {
				t.Fatal(err)
			}
			if r, l := s.Calls(npmplustest.OpRefresh), s.Calls(npmplustest.OpLogin); r != 1 || l != 1 {
				t.Errorf("%d refreshes and %d logins, want 1 and 1", r, l)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			wrong := "not-the-password-" + providertest.CredentialCanary
			p := open(t, s, func(c map[string]any) { c["_password"] = wrong })
			_, err := p.EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 8080))
			want := "route shop/prod via edge: npmplus login failed: HTTP 400: Invalid email or password"
			if err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
				t.Errorf("error holds the password: %v", err)
			}
			if !errors.Is(err, providers.ErrUnauthorized) {
				t.Errorf("%v does not wrap ErrUnauthorized", err)
			}
			// The refusal sticks: no second login against the rate limit.
			_, err = p.ListRoutes(ctx(t), "shop/prod")
			if err == nil || !strings.Contains(err.Error(), "list routes shop/prod via edge: npmplus login failed") {
				t.Fatalf("second call: %v", err)
			}
			if n := s.Calls(npmplustest.OpLogin); n != 1 {
				t.Errorf("%d login attempts, want 1", n)
			}
			if len(s.Hosts()) != 0 {
				t.Error("a host was created without a login")
			}
		})
	}
}

func TestTLS(t *testing.T) {
	s := server(t, npmplustest.ModeNPMplus)
	r := route("shop/prod", "shop.example.com", 8080)

	// System roots do not know the self-signed certificate.
	p := open(t, s, func(c map[string]any) { delete(c, "caFile") })
	_, err := p.EnsureRoute(ctx(t), r)
	if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "npmplus login failed") {
		t.Fatalf("untrusted certificate: %v, want a TLS verification error", err)
	}
	// A pinned CA of another server does not vouch for this one.
	p = open(t, s, func(c map[string]any) {
		c["caFile"] = filepath.Join(t.TempDir(), "other.pem")
		if err := os.WriteFile(c["caFile"].(string), otherCA(t), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := p.EnsureRoute(ctx(t), r); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("wrong pinned CA: %v, want a TLS verification error", err)
	}
	// insecureSkipVerify trusts anything.
	p = open(t, s, func(c map[string]any) { delete(c, "caFile"); c["insecureSkipVerify"] = true })
	if _, err := p.EnsureRoute(ctx(t), r); err != nil {
		t.Fatalf("insecureSkipVerify: %v", err)
	}
	// The right pin works (as every other test shows), and a missing or
	// empty caFile says so.
	p = open(t, s, func(c map[string]any) { c["caFile"] = "missing.pem" })
	if _, err := p.ListRoutes(ctx(t), "shop/prod"); err == nil || !strings.Contains(err.Error(), "read caFile") {
		t.Fatalf("missing caFile: %v", err)
	}
	if len(s.Hosts()) != 1 {
		t.Errorf("hosts %+v, want the one made with insecureSkipVerify", s.Hosts())
	}
	raw, _ := json.Marshal(map[string]any{"url": s.URL(), "email": email, "password": map[string]string{"fromEnv": "X"},
		"forwardHost": "x", "caFile": "ca.pem", "insecureSkipVerify": true})
	if _, err := newProvider(providers.Config{Name: provName, Raw: raw}); err == nil {
		t.Error("caFile with insecureSkipVerify accepted")
	}
}

func TestForeignDomainRefused(t *testing.T) {
	s := server(t, npmplustest.ModeNPMplus)
	p := open(t, s, nil)
	id := s.AddHost(npmplustest.Host{DomainNames: []string{"shop.example.com"}, ForwardHost: "10.0.0.5", ForwardPort: 80, Enabled: true})
	_, err := p.EnsureRoute(ctx(t), route("shop/prod", "Shop.example.com", 8080))
	providertest.CheckError(t, err, provName, "route", "shop/prod")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("domain Shop.example.com is already served by proxy host %d, which launchplane does not manage", id)) {
		t.Fatalf("foreign host: %v", err)
	}
	// Deleting the route of a domain the target does not own leaves it.
	if err := p.DeleteRoute(ctx(t), "shop/prod", "shop.example.com"); err != nil {
		t.Fatal(err)
	}
	if h, ok := s.Host(id); !ok || h.ForwardHost != "10.0.0.5" || h.ForwardPort != 80 || len(h.Meta) != 2 {
		t.Fatalf("the foreign host changed: %+v", h)
	}
	if rs, err := p.ListRoutes(ctx(t), "shop/prod"); err != nil || len(rs) != 0 {
		t.Fatalf("routes %+v, %v", rs, err)
	}

	// Another target's domain is refused too, naming the owner.
	if _, err := p.EnsureRoute(ctx(t), route("shop/testing", "test.example.com", 8080)); err != nil {
		t.Fatal(err)
	}
	_, err = p.EnsureRoute(ctx(t), route("shop/prod", "test.example.com", 8080))
	if err == nil || !strings.Contains(err.Error(), "is already served by proxy host 2 of launchplane target shop/testing") {
		t.Fatalf("another target's host: %v", err)
	}
	if h := hostOf(t, s, "test.example.com"); h.Meta[metaTarget] != "shop/testing" {
		t.Fatalf("host taken over: %+v", h)
	}
}

// A host of the domain that the list does not show (another user's host,
// a redirection host) makes create answer "already in use".
func TestInvisibleHostInUse(t *testing.T) {
	s := server(t, npmplustest.ModeUpstream)
	p := open(t, s, nil)
	s.FailNext(npmplustest.OpCreate, http.StatusBadRequest, "shop.example.com is already in use")
	s.FailNext(npmplustest.OpCreate, http.StatusBadRequest, "shop.example.com is already in use")
	_, err := p.EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 8080))
	if err == nil || !strings.Contains(err.Error(), "domain shop.example.com is used by an NPM host launchplane cannot see") ||
		!strings.Contains(err.Error(), "HTTP 400: shop.example.com is already in use") {
		t.Fatalf("error %v", err)
	}
	if n := s.Calls(npmplustest.OpList); n != 2 {
		t.Errorf("%d lists, want 2 (one more after the first refusal)", n)
	}
}

func TestDriftIsRepaired(t *testing.T) {
	s := server(t, npmplustest.ModeUpstream)
	p := open(t, s, nil)
	r := route("shop/prod", "shop.example.com", 8080)
	if _, err := p.EnsureRoute(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	h := hostOf(t, s, r.Domain)
	h.ForwardPort = 9999
	h.Enabled = false
	h.Meta["letsencrypt_agree"] = true
	s.SetHost(h)
	rs, err := p.ListRoutes(ctx(t), "shop/prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Port != 9999 || rs[0].IdempotencyKey != "" {
		t.Fatalf("drifted route %+v: want the live port and no key", rs)
	}
	ev, err := p.EnsureRoute(ctx(t), r)
	if err != nil || ev.Action != "updated" {
		t.Fatalf("repair: %v, %v", ev, err)
	}
	if body := s.LastBody(npmplustest.OpUpdate); body["enabled"] != true {
		t.Errorf("a disabled host was not enabled: %v", body)
	}
	h = hostOf(t, s, r.Domain)
	if h.ForwardPort != 8080 || !h.Enabled || h.Meta["letsencrypt_agree"] != true || h.Meta["nginx_online"] != true {
		t.Fatalf("repaired host %+v", h)
	}
}

func TestDeleteDropsOnlyItsDomain(t *testing.T) {
	s := server(t, npmplustest.ModeNPMplus)
	p := open(t, s, nil)
	r := route("shop/prod", "shop.example.com", 8080)
	if _, err := p.EnsureRoute(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	h := hostOf(t, s, r.Domain)
	h.DomainNames = append(h.DomainNames, "www.example.com")
	s.SetHost(h)
	rs, _ := p.ListRoutes(ctx(t), "shop/prod")
	var domains []string
	for _, x := range rs {
		domains = append(domains, x.Domain)
	}
	sort.Strings(domains)
	if strings.Join(domains, ",") != "shop.example.com,www.example.com" {
		t.Fatalf("routes %+v", rs)
	}
	if err := p.DeleteRoute(ctx(t), "shop/prod", "www.example.com"); err != nil {
		t.Fatal(err)
	}
	if h := hostOf(t, s, r.Domain); len(h.DomainNames) != 1 {
		t.Fatalf("host after dropping a domain: %+v", h)
	}
	if err := p.DeleteRoute(ctx(t), "shop/prod", r.Domain); err != nil {
		t.Fatal(err)
	}
	if len(s.Hosts()) != 0 {
		t.Fatalf("hosts after delete: %+v", s.Hosts())
	}
}

// newer NPMplus puts the session in a Secure cookie: over plain http the
// jar would never send it, which the adapter says instead of failing
// every later call.
func TestCookieSessionNeedsHTTPS(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: npmplustest.CookieName, Value: "s:tok", Path: "/", Secure: true, HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"expires":"2030-01-01T00:00:00.000Z"}`)
	}))
	defer ts.Close()
	raw, _ := json.Marshal(map[string]any{"url": ts.URL + "/api/", "email": email, "password": map[string]string{"fromEnv": "X"}, "forwardHost": "x"})
	inst, err := newProvider(providers.Config{Name: provName, Raw: raw, Resolve: func(providers.SecretRef) (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.(*Provider).ListRoutes(ctx(t), "shop/prod")
	if err == nil || !strings.Contains(err.Error(), "only sent over https: use an https url") {
		t.Fatalf("cookie session over http: %v", err)
	}
}

func TestTwoFactorRefused(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"requires_2fa":true,"challenge_token":"abc"}`)
	}))
	defer ts.Close()
	raw, _ := json.Marshal(map[string]any{"url": ts.URL, "email": email, "password": map[string]string{"fromEnv": "X"}, "forwardHost": "x", "insecureSkipVerify": true})
	inst, err := newProvider(providers.Config{Name: provName, Raw: raw, Resolve: func(providers.SecretRef) (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.(*Provider).EnsureRoute(ctx(t), route("shop/prod", "shop.example.com", 8080))
	if err == nil || !strings.Contains(err.Error(), "this account needs 2FA: use a token/account without it") {
		t.Fatalf("2FA account: %v", err)
	}
}

func TestStandInChecksOrigin(t *testing.T) {
	s := server(t, npmplustest.ModeNPMplus)
	for _, h := range []http.Header{{"Origin": {"https://evil.example"}}, {"Sec-Fetch-Site": {"cross-site"}}} {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/tokens", strings.NewReader(`{}`))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%v: HTTP %d, want 403", h, resp.StatusCode)
		}
	}
}

func TestNoSecretNeededToConstruct(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"url": "https://npm.example.com:81", "email": email, "password": map[string]string{"fromEnv": "X"}, "forwardHost": "x"})
	inst, err := newProvider(providers.Config{Name: provName, Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.(*Provider).ListRoutes(ctx(t), "shop/prod")
	if !errors.Is(err, providers.ErrCannotObserve) {
		t.Fatalf("list routes without secrets: %v, want ErrCannotObserve", err)
	}
	for _, bad := range []map[string]any{
		{"url": "https://user:pw@npm.example.com", "email": email, "password": map[string]string{"fromEnv": "X"}, "forwardHost": "x"},
		{"url": "ftp://npm.example.com", "email": email, "password": map[string]string{"fromEnv": "X"}, "forwardHost": "x"},
		{"url": "https://npm.example.com", "email": email, "password": map[string]string{"fromEnv": "X"}, "forwardHost": "x", "forwardScheme": "grpc"},
	} {
		raw, _ := json.Marshal(bad)
		if _, err := newProvider(providers.Config{Name: provName, Raw: raw}); err == nil {
			t.Errorf("config %v accepted", bad)
		} else if strings.Contains(err.Error(), ":pw@") {
			t.Errorf("error shows the url password: %v", err)
		}
	}
}

// otherCA is the PEM of a self-signed CA that signed nothing the stand-in
// presents (every httptest server shares one certificate).
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
