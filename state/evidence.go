package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
)

// Evidence is what one change or one record proves, typed per step and
// record kind: the set of types is closed (the unexported method), and
// the codec picks the type from the change's step kind and action, or
// the record's kind and outcome (evidenceFor), and decodes it strictly,
// so a record whose evidence has a field its type lacks, or a field of
// the wrong type, is refused naming the file and the field.
//
// The wire form is the JSON object of the type's fields, with its keys
// sorted at every level: the form records had when evidence was a free
// map, byte for byte. Each type's required facts are checked before a
// record is written (Check) and again by the record schema.
type Evidence interface {
	// Fields is the wire form as a map (for tests and views).
	Fields() map[string]any
	// Check says which fact the evidence lacks, nil when complete.
	Check() error
	evidence()
}

// sortedJSON is v's JSON with object keys sorted at every level (the
// order encoding/json gives maps), numbers kept as written.
func sortedJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func fieldsOf(e Evidence) map[string]any {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("state: evidence %T: %v", e, err))
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		panic(fmt.Sprintf("state: evidence %T: %v", e, err))
	}
	return m
}

// Second is a time kept to the second, in UTC, as RFC 3339.
type Second struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (s Second) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.UTC().Format(time.RFC3339))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Second) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return err
	}
	s.Time = t
	return nil
}

// need says which of the facts named after each false condition are
// missing: need(ok1, "size", ok2, "checksum").
func need(conds ...any) error {
	var miss []string
	for i := 0; i+1 < len(conds); i += 2 {
		if !conds[i].(bool) {
			miss = append(miss, conds[i+1].(string))
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("missing %s", strings.Join(miss, ", "))
}

// KeyNames are the names of env or secret keys given to an app, never
// their values.
type KeyNames struct {
	Keys  []string `json:"keys"`
	Count int      `json:"count"`
	// SHA256 is the hex sha256 over the sorted names, one a line; kept
	// for secrets only.
	SHA256 string `json:"keys_sha256,omitempty"`
}

// Names are keys with their count.
func Names(keys []string, sha256 string) *KeyNames {
	return &KeyNames{Keys: keys, Count: len(keys), SHA256: sha256}
}

// DeployEvidence is what an app change deployed (or rolled back to):
// the image, env and secret key names, the provider's id of the app,
// and the facts the provider reported of the deploy.
type DeployEvidence struct {
	Image   string    `json:"image"`
	AppID   string    `json:"app_id,omitempty"` // the provider's id of the app, when it gave one
	Env     *KeyNames `json:"env,omitempty"`
	Secrets *KeyNames `json:"secrets,omitempty"`
	providers.DeployFacts
}

// AlreadyDeployed is the evidence of an app an interrupted apply
// already deployed: the provider's id of it.
type AlreadyDeployed struct {
	AppID string `json:"app_id"`
}

// HealthEvidence is the result of a health check that ran.
type HealthEvidence struct {
	URL        string `json:"url"`
	Attempts   int    `json:"attempts"`
	LastStatus int    `json:"last_status"`
	LatencyMS  int64  `json:"latency_ms"`
	Detail     string `json:"detail"`
	Body       string `json:"body,omitempty"` // an excerpt of an unhealthy answer, redacted
}

// HealthSkipped is a health check that did not run, and why (a
// render-only provider).
type HealthSkipped struct {
	URL     string `json:"url"`
	Skipped string `json:"skipped"`
}

// RouteEvidence is the domain a route serves and what the ingress
// reported of making it.
type RouteEvidence struct {
	Domain string `json:"domain"`
	providers.RouteFacts
}

// BackupEvidence is a new backup a backup step took: the gate record,
// and where the backup is, its size and checksum (a backup-gate record
// carries it as its own evidence too).
type BackupEvidence struct {
	Gate       string `json:"gate"`
	BackupID   string `json:"backup_id"`
	Location   string `json:"location"`
	Size       int64  `json:"size"`
	Checksum   string `json:"checksum"`
	DurationMS int64  `json:"duration_ms"`
	Method     string `json:"method"` // the provider's backups role, or a dump job
	Database   string `json:"database"`
	Final      bool   `json:"final,omitempty"`       // the last backup before a destroy
	NewBecause string `json:"new_because,omitempty"` // why the fresh gate did not authorise this deployment
}

// GateReused is a backup step that claimed a fresh unused gate.
type GateReused struct {
	Gate     string `json:"gate"`
	Reused   bool   `json:"reused"`
	BackupID string `json:"backup_id"`
	Location string `json:"location"`
	Taken    Second `json:"taken"`
	Age      string `json:"age"`
}

// RestoreEvidence is a backup restored: the gate's (before a rollback) or
// another lane's (a clone, Source), with the app stopped first.
type RestoreEvidence struct {
	Gate       string `json:"gate"`
	BackupID   string `json:"backup_id"`
	Location   string `json:"location"`
	Source     string `json:"source,omitempty"`
	AppStopped bool   `json:"app_stopped,omitempty"`
}

// RestoreByHand is a rollback not done: the gate an operator restores by
// hand first (none when no gate was taken).
type RestoreByHand struct {
	Gate     string `json:"gate,omitempty"`
	Location string `json:"location,omitempty"`
}

// JobRun is a job a step ran.
type JobRun struct {
	Command  string `json:"command,omitempty"`
	ExitCode int    `json:"exit_code"`
	Job      string `json:"job"`
}

// ModuleUpdate is the module update of a post-deploy step: the job
// that ran, or why none was needed. Its wire form is the job's object or
// the reason's string.
type ModuleUpdate struct {
	Job       *JobRun
	NotNeeded string
}

// MarshalJSON implements json.Marshaler.
func (m ModuleUpdate) MarshalJSON() ([]byte, error) {
	if m.Job != nil {
		return json.Marshal(m.Job)
	}
	return json.Marshal(m.NotNeeded)
}

// UnmarshalJSON implements json.Unmarshaler (strictly).
func (m *ModuleUpdate) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		*m = ModuleUpdate{}
		return json.Unmarshal(b, &m.NotNeeded)
	}
	var j JobRun
	if err := strict(b, &j); err != nil {
		return err
	}
	*m = ModuleUpdate{Job: &j}
	return nil
}

