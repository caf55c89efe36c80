package state

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/launchplane/plan"
)

// FormatVersion of target, preview and record files.
const FormatVersion = "1"

// Status is a target's status; its wire form is the string.
type Status string

// Target statuses.
const (
	StatusHealthy       Status = "healthy"
	StatusFailed        Status = "failed"
	StatusUnknown       Status = "unknown" // applied, health not checked (no health check, or skipped)
	StatusNeedsOperator Status = "needs-operator"
	StatusRendered      Status = "rendered" // files rendered by a render-only provider, nothing runs
)

// Statuses are every target status, in the order the schema lists them.
var Statuses = []Status{StatusHealthy, StatusFailed, StatusUnknown, StatusNeedsOperator, StatusRendered}

// RecordKind is what a record is an account of; a record id starts with
// it (SPEC §3). Its wire form is the string.
type RecordKind string

// Record kinds.
const (
	KindDeployment RecordKind = "deployment" // an apply (the default)
	KindRollback   RecordKind = "rollback"
	KindBackup     RecordKind = "backup"      // launchplane backup: a standalone gate
	KindBackupGate RecordKind = "backup-gate" // the gate a backup step took
	KindClone      RecordKind = "clone"
	KindPreview    RecordKind = "preview"
	KindRelease    RecordKind = "release" // a needs-operator target released
	KindUnlock     RecordKind = "unlock"
	KindDenied     RecordKind = "denied"  // a request the policy refused
	KindPublish    RecordKind = "publish" // a published image request
)

// RecordKinds are every record kind.
var RecordKinds = []RecordKind{KindDeployment, KindRollback, KindBackup, KindBackupGate, KindClone, KindPreview,
	KindRelease, KindUnlock, KindDenied, KindPublish}

// Valid reports whether k is one of RecordKinds.
func (k RecordKind) Valid() bool { return slices.Contains(RecordKinds, k) }

// RecordOutcome is how a record's run ended; its wire form is the string.
type RecordOutcome string

// Record outcomes.
const (
	RecordSuccess RecordOutcome = "success"
	RecordFailed  RecordOutcome = "failed"
	RecordDenied  RecordOutcome = "denied"
	// RecordRendered: a render-only provider wrote the files and ran
	// nothing; such a record is never "success".
	RecordRendered RecordOutcome = "rendered"
	// RecordInterrupted is the outcome of the record of an apply that
	// never finished, written by the apply that reconciled it.
	RecordInterrupted RecordOutcome = "interrupted"
)

// RecordOutcomes are every record outcome.
var RecordOutcomes = []RecordOutcome{RecordSuccess, RecordFailed, RecordDenied, RecordRendered, RecordInterrupted}

// ChangeOutcome is what happened to one planned change.
type ChangeOutcome string

// ChangeOutcomes are every change outcome.
var ChangeOutcomes = []ChangeOutcome{OutcomeDone, OutcomeAlreadyDone, OutcomeFailed, OutcomeSkipped, OutcomeRendered}

