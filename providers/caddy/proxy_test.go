package caddy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers/providertest"
)

// adminProxy stands between an adapter and a real Caddy's admin API. It
// forwards every call with the Host header Caddy expects (its own admin
// address), and on demand fails the next call of an operation with a
// Caddy-shaped error, hides Etags (a Caddy without them), sends another
// Host, or runs a hook before the next write reaches Caddy (another
// editor acting in between an adapter's read and its write).
type adminProxy struct {
	URL string

	mu          sync.Mutex
	faults      map[providertest.Op]string // the next call of op fails with this message
	stripEtag   bool
	host        string
	beforeWrite func()
	statuses    map[int]int // answers from Caddy, by status
}

func newAdminProxy(t *testing.T, adminURL string) *adminProxy {
	t.Helper()
	target, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &adminProxy{faults: map[providertest.Op]string{}, statuses: map[int]int{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	rp := &httputil.ReverseProxy{
		Transport: resendTransport{base: tr},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // Host becomes the admin's own address
			p.mu.Lock()
			if p.host != "" {
				pr.Out.Host = p.host
			}
			p.mu.Unlock()
		},
		ModifyResponse: func(res *http.Response) error {
			p.mu.Lock()
			p.statuses[res.StatusCode]++
			strip := p.stripEtag
			p.mu.Unlock()
			if !strip {
				return nil
			}
			// Read the body so that a trailing Etag (Caddy 2.6) arrives,
			// then drop it with the header.
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				return err
			}
			res.Body = io.NopCloser(bytes.NewReader(b))
			res.ContentLength = int64(len(b))
			res.Header.Set("Content-Length", strconv.Itoa(len(b)))
			res.Header.Del("Etag")
			res.Trailer = nil
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		var msg string
		fail := false
		for op, m := range p.faults {
			if slices.Contains(opMethods[op], r.Method) {
				msg, fail = m, true
				delete(p.faults, op)
				break
			}
		}
		var hook func()
		if r.Method != http.MethodGet {
			hook, p.beforeWrite = p.beforeWrite, nil
		}
		p.mu.Unlock()
		if fail {
			// Caddy answers a refused config change with 400 and
			// {"error": "…"}.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
			return
		}
		if hook != nil {
			hook()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// opMethods are the HTTP methods an adapter operation's failing call
// uses: ListRoutes reads, EnsureRoute writes with PUT, POST or PATCH,
// DeleteRoute deletes.
var opMethods = map[providertest.Op][]string{
	providertest.OpListRoutes:  {http.MethodGet},
	providertest.OpEnsureRoute: {http.MethodPut, http.MethodPost, http.MethodPatch},
	providertest.OpDeleteRoute: {http.MethodDelete},
}

// Fail makes the next call of op fail with message in Caddy's error body.
func (p *adminProxy) Fail(t *testing.T, op providertest.Op, message string) {
	t.Helper()
	if _, ok := opMethods[op]; !ok {
		t.Fatalf("caddy has no operation %s", op)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = message
}

func (p *adminProxy) setStripEtag(v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stripEtag = v
}

func (p *adminProxy) setHost(h string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.host = h
}

func (p *adminProxy) setBeforeWrite(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.beforeWrite = f
}

func (p *adminProxy) count(status int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statuses[status]
}

// resendTransport sends a request again when the connection failed
// without an answer. Caddy replaces its admin server on every config load
// and resets the connections the old one had just accepted; the proxy
// hides that so a test's interleaving stays the one it arranged (the
// adapter's own handling of resets is tested without the proxy).
type resendTransport struct{ base http.RoundTripper }

func (t resendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	var last error
	for attempt := 1; attempt <= 10; attempt++ {
		out := req.Clone(req.Context())
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.ContentLength = int64(len(body))
		}
		resp, err := t.base.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		last = err
		timer := time.NewTimer(time.Duration(attempt) * 10 * time.Millisecond)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, err
		case <-timer.C:
		}
	}
	return nil, last
}
