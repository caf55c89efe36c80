package caddy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/caddy/caddytest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

const providerName = "edge-conf"

// open builds the adapter as apply does: through the registry, with a
// fresh Redactor. The caddy type has no credential; CredentialCanary is
// registered as apply would have registered any resolved secret.
func open(t *testing.T, admin string, extra map[string]any) *Provider {
	t.Helper()
	cfg := map[string]any{"admin": admin, "upstreamHost": "127.0.0.1"}
	for k, v := range extra {
		cfg[k] = v
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := providers.Open("caddy", providers.Config{Name: providerName, Raw: raw, ConfigDir: t.TempDir(),
		Redactor: redact.New(providertest.CredentialCanary)})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := inst.(*Provider)
	if !ok {
		t.Fatalf("caddy provider is %T", inst)
	}
	return p
}

func TestConformance(t *testing.T) {
	providertest.RunIngress(t, providertest.Setup[providers.Ingress]{
		Provider: providerName,
		New: func(t *testing.T) (providers.Ingress, providertest.Backend) {
			c := caddytest.Start(t)
			px := newAdminProxy(t, c.AdminURL)
			return open(t, px.URL, nil), px
		},
	})
}

// backend is an app behind Caddy that names itself in its answers.
func backend(t *testing.T, name string) (port int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s answers %s", name, r.Host)
	}))
	t.Cleanup(srv.Close)
	_, p, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	port, err = strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// await waits until Caddy answers Host host with status and body: right
// after a config change the old config's server may still answer
// (caddytest.Caddy.Await).
func await(t *testing.T, c *caddytest.Caddy, host string, status int, body string) {
	t.Helper()
	if err := c.Await(t.Context(), host, "/", status, body); err != nil {
		t.Fatal(err)
	}
}

// wantCatchAll checks the catch-all answers host.
func wantCatchAll(t *testing.T, c *caddytest.Caddy, host string) {
	t.Helper()
	await(t, c, host, http.StatusNotFound, caddytest.CatchAllBody)
}

// adminClient opens a connection per call, and sends a call again when
// its connection was reset: Caddy resets the connections of the admin
// server a config load replaces.
var adminClient = &http.Client{Transport: resendTransport{base: &http.Transport{DisableKeepAlives: true}}}

// admin calls the admin API directly, as an operator would.
func admin(t *testing.T, c *caddytest.Caddy, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.AdminURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := adminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// routeIDs returns the @id of each route of the server, in order; "" for
// a route without one, "*" for the catch-all.
func routeIDs(t *testing.T, c *caddytest.Caddy, server string) []string {
	t.Helper()
	status, b := admin(t, c, http.MethodGet, "/config/apps/http/servers/"+server+"/routes", nil)
	if status != http.StatusOK {
		t.Fatalf("read routes: %d %s", status, b)
	}
	var rs []struct {
		ID    string            `json:"@id"`
		Match []json.RawMessage `json:"match"`
	}
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
		if len(r.Match) == 0 {
			out[i] = "*"
		}
	}
	return out
}

func ensure(t *testing.T, in providers.Ingress, r providers.Route) providers.RouteFacts {
	t.Helper()
	ev, err := in.EnsureRoute(t.Context(), r)
	if err != nil {
		t.Fatalf("ensure route %s: %v", r.Domain, err)
	}
	return ev
}

func TestEndToEndTraffic(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, nil)
	port := backend(t, "app")
	r := providers.Route{Target: "app/testing", Domain: "app.test", Upstream: "app-testing", Port: port}

	wantCatchAll(t, c, "app.test")
	ev := ensure(t, p, r)
	if ev.Action != "created" || ev.RouteID != "launchplane-app-testing-1" {
		t.Errorf("evidence of the first ensure: %v", ev)
	}
	await(t, c, "app.test", http.StatusOK, "app answers app.test")
	wantCatchAll(t, c, "other.test")
	if ids := routeIDs(t, c, c.Server); strings.Join(ids, ",") != "launchplane-app-testing-1,*" {
		t.Fatalf("routes after ensure: %q, want ours before the catch-all", ids)
	}

	// The same route again writes nothing.
	if ev := ensure(t, p, r); ev.Action != "unchanged" {
		t.Errorf("second ensure: %v, want unchanged", ev)
	}
	rs, err := p.ListRoutes(t.Context(), "app/testing")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0] != (providers.Route{Target: "app/testing", Domain: "app.test", Upstream: "app-testing", Port: port}) {
		t.Fatalf("list routes: %+v", rs)
	}

	if err := p.DeleteRoute(t.Context(), "app/testing", "app.test"); err != nil {
		t.Fatal(err)
	}
	wantCatchAll(t, c, "app.test")
	if ids := routeIDs(t, c, c.Server); strings.Join(ids, ",") != "*" {
		t.Fatalf("routes after delete: %q", ids)
	}
}

