package state

import (
	"encoding/json"

	"github.com/launchplane/launchplane/providers"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const goodID = "deployment-20261123T120000Z-shop-prod-0a1b2c"

// goodRecord is a successful deployment with the evidence its app and
// health changes require.
func goodRecord() *Record {
	return &Record{FormatVersion: FormatVersion, ID: goodID, Kind: KindDeployment, Target: "shop/prod", Actor: "t",
		Started: t0, Finished: t0, Outcome: RecordSuccess, Changes: []RecordChange{
			{Address: "shop/prod/app", Action: "update", Reason: "image", Outcome: OutcomeDone, Evidence: DeployEvidence{
				Image: "ghcr.io/acme/shop@sha256:1111", Env: Names([]string{}, ""), Secrets: Names(nil, strings.Repeat("e3", 32)),
			}},
			{Address: "shop/prod/health", Action: "run", Reason: "after deploy", Outcome: OutcomeDone, Evidence: HealthEvidence{
				URL: "https://shop.example/health", Attempts: 1, LastStatus: 200, LatencyMS: 3, Detail: "HTTP 200"}},
		}}
}

func goodGate() *Record {
	id := "backup-gate-20261123T120000Z-erp-prod-0a1b2c"
	return &Record{FormatVersion: FormatVersion, ID: id, Kind: KindBackupGate, Target: "erp/prod", Started: t0, Finished: t0,
		Outcome: RecordSuccess, Changes: []RecordChange{},
		Evidence: BackupEvidence{Gate: id, BackupID: "b-1", Location: "fake://b-1", Size: 1024, Checksum: "sha256:ab", Method: "backups", Database: "erp"},
		Gate:     &Gate{Record: id, Provider: "local", Database: "erp", BackupID: "b-1", Location: "fake://b-1", Size: 1024, Checksum: "sha256:ab", Taken: t0}}
}

func TestEncodeRecordAcceptsAComplete(t *testing.T) {
	for _, rec := range []*Record{goodRecord(), goodGate()} {
		b, err := EncodeRecord(rec)
		if err != nil {
			t.Fatalf("%s: %v", rec.ID, err)
		}
		if _, err := DecodeRecord(RecordPath(rec.Target, rec.ID), b); err != nil {
			t.Fatalf("%s: read back: %v", rec.ID, err)
		}
	}
}

// Each broken record is refused before it is written, with an error that
// names the record and the field.
func TestEncodeRecordRefusesMissingOrMistypedEvidence(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(r *Record)
		want string
	}{
		{"unknown kind", func(r *Record) { r.Kind = "release-train" }, "kind: value must be one of"},
		{"unknown outcome", func(r *Record) { r.Outcome = "mostly" }, "outcome: value must be one of"},
		{"unknown change outcome", func(r *Record) { r.Changes[0].Outcome = "half-done" }, "changes/0/outcome: value must be one of"},
		{"deployment without deploy evidence", func(r *Record) { r.Changes[0].Evidence = nil }, "changes/0: missing properties: 'evidence'"},
		{"deploy evidence without the image", func(r *Record) { r.Changes[0].Evidence = DeployEvidence{Env: Names(nil, "")} }, "changes/0/evidence: state.DeployEvidence: missing image"},
		{"deploy evidence without the secrets digest", func(r *Record) {
			r.Changes[0].Evidence = DeployEvidence{Image: "img", Env: Names([]string{}, ""), Secrets: Names(nil, "")}
		}, "changes/0/evidence/secrets: missing properties: 'keys_sha256'"},
		{"already-done app without its id", func(r *Record) {
			r.Changes[0].Outcome, r.Changes[0].Evidence = OutcomeAlreadyDone, AlreadyDeployed{}
		}, "changes/0/evidence: state.AlreadyDeployed: missing app_id"},
		{"health without its result", func(r *Record) { r.Changes[1].Evidence = HealthEvidence{URL: "https://shop.example/health"} }, "changes/1/evidence/attempts: must be >= 1"},
		{"a failed change without its error", func(r *Record) { r.Changes[1].Outcome = OutcomeFailed }, "changes/1: missing properties: 'error'"},
		{"a backup step without size and checksum", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/backup", Action: "run", Outcome: OutcomeDone,
				Evidence: BackupEvidence{Gate: "g", BackupID: "b", Location: "l"}})
		}, "changes/2/evidence: state.BackupEvidence: missing size, checksum"},
		{"a route without evidence", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/route/shop.example", Action: "create", Outcome: OutcomeDone})
		}, "changes/2: missing properties: 'evidence'"},
		{"a route whose evidence lost its domain", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/route/shop.example", Action: "update", Outcome: OutcomeAlreadyDone,
				Evidence: RouteEvidence{RouteFacts: providers.RouteFacts{Server: "srv0"}}})
		}, "changes/2/evidence: state.RouteEvidence: missing domain"},
		{"a post-deploy step without evidence", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/post-deploy", Action: "run", Outcome: OutcomeDone, Evidence: PostDeployEvidence{}})
		}, "changes/2/evidence: state.PostDeployEvidence: missing module_update"},
		{"a post-deploy step that ran without evidence", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/post-deploy", Action: "run", Outcome: OutcomeDone})
		}, "changes/2: missing properties: 'evidence'"},
		{"a sanitize step without its command", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/sanitize", Action: "run", Outcome: OutcomeDone, Evidence: SanitizeEvidence{Job: "j"}})
		}, "changes/2/evidence: state.SanitizeEvidence: missing command"},
		{"a restore without its backup", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/restore", Action: "run", Outcome: OutcomeDone, Evidence: RestoreEvidence{Gate: "g"}})
		}, "changes/2/evidence: state.RestoreEvidence: missing backup_id"},
		{"evidence of another step kind", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/restore", Action: "run", Outcome: OutcomeDone, Evidence: SanitizeEvidence{Command: "c"}})
		}, "changes/2/evidence/command: unknown field"},
		{"a step kind that records no evidence", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/migrate", Action: "run", Outcome: OutcomeDone, Evidence: SanitizeEvidence{Command: "c"}})
		}, "changes/2/evidence: no evidence is recorded for this step kind"},
		{"a denial without its decision", func(r *Record) {
			r.Kind, r.Outcome, r.Changes = KindDenied, RecordDenied, []RecordChange{}
			r.Evidence = PolicyEvidence{Action: "apply"}
		}, "evidence: state.PolicyEvidence: missing decision"},
		{"an unlock without the apply it cut off", func(r *Record) { r.Kind, r.Evidence = KindUnlock, UnlockEvidence{} }, "evidence: state.UnlockEvidence: missing cut_off.record"},
		{"a record evidence of another kind", func(r *Record) { r.Evidence = ReleaseEvidence{NeedsOperator: "x"} }, "evidence/needs_operator: unknown field"},
		{"an id that is not <kind>-<time>-…", func(r *Record) { r.ID = "deployment-1" }, "id: does not match pattern"},
		{"unknown format_version", func(r *Record) { r.FormatVersion = "2" }, "format_version: value must be \"1\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := goodRecord()
			tc.edit(rec)
			_, err := EncodeRecord(rec)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), rec.ID) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, rec.ID, tc.want)
			}
		})
	}
}

