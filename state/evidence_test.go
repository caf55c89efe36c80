package state

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The typed evidence keeps the wire form records had as free maps, and
// what each type gives is what the schema requires of its step.
func TestTypedEvidenceWireFormAndSchema(t *testing.T) {
	for _, tc := range []struct {
		ev   Evidence
		want string
	}{
		{DeployEvidence{Image: "img", AppID: "a-1", Env: KeyNames{Keys: []string{}}, Secrets: KeyNames{SHA256: strings.Repeat("ab", 32)}},
			`{"app_id":"a-1","env":{"count":0,"keys":[]},"image":"img","secrets":{"count":0,"keys":null,"keys_sha256":"` + strings.Repeat("ab", 32) + `"}}`},
		{AlreadyDeployed{AppID: "a-1"}, `{"app_id":"a-1"}`},
		{HealthEvidence{URL: "https://x/", Attempts: 2, LastStatus: 503, Latency: 7 * time.Millisecond, Detail: "HTTP 503", Body: "down"},
			`{"attempts":2,"body":"down","detail":"HTTP 503","last_status":503,"latency_ms":7,"url":"https://x/"}`},
		{HealthEvidence{URL: "https://x/", Skipped: "render-only"}, `{"skipped":"render-only","url":"https://x/"}`},
		{RouteEvidence{Domain: "x"}, `{"domain":"x"}`},
		{PromotionEvidence{From: "shop/testing", Image: "img", Record: "r"}, `{"from":"shop/testing","image":"img","record":"r"}`},
		{CutOffEvidence{Mark: InFlight{Record: "r", Actor: "a", Plan: "p", Started: t0, Expires: t0.Add(time.Hour)}, Live: true},
			`{"actor":"a","expires":"2026-11-23T13:00:00Z","live":true,"plan":"p","record":"r","started":"2026-11-23T12:00:00Z"}`},
		{InterruptedEvidence{ReconciledBy: "r2", Expires: t0}, `{"expires":"2026-11-23T12:00:00Z","reconciled_by":"r2"}`},
	} {
		b, err := json.Marshal(tc.ev.Fields())
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%T:\n got %s\nwant %s", tc.ev, b, tc.want)
		}
	}
	rec := goodRecord()
	rec.Changes[0].Evidence = DeployEvidence{Image: "img", Env: KeyNames{Keys: []string{"A"}}, Secrets: KeyNames{SHA256: strings.Repeat("ab", 32)}}.Fields()
	rec.Changes[1].Evidence = HealthEvidence{URL: "https://x/", Attempts: 1, LastStatus: 200, Detail: "HTTP 200"}.Fields()
	if _, err := EncodeRecord(rec); err != nil {
		t.Fatal(err)
	}
	rec.Changes[0].Evidence = DeployEvidence{Image: "img"}.Fields() // no secrets digest
	if _, err := EncodeRecord(rec); err == nil || !strings.Contains(err.Error(), "changes/0/evidence/secrets: missing properties: 'keys_sha256'") {
		t.Errorf("deploy evidence without the secrets digest: %v", err)
	}
}