func TestInsertsBeforeCatchAll(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, nil)
	// An operator's route for another host comes first, then the
	// catch-all.
	if status, b := admin(t, c, http.MethodPut, "/config/apps/http/servers/srv0/routes/0", map[string]any{
		"@id": "hand-made", "match": []any{map[string]any{"host": []string{"static.test"}}},
		"handle": []any{map[string]any{"handler": "static_response", "body": "static"}},
	}); status != http.StatusOK {
		t.Fatalf("add operator route: %d %s", status, b)
	}
	port := backend(t, "shop")
	ensure(t, p, providers.Route{Target: "shop/prod", Domain: "shop.test", Upstream: "shop-prod", Port: port})
	ensure(t, p, providers.Route{Target: "shop/prod", Domain: "www.shop.test", Upstream: "shop-prod", Port: port})
	got := strings.Join(routeIDs(t, c, c.Server), ",")
	if got != "hand-made,launchplane-shop-prod-1,launchplane-shop-prod-2,*" {
		t.Fatalf("routes: %s, want new routes after the operator's and before the catch-all", got)
	}
	for host, want := range map[string]string{"shop.test": "shop answers shop.test", "www.shop.test": "shop answers www.shop.test", "static.test": "static"} {
		await(t, c, host, http.StatusOK, want)
	}

	// Without a catch-all, a route is appended.
	if status, b := admin(t, c, http.MethodDelete, "/config/apps/http/servers/srv0/routes/3", nil); status != http.StatusOK {
		t.Fatalf("remove catch-all: %d %s", status, b)
	}
	ensure(t, p, providers.Route{Target: "blog/prod", Domain: "blog.test", Upstream: "blog-prod", Port: port})
	got = strings.Join(routeIDs(t, c, c.Server), ",")
	if got != "hand-made,launchplane-shop-prod-1,launchplane-shop-prod-2,launchplane-blog-prod-1" {
		t.Fatalf("routes without a catch-all: %s", got)
	}
}

func TestUpdateInPlaceAndDrift(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, map[string]any{"upstreamHost": "{upstream}.internal"})
	r := providers.Route{Target: "shop/preview/pr-7", Domain: "pr-7.shop.test", Upstream: "shop-pr-7", Port: 8080}
	ensure(t, p, r)
	ensure(t, p, providers.Route{Target: "shop/preview/pr-7", Domain: "alt.shop.test", Upstream: "shop-pr-7", Port: 8080})
	dial := func() string {
		status, b := admin(t, c, http.MethodGet, "/id/launchplane-shop-pr-7-1/handle/0/upstreams/0/dial", nil)
		if status != http.StatusOK {
			t.Fatalf("read dial: %d %s", status, b)
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if d := dial(); d != "shop-pr-7.internal:8080" {
		t.Fatalf("dial %q, want {upstream} replaced by the object name", d)
	}

	r.Port = 9090
	if ev := ensure(t, p, r); ev.Action != "updated" || ev.RouteID != "launchplane-shop-pr-7-1" {
		t.Fatalf("update evidence: %v", ev)
	}
	if d := dial(); d != "shop-pr-7.internal:9090" {
		t.Fatalf("dial after update %q", d)
	}
	if ids := strings.Join(routeIDs(t, c, c.Server), ","); ids != "launchplane-shop-pr-7-1,launchplane-shop-pr-7-2,*" {
		t.Fatalf("update did not happen in place: %s", ids)
	}

	// Someone points the route elsewhere: the listing shows it.
	if status, b := admin(t, c, http.MethodPatch, "/id/launchplane-shop-pr-7-1/handle/0/upstreams/0/dial", "10.9.9.9:9090"); status != http.StatusOK {
		t.Fatalf("drift the route: %d %s", status, b)
	}
	rs, err := p.ListRoutes(t.Context(), "shop/preview/pr-7")
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Route{
		{Target: "shop/preview/pr-7", Domain: "alt.shop.test", Upstream: "shop-pr-7", Port: 8080},
		{Target: "shop/preview/pr-7", Domain: "pr-7.shop.test", Upstream: "10.9.9.9", Port: 9090},
	}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Fatalf("list with a drifted route:\n got %+v\nwant %+v", rs, want)
	}
	ensure(t, p, r)
	if d := dial(); d != "shop-pr-7.internal:9090" {
		t.Fatalf("ensure did not repair the drift: dial %q", d)
	}
}