func TestEncodeRecordRefusesAGateWithoutSizeOrChecksum(t *testing.T) {
	for _, edit := range []func(g *Gate){func(g *Gate) { g.Size = 0 }, func(g *Gate) { g.Checksum = "" }} {
		rec := goodGate()
		edit(rec.Gate)
		if _, err := EncodeRecord(rec); err == nil || !strings.Contains(err.Error(), "gate: missing properties") && !strings.Contains(err.Error(), "gate/size") {
			t.Errorf("error %v, want the gate refused", err)
		}
	}
	rec := goodGate()
	rec.Gate = nil
	if _, err := EncodeRecord(rec); err == nil || !strings.Contains(err.Error(), "missing properties: 'gate'") {
		t.Errorf("a backup-gate record without its gate: error %v", err)
	}
}

// Files are decoded as the document their path names, or refused with an
// error naming the path.
func TestDecodeRefusesTheWrongDocument(t *testing.T) {
	rec, err := EncodeRecord(goodRecord())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := EncodeTarget(&TargetState{FormatVersion: FormatVersion, Target: "shop/prod", Status: StatusHealthy, Resources: []Resource{}})
	if err != nil {
		t.Fatal(err)
	}
	future := strings.Replace(string(ts), `"format_version": "1"`, `"format_version": "2"`, 1)
	badStatus := strings.Replace(string(ts), `"status": "healthy"`, `"status": "fine"`, 1)
	for _, tc := range []struct {
		name, path string
		data       []byte
		target     bool
		want       string
	}{
		{"a record under targets/", "targets/shop/prod.json", rec, true, `targets/shop/prod.json: json: unknown field "id"`},
		{"a target under records/", RecordPath("shop/prod", goodID), ts, false, `records/shop/prod/` + goodID + `.json: json: unknown field "status"`},
		{"a record read as a target at its own path", RecordPath("shop/prod", goodID), rec, true, "not a target or preview file"},
		{"a target read as a record at its own path", "targets/shop/prod.json", ts, false, "not a record file"},
		{"another target's file", "targets/shop/testing.json", ts, true, `holds target "shop/prod", which belongs in targets/shop/prod.json`},
		{"another record's file", RecordPath("shop/prod", "deployment-20261123T120000Z-shop-prod-ffffff"), rec, false, "holds record " + goodID},
		{"unknown format_version", "targets/shop/prod.json", []byte(future), true, `targets/shop/prod.json: format_version: unsupported format_version "2"`},
		{"unknown status", "targets/shop/prod.json", []byte(badStatus), true, `targets/shop/prod.json: status: unknown status "fine"`},
		{"trailing data", "targets/shop/prod.json", append(slices.Clone(ts), []byte("{}")...), true, "data after the JSON document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.target {
				_, err = DecodeTarget(tc.path, tc.data)
			} else {
				_, err = DecodeRecord(tc.path, tc.data)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, tc.path, tc.want)
			}
		})
	}
}

