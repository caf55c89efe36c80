package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/providers/fake"
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
				Evidence: state.DeployEvidence{AppID: "a-1"}})
		}, "state.DeployEvidence: missing image"},
		{"a deploy whose evidence lost its key names", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/app", Action: "update", Outcome: state.OutcomeDone,
				Evidence: state.DeployEvidence{Image: "img", AppID: "a-1"}})
		}, "missing properties: 'env', 'secrets'"},
		{"a health check that ran without attempts", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/health", Action: "run", Outcome: state.OutcomeDone,
				Evidence: state.HealthEvidence{URL: "https://shop.example/", LastStatus: 200, LatencyMS: 1, Detail: "HTTP 200"}})
		}, "attempts: must be >= 1"},
		{"a backup step whose backup gave no checksum", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/backup", Action: "run", Outcome: state.OutcomeDone,
				Evidence: state.BackupEvidence{Gate: "g", BackupID: "b", Location: "l", Size: 1}})
		}, "state.BackupEvidence: missing checksum"},
		{"a post-deploy step without its module update", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/post-deploy", Action: "run", Outcome: state.OutcomeDone,
				Evidence: state.PostDeployEvidence{SettingsJob: &state.JobRun{Job: "j"}}})
		}, "state.PostDeployEvidence: missing module_update"},
		{"a sanitize step without its command", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/sanitize", Action: "run", Outcome: state.OutcomeDone,
				Evidence: state.SanitizeEvidence{Job: "j"}})
		}, "state.SanitizeEvidence: missing command"},
		{"a restore step without its backup", func(rec *state.Record) {
			rec.Changes = append(rec.Changes, state.RecordChange{Address: "shop/prod/restore", Action: "run", Outcome: state.OutcomeDone,
				Evidence: state.RestoreEvidence{Gate: "g"}})
		}, "state.RestoreEvidence: missing backup_id"},
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

// A provider whose deploy facts carry a secret value (its output echoes
// what it ran with) never gets it into the record: the facts are typed,
// and their free text is redacted before it is recorded, a short secret
// the write guard does not look for included.
func TestProviderFactsWithASecretAreRedacted(t *testing.T) {
	for _, tc := range []struct{ name, key, value string }{
		{"a short secret", "API_TOKEN", "q7Zx!w"}, // below the write guard's minimum
		{"a long secret", "DATABASE_URL", testfixture.Canary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.Env["SHOP_API_TOKEN"] = tc.value
			if tc.key == "DATABASE_URL" {
				fx.Env["SHOP_DB_URL"] = tc.value
			}
			fx.SetWorld(func(w *fake.World) {
				w.Faults = []*fake.Fault{{Op: "deploy-output", Target: "shop/testing", Times: 1, Output: tc.key}}
			})
			res := fx.mustApply(fx.Load(), nil)
			rec := fx.Record("shop/testing", res.Records["shop/testing"])
			dep, _ := rec.Changes[0].Evidence.(state.DeployEvidence)
			if dep.Up == nil || len(*dep.Up) != 1 || !strings.Contains((*dep.Up)[0], "[REDACTED]") {
				t.Fatalf("deploy facts %+v, want the output line, redacted", dep.DeployFacts)
			}
			fx.eachObject(func(what string, data []byte) {
				if strings.Contains(string(data), tc.value) {
					t.Errorf("%s holds the secret:\n%s", what, data)
				}
			})
		})
	}
}
