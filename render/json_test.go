package render

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	for i := 0; i < 50; i++ {
		many.Changes = append(many.Changes, plan.Change{
			Address: fmt.Sprintf("app%02d/prod/app", i), Target: fmt.Sprintf("app%02d/prod", i), Kind: plan.KindApp, Action: plan.Update,
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
