package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeConfig writes products and targets, a file per product holding the
// product and its targets, lanes alternating testing and prod; targets
// beyond two per product are duplicate lanes and produce diagnostics.
func writeConfig(b *testing.B, products, targets int) string {
	dir := b.TempDir()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(`apiVersion: launchplane.dev/v1
kind: Provider
metadata: {name: local}
spec:
  type: fake
  fake: {path: w.json}
`), 0o644))
	lanes := []string{"testing", "prod"}
	for p := 0; p < products; p++ {
		body := fmt.Sprintf(`apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: p%d}
spec:
  driver: generic-web
  image: ghcr.io/acme/p%d
  port: 8080
  health: {path: /healthz, timeout: 60s}
  env: {LOG_LEVEL: info, REGION: eu}
  secrets:
    DATABASE_URL: {fromEnv: P%d_DATABASE_URL}
`, p, p, p)
		for t := p; t < targets; t += products {
			lane := lanes[(t/products)%2]
			body += fmt.Sprintf(`---
apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: t%d}
spec:
  product: p%d
  lane: %s
  image: ghcr.io/acme/p%d@sha256:%064x
  deploy: {provider: local}
  ingress: {provider: local, domains: [t%d.example.com]}
  env: {LOG_LEVEL: debug}
`, t, p, lane, p, t, t)
		}
		must(os.MkdirAll(filepath.Join(dir, "products"), 0o755))
		must(os.WriteFile(filepath.Join(dir, "products", fmt.Sprintf("p%d.yaml", p)), []byte(body), 0o644))
	}
	return dir
}

func benchmarkLoad(b *testing.B, products, targets, wantErrors int) {
	dir := writeConfig(b, products, targets)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg, ds := Load(dir)
		if len(ds) != wantErrors {
			b.Fatalf("%d diagnostics, want %d: %v", len(ds), wantErrors, ds[:min(len(ds), 3)])
		}
		if got := len(cfg.Targets); got != targets {
			b.Fatalf("%d targets", got)
		}
	}
}

// BenchmarkLoad1000Products3000Targets is the size. Lanes are only
// testing and prod, so 1,000 of the 3,000 targets are duplicate lanes and
// the run includes reporting them.
func BenchmarkLoad1000Products3000Targets(b *testing.B) { benchmarkLoad(b, 1000, 3000, 1000) }

// BenchmarkLoad1500Products3000Targets is the same volume, all valid.
func BenchmarkLoad1500Products3000Targets(b *testing.B) { benchmarkLoad(b, 1500, 3000, 0) }

// writeFleet writes the fleet bench/fleetbench generates: a file per
// product and per target, every file in the subset the fast parser
// reads (the files of writeConfig, several documents each, are not).
func writeFleet(b *testing.B, targets int) string {
	dir := b.TempDir()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "products"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "targets"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte("apiVersion: launchplane.dev/v1\nkind: Provider\nmetadata: {name: local}\nspec:\n  type: fake\n  fake: {path: ../world.json}\n"), 0o644))
	for i := 0; i < targets; i++ {
		p, lane := fmt.Sprintf("app%05d", i/2), [2]string{"testing", "prod"}[i%2]
		if i%2 == 0 {
			must(os.WriteFile(filepath.Join(dir, "products", p+".yaml"), []byte(fmt.Sprintf("apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: %s}\nspec:\n  driver: generic-web\n  image: registry.example.org/fleet/%s\n  port: 8080\n  health: {path: /healthz, timeout: 60s}\n  env: {LOG_LEVEL: info, REGION: eu-%d}\n", p, p, (i/2)%3)), 0o644))
		}
		must(os.WriteFile(filepath.Join(dir, "targets", p+"-"+lane+".yaml"), []byte(fmt.Sprintf("apiVersion: launchplane.dev/v1\nkind: Target\nmetadata: {name: %s-%s}\nspec:\n  product: %s\n  lane: %s\n  image: registry.example.org/fleet/%s@sha256:%064x\n  deploy: {provider: local}\n  ingress: {provider: local, domains: [%s-%s.fleet.example.org]}\n", p, lane, p, lane, p, i, p, lane)), 0o644))
	}
	return dir
}

func benchmarkFleet(b *testing.B, opts LoadOptions) {
	dir := writeFleet(b, 3000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg, ds := LoadWith(dir, opts)
		if len(ds) != 0 || len(cfg.Targets) != 3000 {
			b.Fatalf("%d targets, %v", len(cfg.Targets), ds[:min(len(ds), 3)])
		}
	}
}

// BenchmarkLoadFleet3000 loads the 3,000-target fleet as plan does;
// BenchmarkLoadFleet3000NoPosIndex as validate does.
func BenchmarkLoadFleet3000(b *testing.B)           { benchmarkFleet(b, LoadOptions{}) }
func BenchmarkLoadFleet3000NoPosIndex(b *testing.B) { benchmarkFleet(b, LoadOptions{NoPosIndex: true}) }