// The schema's enums are the Go constants: neither can gain a value the
// other refuses.
func TestRecordSchemaEnumsAreTheTypedValues(t *testing.T) {
	var doc struct {
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
		Defs map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(RecordSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	eq := func(what string, got []string, want []string) {
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema %v, Go %v", what, got, want)
		}
	}
	eq("kind", doc.Properties["kind"].Enum, strs(RecordKinds))
	eq("outcome", doc.Properties["outcome"].Enum, strs(RecordOutcomes))
	eq("change outcome", doc.Defs["change"].Properties["outcome"].Enum, strs(ChangeOutcomes))
	for _, k := range RecordKinds {
		id := NewRecordID(k, "shop/preview/pr-7", t0)
		if got, ok := KindOfID(id); !ok || got != k {
			t.Errorf("KindOfID(%s) = %s, %v", id, got, ok)
		}
	}
	if _, ok := KindOfID("release-train-20261123T120000Z-shop-prod-0a1b2c"); ok {
		t.Errorf("KindOfID accepts a kind outside RecordKinds")
	}
}

func strs[T ~string](vs []T) []string {
	var out []string
	for _, v := range vs {
		out = append(out, string(v))
	}
	return out
}

// edit encodes rec, changes its JSON as a hand edit would, and returns
// the file's bytes.
func edit(t *testing.T, rec *Record, change func(m map[string]any)) []byte {
	t.Helper()
	b, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func evidenceOf(m map[string]any, change int) map[string]any {
	if change < 0 {
		return m["evidence"].(map[string]any)
	}
	return m["changes"].([]any)[change].(map[string]any)["evidence"].(map[string]any)
}

// A hand-edited record whose evidence has a field its type lacks, or a
// field of the wrong type, is refused on read, naming the file and the
// field: evidence is not a free map.
func TestDecodeRecordRefusesHandEditedEvidence(t *testing.T) {
	withPromotion := func() *Record {
		r := goodRecord()
		r.Evidence = RunEvidence{Promotion: &PromotionEvidence{From: "shop/testing", Image: "img", Record: "r"}}
		return r
	}
	for _, tc := range []struct {
		name   string
		rec    func() *Record
		change func(m map[string]any)
		want   string
	}{
		{"an extra field in a change's evidence", goodRecord, func(m map[string]any) { evidenceOf(m, 1)["verified_by"] = "me" },
			"changes/1/evidence/verified_by: unknown field"},
		{"an extra field in deploy evidence", goodRecord, func(m map[string]any) { evidenceOf(m, 0)["approved"] = true },
			"changes/0/evidence/approved: unknown field"},
		{"an extra field in the record's evidence", withPromotion, func(m map[string]any) { evidenceOf(m, -1)["override"] = "yes" },
			"evidence/override: unknown field"},
		{"a field of the wrong type", goodRecord, func(m map[string]any) { evidenceOf(m, 0)["created"] = "yes" },
			"changes/0/evidence/created: string is not bool"},
		{"a nested field of the wrong type", withPromotion, func(m map[string]any) {
			evidenceOf(m, -1)["policy"] = map[string]any{"action": "apply", "decision": "allowed", "rule": "first"}
		}, "evidence/policy/rule: string is not int"},
		{"an image digest removed from the deploy evidence", goodRecord, func(m map[string]any) { delete(evidenceOf(m, 0)["secrets"].(map[string]any), "keys_sha256") },
			"changes/0/evidence/secrets: missing properties: 'keys_sha256'"},
		{"a backup gate's checksum removed", goodGate, func(m map[string]any) { delete(evidenceOf(m, -1), "checksum") },
			"evidence: state.BackupEvidence: missing checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.rec()
			p := RecordPath(rec.Target, rec.ID)
			_, err := DecodeRecord(p, edit(t, rec, tc.change))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, p, tc.want)
			}
		})
	}
}

