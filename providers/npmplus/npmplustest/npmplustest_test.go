package npmplustest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

type answer struct {
	status int
	body   map[string]any
	cookie *http.Cookie
}

func do(t *testing.T, c *http.Client, method, url, body string, hdr map[string]string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &a.body)
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieName {
			a.cookie = ck
		}
	}
	return a
}

func message(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

const login = `{"identity":"admin@example.com","secret":"pw"}`
const create = `{"domain_names":["a.example.com"],"forward_scheme":"http","forward_host":"app","forward_port":80}`

func TestUpstreamAuth(t *testing.T) {
	s := New(ModeUpstream, "admin@example.com", "pw")
	defer s.Close()
	c := s.Client()
	if a := do(t, c, "POST", s.URL()+"/api/tokens", `{"identity":"admin@example.com","secret":"nope"}`, nil); a.status != 400 || message(a) != "Invalid email or password" {
		t.Fatalf("bad password: %d %v", a.status, a.body)
	}
	a := do(t, c, "POST", s.URL()+"/api/tokens", login, nil)
	tok, _ := a.body["token"].(string)
	if a.status != 200 || tok == "" || a.body["expires"] == nil || a.cookie != nil {
		t.Fatalf("login: %d %v cookie %v", a.status, a.body, a.cookie)
	}
	if a := do(t, c, "GET", s.URL()+"/api/nginx/proxy-hosts", "", nil); a.status != 403 || message(a) != "Permission Denied" {
		t.Fatalf("no token: %d %v", a.status, a.body)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	a = do(t, c, "POST", s.URL()+"/api/nginx/proxy-hosts", create, bearer)
	if a.status != 201 || a.body["id"] != float64(1) {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	if meta, _ := a.body["meta"].(map[string]any); meta["nginx_online"] != nil {
		t.Errorf("the create answer shows the nginx status: %v", meta)
	}
	if _, ok := a.body["npmplus_http3_support"]; ok {
		t.Error("upstream mode answers npmplus fields")
	}
	if a := do(t, c, "POST", s.URL()+"/api/nginx/proxy-hosts", create, bearer); a.status != 400 || message(a) != "a.example.com is already in use" {
		t.Fatalf("duplicate: %d %v", a.status, a.body)
	}
	if a := do(t, c, "GET", s.URL()+"/api/tokens", "", bearer); a.status != 200 || a.body["token"] == "" {
		t.Fatalf("refresh: %d %v", a.status, a.body)
	}
	s.ExpireTokens()
	if a := do(t, c, "GET", s.URL()+"/api/nginx/proxy-hosts/1", "", bearer); a.status != 400 || message(a) != "Token has expired" {
		t.Fatalf("expired: %d %v", a.status, a.body)
	}
}

func TestNPMplusCookieAuth(t *testing.T) {
	s := New(ModeNPMplus, "admin@example.com", "pw")
	defer s.Close()
	c := s.Client()
	a := do(t, c, "POST", s.URL()+"/api/tokens", login, nil)
	if a.status != 200 || a.body["token"] != nil || a.body["expires"] == nil {
		t.Fatalf("login: %d %v", a.status, a.body)
	}
	ck := a.cookie
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Fatalf("session cookie %+v", ck)
	}
	// The Bearer header is not accepted: only the cookie authenticates.
	bearer := map[string]string{"Authorization": "Bearer " + ck.Value}
	if a := do(t, c, "GET", s.URL()+"/api/nginx/proxy-hosts", "", bearer); a.status != 401 {
		t.Fatalf("bearer in npmplus mode: %d %v", a.status, a.body)
	}
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	if a := do(t, c, "POST", s.URL()+"/api/tokens", login, nil); a.status != 200 {
		t.Fatal(a.body)
	}
	s.FailNginx("nginx: [emerg] bad")
	a = do(t, c, "POST", s.URL()+"/api/nginx/proxy-hosts", create, nil)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	a = do(t, c, "GET", s.URL()+"/api/nginx/proxy-hosts/1", "", nil)
	meta, _ := a.body["meta"].(map[string]any)
	if meta["nginx_online"] != false || meta["nginx_err"] != "nginx: [emerg] bad" || a.body["npmplus_auth_request"] == nil {
		t.Fatalf("read back: %v", a.body)
	}
	if a := do(t, c, "PUT", s.URL()+"/api/nginx/proxy-hosts/1", `{"forward_port":81,"bogus":1}`, nil); a.status != 400 || !strings.Contains(message(a), "additional properties") {
		t.Fatalf("unknown key: %d %v", a.status, a.body)
	}
	if a := do(t, c, "PUT", s.URL()+"/api/nginx/proxy-hosts/1", `{"forward_port":81}`, nil); a.status != 200 {
		t.Fatalf("update: %d %v", a.status, a.body)
	}
	if h, _ := s.Host(1); h.ForwardPort != 81 || h.Meta["nginx_online"] != true {
		t.Fatalf("after update: %+v", h)
	}
	s.FailNext(OpDelete, 418, "teapot")
	if a := do(t, c, "DELETE", s.URL()+"/api/nginx/proxy-hosts/1", "", nil); a.status != 418 || message(a) != "teapot" {
		t.Fatalf("injected fault: %d %v", a.status, a.body)
	}
	if a := do(t, c, "DELETE", s.URL()+"/api/nginx/proxy-hosts/1", "", nil); a.status != 200 || len(s.Hosts()) != 0 {
		t.Fatalf("delete: %d %v", a.status, a.body)
	}
	if a := do(t, c, "GET", s.URL()+"/api/nginx/proxy-hosts", "", map[string]string{"Origin": s.URL()}); a.status != 200 {
		t.Fatalf("own origin refused: %d %v", a.status, a.body)
	}
	if n := s.Calls(OpLogin); n != 2 {
		t.Errorf("%d logins counted", n)
	}
}
