// Package testfixture is the test fixture the tests of apply and of the
// planner share: a config directory with a shop product on the fake
// provider (testing and prod lanes), a fake world file and a local state
// repository, all in a temp dir, with the secrets' environment, a fixed
// clock and a grant of every action.
//
// Only tests import it. It imports neither apply nor planner, so that the
// internal tests of both can: the wrappers that plan and apply stay in
// each package's fixture_test.go.
package testfixture

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/launchplane/config"
	_ "github.com/launchplane/launchplane/drivers/all"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	_ "github.com/launchplane/launchplane/providers/all"
	"github.com/launchplane/launchplane/providers/fake"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// The shop's images: the targets start at OldImg.
const (
	OldImg = "ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	NewImg = "ghcr.io/acme/shop@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// V3Img is a third image of the shop.
var V3Img = "ghcr.io/acme/shop@sha256:" + strings.Repeat("3", 64)

// FixedNow is the clock of every fixture run.
var FixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Canary is the value of the shop's DATABASE_URL secret, which
// redaction also recognises by its shape (a URL password); CanaryToken is
// API_TOKEN's, which only the registered value gives away.
const (
	Canary      = "postgres://app:CANARY-7f3a9c1e@db/shop"
	CanaryToken = "tok5d2b71e0CANARYa9"
)

// Keys are the fixture's targets.
var Keys = []string{"shop/prod", "shop/testing"}

// Product is the shop product's config file.
const Product = `apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: shop}
spec:
  driver: generic-web
  image: ghcr.io/acme/shop
  port: 8080
  health: {path: /healthz, timeout: 5s}
  env: {LOG_LEVEL: info}
  secrets:
    DATABASE_URL: {fromEnv: SHOP_DB_URL}
    API_TOKEN: {fromEnv: SHOP_API_TOKEN}
  preview:
    enabled: true
    slug: "pr-{number}"
    host: "{slug}.preview.example.com"
    from: testing
    ttl: 72h
`

// TargetYAML is the config file of the shop's target in lane.
func TargetYAML(lane, image string, domains ...string) string {
	return `apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: shop-` + lane + `}
spec:
  product: shop
  lane: ` + lane + `
  image: ` + image + `
  deploy: {provider: local}
  ingress: {provider: local, domains: [` + strings.Join(domains, ", ") + `]}
`
}

// Fixture is the fixture's files, store and environment.
type Fixture struct {
	T        testing.TB
	Dir      string // config dir
	World    string // the fake's world file
	StateDir string
	Store    *gitstore.Store
	Env      map[string]string
}

// New writes the fixture's config (both lanes at OldImg) and opens an
// empty state repository; the store is closed when t ends.
func New(t testing.TB) *Fixture {
	t.Helper()
	root := t.TempDir()
	fx := &Fixture{T: t, Dir: filepath.Join(root, "cfg"), World: filepath.Join(root, "w.json"), StateDir: filepath.Join(root, "state"),
		Env: map[string]string{"SHOP_DB_URL": Canary, "SHOP_API_TOKEN": CanaryToken}}
	if err := os.MkdirAll(fx.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	world, _ := json.Marshal(fx.World)
	fx.Write("providers.yaml", "apiVersion: launchplane.dev/v1\nkind: Provider\nmetadata: {name: local}\nspec:\n  type: fake\n  fake: {path: "+string(world)+"}\n")
	fx.Write("shop.yaml", Product)
	fx.Write("testing.yaml", TargetYAML("testing", OldImg, "testing.shop.example.com"))
	fx.Write("prod.yaml", TargetYAML("prod", OldImg, "shop.example.com", "www.shop.example.com"))
	st, err := gitstore.Open(context.Background(), fx.StateDir, gitstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx.Store = st
	return fx
}

// Write writes the config file name.
func (fx *Fixture) Write(name, body string) {
	fx.T.Helper()
	if err := os.WriteFile(filepath.Join(fx.Dir, name), []byte(body), 0o644); err != nil {
		fx.T.Fatal(err)
	}
}

// Read is the config file name.
func (fx *Fixture) Read(name string) string {
	fx.T.Helper()
	b, err := os.ReadFile(filepath.Join(fx.Dir, name))
	if err != nil {
		fx.T.Fatal(err)
	}
	return string(b)
}

// SetImage points lane's target at image.
func (fx *Fixture) SetImage(lane, image string) {
	fx.T.Helper()
	domains := map[string][]string{"testing": {"testing.shop.example.com"}, "prod": {"shop.example.com", "www.shop.example.com"}}[lane]
	fx.Write(lane+".yaml", TargetYAML(lane, image, domains...))
}

// Load loads the config directory; diagnostics with errors fail the test.
func (fx *Fixture) Load() *config.Config {
	fx.T.Helper()
	cfg, ds := schema.Load(fx.Dir)
	if ds.HasErrors() {
		fx.T.Fatal(ds)
	}
	return cfg
}

// Snap is the state repository at its tip.
func (fx *Fixture) Snap() state.Snapshot {
	fx.T.Helper()
	s, err := fx.Store.Snapshot(context.Background())
	if err != nil {
		fx.T.Fatal(err)
	}
	return s
}

// Tip is the state repository's tip commit.
func (fx *Fixture) Tip() string { return fx.Snap().Commit() }

// Now is the fixture's clock: FixedNow.
func (fx *Fixture) Now() time.Time { return FixedNow }

// Getenv reads the fixture's environment.
func (fx *Fixture) Getenv(k string) string { return fx.Env[k] }

// Target is key's recorded state.
func (fx *Fixture) Target(key string) *state.TargetState {
	fx.T.Helper()
	ts, err := state.ReadTarget(fx.Snap(), key)
	if err != nil {
		fx.T.Fatal(err)
	}
	return ts
}

// ReadRecord is key's record id in snap.
func ReadRecord(t testing.TB, snap state.Snapshot, key, id string) state.Record {
	t.Helper()
	rec, err := state.ReadRecord(snap, key, id)
	if err != nil {
		t.Fatal(err)
	}
	return *rec
}

// Record is key's record id at the tip.
func (fx *Fixture) Record(key, id string) state.Record {
	fx.T.Helper()
	return ReadRecord(fx.T, fx.Snap(), key, id)
}

// Records are the records of key, by sequence.
func (fx *Fixture) Records(key string) []state.Record {
	fx.T.Helper()
	snap := fx.Snap()
	names, err := snap.ListDir(state.RecordsDir(key))
	if err != nil {
		fx.T.Fatal(err)
	}
	var out []state.Record
	for _, n := range names {
		if id, ok := strings.CutSuffix(n, ".json"); ok {
			out = append(out, ReadRecord(fx.T, snap, key, id))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	return out
}

// WorldBytes is the fake's world file; nil when it does not exist.
func (fx *Fixture) WorldBytes() []byte {
	fx.T.Helper()
	b, err := os.ReadFile(fx.World)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		fx.T.Fatal(err)
	}
	return b
}

// WorldState is the fake's world; empty when its file does not exist.
func (fx *Fixture) WorldState() fake.World {
	fx.T.Helper()
	var w fake.World
	if b := fx.WorldBytes(); b != nil {
		if err := json.Unmarshal(b, &w); err != nil {
			fx.T.Fatal(err)
		}
	}
	return w
}

// SetWorld writes the fake's world file (faults, unhealthy targets) over
// what is there, keeping the apps and routes.
func (fx *Fixture) SetWorld(edit func(w *fake.World)) {
	fx.T.Helper()
	w := fx.WorldState()
	edit(&w)
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		fx.T.Fatal(err)
	}
	if err := os.WriteFile(fx.World, b, 0o600); err != nil {
		fx.T.Fatal(err)
	}
}

// EveryAction is what GrantAll grants: the tests of the executor's work
// run with a grant of every action on their targets.
var EveryAction = []string{policy.ActionApply, policy.ActionDestroy, policy.ActionRollback, policy.ActionPreview,
	policy.ActionBackup, policy.ActionClone, policy.ActionRelease, policy.ActionUnlock}

// Grant asks the policy in snap (the fixture's state has none) for each
// action on keys, as the operation runner does.
func Grant(t testing.TB, snap state.Snapshot, keys []string, actions ...string) *policy.Grant {
	t.Helper()
	loaded, _, err := policy.Load(snap)
	if err != nil {
		t.Fatal(err)
	}
	var g *policy.Grant
	for _, a := range actions {
		ga, _, err := loaded.Authorize(nil, policy.Ask{Action: a, Targets: keys, DestroyWithoutPolicy: true})
		if err != nil {
			t.Fatal(err)
		}
		if g == nil {
			g = ga
		} else {
			g = g.Join(ga)
		}
	}
	return g
}

// GrantAll grants every action on p's targets and the fixture's.
func GrantAll(t testing.TB, snap state.Snapshot, p *plan.Plan) *policy.Grant {
	t.Helper()
	keys := append(append([]string{}, Keys...), p.Targets()...)
	return Grant(t, snap, keys, EveryAction...)
}

// Events collects the events of runs, which may come from several
// goroutines.
type Events[E any] struct {
	mu     sync.Mutex
	events []E
}

// Add collects e.
func (c *Events[E]) Add(e E) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

// Take returns the events collected and forgets them.
func (c *Events[E]) Take() []E {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}
