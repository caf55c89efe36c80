package odoo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

// The safety rules of the odoo driver, below the CLI: a backup gate
// authorises one deployment of its provider and database, for maxAge; the
// module update waits for running jobs; a rollback after a module update
// restores the gate's backup first or hands the target to an operator.

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const target = "shop/prod"

// rt is a drivers.Runtime for one target, recording what hooks do.
type rt struct {
	now     time.Time
	record  string
	gate    *state.Gate
	gateRec *state.Record
	changes map[string]*plan.Change
	provs   map[string]any
	facts   map[string]string
	notes   map[string]bool
	steps   []string // address/action of each sub-step run
}

func newRT() *rt {
	return &rt{now: t0, record: "deployment-this", changes: map[string]*plan.Change{}, provs: map[string]any{},
		facts: map[string]string{}, notes: map[string]bool{}}
}

func (r *rt) Target() string                           { return target }
func (r *rt) Record() string                           { return r.record }
func (r *rt) Now() time.Time                           { return r.now }
func (r *rt) Recorded() *state.TargetState             { return nil }
func (r *rt) Change(a string) *plan.Change             { return r.changes[a] }
func (r *rt) Gate() *state.Gate                        { return r.gate }
func (r *rt) Fact(k string) string                     { return r.facts[k] }
func (r *rt) SetFact(k, v string)                      { r.facts[k] = v }
func (r *rt) Note(k string)                            { r.notes[k] = true }
func (r *rt) Noted(k string) bool                      { return r.notes[k] }
func (r *rt) SetGate(g *state.Gate, rec *state.Record) { r.gate, r.gateRec = g, rec }
func (r *rt) Resolve(ref providers.SecretRef) (string, error) {
	return "", errors.New("no secrets in this test")
}
func (r *rt) Provider(name string) (any, error) {
	p, ok := r.provs[name]
	if !ok {
		return nil, errors.New("no provider " + name)
	}
	return p, nil
}
func (r *rt) Step(ctx context.Context, address, action, reason string, fn func(context.Context) (state.Evidence, error)) error {
	r.steps = append(r.steps, address+" "+action)
	_, err := fn(ctx)
	return err
}

// backups takes and restores backups and runs jobs; running lists the
// jobs it reports as still running.
type backups struct {
	taken    []string // databases backed up
	restored []string // backup ids restored
	jobs     []string // names of jobs run
	running  []string
	// unproven makes TakeBackup report a backup without its checksum
	unproven bool
}

func (b *backups) TakeBackup(_ context.Context, _, db string) (providers.Backup, error) {
	b.taken = append(b.taken, db)
	if b.unproven {
		return providers.Backup{ID: "new-backup", Location: "s3://b/new", Size: 4096}, nil
	}
	return providers.Backup{ID: "new-backup", Location: "s3://b/new", Size: 4096, Checksum: "sha256:" + strings.Repeat("d", 64)}, nil
}
func (b *backups) RestoreBackup(_ context.Context, _, _ string, bk providers.Backup) error {
	b.restored = append(b.restored, bk.ID)
	return nil
}
func (b *backups) RunJob(_ context.Context, j providers.Job) (providers.JobResult, error) {
	b.jobs = append(b.jobs, j.Name)
	return providers.JobResult{ID: "job-" + j.Name}, nil
}
func (b *backups) RunningJobs(context.Context, string) ([]string, error) { return b.running, nil }

// noBackups only deploys: it can neither take nor restore a backup.
type noBackups struct{}

func gateChange(provider, db, maxAge string) plan.Change {
	return plan.Change{Address: target + "/backup", Target: target, Kind: plan.KindBackup, Action: plan.Run, Provider: provider,
		After: map[string]any{"database": db, "max_age": maxAge, "root": ""}}
}

// deploying gives r an app change, so the backup step gates a deployment.
func (r *rt) deploying() {
	r.changes[target+"/app"] = &plan.Change{Address: target + "/app", Target: target, Kind: plan.KindApp, Action: plan.Update,
		After: map[string]any{"image": "shop@sha256:new"}, Diff: []plan.FieldDiff{{Path: "image"}}}
}

func gate(taken time.Time) *state.Gate {
	return &state.Gate{Record: "backup-gate-old", Provider: "dok", Database: "shop", BackupID: "old-backup", Location: "s3://b/old", Taken: taken}
}

