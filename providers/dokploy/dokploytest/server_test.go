package dokploytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

type client struct {
	t   *testing.T
	url string
	key string
}

func (c client) do(method, proc, query string, body any) (int, string) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	u := c.url + "/api/" + proc
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, u, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("x-api-key", c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func start(t *testing.T) (*Server, client) {
	s := New("k")
	t.Cleanup(s.Close)
	return s, client{t: t, url: s.URL, key: "k"}
}

func TestAuthAndErrorShapes(t *testing.T) {
	s, c := start(t)
	for _, key := range []string{"", "wrong"} {
		bad := client{t: t, url: s.URL, key: key}
		if st, body := bad.do(http.MethodGet, "environment.one", "environmentId="+EnvironmentID, nil); st != 401 || body != `{"message":"Unauthorized"}` {
			t.Errorf("key %q: %d %s", key, st, body)
		}
	}
	// trpc-openapi matches method and path together: a wrong method is
	// an unknown route, 404 "Not found" like an unknown procedure.
	if st, body := c.do(http.MethodPost, "application.one", "", map[string]string{"applicationId": "x"}); st != 404 || body != `{"code":"NOT_FOUND","message":"Not found"}` {
		t.Errorf("POST of a query: %d %s", st, body)
	}
	if st, body := c.do(http.MethodGet, "application.one", "applicationId=nope", nil); st != 404 || body != `{"code":"NOT_FOUND","message":"Application not found"}` {
		t.Errorf("missing application: %d %s", st, body)
	}
	if st, body := c.do(http.MethodGet, "nothing.here", "", nil); st != 404 {
		t.Errorf("unknown procedure: %d %s", st, body)
	}
	s.FailNext("environment.one", 500, "boom")
	if st, body := c.do(http.MethodGet, "environment.one", "environmentId="+EnvironmentID, nil); st != 500 || body != `{"code":"INTERNAL_SERVER_ERROR","message":"boom"}` {
		t.Errorf("injected failure: %d %s", st, body)
	}
	if st, _ := c.do(http.MethodGet, "environment.one", "environmentId="+EnvironmentID, nil); st != 200 {
		t.Errorf("a fault applied twice: %d", st)
	}
}

func TestRequiredNullableKeys(t *testing.T) {
	_, c := start(t)
	st, body := c.do(http.MethodPost, "application.create", "", map[string]string{"name": "web", "environmentId": EnvironmentID})
	if st != 200 {
		t.Fatalf("create: %d %s", st, body)
	}
	var app struct {
		ApplicationID, AppName string
	}
	if err := json.Unmarshal([]byte(body), &app); err != nil || app.ApplicationID == "" || !strings.HasPrefix(app.AppName, "app-") {
		t.Fatalf("created %s (%v)", body, err)
	}
	// saveDockerProvider needs every key, null or not.
	st, body = c.do(http.MethodPost, "application.saveDockerProvider", "", map[string]any{"applicationId": app.ApplicationID, "dockerImage": "nginx"})
	if st != 400 || !strings.Contains(body, "username: Required") || !strings.Contains(body, `"code":"BAD_REQUEST"`) {
		t.Errorf("missing nullable keys: %d %s", st, body)
	}
	st, body = c.do(http.MethodPost, "application.saveDockerProvider", "", map[string]any{"applicationId": app.ApplicationID, "dockerImage": "nginx",
		"username": nil, "password": nil, "registryUrl": nil})
	if st != 200 || body != "true" {
		t.Errorf("saveDockerProvider: %d %s", st, body)
	}
}

// A deploy answers nothing and only enqueues: its row appears, running,
// on the next read of the list, and is done on the one after.
func TestDeployQueue(t *testing.T) {
	s, c := start(t)
	id := s.AddService("application", EnvironmentID, "web")
	s.AddDeployment("web", "old", "", "done")
	if st, body := c.do(http.MethodPost, "application.deploy", "", map[string]string{"applicationId": id, "title": "mine"}); st != 200 || body != "" {
		t.Fatalf("deploy: %d %q", st, body)
	}
	if rows := s.Deployments("web"); len(rows) != 1 {
		t.Fatalf("a row appeared before anyone polled: %+v", rows)
	}
	var statuses []string
	for i := 0; i < 3; i++ {
		st, body := c.do(http.MethodGet, "deployment.all", "applicationId="+id, nil)
		var rows []struct {
			Title  string
			Status *string
		}
		if err := json.Unmarshal([]byte(body), &rows); err != nil || st != 200 {
			t.Fatalf("list: %d %s", st, body)
		}
		if rows[len(rows)-1].Title != "old" {
			t.Fatalf("rows are not newest first: %s", body)
		}
		statuses = append(statuses, rows[0].Title+":"+*rows[0].Status)
	}
	if got := strings.Join(statuses, " "); got != "mine:running mine:done mine:done" {
		t.Errorf("statuses seen %s", got)
	}
}

func TestHoldAndDrain(t *testing.T) {
	s, c := start(t)
	id := s.AddService("compose", EnvironmentID, "stack")
	s.SetComposeFile("stack", "services: {}\n")
	s.HoldDeploys()
	if st, body := c.do(http.MethodPost, "compose.deploy", "", map[string]string{"composeId": id}); st != 200 || !strings.Contains(body, `"message":"Deployment queued"`) {
		t.Fatalf("compose deploy: %d %s", st, body)
	}
	c.do(http.MethodGet, "deployment.allByCompose", "composeId="+id, nil)
	if rows := s.Deployments("stack"); len(rows) != 0 || s.Queued() != 1 {
		t.Fatalf("held deploy advanced: %+v", rows)
	}
	s.Drain()
	if rows := s.Deployments("stack"); len(rows) != 1 || rows[0].Status != "done" || rows[0].Title != "Manual deployment" || s.Queued() != 0 {
		t.Fatalf("after drain: %+v", rows)
	}
}

// Older releases lack newer procedures (404 Not found) and answer
// schedule.runManually with true; a member sees only its services.
func TestVersionsAndMembers(t *testing.T) {
	s, c := start(t)
	if st, body := c.do(http.MethodGet, "settings.getDokployVersion", "", nil); st != 200 || body != `"v0.30.2"` {
		t.Errorf("version: %d %q", st, body)
	}
	s.SetVersion("v0.24.3")
	if st, body := c.do(http.MethodGet, "environment.one", "environmentId="+EnvironmentID, nil); st != 404 || body != `{"code":"NOT_FOUND","message":"Not found"}` {
		t.Errorf("environment.one before v0.25.0: %d %s", st, body)
	}
	s.SetVersion("v0.30.2")
	mine := s.AddService("application", EnvironmentID, "mine")
	other := s.AddService("application", EnvironmentID, "other")
	s.SetMember("member")
	s.Grant("mine")
	_, body := c.do(http.MethodGet, "environment.one", "environmentId="+EnvironmentID, nil)
	if !strings.Contains(body, mine) || strings.Contains(body, other) {
		t.Errorf("a member's environment: %s", body)
	}
	if st, body := c.do(http.MethodGet, "application.one", "applicationId="+other, nil); st != 401 || !strings.Contains(body, "You don't have access to this service") {
		t.Errorf("a member reading another service: %d %s", st, body)
	}
}