// Settings are the names of the settings a post-deploy step applied.
type Settings struct {
	Keys           []string `json:"keys"`
	Count          int      `json:"count"`
	SHA256         string   `json:"keys_sha256"`
	FromSecretRefs int      `json:"from_secret_refs"`
}

// PostDeployEvidence is a post-deploy step: the module update, and the
// settings applied by their own job.
type PostDeployEvidence struct {
	ModuleUpdate *ModuleUpdate `json:"module_update,omitempty"`
	Settings     *Settings     `json:"settings,omitempty"`
	SettingsJob  *JobRun       `json:"settings_job,omitempty"`
}

// SanitizeEvidence is the neutralize job a clone ran, and what became of
// the app.
type SanitizeEvidence struct {
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
	Job      string `json:"job"`
	App      string `json:"app,omitempty"`
}

// PromotionEvidence is a promoted target's check: the lane the image
// came from and the record that proved it healthy there.
type PromotionEvidence struct {
	From   string `json:"from"`
	Image  string `json:"image"`
	Record string `json:"record"`
}

// PolicyDecision is the policy's answer for one target.
type PolicyDecision struct {
	Target  string `json:"target"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Rule    int    `json:"rule,omitempty"` // 1-based, as the reasons count them
}

// RequestFacts are a served request without its token.
type RequestFacts struct {
	Action       string            `json:"action"`
	Product      string            `json:"product"`
	PullRequest  int               `json:"pull_request,omitempty"`
	Image        string            `json:"image,omitempty"`
	SourceCommit string            `json:"source_commit,omitempty"`
	Checks       map[string]string `json:"checks,omitempty"`
}

// PullRequestEvidence is the pull request a publish opened or updated.
type PullRequestEvidence struct {
	Repository string `json:"repository"`
	Number     int    `json:"number"`
	URL        string `json:"url"`
	Created    bool   `json:"created"`
}

// PolicyEvidence is a policy decision: what was asked, by whom, under
// which policy blob, and the answer; a denial record's evidence, and a
// run's "policy".
type PolicyEvidence struct {
	Action     string           `json:"action"`
	Decision   string           `json:"decision"` // allowed or denied
	Identity   string           `json:"identity,omitempty"`
	Source     string           `json:"source,omitempty"`
	PolicyBlob string           `json:"policy_blob,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Rule       int              `json:"rule,omitempty"`
	Decisions  []PolicyDecision `json:"decisions,omitempty"`
	// Destroy is the decision on the removals of an apply.
	Destroy     *PolicyEvidence      `json:"destroy,omitempty"`
	Request     *RequestFacts        `json:"request,omitempty"`
	PullRequest *PullRequestEvidence `json:"pull_request,omitempty"`
}