// reused runs the backup step of a deployment on gate g and reports
// whether it claimed g (true) or took a new backup (false).
func reused(t *testing.T, g *state.Gate, c plan.Change) (bool, *rt, *backups) {
	t.Helper()
	r, p := newRT(), &backups{}
	r.provs["dok"], r.provs["other"] = p, p
	r.gate = g
	r.deploying()
	ev, outcome, err := backupStep(context.Background(), r, c)
	if err != nil || outcome != state.OutcomeDone {
		t.Fatalf("backup step: outcome %q, err %v", outcome, err)
	}
	if _, ok := ev.(state.GateReused); ok {
		if len(p.taken) != 0 || r.gate.Record != g.Record || r.gate.UsedBy != r.record {
			t.Fatalf("reused gate but took %v, gate now %+v", p.taken, r.gate)
		}
		return true, r, p
	}
	if len(p.taken) != 1 || r.gate == nil || r.gate.Record == g.Record || r.gate.UsedBy != r.record {
		t.Fatalf("new backup expected: taken %v, gate %+v", p.taken, r.gate)
	}
	return false, r, p
}

func TestGateSingleUse(t *testing.T) {
	g := gate(t0.Add(-time.Minute))
	if ok, _, _ := reused(t, g, gateChange("dok", "shop", "1h")); !ok {
		t.Fatal("a fresh unused gate was not claimed")
	}
	used := gate(t0.Add(-time.Minute))
	used.UsedBy = "deployment-earlier"
	if ok, _, _ := reused(t, used, gateChange("dok", "shop", "1h")); ok {
		t.Fatal("a gate already used by deployment-earlier authorised a second deployment")
	}
	// A provider that cannot take backups is refused before any mutation.
	r := newRT()
	r.provs["dok"] = noBackups{}
	r.gate = used
	err := preflight(r, []plan.Change{gateChange("dok", "shop", "1h")})
	if err == nil || !strings.Contains(err.Error(), "already used by deployment deployment-earlier") {
		t.Fatalf("preflight with a used gate and no backups role: %v", err)
	}
}

func TestGateMaxAgeBoundary(t *testing.T) {
	if ok, _, _ := reused(t, gate(t0.Add(-time.Hour)), gateChange("dok", "shop", "1h")); !ok {
		t.Error("a gate exactly maxAge old was not claimed")
	}
	if ok, _, _ := reused(t, gate(t0.Add(-time.Hour-time.Second)), gateChange("dok", "shop", "1h")); ok {
		t.Error("a gate one second older than maxAge was claimed")
	}
	// A gate from the future (a clock skew) authorises nothing.
	if ok, _, _ := reused(t, gate(t0.Add(time.Minute)), gateChange("dok", "shop", "1h")); ok {
		t.Error("a gate taken after now was claimed")
	}
	r := newRT()
	r.provs["dok"] = noBackups{}
	r.gate = gate(t0.Add(-time.Hour))
	if err := preflight(r, []plan.Change{gateChange("dok", "shop", "1h")}); err != nil {
		t.Errorf("preflight, gate exactly maxAge old: %v", err)
	}
	r.gate = gate(t0.Add(-time.Hour - time.Second))
	err := preflight(r, []plan.Change{gateChange("dok", "shop", "1h")})
	if err == nil || !strings.Contains(err.Error(), "more than maxAge 1h0m0s") {
		t.Errorf("preflight, gate 1h0m1s old, no backups role: %v", err)
	}
}

