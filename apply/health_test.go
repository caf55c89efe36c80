package apply

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// healthServer answers health requests with respond(n), n the 1-based
// number of the request, and counts them.
func healthServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int64)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, r, calls.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// checkHealth runs httpHealth and fails the test if it does not return
// within bound.
func checkHealth(t *testing.T, ctx context.Context, url string, timeout, bound time.Duration) (providers.HealthResult, error) {
	t.Helper()
	type out struct {
		res providers.HealthResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := httpHealth(ctx, url, timeout)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(bound):
		t.Fatalf("httpHealth(%s, %s) did not return within %s", url, timeout, bound)
		return providers.HealthResult{}, nil
	}
}

func TestHTTPHealth200(t *testing.T) {
	srv, calls := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.Method != http.MethodGet || r.URL.Path != "/healthz" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	res, err := checkHealth(t, context.Background(), srv.URL+"/healthz", 5*time.Second, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Healthy || res.Attempts != 1 || res.Status != 200 {
		t.Fatalf("got %+v, want healthy after 1 attempt with status 200", res)
	}
	if res.Latency <= 0 {
		t.Errorf("latency %v not recorded", res.Latency)
	}
	if res.Detail != "HTTP 200" {
		t.Errorf("detail %q, want HTTP 200", res.Detail)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestHTTPHealth503Then200(t *testing.T) {
	srv, calls := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	res, err := checkHealth(t, context.Background(), srv.URL, 5*time.Second, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Healthy || res.Attempts != 2 || res.Status != 200 {
		t.Fatalf("got %+v, want healthy after 2 attempts with status 200", res)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

func TestHTTPHealthBody(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		healthy                 bool
	}{
		{"ok false", "application/json", `{"ok": false}`, false},
		{"ok false with other fields", "application/json", `{"status": "degraded", "ok": false, "checks": {"db": "down"}}`, false},
		{"ok true", "application/json", `{"ok": true}`, true},
		{"json without ok", "application/json", `{"status": "fine"}`, true},
		{"plain text", "text/plain", "OK\n", true},
		{"html", "text/html", "<html><body>fine</body></html>", true},
		{"empty", "text/plain", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("Content-Type", tc.contentType)
				fmt.Fprint(w, tc.body)
			})
			// An unhealthy answer is polled until the timeout: keep it
			// short.
			res, err := checkHealth(t, context.Background(), srv.URL, 300*time.Millisecond, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Healthy != tc.healthy {
				t.Fatalf("body %q: healthy %v, want %v (%+v)", tc.body, res.Healthy, tc.healthy, res)
			}
			if res.Status != 200 || res.Attempts < 1 || calls.Load() < 1 {
				t.Errorf("got %+v after %d requests, want status 200 and at least one attempt", res, calls.Load())
			}
			if tc.healthy && res.Attempts != 1 {
				t.Errorf("healthy after %d attempts, want 1", res.Attempts)
			}
		})
	}
}

func TestHTTPHealthNever2xx(t *testing.T) {
	srv, calls := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	start := time.Now()
	res, err := checkHealth(t, context.Background(), srv.URL, 700*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy {
		t.Fatalf("healthy: %+v", res)
	}
	if res.Attempts < 1 || res.Status != 503 || res.Detail != "HTTP 503" {
		t.Fatalf("got %+v, want at least one attempt with last status 503", res)
	}
	if int64(res.Attempts) != calls.Load() {
		t.Errorf("%d attempts reported, server saw %d", res.Attempts, calls.Load())
	}
	if el := time.Since(start); el < 700*time.Millisecond {
		t.Errorf("gave up after %s, before its timeout", el)
	}
}

// A server that accepts the request and never answers: the timeout ends
// the attempt in flight.
func TestHTTPHealthHangingServer(t *testing.T) {
	srv, calls := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		<-r.Context().Done()
	})
	res, err := checkHealth(t, context.Background(), srv.URL, 300*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy || res.Attempts < 1 || res.Status != 0 {
		t.Fatalf("got %+v, want unhealthy after at least one attempt without a status", res)
	}
	if res.Detail == "" {
		t.Errorf("no detail of the failed attempt")
	}
	if calls.Load() < 1 {
		t.Errorf("server saw no request")
	}
}

func TestHTTPHealthConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	res, err := checkHealth(t, context.Background(), url, 300*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy || res.Attempts < 1 || !strings.Contains(res.Detail, "refused") {
		t.Fatalf("got %+v, want unhealthy with the connection error as detail", res)
	}
}

func TestHTTPHealthParentCanceled(t *testing.T) {
	first := make(chan struct{})
	var once atomic.Bool
	srv, _ := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if once.CompareAndSwap(false, true) {
			close(first)
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-first
		cancel()
	}()
	// The check's own timeout is long: only the canceled parent can end
	// it within the test's bound.
	res, err := checkHealth(t, ctx, srv.URL, time.Hour, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy || res.Attempts < 1 {
		t.Fatalf("got %+v, want unhealthy after at least one attempt", res)
	}
}

func TestHTTPHealthAlreadyCanceled(t *testing.T) {
	srv, _ := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := checkHealth(t, ctx, srv.URL, time.Hour, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy {
		t.Fatalf("healthy with a canceled context: %+v", res)
	}
}

// SPEC §6: health checks require 2xx from the health URL. A health URL
// that redirects (here to a login page answering 200, as a misconfigured
// auth proxy does) has not answered 2xx itself; following the redirect
// calls a broken app healthy.
func TestHTTPHealthRedirectIsNotHealthy(t *testing.T) {
	srv, _ := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.URL.Path == "/login" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>sign in</html>")
			return
		}
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	res, err := checkHealth(t, context.Background(), srv.URL+"/healthz", 300*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy {
		t.Fatalf("a health URL answering 302 to a login page was called healthy: %+v", res)
	}
	if res.Status != http.StatusFound {
		t.Errorf("last status %d, want the health URL's own 302", res.Status)
	}
}

// The body is read up to 64 KiB; a JSON health report that says
// {"ok": false} but is longer than that is cut, fails to parse and is
// then taken for a non-JSON body, i.e. healthy.
func TestHTTPHealthLargeJSONOkFalse(t *testing.T) {
	body := `{"ok": false, "checks": "` + strings.Repeat("x", 100<<10) + `"}`
	srv, _ := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	})
	res, err := checkHealth(t, context.Background(), srv.URL, 300*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healthy {
		t.Fatalf("a %d-byte JSON body with \"ok\": false was called healthy: %+v", len(body), res)
	}
}

// A huge body is not read whole: the check returns (healthy for a
// non-JSON 200) without waiting for an endless stream.
func TestHTTPHealthEndlessBody(t *testing.T) {
	srv, _ := healthServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat("y", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	res, err := checkHealth(t, context.Background(), srv.URL, 5*time.Second, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Healthy || res.Attempts != 1 || res.Status != 200 {
		t.Fatalf("got %+v, want healthy after one attempt", res)
	}
}

// A health path may hold characters a URL parser refuses ("%" passes the
// schema's "^/" pattern and health.url's pattern): the check must report
// the target unhealthy or fail, not crash the process in the middle of an
// apply (it runs in a goroutine of Run without recover).
func TestHTTPHealthInvalidURLDoesNotPanic(t *testing.T) {
	for _, url := range []string{"https://shop.example.com/healthz%", "http://[::1"} {
		t.Run(url, func(t *testing.T) {
			var res providers.HealthResult
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("httpHealth(%q) panicked: %v", url, p)
					}
				}()
				res, err = httpHealth(context.Background(), url, 200*time.Millisecond)
			}()
			if err == nil && res.Healthy {
				t.Fatalf("invalid URL %q called healthy", url)
			}
		})
	}
}

// TestBodyExcerpt: 300 characters on one line, "…" when cut, and a secret
// straddling the cut is redacted before the cut, never left half-shown.
func TestBodyExcerpt(t *testing.T) {
	if got := bodyExcerpt("  {\"ok\": false,\n  \"error\": \"db down\"}\n"); got != `{"ok": false, "error": "db down"}` {
		t.Errorf("short body: %q", got)
	}
	long := strings.Repeat("é", 400)
	if got := bodyExcerpt(long); got != strings.Repeat("é", 300)+"…" {
		t.Errorf("long body: %d runes", len([]rune(got)))
	}
	secret := "canary-secret-value-4242"
	body := strings.Repeat("x", 290) + secret
	red := redact.New(secret)
	got := bodyExcerpt(red.String(body))
	if strings.Contains(got, "canary-s") {
		t.Errorf("excerpt shows part of the secret: %q", got)
	}
}
