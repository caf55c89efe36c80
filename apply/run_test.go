package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers/fake"
	"github.com/launchplane/launchplane/state"
)

var fxKeys = []string{"shop/prod", "shop/testing"}

func TestRunCreateThenNoChanges(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	p := fx.plan(cfg, nil)
	if got := p.Targets(); strings.Join(got, ",") != "shop/prod,shop/testing" {
		t.Fatalf("plan targets %v", got)
	}
	if s := p.Summary(); s[plan.Create] != 5 || s[plan.Run] != 2 {
		t.Fatalf("plan summary %v, want 5 creates (2 apps, 3 routes) and 2 runs", s)
	}
	res, err := Run(context.Background(), fx.options(cfg, p))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 || len(res.Records) != 2 {
		t.Fatalf("result %+v", res)
	}
	if res.Commit == "" || res.Commit != fx.Tip() {
		t.Fatalf("result commit %q, tip %q", res.Commit, fx.Tip())
	}
	// one commit marks the targets in flight, one records the outcome
	if n := fx.commitCount(); n != 2 {
		t.Errorf("%d commits, want 2", n)
	}

	again := fx.plan(cfg, nil)
	if again.HasChanges() {
		var b strings.Builder
		for _, c := range again.Changes {
			if c.Action != plan.NoOp {
				fmt.Fprintf(&b, "\n%s %s (%s) %v", c.Action, c.Address, c.Reason, c.Diff)
			}
		}
		t.Fatalf("re-plan after apply has changes:%s", b.String())
	}
	if base := again.Base.StateCommit; base != res.Commit {
		t.Errorf("re-plan base %s, want %s", base, res.Commit)
	}

	w := fx.WorldState()
	for _, key := range fxKeys {
		ts := fx.Target(key)
		if ts == nil {
			t.Fatalf("no state for %s", key)
		}
		if ts.Status != state.StatusHealthy || ts.Image != testfixture.OldImg || ts.HealthyImage != testfixture.OldImg || ts.PreviousHealthyImage != "" {
			t.Errorf("%s: status %s image %s healthy %s previous %s", key, ts.Status, ts.Image, ts.HealthyImage, ts.PreviousHealthyImage)
		}
		if ts.InFlight != nil {
			t.Errorf("%s: still in flight after a successful apply: %+v", key, ts.InFlight)
		}
		id := res.Records[key]
		if !strings.HasPrefix(id, "deployment-20261123T120000Z-shop-"+strings.TrimPrefix(key, "shop/")+"-") {
			t.Errorf("%s: record id %s", key, id)
		}
		if ts.LastRecord != id || ts.ImageRecord != id || ts.Sequence != 1 {
			t.Errorf("%s: last record %s image record %s sequence %d, want %s and 1", key, ts.LastRecord, ts.ImageRecord, ts.Sequence, id)
		}
		if !ts.UpdatedAt.Equal(testfixture.FixedNow) {
			t.Errorf("%s: updated at %s, want the fixed clock", key, ts.UpdatedAt)
		}
		if app := w.Apps[key]; app == nil || app.Image != testfixture.OldImg || app.Name != providersObjectName(key) || app.Deployments != 1 {
			t.Errorf("%s: fake app %+v", key, app)
		} else if ts.ProviderIDs[key+"/app"] != app.ID {
			t.Errorf("%s: provider ids %v, fake app id %s", key, ts.ProviderIDs, app.ID)
		}
		rec := fx.Record(key, id)
		if rec.Kind != state.KindDeployment || rec.Outcome != state.RecordSuccess || rec.Sequence != 1 || rec.Actor != "tester" || rec.Image != testfixture.OldImg ||
			rec.Target != key || rec.Plan == "" || rec.Error != "" || !rec.Started.Equal(testfixture.FixedNow) {
			t.Errorf("%s: record %+v", key, rec)
		}
		for _, c := range rec.Changes {
			if c.Outcome != state.OutcomeDone {
				t.Errorf("%s: change %s outcome %s", key, c.Address, c.Outcome)
			}
		}
	}
	if r := w.Routes["www.shop.example.com"]; r == nil || r.Target != "shop/prod" || r.Upstream != "shop-prod" || r.Port != 8080 {
		t.Errorf("route www.shop.example.com: %+v", r)
	}

	// the in-flight commit, before any provider mutation, held both
	// targets with this run's record ids
	first, err := fx.Store.SnapshotAt(context.Background(), fx.parent(res.Commit))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range fxKeys {
		ts, err := state.ReadTarget(first, key)
		if err != nil || ts == nil {
			t.Fatalf("%s in the in-flight commit: %v, %v", key, ts, err)
		}
		if ts.InFlight == nil || ts.InFlight.Record != res.Records[key] || ts.InFlight.Actor != "tester" ||
			!ts.InFlight.Expires.Equal(testfixture.FixedNow.Add(30*time.Minute)) {
			t.Errorf("%s in the in-flight commit: %+v", key, ts.InFlight)
		}
	}

	// applying the no-change plan does nothing at all
	tip, world := fx.Tip(), fx.WorldBytes()
	res2, err := Run(context.Background(), fx.options(cfg, again))
	if err != nil {
		t.Fatal(err)
	}
	if res2.Commit != "" || len(res2.Records) != 0 || fx.Tip() != tip || !bytes.Equal(fx.WorldBytes(), world) {
		t.Errorf("a no-change apply wrote: %+v", res2)
	}
}

