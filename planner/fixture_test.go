package planner

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/config"
	_ "github.com/launchplane/launchplane/drivers/all"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	_ "github.com/launchplane/launchplane/providers/all"
	"github.com/launchplane/launchplane/providers/fake"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// fixedNow is the clock of every fixture run.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// canary is the value of the shop's DATABASE_URL secret, which
// redaction also recognises by its shape (a URL password); canaryToken is
// API_TOKEN's, which only the registered value gives away.
const (
	canary      = "postgres://app:CANARY-7f3a9c1e@db/shop"
	canaryToken = "tok5d2b71e0CANARYa9"
)

// fixture is the part of apply's test fixture the planner's tests use
// (they apply to have recorded state to plan against).
//
// fixture is a config directory with a shop product on the fake
// provider (testing and prod lanes), a fake world file and a local state
// repository, all in a temp dir.
type fixture struct {
	t        *testing.T
	dir      string // config dir
	world    string // the fake's world file
	stateDir string
	store    *gitstore.Store
	env      map[string]string

	mu     sync.Mutex
	events []apply.Event
}

const fxProduct = `apiVersion: launchplane.dev/v1
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

func fxTarget(lane, image string, domains ...string) string {
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

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	fx := &fixture{t: t, dir: filepath.Join(root, "cfg"), world: filepath.Join(root, "w.json"), stateDir: filepath.Join(root, "state"),
		env: map[string]string{"SHOP_DB_URL": canary, "SHOP_API_TOKEN": canaryToken}}
	if err := os.MkdirAll(fx.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fx.write("providers.yaml", "apiVersion: launchplane.dev/v1\nkind: Provider\nmetadata: {name: local}\nspec:\n  type: fake\n  fake: {path: "+strconvQuote(fx.world)+"}\n")
	fx.write("shop.yaml", fxProduct)
	fx.write("testing.yaml", fxTarget("testing", oldImg, "testing.shop.example.com"))
	fx.write("prod.yaml", fxTarget("prod", oldImg, "shop.example.com", "www.shop.example.com"))
	st, err := gitstore.Open(context.Background(), fx.stateDir, gitstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx.store = st
	return fx
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (fx *fixture) write(name, body string) {
	fx.t.Helper()
	if err := os.WriteFile(filepath.Join(fx.dir, name), []byte(body), 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) read(name string) string {
	fx.t.Helper()
	b, err := os.ReadFile(filepath.Join(fx.dir, name))
	if err != nil {
		fx.t.Fatal(err)
	}
	return string(b)
}

// setImage points lane's target at image.
func (fx *fixture) setImage(lane, image string) {
	fx.t.Helper()
	domains := map[string][]string{"testing": {"testing.shop.example.com"}, "prod": {"shop.example.com", "www.shop.example.com"}}[lane]
	fx.write(lane+".yaml", fxTarget(lane, image, domains...))
}

func (fx *fixture) load() *config.Config {
	fx.t.Helper()
	cfg, ds := schema.Load(fx.dir)
	if ds.HasErrors() {
		fx.t.Fatal(ds)
	}
	return cfg
}

func (fx *fixture) snap() state.Snapshot {
	fx.t.Helper()
	s, err := fx.store.Snapshot(context.Background())
	if err != nil {
		fx.t.Fatal(err)
	}
	return s
}

func (fx *fixture) tip() string { return fx.snap().Commit() }

func (fx *fixture) plan(cfg *config.Config, only map[string]bool) *plan.Plan {
	fx.t.Helper()
	p, _, err := Plan(cfg, fx.snap(), only)
	if err != nil {
		fx.t.Fatal(err)
	}
	return p
}

// options are apply.Run's options for cfg and p at the current tip; mod edits
// them.
func (fx *fixture) options(cfg *config.Config, p *plan.Plan) apply.Options {
	snap := fx.snap()
	return apply.Options{Config: cfg, Store: fx.store, Snapshot: snap, Plan: p, Grant: grantAll(fx.t, snap, p), Actor: "tester", Now: func() time.Time { return fixedNow },
		Getenv: func(k string) string { return fx.env[k] }, Redactor: redact.New(),
		Events: func(e apply.Event) {
			fx.mu.Lock()
			fx.events = append(fx.events, e)
			fx.mu.Unlock()
		}}
}

// apply plans cfg and runs the plan.
func (fx *fixture) apply(cfg *config.Config, mod func(*apply.Options)) (*apply.Result, error) {
	fx.t.Helper()
	o := fx.options(cfg, fx.plan(cfg, nil))
	if mod != nil {
		mod(&o)
	}
	return apply.Run(context.Background(), o)
}

// mustApply is apply that expects every target to succeed.
func (fx *fixture) mustApply(cfg *config.Config, mod func(*apply.Options)) *apply.Result {
	fx.t.Helper()
	res, err := fx.apply(cfg, mod)
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(res.Failed) > 0 {
		fx.t.Fatalf("failed targets %v (records %v)", res.Failed, res.Records)
	}
	return res
}

func (fx *fixture) target(key string) *state.TargetState {
	fx.t.Helper()
	ts, err := state.ReadTarget(fx.snap(), key)
	if err != nil {
		fx.t.Fatal(err)
	}
	return ts
}

func readRecord(t *testing.T, snap state.Snapshot, key, id string) state.Record {
	t.Helper()
	b, err := snap.ReadFile(state.RecordPath(key, id))
	if err != nil {
		t.Fatal(err)
	}
	var rec state.Record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func (fx *fixture) record(key, id string) state.Record {
	fx.t.Helper()
	return readRecord(fx.t, fx.snap(), key, id)
}

// worldBytes is the fake's world file; nil when it does not exist.
func (fx *fixture) worldBytes() []byte {
	fx.t.Helper()
	b, err := os.ReadFile(fx.world)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		fx.t.Fatal(err)
	}
	return b
}

func (fx *fixture) worldState() fake.World {
	fx.t.Helper()
	var w fake.World
	if b := fx.worldBytes(); b != nil {
		if err := json.Unmarshal(b, &w); err != nil {
			fx.t.Fatal(err)
		}
	}
	return w
}

func encode(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// grantAll asks the fixture's state (it has no policy) for every action
// on p's targets and the fixture's, as the operation runner does: the
// planner's tests that apply to set up recorded state run with a grant.
func grantAll(t testing.TB, snap state.Snapshot, p *plan.Plan) *policy.Grant {
	t.Helper()
	loaded, _, err := policy.Load(snap)
	if err != nil {
		t.Fatal(err)
	}
	keys := append([]string{"shop/prod", "shop/testing"}, p.Targets()...)
	var g *policy.Grant
	for _, a := range []string{policy.ActionApply, policy.ActionDestroy, policy.ActionRollback, policy.ActionPreview,
		policy.ActionBackup, policy.ActionClone, policy.ActionRelease, policy.ActionUnlock} {
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
