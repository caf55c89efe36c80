package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/launchplane/launchplane/config"
	_ "github.com/launchplane/launchplane/drivers/all"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	_ "github.com/launchplane/launchplane/providers/all"
	"github.com/launchplane/launchplane/providers/fake"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

const (
	oldImg = "ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newImg = "ghcr.io/acme/shop@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

var v3Img = "ghcr.io/acme/shop@sha256:" + strings.Repeat("3", 64)

// fixedNow is the clock of every fixture run.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// canary is the value of the shop's DATABASE_URL secret, which
// redaction also recognises by its shape (a URL password); canaryToken is
// API_TOKEN's, which only the registered value gives away.
const (
	canary      = "postgres://app:CANARY-7f3a9c1e@db/shop"
	canaryToken = "tok5d2b71e0CANARYa9"
)

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
	events []Event
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
	p, _, err := planner.Plan(cfg, fx.snap(), only)
	if err != nil {
		fx.t.Fatal(err)
	}
	return p
}

// options are Run's options for cfg and p at the current tip; mod edits
// them.
func (fx *fixture) options(cfg *config.Config, p *plan.Plan) Options {
	snap := fx.snap()
	return Options{Config: cfg, Store: fx.store, Snapshot: snap, Plan: p, Grant: grantAll(fx.t, snap, p), Actor: "tester", Now: func() time.Time { return fixedNow },
		Getenv: func(k string) string { return fx.env[k] }, Redactor: redact.New(),
		Events: func(e Event) {
			fx.mu.Lock()
			fx.events = append(fx.events, e)
			fx.mu.Unlock()
		}}
}

// apply plans cfg and runs the plan.
func (fx *fixture) apply(cfg *config.Config, mod func(*Options)) (*Result, error) {
	fx.t.Helper()
	o := fx.options(cfg, fx.plan(cfg, nil))
	if mod != nil {
		mod(&o)
	}
	return Run(context.Background(), o)
}

// mustApply is apply that expects every target to succeed.
func (fx *fixture) mustApply(cfg *config.Config, mod func(*Options)) *Result {
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

// records are the records of key, by sequence.
func (fx *fixture) records(key string) []state.Record {
	fx.t.Helper()
	snap := fx.snap()
	names, err := snap.ListDir(state.RecordsDir(key))
	if err != nil {
		fx.t.Fatal(err)
	}
	var out []state.Record
	for _, n := range names {
		if id, ok := strings.CutSuffix(n, ".json"); ok {
			out = append(out, readRecord(fx.t, snap, key, id))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	return out
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

// setWorld writes the fake's world file (faults, unhealthy targets) over
// what is there, keeping the apps and routes.
func (fx *fixture) setWorld(edit func(w *fake.World)) {
	fx.t.Helper()
	w := fx.worldState()
	edit(&w)
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(fx.world, b, 0o600); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) takeEvents() []Event {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	ev := fx.events
	fx.events = nil
	return ev
}

// repo opens the state repository with go-git, to look at what the
// Store API does not show (history, every object).
func (fx *fixture) repo() *git.Repository {
	fx.t.Helper()
	r, err := git.PlainOpen(fx.stateDir)
	if err != nil {
		fx.t.Fatal(err)
	}
	return r
}

// parent is the first parent of commit.
func (fx *fixture) parent(commit string) string {
	fx.t.Helper()
	c, err := fx.repo().CommitObject(plumbing.NewHash(commit))
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(c.ParentHashes) == 0 {
		return ""
	}
	return c.ParentHashes[0].String()
}

// commitCount is the number of commits reachable from the tip.
func (fx *fixture) commitCount() int {
	fx.t.Helper()
	tip := fx.tip()
	if tip == "" {
		return 0
	}
	iter, err := fx.repo().Log(&git.LogOptions{From: plumbing.NewHash(tip)})
	if err != nil {
		fx.t.Fatal(err)
	}
	n := 0
	if err := iter.ForEach(func(*object.Commit) error { n++; return nil }); err != nil {
		fx.t.Fatal(err)
	}
	return n
}

// eachObject calls fn with the contents of every object in the state
// repository (reachable or not) and every file of every commit.
func (fx *fixture) eachObject(fn func(what string, data []byte)) {
	fx.t.Helper()
	r := fx.repo()
	iter, err := r.Storer.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		fx.t.Fatal(err)
	}
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		rd, err := o.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		b, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		fn(o.Type().String()+" "+o.Hash().String(), b)
		return nil
	})
	if err != nil {
		fx.t.Fatal(err)
	}
	commits, err := r.CommitObjects()
	if err != nil {
		fx.t.Fatal(err)
	}
	err = commits.ForEach(func(c *object.Commit) error {
		fn("message of "+c.Hash.String(), []byte(c.Message))
		files, err := c.Files()
		if err != nil {
			return err
		}
		return files.ForEach(func(f *object.File) error {
			s, err := f.Contents()
			if err != nil {
				return err
			}
			fn(c.Hash.String()[:12]+":"+f.Name, []byte(f.Name+"\n"+s))
			return nil
		})
	})
	if err != nil {
		fx.t.Fatal(err)
	}
}

func containsAny(b []byte, subs ...string) string {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return s
		}
	}
	return ""
}

// encode is a target state as the codec writes it.
func encode(ts *state.TargetState) []byte {
	b, err := state.EncodeTarget(ts)
	if err != nil {
		panic(err)
	}
	return b
}