func TestGateBoundToProviderAndDatabase(t *testing.T) {
	for _, tc := range []struct{ name, provider, db, want string }{
		{"other provider", "other", "shop", "provider other, gate taken on dok"},
		{"other database", "dok", "shop2", "database shop2, gate taken of shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, r, _ := reused(t, gate(t0.Add(-time.Minute)), gateChange(tc.provider, tc.db, "1h"))
			if ok {
				t.Fatal("a gate taken for another deployment was claimed")
			}
			if why := r.gateRec.Evidence.(state.BackupEvidence).NewBecause; !strings.Contains(why, tc.want) {
				t.Errorf("new_because %q, want it to say %q", why, tc.want)
			}
			r2 := newRT()
			r2.provs[tc.provider] = noBackups{}
			r2.gate = gate(t0.Add(-time.Minute))
			err := preflight(r2, []plan.Change{gateChange(tc.provider, tc.db, "1h")})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("preflight: %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
}

func postDeployChange() plan.Change {
	return plan.Change{Address: target + "/post-deploy", Target: target, Kind: plan.KindPostDeploy, Action: plan.Run, Provider: "dok",
		After: map[string]any{"database": "shop", "app": "shop-prod", "command": "odoo -d shop -u sale --stop-after-init"}}
}

func TestPostDeployRefusedWhileJobRuns(t *testing.T) {
	r, p := newRT(), &backups{running: []string{"backup-1234"}}
	r.provs["dok"] = p
	r.deploying()
	_, _, err := postDeploy(context.Background(), r, postDeployChange())
	if err == nil || !strings.Contains(err.Error(), "backup-1234 still running") {
		t.Fatalf("post-deploy while a job runs: %v", err)
	}
	if len(p.jobs) != 0 || r.Noted(noteModuleUpdate) || r.facts[factMigrated] != "" {
		t.Errorf("refused post-deploy still ran jobs %v (notes %v, facts %v)", p.jobs, r.notes, r.facts)
	}
	p.running = nil
	if _, _, err := postDeploy(context.Background(), r, postDeployChange()); err != nil || len(p.jobs) != 1 || p.jobs[0] != "module-update" {
		t.Fatalf("post-deploy with no job running: jobs %v, err %v", p.jobs, err)
	}
	// the module update ran: a later rollback must know, to restore first
	if !r.Noted(noteModuleUpdate) || r.facts[factMigrated] != "shop@sha256:new" {
		t.Errorf("after the module update: notes %v, facts %v", r.notes, r.facts)
	}
}

func TestRollbackAfterModuleUpdateRestoresFirst(t *testing.T) {
	// No module update ran: the image goes back without a restore.
	r, p := newRT(), &backups{}
	r.provs["dok"] = p
	if v := onRollback(context.Background(), r); !v.Proceed || len(p.restored) != 0 {
		t.Fatalf("without a module update: %+v, restored %v", v, p.restored)
	}

	// The module update ran and this deployment claimed the gate: its
	// backup is restored before the image goes back.
	r.Note(noteModuleUpdate)
	r.gate = gate(t0.Add(-time.Minute))
	r.gate.UsedBy = r.record
	v := onRollback(context.Background(), r)
	if !v.Proceed || len(p.restored) != 1 || p.restored[0] != "old-backup" || len(r.steps) != 1 || r.steps[0] != target+"/backup restore" {
		t.Fatalf("after a module update: verdict %+v, restored %v, steps %v", v, p.restored, r.steps)
	}
}

func TestRollbackAfterModuleUpdateNeedsOperator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prov   any
		usedBy string
		want   string
	}{
		{"provider cannot restore", noBackups{}, "deployment-this", "cannot restore backups"},
		{"gate of another deployment", &backups{}, "deployment-earlier", "took no backup gate to restore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT()
			r.provs["dok"] = tc.prov
			r.Note(noteModuleUpdate)
			r.gate = gate(t0.Add(-time.Minute))
			r.gate.UsedBy = tc.usedBy
			v := onRollback(context.Background(), r)
			if v.Proceed || v.Status != state.StatusNeedsOperator || !strings.Contains(v.Reason, tc.want) {
				t.Fatalf("verdict %+v, want needs-operator saying %q", v, tc.want)
			}
			if b, ok := tc.prov.(*backups); ok && len(b.restored) != 0 {
				t.Errorf("restored %v with another deployment's gate", b.restored)
			}
		})
	}
	r := newRT()
	r.Note(noteModuleUpdate)
	if v := onRollback(context.Background(), r); v.Proceed || v.Status != state.StatusNeedsOperator {
		t.Fatalf("no gate at all: %+v", v)
	}
}

