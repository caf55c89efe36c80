package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"testing"

	"github.com/launchplane/launchplane/plan"
)

// A saved plan read back hashes to the plan_hash it was written with, and
// carries what the hash covers besides the changes.
func TestJSONPlanHashRoundTrip(t *testing.T) {
	p := &plan.Plan{Only: []string{"shop/prod"}, SecretsChecked: true, Refreshed: true,
		Base: plan.Base{StateCommit: "abc", ConfigDigest: "sha256:d", ConfigCommit: "c0ffee"},
		Changes: []plan.Change{{Address: "shop/prod/app", Target: "shop/prod", Kind: plan.KindApp, Action: plan.Update, Provider: "p",
			After: map[string]any{"image": "i", "port": 8080, "ratio": 0.5, "env": map[string]any{"A": "1"}}}}}
	var b bytes.Buffer
	if err := WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["plan_hash"] != p.Hash() {
		t.Fatalf("plan_hash %v, want %s", raw["plan_hash"], p.Hash())
	}
	back, err := FromJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.FileHash != p.Hash() || back.Hash() != p.Hash() {
		t.Errorf("read back: file hash %s, content hash %s, want %s", back.FileHash, back.Hash(), p.Hash())
	}
	if !back.SecretsChecked || !back.Refreshed || len(back.Only) != 1 || back.Base.ConfigCommit != "c0ffee" {
		t.Errorf("read back %+v", back)
	}
}

// The streamed plan is byte for byte what encoding the whole wire form
// at once writes: with no changes, with many, with characters an HTML-
// escaping encoder would change, with and without diagnostics, and with
// every optional member of the wire form (plan_hash, only, refreshed).
func TestWriteJSONStreamsTheSameBytes(t *testing.T) {
	many := &plan.Plan{Base: plan.Base{StateCommit: "abc", ConfigDigest: "sha256:00", ConfigCommit: "c0ffee"}, Only: []string{"app01/prod"}, SecretsChecked: true, Refreshed: true, Diagnostics: []string{"provider x: <render-only> & skipped"}}
	for i := 0; i < 500; i++ { // over 48 KiB: flushed while the hash is computed, and after
		many.Changes = append(many.Changes, plan.Change{
			Address: fmt.Sprintf("app%03d/prod/app", i), Target: fmt.Sprintf("app%03d/prod", i), Kind: plan.KindApp, Action: plan.Update,
			Reason: "image changed", Provider: "local",
			Before:    map[string]any{"image": "a@sha256:1", "env": map[string]any{"A": "<b>&"}, "port": 8080},
			After:     map[string]any{"image": "a@sha256:2", "env": map[string]any{}, "list": []any{1.5, nil, true}},
			Diff:      []plan.FieldDiff{{Path: "image", Before: "a@sha256:1", After: "a@sha256:2"}},
			DependsOn: []string{"x"}, IdempotencyKey: "k",
		})
	}
	many.Changes = append(many.Changes, plan.Change{Address: "z/prod/health", Target: "z/prod", Kind: plan.KindHealth, Action: plan.Run})
	for name, p := range map[string]*plan.Plan{"empty": {}, "many": many} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ToJSON(p)); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteJSON(&got, p); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed output differs:\n%s\nwant:\n%s", name, got.String(), want.String())
		}
		if back, err := FromJSON(got.Bytes()); err != nil || len(back.Changes) != len(p.Changes) {
			t.Errorf("%s: read back: %v", name, err)
		}
	}
}

// everyMemberPlan has every member of the wire form set somewhere, and
// characters encoders treat differently in every string.
func everyMemberPlan() *plan.Plan {
	odd := "<&> \"q\" \\ \t\n\x01 \u2028 \xff é"
	return &plan.Plan{
		Base:           plan.Base{StateCommit: "abc" + odd, ConfigDigest: "sha256:00", ConfigCommit: "c0ffee"},
		Only:           []string{"b/prod", "a/prod" + odd},
		SecretsChecked: true, Refreshed: true,
		Diagnostics: []string{"note " + odd, ""},
		Changes: []plan.Change{
			{Address: "a/prod/app" + odd, Target: "a/prod", Kind: plan.KindApp, Action: plan.Replace, Reason: "image changed" + odd, Provider: "p" + odd,
				Before: map[string]any{"image": "x" + odd, "n": 1e21, "f": 0.000001, "list": []any{}, "m": map[string]any{}},
				After:  map[string]any{"image": "y", "nested": map[string]any{odd: []any{1, 2.5, nil, true, "s", map[string]any{"k": []any{}}}}, "secrets": map[string]any{}},
				Diff: []plan.FieldDiff{{Path: "image", Before: "x" + odd, After: "y"}, {Path: "nested", Before: nil, After: map[string]any{"a": 1}},
					{Path: "list", Before: []any{}, After: []any{"z"}}},
				DependsOn: []string{"a/prod/backup", odd}, IdempotencyKey: "k" + odd,
				Cause: &plan.Cause{Path: "targets/a.yaml" + odd, Line: 3, Col: 7, Note: "note" + odd}},
			{Address: "a/prod/route/x", Target: "a/prod", Kind: plan.KindRoute, Action: plan.Delete, Provider: "p", Before: map[string]any{"domain": "x"},
				Cause: &plan.Cause{Path: "targets/a.yaml"}},
			{Address: "a/prod/health", Target: "a/prod", Kind: plan.KindHealth, Action: plan.Run, DependsOn: []string{}},
			{Address: "b/prod/app", Target: "b/prod", Kind: plan.KindApp, Action: plan.NoOp, After: map[string]any{}, Diff: []plan.FieldDiff{}},
			{Address: "c/prod/app", Target: "c/prod", Kind: plan.KindApp, Action: plan.Delete},
			{Address: "d/prod/app", Target: "d/prod", Kind: plan.KindApp, Action: plan.Create},
			{Address: "d/prod/app", Target: "d/prod", Kind: plan.KindApp, Action: plan.Update},
		},
	}
}