func providersObjectName(key string) string { return strings.ReplaceAll(key, "/", "-") }

// The secret value reaches the provider (the fake keeps a hash of it) but
// never the state repository, the fake's world, the result, the events or
// any error, even when the provider echoes it in an error message.
func TestRunSecretCanary(t *testing.T) {
	fx := newFixture(t)
	fx.SetWorld(func(w *fake.World) {
		w.Faults = []*fake.Fault{{Op: "deploy", Target: "shop/testing", Times: 1, Error: "db rejected " + testfixture.Canary + " (" + testfixture.CanaryToken + ")"}}
	})
	cfg := fx.Load()
	p := fx.plan(cfg, nil)
	if s := fmt.Sprintf("%#v", p); strings.Contains(s, "CANARY") {
		t.Fatalf("the plan holds the secret")
	}
	res, err := Run(context.Background(), fx.options(cfg, p))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Failed, ",") != "shop/testing" {
		t.Fatalf("failed %v, want shop/testing", res.Failed)
	}
	rec := fx.Record("shop/testing", res.Records["shop/testing"])
	if rec.Outcome != "failed" || !strings.Contains(rec.Error, "db rejected") || !strings.Contains(rec.Error, "[REDACTED]") {
		t.Errorf("failed record: outcome %s error %q", rec.Outcome, rec.Error)
	}
	// the failed target is not left in flight either
	if ts := fx.Target("shop/testing"); ts.InFlight != nil || ts.Status != state.StatusFailed {
		t.Errorf("failed target: status %s in flight %+v", ts.Status, ts.InFlight)
	}
	check := func(what string, b []byte) {
		t.Helper()
		if bytes.Contains(b, []byte("CANARY")) {
			t.Errorf("%s holds the secret:\n%s", what, b)
		}
	}
	check("result", []byte(fmt.Sprintf("%#v", res)))
	checkEvents := func() {
		t.Helper()
		for _, e := range fx.takeEvents() {
			check("event", []byte(fmt.Sprintf("%#v", e)))
			if e.Err != nil {
				check("event error", []byte(e.Err.Error()))
			}
		}
	}
	checkEvents()

	// the retry succeeds
	res = fx.mustApply(cfg, nil)
	check("result", []byte(fmt.Sprintf("%#v", res)))
	checkEvents()

	w := fx.WorldState()
	if app := w.Apps["shop/testing"]; app == nil || strings.Join(app.SecretKeys, ",") != "API_TOKEN,DATABASE_URL" || app.SecretsSHA256 == "" {
		t.Fatalf("the fake did not get the secret: %+v", app)
	}
	check("world file", fx.WorldBytes())

	objects, files, keys := 0, 0, false
	fx.eachObject(func(what string, b []byte) {
		objects++
		if strings.Contains(what, ":") {
			files++
		}
		if bytes.Contains(b, []byte("DATABASE_URL")) {
			keys = true
		}
		check(what, b)
	})
	if objects == 0 || files == 0 || !keys {
		t.Fatalf("walked %d objects and %d files, secret key names seen %v: the walk missed the records", objects, files, keys)
	}
}

