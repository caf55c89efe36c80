package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/config"
	_ "github.com/launchplane/launchplane/drivers/all"
	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/planner"
	_ "github.com/launchplane/launchplane/providers/all"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// genConfig writes products*2 targets (testing and prod) on the fake
// provider, with world as its file, and loads them.
func genConfig(tb testing.TB, dir string, products int, world string) *config.Config {
	tb.Helper()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("providers.yaml", fmt.Sprintf("apiVersion: launchplane.dev/v1\nkind: Provider\nmetadata: {name: local}\nspec: {type: fake, fake: {path: %q}}\n", world))
	for p := 0; p < products; p++ {
		var b strings.Builder
		fmt.Fprintf(&b, `apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: p%d}
spec:
  driver: generic-web
  image: ghcr.io/acme/p%d
  port: 8080
  health: {path: /healthz}
  env: {LOG_LEVEL: info}
`, p, p)
		for _, lane := range []string{"testing", "prod"} {
			fmt.Fprintf(&b, `---
apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: p%d-%s}
spec:
  product: p%d
  lane: %s
  image: ghcr.io/acme/p%d@sha256:%064x
  deploy: {provider: local}
  ingress: {provider: local, domains: [%s.p%d.example.com]}
`, p, lane, p, lane, p, p, lane, p)
		}
		write(fmt.Sprintf("p%d.yaml", p), b.String())
	}
	cfg, ds := schema.Load(dir)
	if ds.HasErrors() {
		tb.Fatal(ds)
	}
	return cfg
}

// recordAll writes every target of cfg as applied, in one commit.
func recordAll(tb testing.TB, st state.Store, cfg *config.Config) {
	tb.Helper()
	d, err := planner.Desired(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var changes []state.Change
	for key, dt := range d.Targets {
		ts := state.TargetState{FormatVersion: "1", Target: key, Status: state.StatusHealthy}
		for _, r := range dt.Resources {
			ts.Resources = append(ts.Resources, state.Resource{Address: r.Address, Kind: r.Kind, Provider: r.Provider, Attrs: r.Attrs})
		}
		changes = append(changes, state.Change{Path: state.TargetPath(key), Data: encode(&ts)})
	}
	if _, err := st.Commit(context.Background(), state.Write{Changes: changes, Message: "seed"}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPlan3000Targets plans 1,500 products x 2 lanes against a state
// repository that records all of them (a no-op plan: every target read
// and diffed).
func BenchmarkPlan3000Targets(b *testing.B) {
	dir := b.TempDir()
	cfg := genConfig(b, dir, 1500, "w.json")
	st, err := gitstore.Open(context.Background(), filepath.Join(dir, "state"), gitstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	recordAll(b, st, cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap, err := st.Snapshot(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		p, _, err := planner.Plan(cfg, snap, nil)
		if err != nil {
			b.Fatal(err)
		}
		if p.HasChanges() || len(p.Changes) != 3000*2 {
			b.Fatalf("plan: %d changes, has changes %v", len(p.Changes), p.HasChanges())
		}
	}
}

// benchmarkApply applies 50 products x 2 lanes = 100 targets against the
// fake provider with 50 ms per call, on a fresh state repo and world
// each iteration.
func benchmarkApply(b *testing.B, parallelism int) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "w.json"), []byte(`{"latency": "50ms"}`), 0o644); err != nil {
			b.Fatal(err)
		}
		cfg := genConfig(b, dir, 50, "w.json")
		st, err := gitstore.Open(context.Background(), filepath.Join(dir, "state"), gitstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		snap, _ := st.Snapshot(context.Background())
		p, _, err := planner.Plan(cfg, snap, nil)
		if err != nil {
			b.Fatal(err)
		}
		g := testfixture.GrantAll(b, snap, p)
		b.StartTimer()
		res, err := Run(context.Background(), Options{Config: cfg, Store: st, Snapshot: snap, Plan: p, Grant: g, Parallelism: parallelism,
			Actor: "bench", Now: time.Now, Getenv: os.Getenv, Redactor: redact.New()})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Records) != 100 || len(res.Failed) != 0 {
			b.Fatalf("records %d, failed %v", len(res.Records), res.Failed)
		}
	}
}

func BenchmarkApply100TargetsParallelism1(b *testing.B) { benchmarkApply(b, 1) }
func BenchmarkApply100TargetsParallelism8(b *testing.B) { benchmarkApply(b, 8) }