// RunEvidence is the record evidence of a run (deployment, rollback,
// backup, clone, preview): the promotion check, a skipped health check,
// the policy decision, and the interrupted applies it wrote records of.
type RunEvidence struct {
	Promotion   *PromotionEvidence `json:"promotion,omitempty"`
	Health      string             `json:"health,omitempty"` // "skipped"
	Policy      *PolicyEvidence    `json:"policy,omitempty"`
	Interrupted []string           `json:"interrupted,omitempty"`
}

// HealthWasSkipped is RunEvidence.Health of a run whose health check
// did not run.
const HealthWasSkipped = "skipped"

// CutOffEvidence is the apply an unlock cut off.
type CutOffEvidence struct {
	Record  string `json:"record"`
	Actor   string `json:"actor"`
	Plan    string `json:"plan"`
	Started Second `json:"started"`
	Expires Second `json:"expires"`
	Live    bool   `json:"live"` // the mark had not expired when it was cleared
}

// CutOff is the evidence of mark f, cleared while live or not.
func CutOff(f InFlight, live bool) CutOffEvidence {
	return CutOffEvidence{Record: f.Record, Actor: f.Actor, Plan: f.Plan, Started: Second{f.Started}, Expires: Second{f.Expires}, Live: live}
}

// UnlockEvidence is an unlock record's evidence.
type UnlockEvidence struct {
	CutOff CutOffEvidence  `json:"cut_off"`
	Policy *PolicyEvidence `json:"policy,omitempty"`
}

// ReleaseEvidence is a release record's evidence: what the operator was
// asked to fix.
type ReleaseEvidence struct {
	NeedsOperator string `json:"needs_operator"`
}

// InterruptedEvidence is the evidence of the record of an apply that
// never finished: which apply reconciled it, and the unlock that cut it
// off, when one did.
type InterruptedEvidence struct {
	ReconciledBy string `json:"reconciled_by"`
	Expires      Second `json:"expires"`
	UnlockedBy   string `json:"unlocked_by,omitempty"`
}

// Check implementations: what each kind must hold.

func (e DeployEvidence) Check() error  { return need(e.Image != "", "image") }
func (e AlreadyDeployed) Check() error { return need(e.AppID != "", "app_id") }
func (e HealthEvidence) Check() error  { return need(e.URL != "", "url") }
func (e HealthSkipped) Check() error {
	return need(e.URL != "", "url", e.Skipped != "", "skipped")
}
func (e RouteEvidence) Check() error { return need(e.Domain != "", "domain") }
func (e BackupEvidence) Check() error {
	return need(e.Gate != "", "gate", e.BackupID != "", "backup_id", e.Location != "", "location",
		e.Size > 0, "size", e.Checksum != "", "checksum")
}
func (e GateReused) Check() error {
	return need(e.Gate != "", "gate", e.Reused, "reused", e.BackupID != "", "backup_id", e.Location != "", "location")
}
func (e RestoreEvidence) Check() error {
	return need(e.Gate != "", "gate", e.BackupID != "", "backup_id", e.Location != "", "location")
}
func (e RestoreByHand) Check() error      { return nil }
func (e PostDeployEvidence) Check() error { return need(e.ModuleUpdate != nil, "module_update") }
func (e SanitizeEvidence) Check() error   { return need(e.Command != "", "command") }
func (e RunEvidence) Check() error {
	if e.Health != "" && e.Health != HealthWasSkipped {
		return fmt.Errorf("health: %q is not %q", e.Health, HealthWasSkipped)
	}
	return nil
}
func (e PolicyEvidence) Check() error {
	return need(e.Action != "", "action", e.Decision == "allowed" || e.Decision == "denied", "decision")
}
func (e UnlockEvidence) Check() error      { return need(e.CutOff.Record != "", "cut_off.record") }
func (e ReleaseEvidence) Check() error     { return nil }
func (e InterruptedEvidence) Check() error { return need(e.ReconciledBy != "", "reconciled_by") }

// The wire form: sorted keys, as the free maps were.

