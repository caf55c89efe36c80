package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/state"
)

// A record missing the evidence its changes require fails the apply's
// last commit: nothing is written, not the other target's record, not a
// half record, and the error names the record and the field.
func TestFinishRefusesARecordWithoutEvidence(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(rec *state.Record)
		want string
	}{
		{"a driver step that returned no evidence", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/backup", Action: "run", Outcome: state.OutcomeDone})
		}, "missing properties: 'evidence'"},
		{"a deploy whose evidence lost its image", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/app", Action: "update", Outcome: state.OutcomeDone,
				Evidence: map[string]any{"app_id": "a-1"}})
		}, "missing properties: 'image', 'env', 'secrets'"},
		{"a health result of the wrong type", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/health", Action: "run", Outcome: state.OutcomeDone,
				Evidence: map[string]any{"url": "https://shop.example/", "attempts": "1", "last_status": 200, "latency_ms": 1, "detail": "HTTP 200"}})
		}, "attempts: expected integer"},
		{"an unknown kind", func(rec *state.Record) { rec.Kind = "release-train" }, "kind: value must be one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			cfg := fx.Load()
			fx.mustApply(cfg, nil)
			tip, commits := fx.Tip(), fx.commitCount()
			o := fx.options(cfg, fx.plan(cfg, nil))
			states, err := readStates(o.Snapshot, fxKeys)
			if err != nil {
				t.Fatal(err)
			}
			r := &run{o: o, states: states, recordIDs: map[string]string{}, started: testfixture.FixedNow, planID: "0123456789ab"}
			results := map[string]*targetResult{}
			for _, key := range fxKeys {
				r.recordIDs[key] = state.NewRecordID(state.KindDeployment, key, testfixture.FixedNow)
				tr := r.newTargetRun(key)
				res := tr.finish(false, true, false, true)
				results[key] = res
			}
			bad := results["shop/prod"].record
			tc.edit(bad)
			_, err = r.finish(context.Background(), tip, fxKeys, results)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), bad.ID) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, bad.ID, tc.want)
			}
			if fx.Tip() != tip || fx.commitCount() != commits {
				t.Errorf("the refused record was committed")
			}
		})
	}
}