func TestTargetsWhoseNamesPrefixEachOther(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, nil)
	// Object names shop-prod and shop-prod-testing: the ids
	// launchplane-shop-prod-1 and launchplane-shop-prod-testing-1 must
	// not be confused.
	ensure(t, p, providers.Route{Target: "shop/prod", Domain: "shop.test", Upstream: "shop-prod", Port: 8080})
	ensure(t, p, providers.Route{Target: "shop-prod/testing", Domain: "sp.test", Upstream: "shop-prod-testing", Port: 8081})
	for target, domain := range map[string]string{"shop/prod": "shop.test", "shop-prod/testing": "sp.test"} {
		rs, err := p.ListRoutes(t.Context(), target)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].Domain != domain {
			t.Errorf("routes of %s: %+v, want only %s", target, rs, domain)
		}
	}
	if err := p.DeleteRoute(t.Context(), "shop/prod", "sp.test"); err != nil {
		t.Fatal(err)
	}
	if rs, _ := p.ListRoutes(t.Context(), "shop-prod/testing"); len(rs) != 1 {
		t.Fatalf("deleting through another target removed a route: %+v", rs)
	}
}

func TestForeignRouteRefused(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, nil)
	foreign := map[string]any{
		"@id": "ops-app", "match": []any{map[string]any{"host": []string{"app.test"}}},
		"handle": []any{map[string]any{"handler": "static_response", "body": "ops"}},
	}
	if status, b := admin(t, c, http.MethodPut, "/config/apps/http/servers/srv0/routes/0", foreign); status != http.StatusOK {
		t.Fatalf("add foreign route: %d %s", status, b)
	}
	_, err := p.EnsureRoute(t.Context(), providers.Route{Target: "app/prod", Domain: "app.test", Upstream: "app-prod", Port: 8080})
	providertest.CheckError(t, err, providerName, "route", "app/prod")
	if !strings.Contains(err.Error(), "already routed") || !strings.Contains(err.Error(), `"ops-app"`) {
		t.Errorf("refusal does not say who routes the domain: %v", err)
	}
	if ids := strings.Join(routeIDs(t, c, c.Server), ","); ids != "ops-app,*" {
		t.Fatalf("a refused ensure changed the routes: %s", ids)
	}
	await(t, c, "app.test", http.StatusOK, "ops") // the foreign route still answers
	if rs, err := p.ListRoutes(t.Context(), "app/prod"); err != nil || len(rs) != 0 {
		t.Fatalf("list shows a foreign route: %+v, %v", rs, err)
	}
	if err := p.DeleteRoute(t.Context(), "app/prod", "app.test"); err != nil {
		t.Fatal(err)
	}
	if ids := strings.Join(routeIDs(t, c, c.Server), ","); ids != "ops-app,*" {
		t.Fatalf("delete removed a foreign route: %s", ids)
	}

	// Another target's route is refused too.
	ensure(t, p, providers.Route{Target: "app/testing", Domain: "t.app.test", Upstream: "app-testing", Port: 8080})
	_, err = p.EnsureRoute(t.Context(), providers.Route{Target: "app/prod", Domain: "t.app.test", Upstream: "app-prod", Port: 8080})
	providertest.CheckError(t, err, providerName, "route", "app/prod")
	if !strings.Contains(err.Error(), "another Launchplane target") {
		t.Errorf("refusal does not say another target holds it: %v", err)
	}
}

