package npmplus

import (
	"net/http"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/npmplus/npmplustest"
)

// Tests of behaviour read from the services' own source (NPM v2.15.1 and
// newer NPMplus), which the stand-in follows; each names the case of
// issue 13 it covers.

// Newer NPMplus has no meta and forwards to npmplus_upstream_servers: the
// adapter keeps its marker in advanced_config, reads the nginx status at
// the top level, and lists its own hosts.
func TestNPMplusWithoutMeta(t *testing.T) {
	s := server(t, npmplustest.ModeNPMplusNoMeta)
	p := open(t, s, nil)
	r := route("shop/prod", "a.example.com", 8080)
	ev, err := p.EnsureRoute(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	body := s.LastBody(npmplustest.OpCreate)
	if _, ok := body["meta"]; ok {
		t.Errorf("create sent meta: %v", body)
	}
	ups, _ := body["npmplus_upstream_servers"].([]any)
	if len(ups) != 1 || body["forward_host"] != nil {
		t.Errorf("create body %v", body)
	}
	rs, err := p.ListRoutes(ctx(t), "shop/prod")
	if err != nil || len(rs) != 1 || rs[0].Domain != "a.example.com" || rs[0].Port != 8080 || rs[0].IdempotencyKey != r.IdempotencyKey {
		t.Fatalf("routes %+v, %v", rs, err)
	}
	ev2, err := p.EnsureRoute(ctx(t), r)
	if err != nil || ev2.Action != "unchanged" || ev2.ProxyHostID != ev.ProxyHostID {
		t.Fatalf("second ensure: %v, %v", ev2, err)
	}
	// nginx rejecting the config shows in npmplus_nginx_online.
	s.FailNginx("nginx: [emerg] unknown directive")
	r.Port = 9090
	_, err = p.EnsureRoute(ctx(t), r)
	if err == nil || !strings.Contains(err.Error(), "unknown directive") {
		t.Fatalf("ensure with nginx failing: %v", err)
	}
	// A disabled host is turned on through the enable route: PUT has no
	// enabled.
	h, _ := s.Host(1)
	h.Enabled = false
	s.SetHost(h)
	if _, err := p.EnsureRoute(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Host(1); !h.Enabled || !h.NginxOnline {
		t.Errorf("host %+v", h)
	}
	if rej := s.Rejected(); len(rej) != 0 {
		t.Errorf("the server refused keys %v", rej)
	}
	if err := p.DeleteRoute(ctx(t), "shop/prod", "a.example.com"); err != nil || len(s.Hosts()) != 0 {
		t.Fatalf("delete: %v, hosts %+v", err, s.Hosts())
	}
}

// A host another tool made, without Launchplane's marker, is still
// refused on a server without meta.
func TestNPMplusWithoutMetaRefusesForeignHost(t *testing.T) {
	s := server(t, npmplustest.ModeNPMplusNoMeta)
	s.AddHost(npmplustest.Host{DomainNames: []string{"a.example.com"}, ForwardHost: "other", ForwardPort: 80, Enabled: true,
		AdvancedConfig: "# launchplane target=shop%2Fprod (a copy in a comment of another line)\nproxy_buffering off;"})
	p := open(t, s, nil)
	_, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080))
	if err == nil || !strings.Contains(err.Error(), "which launchplane does not manage") {
		t.Fatalf("ensure over a foreign host: %v", err)
	}
}

// An account with a second factor gets a challenge, not a session: the
// adapter says so instead of failing later with a 401.
func TestTwoFactorAccount(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			s.Set2FA(true)
			p := open(t, s, nil)
			_, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080))
			if err == nil || !strings.Contains(err.Error(), "this account needs 2FA: use a token/account without it") {
				t.Fatalf("ensure with a 2FA account: %v", err)
			}
			if n := s.Calls(npmplustest.OpList); n != 0 {
				t.Errorf("%d calls after a 2FA challenge", n)
			}
		})
	}
}

// NPM answers a JWT it cannot verify (not an expired one) with 500
// "Internal Error": the adapter logs in again, once.
func TestInvalidTokenLogsInAgain(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, nil)
			if _, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080)); err != nil {
				t.Fatal(err)
			}
			s.InvalidateTokens()
			if _, err := p.ListRoutes(ctx(t), "shop/prod"); err != nil {
				t.Fatalf("list after the tokens were invalidated: %v", err)
			}
			if n := s.Calls(npmplustest.OpLogin); n != 2 {
				t.Errorf("%d logins", n)
			}
			// A second failure right after the new login is an error, not a loop.
			// (each read is tried 4 times by the shared client)
			for range 8 {
				s.FailNext(npmplustest.OpList, http.StatusInternalServerError, "Internal Error")
			}
			if _, err := p.ListRoutes(ctx(t), "shop/prod"); err == nil {
				t.Fatal("list succeeded")
			}
			if n := s.Calls(npmplustest.OpLogin); n > 3 {
				t.Errorf("%d logins after repeated 500s", n)
			}
		})
	}
}

// certificate: "new" asks NPM for a Let's Encrypt certificate of the
// host's domain; a name uses an existing certificate; sslForced is sent.
func TestCertificate(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := server(t, mode)
			p := open(t, s, func(c map[string]any) { c["certificate"] = "new"; c["sslForced"] = true })
			if _, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080)); err != nil {
				t.Fatal(err)
			}
			h := s.Hosts()[0]
			if h.CertificateID == 0 || !h.SSLForced {
				t.Fatalf("host %+v", h)
			}
			if cs := s.Certificates(); len(cs) != 1 || cs[0].Provider != "letsencrypt" {
				t.Errorf("certificates %+v", cs)
			}
			// Unchanged: no new certificate on the next ensure.
			if ev, err := p.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080)); err != nil || ev.Action != "unchanged" || len(s.Certificates()) != 1 {
				t.Fatalf("second ensure: %v, %v, %d certificates", ev, err, len(s.Certificates()))
			}

			s2 := server(t, mode)
			id := s2.AddCertificate("wildcard example.com", "*.example.com")
			p2 := open(t, s2, func(c map[string]any) { c["certificate"] = "wildcard example.com" })
			if _, err := p2.EnsureRoute(ctx(t), route("shop/prod", "a.example.com", 8080)); err != nil {
				t.Fatal(err)
			}
			if h := s2.Hosts()[0]; h.CertificateID != id || h.SSLForced {
				t.Errorf("host %+v, want certificate %d", h, id)
			}
			p3 := open(t, s2, func(c map[string]any) { c["certificate"] = "missing" })
			_, err := p3.EnsureRoute(ctx(t), route("shop/prod", "b.example.com", 8080))
			if err == nil || !strings.Contains(err.Error(), `no certificate named "missing"`) {
				t.Fatalf("unknown certificate: %v", err)
			}
		})
	}
}

var _ = providers.Route{}
