package state

import (
	"encoding/json"
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
			{Address: "shop/prod/app", Action: "update", Reason: "image", Outcome: OutcomeDone, Evidence: map[string]any{
				"image":   "ghcr.io/acme/shop@sha256:1111",
				"env":     map[string]any{"keys": []string{}, "count": 0},
				"secrets": map[string]any{"keys": nil, "count": 0, "keys_sha256": strings.Repeat("e3", 32)},
			}},
			{Address: "shop/prod/health", Action: "run", Reason: "after deploy", Outcome: OutcomeDone, Evidence: map[string]any{
				"url": "https://shop.example/health", "attempts": 1, "last_status": 200, "latency_ms": 3, "detail": "HTTP 200"}},
		}}
}

func goodGate() *Record {
	id := "backup-gate-20261123T120000Z-erp-prod-0a1b2c"
	return &Record{FormatVersion: FormatVersion, ID: id, Kind: KindBackupGate, Target: "erp/prod", Started: t0, Finished: t0,
		Outcome: RecordSuccess, Changes: []RecordChange{}, Evidence: map[string]any{"gate": id, "backup_id": "b-1"},
		Gate: &Gate{Record: id, Provider: "local", Database: "erp", BackupID: "b-1", Location: "fake://b-1", Size: 1024, Checksum: "sha256:ab", Taken: t0}}
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
		{"deploy evidence without the image", func(r *Record) { delete(r.Changes[0].Evidence, "image") }, "changes/0/evidence: missing properties: 'image'"},
		{"already-done app without its id", func(r *Record) {
			r.Changes[0].Outcome, r.Changes[0].Evidence = OutcomeAlreadyDone, map[string]any{"id": "x"}
		}, "changes/0/evidence: missing properties: 'app_id'"},
		{"health without its result", func(r *Record) { r.Changes[1].Evidence = map[string]any{"url": "https://shop.example/health"} }, "changes/1/evidence: missing properties"},
		{"health attempts of the wrong type", func(r *Record) { r.Changes[1].Evidence["attempts"] = "three" }, "changes/1/evidence/attempts: expected integer, but got string"},
		{"a failed change without its error", func(r *Record) { r.Changes[1].Outcome = OutcomeFailed }, "changes/1: missing properties: 'error'"},
		{"a backup step without size and checksum", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/backup", Action: "run", Outcome: OutcomeDone,
				Evidence: map[string]any{"gate": "g", "backup_id": "b", "location": "l"}})
		}, "changes/2/evidence: missing properties: 'size', 'checksum'"},
		{"a route without evidence", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/route/shop.example", Action: "create", Outcome: OutcomeDone})
		}, "changes/2: missing properties: 'evidence'"},
		{"a route whose evidence lost its domain", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/route/shop.example", Action: "update", Outcome: OutcomeAlreadyDone,
				Evidence: map[string]any{"server": "srv0"}})
		}, "changes/2/evidence: missing properties: 'domain'"},
		{"a post-deploy step without evidence", func(r *Record) {
			r.Changes = append(r.Changes, RecordChange{Address: "shop/prod/post-deploy", Action: "run", Outcome: OutcomeDone, Evidence: map[string]any{}})
		}, "changes/2: missing properties: 'evidence'"},
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