// TargetState is targets/<product>/<lane>.json: what was applied to a
// target and what it runs now.
type TargetState struct {
	FormatVersion        string            `json:"format_version"`
	Target               string            `json:"target"`
	Status               Status            `json:"status"`
	Image                string            `json:"image,omitempty"`
	HealthyImage         string            `json:"healthy_image,omitempty"`
	PreviousHealthyImage string            `json:"previous_healthy_image,omitempty"`
	Resources            []Resource        `json:"resources"`
	ProviderIDs          map[string]string `json:"provider_ids,omitempty"` // address -> provider object id
	LastRecord           string            `json:"last_record,omitempty"`
	// ImageRecord is the record that deployed the current image.
	ImageRecord string `json:"image_record,omitempty"`
	// RolledBack is set by a rollback and cleared by the next deployment
	// of the config: while set, config and state disagree on purpose.
	RolledBack *RolledBack `json:"rolled_back,omitempty"`
	// Facts are what drivers remember of a target between applies
	// ("odoo.migrated_image": the image whose module update ran last).
	Facts map[string]string `json:"facts,omitempty"`
	// Gate is the backup that authorises the next deployment (odoo prod).
	Gate *Gate `json:"gate,omitempty"`
	// NeedsOperator explains a needs-operator status: what a person must
	// do before Launchplane deploys the target again.
	NeedsOperator string `json:"needs_operator,omitempty"`
	// Sequence is the number of the last record written for the target;
	// each record carries the next one, so a target's records order
	// exactly, whatever the clock says.
	Sequence int64     `json:"sequence,omitempty"`
	InFlight *InFlight `json:"in_flight,omitempty"`
	// Interrupted are applies that held the target and never finished
	// (killed, or cut off by unlock) whose announced records the next
	// apply writes, with outcome interrupted.
	Interrupted []InFlight `json:"interrupted,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// ConfigFile is the config file (relative to the config dir) of the
	// Target last applied, so a plan that deletes the target cites it.
	ConfigFile string `json:"config_file,omitempty"`
}

// Resource is one applied resource: the plan's after of what was applied.
type Resource struct {
	Address        string         `json:"address"`
	Kind           plan.Kind      `json:"kind"`
	Provider       string         `json:"provider"`
	Attrs          map[string]any `json:"attrs"`
	IdempotencyKey string         `json:"idempotency_key"`
}

// RolledBack says a rollback put the target on an image the config does
// not ask for.
type RolledBack struct {
	Record string `json:"record"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Gate is a backup gate: a backup taken for a target, which authorises
// exactly one deployment of it.
type Gate struct {
	Record   string        `json:"record"` // the backup-gate record
	Provider string        `json:"provider"`
	Database string        `json:"database"`
	BackupID string        `json:"backup_id"`
	Location string        `json:"location"`
	Size     int64         `json:"size,omitempty"`
	Checksum string        `json:"checksum,omitempty"`
	Taken    time.Time     `json:"taken"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// UsedBy is the deployment record the gate authorised; "" while the
	// gate is unused.
	UsedBy string `json:"used_by,omitempty"`
}

// Fresh reports whether the gate is unused and younger than maxAge at now.
func (g *Gate) Fresh(now time.Time, maxAge time.Duration) bool {
	return g != nil && g.UsedBy == "" && !now.Before(g.Taken) && now.Sub(g.Taken) <= maxAge
}

// InFlight marks a target an apply holds. An apply that finds an unexpired
// mark held by another run stops with a conflict; an expired one is
// reconciled by observing the providers.
type InFlight struct {
	Record  string    `json:"record"`
	Plan    string    `json:"plan"`
	Actor   string    `json:"actor"`
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires"`
	// UnlockedBy is the unlock record that cleared the mark, when one did.
	UnlockedBy string `json:"unlocked_by,omitempty"`
}

// Live reports whether the mark still holds the target at now.
func (f *InFlight) Live(now time.Time) bool { return f != nil && now.Before(f.Expires) }

// Record is records/<product>/<lane>/<id>.json: one append-only account
// of a deployment, rollback, backup gate, promotion or preview.
type Record struct {
	FormatVersion string         `json:"format_version"`
	ID            string         `json:"id"`
	Kind          RecordKind     `json:"kind"`
	Target        string         `json:"target"`
	Sequence      int64          `json:"sequence,omitempty"` // per target, see TargetState.Sequence
	Plan          string         `json:"plan,omitempty"`
	Actor         string         `json:"actor"`
	Started       time.Time      `json:"started"`
	Finished      time.Time      `json:"finished"`
	Outcome       RecordOutcome  `json:"outcome"`
	Reason        string         `json:"reason,omitempty"`
	Image         string         `json:"image,omitempty"`
	PreviousImage string         `json:"previous_image,omitempty"`
	Source        string         `json:"source_commit,omitempty"`
	Changes       []RecordChange `json:"changes"`
	// Gate is the gate a backup-gate record took, typed: what a clone
	// restores and the next deployment is authorised by.
	Gate *Gate `json:"gate,omitempty"`
	// Evidence is typed by the record's kind and outcome (evidenceFor):
	// RunEvidence, PolicyEvidence, BackupEvidence, UnlockEvidence,
	// ReleaseEvidence or InterruptedEvidence.
	Evidence Evidence `json:"evidence,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// RecordChange is what happened to one planned change.
type RecordChange struct {
	Address        string        `json:"address"`
	Action         string        `json:"action"`
	Reason         string        `json:"reason"`
	IdempotencyKey string        `json:"idempotency_key,omitempty"`
	Outcome        ChangeOutcome `json:"outcome"`
	ElapsedMS      int64         `json:"elapsed_ms"`
	Error          string        `json:"error,omitempty"`
	// Evidence is typed by the step kind the address names and the
	// action (evidenceFor).
	Evidence Evidence `json:"evidence,omitempty"`
}

// Change outcomes.
const (
	OutcomeDone        ChangeOutcome = "done"
	OutcomeAlreadyDone ChangeOutcome = "already-done"
	OutcomeFailed      ChangeOutcome = "failed"
	OutcomeSkipped     ChangeOutcome = "skipped"
	// OutcomeRendered: a render-only provider wrote the files and ran
	// nothing. A record with such a change has outcome RecordRendered.
	OutcomeRendered ChangeOutcome = "rendered"
)

// SortRecords orders records newest first: by start time, then by their
// target's sequence, then by id.
func SortRecords(recs []Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if !a.Started.Equal(b.Started) {
			return a.Started.After(b.Started)
		}
		if a.Sequence != b.Sequence {
			return a.Sequence > b.Sequence
		}
		return a.ID > b.ID
	})
}

// TargetPath is the file of a target key: targets/<product>/<lane>.json,
// or previews/<product>/pr-<N>.json for a preview key
// <product>/preview/pr-<N> (SPEC §7).
func TargetPath(key string) string {
	if product, pr, ok := strings.Cut(key, "/preview/"); ok {
		return "previews/" + product + "/" + pr + ".json"
	}
	return "targets/" + key + ".json"
}

// PreviewKey is the key of a product's preview of pull request pr.
func PreviewKey(product string, pr int) string { return fmt.Sprintf("%s/preview/pr-%d", product, pr) }

// ShortImage is an image with its digest cut to 12 hex digits:
// repo@sha256:0123456789ab.
func ShortImage(img string) string {
	if i := strings.Index(img, "@sha256:"); i >= 0 && len(img) > i+8+12 {
		return img[:i+8+12]
	}
	return img
}

// ShortCommit is a commit id cut to 12 hex digits, as commands print it.
func ShortCommit(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// RecordsDir is the directory of a target's records, with a trailing /:
// records/<product>/<lane>/, and records/<product>/preview/ for every
// preview of a product (SPEC §7).
func RecordsDir(key string) string {
	if product, _, ok := strings.Cut(key, "/preview/"); ok {
		return "records/" + product + "/preview/"
	}
	return "records/" + key + "/"
}

// RecordPath is the file of one record.
func RecordPath(key, id string) string { return RecordsDir(key) + id + ".json" }

// SplitKey splits <product>/<lane>.
func SplitKey(key string) (product, lane string) {
	product, lane, _ = strings.Cut(key, "/")
	return product, lane
}

// NewRecordID is <kind>-<UTC yyyymmddThhmmssZ>-<product>-<lane>-<6 hex
// random> (SPEC §3). Ids of one target sort by time.
func NewRecordID(kind RecordKind, key string, now time.Time) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("state: random: %v", err))
	}
	product, lane := SplitKey(key)
	lane = strings.ReplaceAll(lane, "/", "-") // preview/pr-7: preview-pr-7
	return fmt.Sprintf("%s-%s-%s-%s-%s", kind, now.UTC().Format("20060102T150405Z"), product, lane, hex.EncodeToString(b[:]))
}

var recordTime = regexp.MustCompile(`-\d{8}T\d{6}Z-`)

// KindOfID is the kind a record id starts with (SPEC §3:
// <kind>-<time>-…); false when the id names no known kind.
func KindOfID(id string) (RecordKind, bool) {
	loc := recordTime.FindStringIndex(id)
	if loc == nil || loc[0] == 0 {
		return "", false
	}
	k := RecordKind(id[:loc[0]])
	return k, k.Valid()
}