// A secret that the provider error echoes in another form, JSON with
// escaped solidus ("\/", as PHP's json_encode writes it by default), is
// redacted too (SPEC §9: every resolved secret value, from everything
// Launchplane writes).
func TestRunSecretEchoedWithEscapedSlashes(t *testing.T) {
	fx := newFixture(t)
	fx.SetWorld(func(w *fake.World) {
		w.Faults = []*fake.Fault{{Op: "ensure-route", Target: "shop/prod", Times: 1, Error: `upstream said {"dsn":"` + strings.ReplaceAll(testfixture.Canary, "/", `\/`) + `"}`}}
	})
	cfg := fx.Load()
	res, err := fx.apply(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Failed, ",") != "shop/prod" {
		t.Fatalf("failed %v", res.Failed)
	}
	fx.eachObject(func(what string, b []byte) {
		if bytes.Contains(b, []byte("CANARY")) {
			t.Errorf("%s holds the secret:\n%s", what, b)
		}
	})
}

func TestRunSequenceIncreasesPerTarget(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.mustApply(cfg, nil)

	// only prod changes: testing's sequence stays
	fx.SetImage("prod", testfixture.NewImg)
	cfg = fx.Load()
	fx.mustApply(cfg, nil)

	// a failed apply is a record too
	v3 := "ghcr.io/acme/shop@sha256:" + strings.Repeat("3", 64)
	fx.SetImage("prod", v3)
	fx.SetImage("testing", testfixture.NewImg)
	fx.SetWorld(func(w *fake.World) {
		w.Faults = []*fake.Fault{{Op: "deploy", Target: "shop/prod", Times: 1, Error: "boom"}}
	})
	cfg = fx.Load()
	res, err := fx.apply(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Failed, ",") != "shop/prod" {
		t.Fatalf("failed %v", res.Failed)
	}
	fx.mustApply(cfg, nil)

	for key, want := range map[string][]string{
		"shop/prod":    {"success " + testfixture.OldImg, "success " + testfixture.NewImg, "failed " + testfixture.NewImg, "success " + v3},
		"shop/testing": {"success " + testfixture.OldImg, "success " + testfixture.NewImg},
	} {
		recs := fx.Records(key)
		var got []string
		for i, r := range recs {
			if r.Sequence != int64(i+1) {
				t.Errorf("%s: record %d %s has sequence %d", key, i, r.ID, r.Sequence)
			}
			got = append(got, string(r.Outcome)+" "+r.Image)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s records by sequence:\n%s\nwant:\n%s", key, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		ts := fx.Target(key)
		if ts.Sequence != int64(len(want)) || ts.LastRecord != recs[len(recs)-1].ID {
			t.Errorf("%s: sequence %d last record %s, want %d and %s", key, ts.Sequence, ts.LastRecord, len(want), recs[len(recs)-1].ID)
		}
	}
	if ts := fx.Target("shop/prod"); ts.HealthyImage != v3 || ts.PreviousHealthyImage != testfixture.NewImg {
		t.Errorf("prod healthy %s previous %s", ts.HealthyImage, ts.PreviousHealthyImage)
	}
}

func TestRunKindReasonAuthorizationInRecords(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	authz := &state.PolicyEvidence{Action: "clone", Decision: "allowed", Reason: "ops may apply", Identity: "alice"}
	res := fx.mustApply(cfg, func(o *Options) {
		o.Kind = state.KindClone
		o.Reason = "weekly release"
		o.Authorization = authz
	})
	for _, key := range fxKeys {
		id := res.Records[key]
		if !strings.HasPrefix(id, "clone-20261123T120000Z-") {
			t.Errorf("%s: record id %s", key, id)
		}
		rec := fx.Record(key, id)
		if rec.Kind != state.KindClone || rec.Reason != "weekly release" {
			t.Errorf("%s: kind %q reason %q", key, rec.Kind, rec.Reason)
		}
		run, _ := rec.Evidence.(state.RunEvidence)
		if pol := run.Policy; pol == nil || pol.Reason != "ops may apply" || pol.Identity != "alice" {
			t.Errorf("%s: evidence %v", key, rec.Evidence)
		}
	}
}

// Preflight fails on a secret that cannot be read: no provider is called,
// no commit is made, nothing is marked in flight.
func TestRunPreflightMissingSecretMutatesNothing(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.mustApply(cfg, nil)
	fx.SetImage("prod", testfixture.NewImg)
	cfg = fx.Load()
	delete(fx.Env, "SHOP_DB_URL")

	tip, world, commits := fx.Tip(), fx.WorldBytes(), fx.commitCount()
	before := fx.Target("shop/prod")
	fx.takeEvents()
	res, err := fx.apply(cfg, nil)
	if err == nil {
		t.Fatalf("no error; result %+v", res)
	}
	if !strings.Contains(err.Error(), "SHOP_DB_URL") || !strings.Contains(err.Error(), "not set") {
		t.Errorf("error %q does not name the missing variable", err)
	}
	if res != nil {
		t.Errorf("result %+v with a preflight error", res)
	}
	if fx.Tip() != tip || fx.commitCount() != commits {
		t.Errorf("state moved from %s to %s", tip, fx.Tip())
	}
	if !bytes.Equal(fx.WorldBytes(), world) {
		t.Errorf("fake world changed:\n%s", fx.WorldBytes())
	}
	if after := fx.Target("shop/prod"); after.InFlight != nil || after.Image != before.Image || after.Sequence != before.Sequence {
		t.Errorf("prod state changed: %+v", after)
	}
	for _, e := range fx.takeEvents() {
		if e.Kind == StepStart {
			t.Errorf("a step started: %+v", e)
		}
	}
}

// Preflight on a first apply, with no state at all: the state repository
// stays without commits.
func TestRunPreflightFailureOnEmptyState(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.Env = map[string]string{}
	if _, err := fx.apply(cfg, nil); err == nil {
		t.Fatal("no error")
	}
	if tip := fx.Tip(); tip != "" {
		t.Errorf("state has commit %s", tip)
	}
	if w := fx.WorldBytes(); w != nil {
		t.Errorf("fake world written:\n%s", w)
	}
}

func TestRunDryRunMutatesNothing(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	res, err := fx.apply(cfg, func(o *Options) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit != "" || len(res.Records) != 0 || len(res.Failed) != 0 {
		t.Errorf("dry run result %+v", res)
	}
	if tip := fx.Tip(); tip != "" {
		t.Errorf("dry run committed %s", tip)
	}
	if w := fx.WorldBytes(); w != nil {
		t.Errorf("dry run wrote the fake world:\n%s", w)
	}
	info := false
	for _, e := range fx.takeEvents() {
		if e.Kind == StepStart || e.Kind == StepDone {
			t.Errorf("dry run ran a step: %+v", e)
		}
		if e.Kind == Info && strings.Contains(e.Message, "dry run") {
			info = true
		}
	}
	if !info {
		t.Errorf("no dry-run event")
	}

	// on existing state too
	fx.mustApply(cfg, nil)
	fx.SetImage("prod", testfixture.NewImg)
	cfg = fx.Load()
	tip, world := fx.Tip(), fx.WorldBytes()
	if _, err := fx.apply(cfg, func(o *Options) { o.DryRun = true }); err != nil {
		t.Fatal(err)
	}
	if fx.Tip() != tip || !bytes.Equal(fx.WorldBytes(), world) {
		t.Errorf("dry run changed the state or the world")
	}

	// and a dry run still checks everything: a missing secret fails it
	fx.Env = map[string]string{}
	if _, err := fx.apply(cfg, func(o *Options) { o.DryRun = true }); err == nil || !strings.Contains(err.Error(), "SHOP_DB_URL") {
		t.Errorf("dry run with a missing secret: %v", err)
	}
}

// An unexpired in-flight mark held by another apply stops the run with a
// conflict before any mutation.
func TestRunRefusesTargetInFlight(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.mustApply(cfg, nil)
	ts := fx.Target("shop/prod")
	ts.InFlight = &state.InFlight{Record: "deployment-20261123T115900Z-shop-prod-0000aa", Actor: "bob", Started: testfixture.FixedNow.Add(-time.Minute), Expires: testfixture.FixedNow.Add(time.Hour)}
	if _, err := fx.Store.Commit(context.Background(), state.Write{Base: fx.Tip(), Changes: []state.Change{{Path: state.TargetPath("shop/prod"), Data: encode(ts)}},
		Message: "other apply", Author: state.Signature{Name: "t", Email: "t@localhost", When: testfixture.FixedNow}}); err != nil {
		t.Fatal(err)
	}
	fx.SetImage("prod", testfixture.NewImg)
	cfg = fx.Load()
	tip, world := fx.Tip(), fx.WorldBytes()
	_, err := fx.apply(cfg, nil)
	if !errors.Is(err, state.ErrConflict) || !strings.Contains(err.Error(), "bob") {
		t.Fatalf("error %v, want a conflict naming bob", err)
	}
	if fx.Tip() != tip || !bytes.Equal(fx.WorldBytes(), world) {
		t.Errorf("the refused apply changed the state or the world")
	}

	// expired: the next apply goes ahead and clears the mark
	res := fx.mustApply(cfg, func(o *Options) { o.Now = func() time.Time { return testfixture.FixedNow.Add(2 * time.Hour) } })
	if ts := fx.Target("shop/prod"); ts.InFlight != nil || ts.Image != testfixture.NewImg || ts.LastRecord != res.Records["shop/prod"] {
		t.Errorf("after the expired mark: %+v", ts)
	}
}

func TestRunSavedPlanStale(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	p := fx.plan(cfg, nil)
	fx.SetImage("prod", testfixture.NewImg)
	changed := fx.Load()
	_, err := Run(context.Background(), func() Options { o := fx.options(changed, p); o.Saved = true; return o }())
	if !errors.Is(err, ErrStale) {
		t.Fatalf("error %v, want ErrStale", err)
	}

	// state moved under the plan's target
	p = fx.plan(changed, nil)
	fx.mustApply(cfg, nil)
	tip := fx.Tip()
	_, err = Run(context.Background(), func() Options { o := fx.options(changed, p); o.Saved = true; return o }())
	if !errors.Is(err, ErrStale) {
		t.Fatalf("error %v, want ErrStale", err)
	}
	if fx.Tip() != tip {
		t.Errorf("a stale plan committed")
	}
}

// A failed health check after an image change rolls the app back to the
// previous healthy image and records both.
func TestRunHealthFailureRollsBack(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.mustApply(cfg, nil)
	fx.SetImage("prod", testfixture.NewImg)
	fx.SetWorld(func(w *fake.World) { w.Unhealthy = []string{"shop/prod"} })
	cfg = fx.Load()
	res, err := fx.apply(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Failed, ",") != "shop/prod" {
		t.Fatalf("failed %v", res.Failed)
	}
	rec := fx.Record("shop/prod", res.Records["shop/prod"])
	var actions []string
	for _, c := range rec.Changes {
		actions = append(actions, c.Address+" "+c.Action+" "+string(c.Outcome))
	}
	want := []string{"shop/prod/app update done", "shop/prod/health run failed", "shop/prod/app rollback done"}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("record changes:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	ts := fx.Target("shop/prod")
	if ts.Status != state.StatusFailed || ts.Image != testfixture.OldImg || ts.HealthyImage != testfixture.OldImg || ts.InFlight != nil {
		t.Errorf("prod after the rollback: status %s image %s healthy %s in flight %v", ts.Status, ts.Image, ts.HealthyImage, ts.InFlight)
	}
	if app := fx.WorldState().Apps["shop/prod"]; app.Image != testfixture.OldImg || app.Deployments != 3 {
		t.Errorf("fake app %+v, want the old image after 3 deployments", app)
	}
}