// TestConcurrentEditorIfMatch makes another editor change the route list
// between the adapter's read and its write: the write, computed from the
// stale list, must be refused (412) and computed again. Unconditional,
// it would land after the catch-all, where no request reaches it.
func TestConcurrentEditorIfMatch(t *testing.T) {
	c := caddytest.Start(t)
	px := newAdminProxy(t, c.AdminURL)
	a := open(t, px.URL, nil)     // through the proxy
	b := open(t, c.AdminURL, nil) // another instance, directly
	port := backend(t, "a")
	ensure(t, b, providers.Route{Target: "b/prod", Domain: "b.test", Upstream: "b-prod", Port: port})
	// a reads [b, catch-all] and computes PUT routes/1; before that
	// lands, b's route goes, so routes/1 is after the catch-all.
	px.setBeforeWrite(func() {
		if err := b.DeleteRoute(context.Background(), "b/prod", "b.test"); err != nil {
			t.Errorf("concurrent delete: %v", err)
		}
	})
	ev := ensure(t, a, providers.Route{Target: "a/prod", Domain: "a.test", Upstream: "a-prod", Port: port})
	if n := px.count(http.StatusPreconditionFailed); n != 1 {
		t.Errorf("caddy answered 412 %d times, want 1 (the stale write)", n)
	}
	if ev.Attempts != 2 || !providers.Is(ev.IfMatch, true) {
		t.Errorf("evidence %v, want a second attempt with If-Match", ev)
	}
	if ids := strings.Join(routeIDs(t, c, c.Server), ","); ids != "launchplane-a-prod-1,*" {
		t.Fatalf("routes: %s, want a's route before the catch-all", ids)
	}
	await(t, c, "a.test", http.StatusOK, "a answers a.test")
}

// TestConcurrentInstances runs EnsureRoute from two adapter instances at
// once, some for the same target (so both pick the same free id): every
// route lands once, with its own id, before the catch-all.
func TestConcurrentInstances(t *testing.T) {
	c := caddytest.Start(t)
	insts := []*Provider{open(t, c.AdminURL, nil), open(t, c.AdminURL, nil)}
	port := backend(t, "app")
	var routes []providers.Route
	for i := 0; i < 4; i++ {
		for _, target := range []string{"shared/prod", fmt.Sprintf("own%d/prod", i%2)} {
			routes = append(routes, providers.Route{Target: target, Domain: fmt.Sprintf("d%d.%s.test", i, strings.ReplaceAll(target, "/", "-")),
				Upstream: providers.ObjectName(target), Port: port})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(routes))
	for i, r := range routes {
		wg.Add(1)
		go func(in *Provider, r providers.Route) {
			defer wg.Done()
			if _, err := in.EnsureRoute(t.Context(), r); err != nil {
				errs <- err
			}
		}(insts[i%2], r)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ids := routeIDs(t, c, c.Server)
	if len(ids) != len(routes)+1 || ids[len(ids)-1] != "*" {
		t.Fatalf("routes %q: want %d routes, then the catch-all", ids, len(routes))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("duplicate @id %s in %q", id, ids)
		}
		seen[id] = true
	}
	for _, r := range routes {
		if err := c.Await(t.Context(), r.Domain, "/", http.StatusOK, "app answers "+r.Domain); err != nil {
			t.Error(err)
		}
	}
}

func TestCreatesMissingServer(t *testing.T) {
	c := caddytest.StartWith(t, caddytest.Options{NoServer: true})
	p := open(t, c.AdminURL, map[string]any{"server": "edge", "listen": []string{c.HTTPAddr}})
	port := backend(t, "app")
	r := providers.Route{Target: "app/prod", Domain: "app.test", Upstream: "app-prod", Port: port}
	ev := ensure(t, p, r)
	if ev.Created != "/config/apps/http/servers" {
		t.Errorf("evidence %v, want the servers object created", ev)
	}
	status, b := admin(t, c, http.MethodGet, "/config/apps/http/servers/edge/listen", nil)
	if status != http.StatusOK || strings.TrimSpace(string(b)) != fmt.Sprintf("[%q]", c.HTTPAddr) {
		t.Fatalf("created server listens on %d %s, want %s", status, b, c.HTTPAddr)
	}
	if ids := strings.Join(routeIDs(t, c, "edge"), ","); ids != "launchplane-app-prod-1" {
		t.Fatalf("routes of the created server: %s", ids)
	}
	await(t, c, "app.test", http.StatusOK, "app answers app.test")
	// A server without a route list gets one.
	if status, b := admin(t, c, http.MethodDelete, "/config/apps/http/servers/edge/routes", nil); status != http.StatusOK {
		t.Fatalf("drop routes: %d %s", status, b)
	}
	if rs, err := p.ListRoutes(t.Context(), "app/prod"); err != nil || len(rs) != 0 {
		t.Fatalf("list without a route list: %+v, %v", rs, err)
	}
	if err := p.DeleteRoute(t.Context(), "app/prod", "app.test"); err != nil {
		t.Fatalf("delete without a route list: %v", err)
	}
	if ev := ensure(t, p, r); ev.Created != "/config/apps/http/servers/edge/routes" {
		t.Errorf("evidence %v, want the route list created", ev)
	}
	if ids := strings.Join(routeIDs(t, c, "edge"), ","); ids != "launchplane-app-prod-1" {
		t.Fatalf("routes of the server: %s", ids)
	}
}

func TestMissingPart(t *testing.T) {
	want := newRoute("launchplane-a-prod-1", "a.test", "h:80")
	listen := []string{":443"}
	server := func(routes any) map[string]any { return map[string]any{"listen": listen, "routes": routes} }
	obj := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		root         string
		method, path string
		value        any
	}{
		{`null`, "POST", "/config/", map[string]any{"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": server([]any{want})}}}}},
		{`{"admin": {}}`, "PUT", "/config/apps", map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": server([]any{want})}}}},
		{`{"apps": {"tls": {}}}`, "PUT", "/config/apps/http", map[string]any{"servers": map[string]any{"srv0": server([]any{want})}}},
		{`{"apps": {"http": {"http_port": 80}}}`, "PUT", "/config/apps/http/servers", map[string]any{"srv0": server([]any{want})}},
		{`{"apps": {"http": {"servers": {"other": {}}}}}`, "PUT", "/config/apps/http/servers/srv0", server([]any{want})},
		{`{"apps": {"http": {"servers": {"srv0": {"listen": [":80"]}}}}}`, "PUT", "/config/apps/http/servers/srv0/routes", []any{want}},
		{`{"apps": {"http": {"servers": {"srv0": {"routes": null}}}}}`, "PATCH", "/config/apps/http/servers/srv0/routes", []any{want}},
		{`{"apps": {"http": {"servers": {"srv0": {"routes": []}}}}}`, "", "", nil},
	} {
		method, path, value, err := missingPart(obj(tc.root), "srv0", listen, want)
		if err != nil {
			t.Errorf("%s: %v", tc.root, err)
			continue
		}
		if method != tc.method || path != tc.path || fmt.Sprint(value) != fmt.Sprint(tc.value) {
			t.Errorf("%s: %s %s %v, want %s %s %v", tc.root, method, path, value, tc.method, tc.path, tc.value)
		}
	}
	if _, _, _, err := missingPart(obj(`{"apps": {"http": []}}`), "srv0", listen, want); err == nil {
		t.Error("apps.http of the wrong type: no error")
	}
}

