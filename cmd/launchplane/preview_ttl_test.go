package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ttlShop = `apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: shop}
spec:
  driver: generic-web
  image: ghcr.io/acme/shop
  port: 8080
  health: {path: /healthz}
  preview:
    enabled: true
    host: "{slug}.preview.example.com"
    from: testing
    ttl: 72h
`

const ttlTesting = `apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: shop-testing}
spec:
  product: shop
  lane: testing
  image: ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111
  deploy: {provider: local}
  ingress: {provider: local, domains: [testing.shop.example.com]}
`

const ttlProvider = `apiVersion: launchplane.dev/v1
kind: Provider
metadata: {name: local}
spec:
  type: fake
  fake: {path: ../w.json}
`

// A preview of an open pull request is destroyed by gc once it is older
// than its product's ttl: exactly ttl after its last apply it is kept,
// one second later it goes. (The rule lives in the gc command; this runs
// the command in-process, without the script machinery.)
func TestPreviewGCTTL(t *testing.T) {
	root := t.TempDir()
	cfg := filepath.Join(root, "cfg")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"shop.yaml": ttlShop, "testing.yaml": ttlTesting, "providers.yaml": ttlProvider} {
		if err := os.WriteFile(filepath.Join(cfg, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{"LAUNCHPLANE_STATE": filepath.Join(root, "state"), "LAUNCHPLANE_NOW": "2026-11-23T12:00:00Z", "NO_COLOR": "1", "HOME": root}
	launch := func(args ...string) (string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		code := run(e, args)
		return out.String() + errb.String(), code
	}
	if out, code := launch("preview", "apply", "shop", "7", "--config", cfg, "--image",
		"ghcr.io/acme/shop@sha256:3333333333333333333333333333333333333333333333333333333333333333"); code != 0 {
		t.Fatalf("preview apply: exit %d\n%s", code, out)
	}
	for _, tc := range []struct{ now, want string }{
		{"2026-11-24T12:00:00Z", "keep     shop/preview/pr-7\n"},
		{"2026-11-26T12:00:00Z", "keep     shop/preview/pr-7\n"}, // exactly 72h
		{"2026-11-26T12:00:01Z", "destroy  shop/preview/pr-7  (older than its ttl 72h0m0s"},
	} {
		vars["LAUNCHPLANE_NOW"] = tc.now
		out, code := launch("preview", "gc", "--config", cfg, "--open", "7")
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("gc at %s: exit %d, want %q in:\n%s", tc.now, code, tc.want, out)
		}
	}
}