// A planned rollback (launchplane rollback) from an image whose module
// update migrated the database restores that deployment's gate first, or
// is refused.
func TestRollbackStepsRestoreFirst(t *testing.T) {
	desired := &plan.DesiredTarget{Key: target}
	app := plan.Resource{Address: target + "/app", Attrs: map[string]any{"odoo": map[string]any{"database": "shop"}}}
	g := gate(t0)
	g.UsedBy = "deployment-new"
	recorded := &state.TargetState{Image: "shop@sha256:new", ImageRecord: "deployment-new", Gate: g,
		Facts: map[string]string{factMigrated: "shop@sha256:new"}}
	steps, err := rollbackSteps(desired, app, recorded)
	if err != nil || len(steps) != 1 || steps[0].Kind != plan.KindRestore || !steps[0].Force || steps[0].Attrs["gate"] != g.Record {
		t.Fatalf("rollback steps %+v, err %v; want one forced restore of %s", steps, err, g.Record)
	}

	other := *g
	other.UsedBy = "deployment-earlier"
	recorded.Gate = &other
	if steps, err := rollbackSteps(desired, app, recorded); err == nil || !strings.Contains(err.Error(), "cannot roll shop/prod back safely") {
		t.Fatalf("gate of another deployment: steps %+v, err %v", steps, err)
	}
	recorded.Gate = nil
	if _, err := rollbackSteps(desired, app, recorded); err == nil {
		t.Fatal("no gate: the rollback was not refused")
	}

	// The image did not migrate the database: no restore needed.
	recorded.Facts[factMigrated] = "shop@sha256:older"
	if steps, err := rollbackSteps(desired, app, recorded); err != nil || len(steps) != 0 {
		t.Fatalf("no migration: steps %+v, err %v", steps, err)
	}
}

// The restore step of a rollback plan restores only the gate the plan
// names: a gate replaced since the plan was made is refused.
func TestRestoreStepRefusesReplacedGate(t *testing.T) {
	r, p := newRT(), &backups{}
	r.provs["dok"] = p
	r.gate = gate(t0)
	c := plan.Change{Address: target + "/restore", Target: target, Kind: plan.KindRestore, Action: plan.Run, Provider: "dok",
		After: map[string]any{"gate": "backup-gate-planned", "database": "shop"}}
	if _, _, err := restoreStep(context.Background(), r, c); err == nil || len(p.restored) != 0 {
		t.Fatalf("restore of a replaced gate: err %v, restored %v", err, p.restored)
	}
	c.After["gate"] = r.gate.Record
	if _, _, err := restoreStep(context.Background(), r, c); err != nil || len(p.restored) != 1 {
		t.Fatalf("restore of the planned gate: err %v, restored %v", err, p.restored)
	}
}

// jobOutput is a Jobs whose every run succeeds with output.
type jobOutput string

func (o jobOutput) RunJob(context.Context, providers.Job) (providers.JobResult, error) {
	return providers.JobResult{Output: string(o)}, nil
}

// A backup job that ran but printed no size and sha256 is no backup: the
// gate must not be taken on a dump nobody saw written.
func TestDumpJobNeedsSizeAndChecksum(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	sum := strings.Repeat("ab", 32)
	for name, out := range map[string]string{
		"nothing":     "",
		"no checksum": "size=1024\n",
		"no size":     "sha256=" + sum + "\n",
		"bad sum":     "size=1024\nsha256=xyz\n",
		"empty dump":  "size=0\nsha256=" + sum + "\n",
	} {
		if _, err := dumpJob(context.Background(), jobOutput(out), "erp/prod", "/backups", "erp", now); err == nil {
			t.Errorf("%s: a backup job without its file's size and sha256 gave a backup", name)
		}
	}
	b, err := dumpJob(context.Background(), jobOutput("size=1024\nsha256="+sum+"\n"), "erp/prod", "/backups", "erp", now)
	if err != nil || b.Size != 1024 || b.Checksum != "sha256:"+sum || b.Location != "/backups/erp-20261123T120000Z.dump" {
		t.Errorf("reported dump: %+v, %v", b, err)
	}
}

// A backup the provider reports without its checksum is no gate: the
// step fails before the deployment, takes no gate and writes no
// backup-gate record, so the app change after it never runs.
func TestBackupWithoutChecksumFailsTheStep(t *testing.T) {
	r, p := newRT(), &backups{unproven: true}
	r.provs["dok"] = p
	r.deploying()
	ev, outcome, err := backupStep(context.Background(), r, gateChange("dok", "shop", "1h"))
	if err == nil || !strings.Contains(err.Error(), "missing checksum") || outcome == state.OutcomeDone {
		t.Fatalf("backup step: evidence %v outcome %q err %v, want it failed for the missing checksum", ev, outcome, err)
	}
	if r.gate != nil || r.gateRec != nil {
		t.Errorf("a gate was taken on an unproven backup: %+v, record %+v", r.gate, r.gateRec)
	}
}
