package planner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// seedState commits a target state and records as they are.
func seedState(t *testing.T, st state.Store, ts *state.TargetState, recs ...state.Record) {
	t.Helper()
	ctx := context.Background()
	snap, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changes := []state.Change{{Path: state.TargetPath(ts.Target), Data: encode(ts)}}
	for _, r := range recs {
		if r.Changes == nil {
			r.Changes = []state.RecordChange{}
		}
		changes = append(changes, state.Change{Path: state.RecordPath(ts.Target, r.ID), Data: encode(r)})
	}
	if _, err := st.Commit(ctx, state.Write{Base: snap.Commit(), Changes: changes, Message: "seed",
		Author: state.Signature{Name: "t", Email: "t@localhost", When: testfixture.FixedNow}}); err != nil {
		t.Fatal(err)
	}
}

func TestRollbackTarget(t *testing.T) {
	const key = "shop/prod"
	recs := []state.Record{
		{FormatVersion: "1", ID: "deployment-20261120T100001Z-shop-prod-000001", Kind: state.KindDeployment, Target: key, Outcome: state.RecordSuccess, Image: testfixture.OldImg},
		{FormatVersion: "1", ID: "deployment-20261120T100002Z-shop-prod-000002", Kind: state.KindDeployment, Target: key, Outcome: state.RecordFailed, Image: testfixture.V3Img, Error: "deploy failed"},
		{FormatVersion: "1", ID: "backup-20261120T100003Z-shop-prod-000003", Kind: state.KindBackup, Target: key, Outcome: state.RecordSuccess, Image: testfixture.OldImg},
		{FormatVersion: "1", ID: "rollback-20261120T100004Z-shop-prod-000004", Kind: state.KindRollback, Target: key, Outcome: state.RecordSuccess, Image: testfixture.V3Img},
		{FormatVersion: "1", ID: "deployment-20261120T100005Z-shop-prod-000005", Kind: state.KindDeployment, Target: key, Outcome: state.RecordSuccess, Image: testfixture.NewImg},
		{FormatVersion: "1", ID: "deployment-20261120T100006Z-shop-prod-000006", Kind: state.KindDeployment, Target: key, Outcome: state.RecordSuccess},
	}
	for _, tc := range []struct {
		name                        string
		image, healthy, prevHealthy string
		to                          string
		want                        string // image, or "error: <text>"
	}{
		{name: "current failed: back to the healthy image", image: testfixture.NewImg, healthy: testfixture.OldImg, prevHealthy: "", want: testfixture.OldImg},
		{name: "current failed, older healthy ignored", image: testfixture.V3Img, healthy: testfixture.NewImg, prevHealthy: testfixture.OldImg, want: testfixture.NewImg},
		{name: "current healthy: back to the previous healthy", image: testfixture.NewImg, healthy: testfixture.NewImg, prevHealthy: testfixture.OldImg, want: testfixture.OldImg},
		{name: "current healthy, no previous", image: testfixture.NewImg, healthy: testfixture.NewImg, want: "error: no previous healthy image"},
		{name: "never healthy", image: testfixture.NewImg, want: "error: no previous healthy image"},
		{name: "to a successful deployment", image: testfixture.NewImg, healthy: testfixture.NewImg, prevHealthy: testfixture.V3Img, to: "deployment-20261120T100001Z-shop-prod-000001", want: testfixture.OldImg},
		{name: "to a successful rollback", image: testfixture.NewImg, healthy: testfixture.NewImg, to: "rollback-20261120T100004Z-shop-prod-000004", want: testfixture.V3Img},
		{name: "to a failed record", image: testfixture.NewImg, healthy: testfixture.NewImg, prevHealthy: testfixture.OldImg, to: "deployment-20261120T100002Z-shop-prod-000002", want: "error: only a successful deployment or rollback"},
		{name: "to a backup record", image: testfixture.NewImg, healthy: testfixture.NewImg, prevHealthy: testfixture.V3Img, to: "backup-20261120T100003Z-shop-prod-000003", want: "error: only a successful deployment or rollback"},
		{name: "to a record without image", image: testfixture.NewImg, to: "deployment-20261120T100006Z-shop-prod-000006", want: "error: only a successful deployment or rollback"},
		{name: "to a missing record", image: testfixture.NewImg, to: "deployment-20261120T100009Z-shop-prod-000099", want: "error: not found"},
		{name: "to the image it runs", image: testfixture.NewImg, healthy: testfixture.NewImg, prevHealthy: testfixture.OldImg, to: "deployment-20261120T100005Z-shop-prod-000005", want: "error: already runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			ts := &state.TargetState{FormatVersion: "1", Target: key, Status: state.StatusHealthy, Image: tc.image, HealthyImage: tc.healthy,
				PreviousHealthyImage: tc.prevHealthy, Resources: []state.Resource{}}
			seedState(t, fx.Store, ts, recs...)
			to, got, err := RollbackTarget(fx.Snap(), key, tc.to)
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				if err == nil {
					t.Fatalf("rolled back to %s, want an error saying %q", to, want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q, want it to say %q", err, want)
				}
				if tc.to == "deployment-20261120T100009Z-shop-prod-000099" && !errors.Is(err, state.ErrNotFound) {
					t.Errorf("error %v does not wrap ErrNotFound", err)
				}
				if to != "" || got != nil {
					t.Errorf("error with image %q and state %v", to, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if to != tc.want {
				t.Errorf("rolled back to %s, want %s", to, tc.want)
			}
			if got == nil || got.Image != tc.image {
				t.Errorf("state %+v", got)
			}
		})
	}
}

func TestRollbackTargetWithoutDeployment(t *testing.T) {
	fx := newFixture(t)
	if _, _, err := RollbackTarget(fx.Snap(), "shop/prod", ""); err == nil || !strings.Contains(err.Error(), "no recorded deployment") {
		t.Errorf("no state: %v", err)
	}
	seedState(t, fx.Store, &state.TargetState{FormatVersion: "1", Target: "shop/prod", Status: state.StatusUnknown, Resources: []state.Resource{}})
	if _, _, err := RollbackTarget(fx.Snap(), "shop/prod", ""); err == nil || !strings.Contains(err.Error(), "no recorded deployment") {
		t.Errorf("state without an image: %v", err)
	}
}

// A rollback through RollbackTarget, RollbackPlan and Run, as the CLI
// does it: the app only, on the previous healthy image, with the driver's
// health step; a rollback record with the reason; then --to a record.
func TestRollbackEndToEnd(t *testing.T) {
	const key = "shop/prod"
	fx := newFixture(t)
	cfg := fx.Load()
	first := fx.mustApply(cfg, nil)
	fx.SetImage("prod", testfixture.NewImg)
	cfg = fx.Load()
	second := fx.mustApply(cfg, nil)

	to, _, err := RollbackTarget(fx.Snap(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	if to != testfixture.OldImg {
		t.Fatalf("rollback to %s, want the previous healthy %s", to, testfixture.OldImg)
	}
	// a pending config change of the route is not part of the rollback
	fx.Write("prod.yaml", testfixture.TargetYAML("prod", testfixture.NewImg, "shop.example.com", "new.shop.example.com"))
	cfg = fx.Load()
	p, err := RollbackPlan(cfg, fx.Snap(), key, to)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Changes {
		if c.Target != key {
			t.Errorf("change of another target: %s", c.Address)
		}
		if c.Action != plan.NoOp {
			got = append(got, c.Action.String()+" "+c.Address+" ("+c.Reason+")")
		}
		if c.Kind == plan.KindApp && str(c.After, "image") != testfixture.OldImg {
			t.Errorf("app after %v", c.After)
		}
	}
	want := []string{"update shop/prod/app (rollback to " + testfixture.OldImg + ")", "run shop/prod/health (app changed)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rollback plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Base.StateCommit != fx.Tip() || p.Base.ConfigDigest != cfg.Digest {
		t.Errorf("plan base %+v", p.Base)
	}

	o := fx.options(cfg, p)
	o.Kind, o.Reason = "rollback", "checkout broken in v2"
	res, err := apply.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 {
		t.Fatalf("failed %v", res.Failed)
	}
	id := res.Records[key]
	if !strings.HasPrefix(id, "rollback-20261123T120000Z-shop-prod-") {
		t.Errorf("record id %s", id)
	}
	rec := fx.Record(key, id)
	if rec.Kind != state.KindRollback || rec.Reason != "checkout broken in v2" || rec.Image != testfixture.OldImg || rec.PreviousImage != testfixture.NewImg || rec.Outcome != state.RecordSuccess || rec.Sequence != 3 {
		t.Errorf("rollback record %+v", rec)
	}
	ts := fx.Target(key)
	if ts.Image != testfixture.OldImg || ts.Status != state.StatusHealthy || ts.ImageRecord != id || ts.InFlight != nil {
		t.Errorf("state after rollback %+v", ts)
	}
	if rb := ts.RolledBack; rb == nil || rb.Record != id || rb.From != testfixture.NewImg || rb.To != testfixture.OldImg || rb.Reason != "checkout broken in v2" {
		t.Errorf("rolled back %+v", ts.RolledBack)
	}
	w := fx.WorldState()
	if app := w.Apps[key]; app.Image != testfixture.OldImg {
		t.Errorf("fake app runs %s", app.Image)
	}
	if w.Routes["new.shop.example.com"] != nil {
		t.Errorf("the rollback applied a pending route change")
	}

	// the plan now says config and state disagree
	pl := fx.plan(cfg, map[string]bool{key: true})
	found := false
	for _, c := range pl.Changes {
		if c.Kind == plan.KindApp && c.Action == plan.Update && strings.Contains(c.Reason, "config and state disagree") {
			found = true
		}
	}
	if !found || len(pl.Diagnostics) == 0 {
		t.Errorf("plan after the rollback: no disagreement (diagnostics %v)", pl.Diagnostics)
	}

	// --to the record that deployed v2, then again: it already runs
	to, _, err = RollbackTarget(fx.Snap(), key, second.Records[key])
	if err != nil || to != testfixture.NewImg {
		t.Fatalf("--to %s: %s, %v", second.Records[key], to, err)
	}
	if _, _, err := RollbackTarget(fx.Snap(), key, first.Records[key]); err == nil || !strings.Contains(err.Error(), "already runs") {
		t.Errorf("--to the record of the image it runs: %v", err)
	}
}

func TestRollbackPlanErrors(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	if _, err := RollbackPlan(cfg, fx.Snap(), "shop/prod", testfixture.OldImg); err == nil || !strings.Contains(err.Error(), "not both in the config and in the state") {
		t.Errorf("no state: %v", err)
	}
	seedState(t, fx.Store, &state.TargetState{FormatVersion: "1", Target: "shop/prod", Status: state.StatusHealthy, Image: testfixture.NewImg, Resources: []state.Resource{}})
	if _, err := RollbackPlan(cfg, fx.Snap(), "shop/prod", testfixture.OldImg); err == nil || !strings.Contains(err.Error(), "no recorded app") {
		t.Errorf("no recorded app: %v", err)
	}
	if _, err := RollbackPlan(cfg, fx.Snap(), "shop/staging", testfixture.OldImg); err == nil {
		t.Errorf("a target not in the config: no error")
	}
}

// A clone from a backup-gate record restores the gate the record carries,
// typed (provider, size and checksum included), never one rebuilt from
// its evidence keys; a record without its typed gate is refused.
func TestCloneSourceIsTheRecordedGate(t *testing.T) {
	const key = "erp/prod"
	id := "backup-gate-20261120T100001Z-erp-prod-000001"
	gate := &state.Gate{Record: id, Provider: "local", Database: "erp", BackupID: "b-1", Location: "fake://erp/b-1",
		Size: 2048, Checksum: "sha256:" + strings.Repeat("ab", 32), Taken: testfixture.FixedNow}
	rec := state.Record{FormatVersion: "1", ID: id, Kind: state.KindBackupGate, Target: key, Outcome: state.RecordSuccess,
		Gate: gate, Evidence: state.BackupEvidence{Gate: id, BackupID: "evidence-says-b-9", Location: "evidence://elsewhere", Database: "other",
			Size: 1, Checksum: "sha256:other"}}
	fx := newFixture(t)
	seedState(t, fx.Store, &state.TargetState{FormatVersion: "1", Target: key, Status: state.StatusHealthy, Resources: []state.Resource{}}, rec)
	got, err := cloneSource(fx.Snap(), key, id)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *gate {
		t.Errorf("clone source %+v, want the recorded gate %+v", got, gate)
	}

	// the same record without its typed gate, and evidence that is no
	// complete legacy gate (no size, no checksum): refused, not rebuilt
	fx = newFixture(t)
	rec.Gate = nil
	rec.Evidence = state.BackupEvidence{Gate: id, BackupID: "evidence-says-b-9", Location: "evidence://elsewhere", Database: "other"}
	seedState(t, fx.Store, &state.TargetState{FormatVersion: "1", Target: key, Status: state.StatusHealthy, Resources: []state.Resource{}}, rec)
	if g, err := cloneSource(fx.Snap(), key, id); err == nil || !strings.Contains(err.Error(), "evidence: legacy gate: missing size, checksum") {
		t.Fatalf("a backup-gate record without its gate: %+v, %v", g, err)
	}
}