func (e DeployEvidence) MarshalJSON() ([]byte, error) { type w DeployEvidence; return sortedJSON(w(e)) }
func (e AlreadyDeployed) MarshalJSON() ([]byte, error) {
	type w AlreadyDeployed
	return sortedJSON(w(e))
}
func (e HealthEvidence) MarshalJSON() ([]byte, error) { type w HealthEvidence; return sortedJSON(w(e)) }
func (e HealthSkipped) MarshalJSON() ([]byte, error)  { type w HealthSkipped; return sortedJSON(w(e)) }
func (e RouteEvidence) MarshalJSON() ([]byte, error)  { type w RouteEvidence; return sortedJSON(w(e)) }
func (e BackupEvidence) MarshalJSON() ([]byte, error) { type w BackupEvidence; return sortedJSON(w(e)) }
func (e GateReused) MarshalJSON() ([]byte, error)     { type w GateReused; return sortedJSON(w(e)) }
func (e RestoreEvidence) MarshalJSON() ([]byte, error) {
	type w RestoreEvidence
	return sortedJSON(w(e))
}
func (e RestoreByHand) MarshalJSON() ([]byte, error) { type w RestoreByHand; return sortedJSON(w(e)) }
func (e PostDeployEvidence) MarshalJSON() ([]byte, error) {
	type w PostDeployEvidence
	return sortedJSON(w(e))
}
func (e SanitizeEvidence) MarshalJSON() ([]byte, error) {
	type w SanitizeEvidence
	return sortedJSON(w(e))
}
func (e RunEvidence) MarshalJSON() ([]byte, error)    { type w RunEvidence; return sortedJSON(w(e)) }
func (e PolicyEvidence) MarshalJSON() ([]byte, error) { type w PolicyEvidence; return sortedJSON(w(e)) }
func (e UnlockEvidence) MarshalJSON() ([]byte, error) { type w UnlockEvidence; return sortedJSON(w(e)) }
func (e ReleaseEvidence) MarshalJSON() ([]byte, error) {
	type w ReleaseEvidence
	return sortedJSON(w(e))
}
func (e InterruptedEvidence) MarshalJSON() ([]byte, error) {
	type w InterruptedEvidence
	return sortedJSON(w(e))
}

func (e DeployEvidence) Fields() map[string]any      { return fieldsOf(e) }
func (e AlreadyDeployed) Fields() map[string]any     { return fieldsOf(e) }
func (e HealthEvidence) Fields() map[string]any      { return fieldsOf(e) }
func (e HealthSkipped) Fields() map[string]any       { return fieldsOf(e) }
func (e RouteEvidence) Fields() map[string]any       { return fieldsOf(e) }
func (e BackupEvidence) Fields() map[string]any      { return fieldsOf(e) }
func (e GateReused) Fields() map[string]any          { return fieldsOf(e) }
func (e RestoreEvidence) Fields() map[string]any     { return fieldsOf(e) }
func (e RestoreByHand) Fields() map[string]any       { return fieldsOf(e) }
func (e PostDeployEvidence) Fields() map[string]any  { return fieldsOf(e) }
func (e SanitizeEvidence) Fields() map[string]any    { return fieldsOf(e) }
func (e RunEvidence) Fields() map[string]any         { return fieldsOf(e) }
func (e PolicyEvidence) Fields() map[string]any      { return fieldsOf(e) }
func (e UnlockEvidence) Fields() map[string]any      { return fieldsOf(e) }
func (e ReleaseEvidence) Fields() map[string]any     { return fieldsOf(e) }
func (e InterruptedEvidence) Fields() map[string]any { return fieldsOf(e) }

func (DeployEvidence) evidence()      {}
func (AlreadyDeployed) evidence()     {}
func (HealthEvidence) evidence()      {}
func (HealthSkipped) evidence()       {}
func (RouteEvidence) evidence()       {}
func (BackupEvidence) evidence()      {}
func (GateReused) evidence()          {}
func (RestoreEvidence) evidence()     {}
func (RestoreByHand) evidence()       {}
func (PostDeployEvidence) evidence()  {}
func (SanitizeEvidence) evidence()    {}
func (RunEvidence) evidence()         {}
func (PolicyEvidence) evidence()      {}
func (UnlockEvidence) evidence()      {}
func (ReleaseEvidence) evidence()     {}
func (InterruptedEvidence) evidence() {}

// AppIDOf is the provider's id of the app that e, an app change's
// evidence, names; "" when it names none.
func AppIDOf(e Evidence) string {
	switch v := e.(type) {
	case DeployEvidence:
		return v.AppID
	case AlreadyDeployed:
		return v.AppID
	}
	return ""
}