// Every record encodes and decodes back to the same typed value.
func TestRecordRoundTrip(t *testing.T) {
	for _, rec := range []*Record{goodRecord(), goodGate()} {
		b, err := EncodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRecord(RecordPath(rec.Target, rec.ID), b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := EncodeRecord(got)
		if err != nil || string(b2) != string(b) {
			t.Errorf("%s: read back and written again:\n%s\nwant\n%s (%v)", rec.ID, b2, b, err)
		}
	}
}

// legacyGate is a backup-gate record as launchplane wrote it before the
// typed gate: the gate only in evidence keys.
func legacyGate() (string, map[string]any) {
	id := "backup-gate-20261123T120000Z-erp-prod-0a1b2c"
	return RecordPath("erp/prod", id), map[string]any{
		"format_version": "1", "id": id, "kind": "backup-gate", "target": "erp/prod", "actor": "ci",
		"started": "2026-11-23T12:00:00Z", "finished": "2026-11-23T12:00:00Z", "outcome": "success", "changes": []any{},
		"evidence": map[string]any{"gate": id, "backup_id": "b-1", "location": "/backups/erp.dump", "size": 2048,
			"checksum": "sha256:" + strings.Repeat("c", 64), "duration_ms": 1500, "method": "jobs", "database": "erp"},
	}
}

// A legacy backup-gate record is upgraded on read: its gate derived from
// the evidence keys. One that is neither the new nor the legacy form is
// refused, naming the file and the field.
func TestDecodeRecordUpgradesALegacyGate(t *testing.T) {
	p, m := legacyGate()
	b, _ := json.Marshal(m)
	rec, err := DecodeRecord(p, b)
	if err != nil {
		t.Fatal(err)
	}
	want := Gate{Record: m["id"].(string), Provider: LegacyGateProvider, Database: "erp", BackupID: "b-1", Location: "/backups/erp.dump",
		Size: 2048, Checksum: "sha256:" + strings.Repeat("c", 64), Taken: t0, Duration: 1500 * time.Millisecond}
	if rec.Gate == nil || *rec.Gate != want {
		t.Fatalf("gate %+v, want %+v", rec.Gate, want)
	}
	if ev, ok := rec.Evidence.(BackupEvidence); !ok || ev.BackupID != "b-1" {
		t.Errorf("evidence %#v", rec.Evidence)
	}
	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"no evidence", func(m map[string]any) { delete(m, "evidence") }, "gate: missing"},
		{"no checksum", func(m map[string]any) { delete(m["evidence"].(map[string]any), "checksum") }, "evidence: legacy gate: missing checksum"},
		{"an extra key", func(m map[string]any) { m["evidence"].(map[string]any)["provider_token"] = "x" }, "evidence/provider_token: unknown field"},
		{"a size of the wrong type", func(m map[string]any) { m["evidence"].(map[string]any)["size"] = "2k" }, "evidence/size: string is not int64"},
		{"another record's gate", func(m map[string]any) { m["evidence"].(map[string]any)["gate"] = "backup-gate-x" }, `evidence/gate: "backup-gate-x" is not the record's id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, m := legacyGate()
			tc.change(m)
			b, _ := json.Marshal(m)
			_, err := DecodeRecord(p, b)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, p, tc.want)
			}
		})
	}
}