// nonZeroSomewhere lists the fields of v's struct types (through
// pointers and slices) that are zero in every instance: a member the
// fixture does not exercise.
func zeroEverywhere(v reflect.Value, path string, seen map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			zeroEverywhere(v.Elem(), path, seen)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroEverywhere(v.Index(i), path+"[]", seen)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			p := path + "." + v.Type().Field(i).Name
			if _, ok := seen[p]; !ok {
				seen[p] = false
			}
			if !v.Field(i).IsZero() {
				seen[p] = true
			}
			zeroEverywhere(v.Field(i), p, seen)
		}
	}
}

// The hand-written writer writes every member of the wire form exactly
// as encoding/json encodes ToJSON: a member added to PlanJSON, ChangeJSON,
// BaseJSON, SummaryJSON or CauseJSON that WriteJSON does not write fails
// here (the fixture must set it: the test checks that it does).
func TestWriteJSONWritesEveryMember(t *testing.T) {
	p := everyMemberPlan()
	pj := ToJSON(p)
	seen := map[string]bool{}
	zeroEverywhere(reflect.ValueOf(pj), "PlanJSON", seen)
	for f, set := range seen {
		if !set {
			t.Errorf("the fixture never sets %s: set it, and write it in WriteJSON", f)
		}
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(pj); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteJSON(&got, p); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("WriteJSON differs from encoding/json:\n%s\nwant:\n%s", got.String(), want.String())
	}
	// and with the optional members absent
	p.Only, p.Refreshed, p.Base.ConfigCommit, p.Diagnostics = nil, false, "", nil
	for i := range p.Changes {
		p.Changes[i].Cause = nil
	}
	want.Reset()
	if err := enc.Encode(ToJSON(p)); err != nil {
		t.Fatal(err)
	}
	got.Reset()
	if err := WriteJSON(&got, p); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("WriteJSON without optional members differs:\n%s\nwant:\n%s", got.String(), want.String())
	}
}

// A value the plan cannot hold in JSON is an error, not a broken file.
func TestWriteJSONRefusesNaN(t *testing.T) {
	p := &plan.Plan{Changes: []plan.Change{{Address: "a/b/app", Target: "a/b", Kind: plan.KindApp, Action: plan.NoOp,
		Before: map[string]any{"x": math.NaN()}}}}
	if err := WriteJSON(io.Discard, p); err == nil {
		t.Fatal("no error")
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	p := &plan.Plan{}
	for i := 0; i < 3000; i++ {
		t := fmt.Sprintf("app%05d/prod", i)
		cause := &plan.Cause{Path: "targets/" + t + ".yaml", Line: 3, Col: 18}
		p.Changes = append(p.Changes,
			plan.Change{Address: t + "/app", Target: t, Kind: plan.KindApp, Action: plan.Create, Provider: "local", Reason: "new in config", IdempotencyKey: "fff163dff6227dd8ab4202cf8e838d311d763372a4b5fd075ec03da188b79379", Cause: cause,
				After: map[string]any{"env": map[string]any{"LOG_LEVEL": "info", "REGION": "eu-0"}, "image": "registry.example.org/fleet/app00000@sha256:14831ad2e43e335e60d93806c8e59e744e0a3cebfb962aa21a40a0e954c72056",
					"name": "app00000-prod", "port": 8080, "secrets": map[string]any{}}},
			plan.Change{Address: t + "/health", Target: t, Kind: plan.KindHealth, Action: plan.Run, Provider: "local", DependsOn: []string{t + "/app"}, Reason: "app changed", Cause: cause,
				After: map[string]any{"timeout": "1m0s", "url": "https://app00000-prod.fleet.example.org/healthz"}},
			plan.Change{Address: t + "/route/app00000-prod.fleet.example.org", Target: t, Kind: plan.KindRoute, Action: plan.Create, Provider: "local", DependsOn: []string{t + "/health"}, Reason: "new in config", Cause: cause,
				After: map[string]any{"domain": "app00000-prod.fleet.example.org", "port": 8080, "upstream": "app00000-prod"}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
