package state

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
)

// The typed evidence keeps the wire form records had as free maps (keys
// sorted at every level, the same presence of each key), and decodes
// back to the same value.
func TestTypedEvidenceWireForm(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		ev   Evidence
		want string
	}{
		{DeployEvidence{Image: "img", AppID: "a-1", Env: Names([]string{}, ""), Secrets: Names(nil, digest)},
			`{"app_id":"a-1","env":{"count":0,"keys":[]},"image":"img","secrets":{"count":0,"keys":null,"keys_sha256":"` + digest + `"}}`},
		{DeployEvidence{Image: "img", Env: Names([]string{"A"}, ""), Secrets: Names(nil, digest), DeployFacts: providers.DeployFacts{
			ServiceType: "application", Created: providers.Bool(false), Up: &[]string{}, Restore: &providers.PutBack{Action: "none", Outcome: "skipped"}}},
			`{"created":false,"env":{"count":1,"keys":["A"]},"image":"img","restore":{"action":"none","outcome":"skipped"},"secrets":{"count":0,"keys":null,"keys_sha256":"` + digest + `"},"service_type":"application","up":[]}`},
		{DeployEvidence{Image: "img"}, `{"image":"img"}`}, // a rollback that found the image deployed
		{AlreadyDeployed{AppID: "a-1"}, `{"app_id":"a-1"}`},
		{HealthEvidence{URL: "https://x/", Attempts: 2, LastStatus: 503, LatencyMS: 7, Detail: "HTTP 503", Body: "down"},
			`{"attempts":2,"body":"down","detail":"HTTP 503","last_status":503,"latency_ms":7,"url":"https://x/"}`},
		{HealthEvidence{URL: "https://x/", Attempts: 1, Detail: "refused"}, `{"attempts":1,"detail":"refused","last_status":0,"latency_ms":0,"url":"https://x/"}`},
		{HealthSkipped{URL: "https://x/", Skipped: "render-only"}, `{"skipped":"render-only","url":"https://x/"}`},
		{RouteEvidence{Domain: "x", RouteFacts: providers.RouteFacts{Server: "srv0", Attempts: 1, IfMatch: providers.Bool(false), Action: "created"}},
			`{"action":"created","attempts":1,"domain":"x","if_match":false,"server":"srv0"}`},
		{BackupEvidence{Gate: "g", BackupID: "b", Location: "l", Size: 3, Checksum: "sha256:x", Method: "jobs", Database: "erp"},
			`{"backup_id":"b","checksum":"sha256:x","database":"erp","duration_ms":0,"gate":"g","location":"l","method":"jobs","size":3}`},
		{GateReused{Gate: "g", Reused: true, BackupID: "b", Location: "l", Taken: Second{t0}, Age: "1h0m0s"},
			`{"age":"1h0m0s","backup_id":"b","gate":"g","location":"l","reused":true,"taken":"2026-11-23T12:00:00Z"}`},
		{PostDeployEvidence{ModuleUpdate: &ModuleUpdate{Job: &JobRun{Command: "odoo -u all", Job: "j1"}}, SettingsJob: &JobRun{Job: "j2"}},
			`{"module_update":{"command":"odoo -u all","exit_code":0,"job":"j1"},"settings_job":{"exit_code":0,"job":"j2"}}`},
		{PostDeployEvidence{ModuleUpdate: &ModuleUpdate{NotNeeded: "not needed"}}, `{"module_update":"not needed"}`},
		{RunEvidence{Promotion: &PromotionEvidence{From: "shop/testing", Image: "img", Record: "r"}, Health: HealthWasSkipped, Interrupted: []string{"r0"}},
			`{"health":"skipped","interrupted":["r0"],"promotion":{"from":"shop/testing","image":"img","record":"r"}}`},
		{PolicyEvidence{Action: "apply", Decision: "allowed", Decisions: []PolicyDecision{{Target: "shop/prod", Allowed: true, Reason: "rule 1", Rule: 1}},
			Request: &RequestFacts{Action: "preview", Product: "shop", Checks: map[string]string{"b": "ok", "a": "ok"}}},
			`{"action":"apply","decision":"allowed","decisions":[{"allowed":true,"reason":"rule 1","rule":1,"target":"shop/prod"}],"request":{"action":"preview","checks":{"a":"ok","b":"ok"},"product":"shop"}}`},
		{UnlockEvidence{CutOff: CutOff(InFlight{Record: "r", Actor: "a", Plan: "p", Started: t0, Expires: t0.Add(time.Hour)}, true)},
			`{"cut_off":{"actor":"a","expires":"2026-11-23T13:00:00Z","live":true,"plan":"p","record":"r","started":"2026-11-23T12:00:00Z"}}`},
		{InterruptedEvidence{ReconciledBy: "r2", Expires: Second{t0}}, `{"expires":"2026-11-23T12:00:00Z","reconciled_by":"r2"}`},
	} {
		b, err := json.Marshal(tc.ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%T:\n got %s\nwant %s", tc.ev, b, tc.want)
		}
		if b2, _ := json.Marshal(tc.ev.Fields()); string(b2) != tc.want {
			t.Errorf("%T: Fields:\n got %s\nwant %s", tc.ev, b2, tc.want)
		}
	}
}
