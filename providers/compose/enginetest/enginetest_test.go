package enginetest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// TestStack: an image pulled from the registry by digest runs with
// compose up --wait, and a Caddy container on the same network reaches
// it by its alias.
func TestStack(t *testing.T) {
	s := Shared(t)
	for _, n := range []string{Healthy, Healthy2, Unhealthy, Slow, Exits, Recorder} {
		if !strings.HasPrefix(s.Images[n], s.Registry+"/"+Repo+"@sha256:") {
			t.Errorf("image %s: %q", n, s.Images[n])
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	yaml := "services:\n  app:\n    image: " + s.Images[Healthy] + "\n    networks:\n      edge:\n        aliases: [stack-smoke]\n" +
		"networks:\n  edge:\n    name: " + Network + "\n    external: true\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := s.Docker(ctx, "compose", "-p", "stack-smoke", "-f", file, "up", "-d", "--wait"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	c, err := s.StartCaddy(ctx, "caddy-smoke")
	if err != nil {
		t.Fatal(err)
	}
	route := `{"@id": "smoke", "match": [{"host": ["smoke.example.com"]}], "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "stack-smoke:8080"}]}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, c.AdminURL+"/config/apps/http/servers/srv0/routes/0", strings.NewReader(route))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("add route: %v %v", resp, err)
	}
	resp.Body.Close()
	var code int
	var body string
	for i := 0; i < 100; i++ {
		code, body, err = get(ctx, "http://"+c.HTTPAddr+"/", "smoke.example.com")
		if err == nil && code == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond) // caddy swaps its config in the background
	}
	if code != 200 || body != "hello from healthy v1\n" {
		t.Errorf("through caddy: %d %q %v", code, body, err)
	}
}
