package render

import (
	"bytes"
	"encoding/json"
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