// TestWithoutEtag is a Caddy that sends no Etag (older than 2.6): writes
// go without If-Match, and are checked by reading back.
func TestWithoutEtag(t *testing.T) {
	c := caddytest.Start(t)
	px := newAdminProxy(t, c.AdminURL)
	px.setStripEtag(true)
	p := open(t, px.URL, nil)
	port := backend(t, "app")
	r := providers.Route{Target: "app/prod", Domain: "app.test", Upstream: "app-prod", Port: port}
	if ev := ensure(t, p, r); !providers.Is(ev.IfMatch, false) || ev.Action != "created" {
		t.Fatalf("evidence %v, want a write without If-Match", ev)
	}
	r.Port++
	if ev := ensure(t, p, r); ev.Action != "updated" {
		t.Fatalf("evidence %v, want updated", ev)
	}
	if ids := strings.Join(routeIDs(t, c, c.Server), ","); ids != "launchplane-app-prod-1,*" {
		t.Fatalf("routes: %s", ids)
	}
}

func TestEtagIsRead(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, nil)
	snap, err := p.read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(snap.etag, `"/config/apps/http/servers/srv0/routes `) {
		t.Fatalf("etag %q: the Etag (a trailer in Caddy 2.6) was not read", snap.etag)
	}
}

func TestCaddyErrorMessage(t *testing.T) {
	c := caddytest.Start(t)
	px := newAdminProxy(t, c.AdminURL)
	px.setHost("caddy.example.com:2019") // not an allowed origin
	p := open(t, px.URL, nil)
	_, err := p.ListRoutes(t.Context(), "app/prod")
	providertest.CheckError(t, err, providerName, "list routes", "app/prod")
	msg := err.Error()
	if !strings.Contains(msg, "HTTP 403: host not allowed: caddy.example.com:2019") || strings.Contains(msg, `{"error"`) {
		t.Errorf("error %q does not show Caddy's message alone", msg)
	}
	if !strings.Contains(msg, "admin.origins") {
		t.Errorf("error %q gives no hint about allowed origins", msg)
	}
	var ae *providers.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("error %v does not carry the API error", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, raw := range map[string]string{
		"bad admin":   `{"admin": "localhost:2019", "upstreamHost": "h"}`,
		"bad server":  `{"admin": "http://localhost:2019", "upstreamHost": "h", "server": "a/b"}`,
		"no upstream": `{"admin": "http://localhost:2019"}`,
	} {
		if _, err := providers.Open("caddy", providers.Config{Name: "edge", Raw: json.RawMessage(raw)}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	in, err := providers.Open("caddy", providers.Config{Name: "edge", Raw: json.RawMessage(`{"admin": "http://localhost:2019/", "upstreamHost": "{upstream}"}`)})
	if err != nil {
		t.Fatal(err)
	}
	p := in.(*Provider)
	if p.cfg.Server != "srv0" || fmt.Sprint(p.cfg.Listen) != "[:443]" || p.api.Base != "http://localhost:2019" {
		t.Errorf("defaults: %+v, base %s", p.cfg, p.api.Base)
	}
	// Refused before any call: an empty upstream with {upstream}.
	_, err = p.EnsureRoute(t.Context(), providers.Route{Target: "a/prod", Domain: "a.test", Port: 80})
	providertest.CheckError(t, err, "edge", "route", "a/prod")
}

func TestParseID(t *testing.T) {
	for id, want := range map[string]string{
		"launchplane-shop-prod-1":         "shop-prod#1",
		"launchplane-shop-prod-testing-1": "shop-prod-testing#1",
		"launchplane-shop-pr-7-12":        "shop-pr-7#12",
		"launchplane-shop-prod-01":        "",
		"launchplane-shop-prod-0":         "",
		"launchplane-shop-prod-":          "",
		"launchplane-shop-prod":           "",
		"launchplane--1":                  "",
		"shop-prod-1":                     "",
		"":                                "",
	} {
		obj, n, ok := parseID(id)
		got := ""
		if ok {
			got = fmt.Sprintf("%s#%d", obj, n)
		}
		if got != want {
			t.Errorf("parseID(%q) = %q, want %q", id, got, want)
		}
		if ok && routeID(obj, n) != id {
			t.Errorf("routeID does not invert parseID(%q)", id)
		}
	}
}

// Caddy before v2.11.2 (2.6.2 here) accepts a second route with the same
// @id and resolves /id/ to the last indexed copy: the adapter checks the
// whole config and refuses to write or delete by a duplicated @id,
// leaving both copies as they were.
func TestDuplicateIDRefused(t *testing.T) {
	c := caddytest.Start(t)
	p := open(t, c.AdminURL, nil)
	r := providers.Route{Target: "app/prod", Domain: "app.test", Upstream: "app-prod", Port: 8080}
	ev := ensure(t, p, r)
	id := ev.RouteID
	copyRoute := map[string]any{
		"@id": id, "match": []any{map[string]any{"host": []string{"other.test"}}},
		"handle": []any{map[string]any{"handler": "static_response", "body": "copy"}},
	}
	if status, b := admin(t, c, http.MethodPost, "/config/apps/http/servers/srv0/routes", copyRoute); status != http.StatusOK {
		t.Skipf("this Caddy refuses a duplicate @id itself (%d %s)", status, b)
	}
	_, before := admin(t, c, http.MethodGet, "/config/", nil)
	r.Port = 9090
	_, err := p.EnsureRoute(t.Context(), r)
	providertest.CheckError(t, err, providerName, "route", "app/prod")
	if err == nil || !strings.Contains(err.Error(), "appears 2 times") {
		t.Fatalf("ensure over a duplicated @id: %v", err)
	}
	err = p.DeleteRoute(t.Context(), "app/prod", "app.test")
	if err == nil || !strings.Contains(err.Error(), "appears 2 times") {
		t.Fatalf("delete by a duplicated @id: %v", err)
	}
	if _, after := admin(t, c, http.MethodGet, "/config/", nil); !bytes.Equal(before, after) {
		t.Errorf("the config changed:\nbefore %s\nafter  %s", before, after)
	}
}
