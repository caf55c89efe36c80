package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
)

// Settings is the decoded spec.odoo block.
type Settings struct {
	Database string                     `json:"database"`
	Modules  []string                   `json:"modules"`
	Settings map[string]json.RawMessage `json:"settings"`
	Backup   *struct {
		Root string `json:"root"`
	} `json:"backup"`
}

// moduleName is what Odoo accepts as a module (addon directory) name.
var moduleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// settingsOf decodes a product's spec.odoo block and checks what the
// schema cannot: module names again (they reach a command line).
func settingsOf(p *config.Product) (*Settings, error) {
	raw, ok := p.Spec.Settings[SettingsKey]
	if !ok {
		return nil, fmt.Errorf("product %s: driver odoo needs spec.odoo", p.Name)
	}
	var s Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("product %s: spec.odoo: %w", p.Name, err)
	}
	for _, m := range s.Modules {
		if !moduleName.MatchString(m) {
			return nil, fmt.Errorf("product %s: spec.odoo.modules: %q is not an Odoo module name", p.Name, m)
		}
	}
	sort.Strings(s.Modules)
	return &s, nil
}

// settingEnv is the env var that carries an Odoo setting into the
// runtime: LP_SETTING_ and the key upper-cased, other characters as "_".
func settingEnv(key string) string {
	var b strings.Builder
	b.WriteString("LP_SETTING_")
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// appAttrs puts the database, module list and settings on the app, so
// changing them is a change of the app that triggers the post-deploy job.
// Settings also reach the runtime's environment as LP_SETTING_* entries
// (secret ones as secret references), because some platforms (Dokploy)
// run jobs inside the app's container with the app's environment only.
func appAttrs(p *config.Product, _ *config.Target, app *plan.App) error {
	s, err := settingsOf(p)
	if err != nil {
		return err
	}
	if app.Env == nil {
		app.Env = map[string]string{}
	}
	if app.Secrets == nil {
		app.Secrets = map[string]plan.SecretRef{}
	}
	env, secrets := app.Env, app.Secrets
	ext := Ext{Database: s.Database, Modules: append([]string{}, s.Modules...), Settings: map[string]json.RawMessage{}}
	owner := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(s.Settings)) {
		name := settingEnv(k)
		if other, dup := owner[name]; dup {
			return fmt.Errorf("product %s: spec.odoo.settings: %q and %q both map to env %s", p.Name, other, k, name)
		}
		owner[name] = k
		if _, taken := env[name]; taken {
			return fmt.Errorf("product %s: spec.odoo.settings: %q maps to env %s, which spec.env already sets", p.Name, k, name)
		}
		if _, taken := secrets[name]; taken {
			return fmt.Errorf("product %s: spec.odoo.settings: %q maps to env %s, which spec.secrets already sets", p.Name, k, name)
		}
		var lit string
		if json.Unmarshal(s.Settings[k], &lit) == nil {
			if _, secret := redact.SecretSegment(k); secret {
				return fmt.Errorf("product %s: setting %s in spec.odoo.settings is secret-shaped, so it must be a secret reference ({fromEnv: NAME} or {fromFile: PATH}), not a literal", p.Name, k)
			}
			ext.Settings[k] = s.Settings[k]
			env[name] = lit
			continue
		}
		var ref plan.SecretRef
		if err := json.Unmarshal(s.Settings[k], &ref); err != nil {
			return fmt.Errorf("product %s: spec.odoo.settings.%s: %w", p.Name, k, err)
		}
		ext.Settings[k] = s.Settings[k]
		secrets[name] = ref.Ref()
	}
	if len(owner) > 0 {
		// The settings job's list of keys travels in the app's environment
		// too, so runtimes that run jobs with the app's env only have it.
		env["LP_SETTING_KEYS"] = settingKeys(slices.Sorted(maps.Keys(s.Settings)))
	}
	return app.SetExt(SettingsKey, ext)
}

// maxAgeOf is the gate's maxAge (default 24h).
func maxAgeOf(t *config.Target) string {
	if t.Spec.Gates.Backup.MaxAge != nil {
		return t.Spec.Gates.Backup.MaxAge.String()
	}
	return "24h"
}

// extraSteps adds the backup gate before any app change on prod targets
// that require it, and the post-deploy step (module update, then
// settings) after an image, module or settings change.
func extraSteps(p *config.Product, t *config.Target, app plan.Resource) ([]plan.Step, error) {
	s, err := settingsOf(p)
	if err != nil {
		return nil, err
	}
	key := t.Key()
	root := ""
	if s.Backup != nil {
		root = s.Backup.Root
	}
	var steps []plan.Step
	gate := t.Spec.Gates != nil && t.Spec.Gates.Backup != nil && t.Spec.Gates.Backup.Required
	if t.Spec.Lane == "prod" && gate {
		steps = append(steps, plan.Step{
			Resource: plan.Resource{Address: key + "/backup", Target: key, Kind: plan.KindBackup, Provider: t.Spec.Deploy.Provider,
				Attrs: map[string]any{"database": s.Database, "max_age": maxAgeOf(t), "root": root}},
			Triggers: []plan.Trigger{{Address: app.Address, Reason: "gate required before an app change"}},
		})
	}
	if len(s.Modules) > 0 || len(s.Settings) > 0 {
		a, err := plan.AppOf(app.Attrs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", app.Address, err)
		}
		attrs := map[string]any{"database": s.Database, "app": a.Name}
		if len(s.Modules) > 0 {
			attrs["command"] = strings.Join(updateCommand(s.Database, s.Modules), " ")
		}
		keys := slices.Sorted(maps.Keys(s.Settings))
		if len(keys) > 0 {
			ks := make([]any, len(keys))
			for i, k := range keys {
				ks[i] = k
			}
			attrs["settings"] = ks
		}
		steps = append(steps, plan.Step{
			Resource: plan.Resource{Address: key + "/post-deploy", Target: key, Kind: plan.KindPostDeploy, Provider: t.Spec.Deploy.Provider, Attrs: attrs},
			Triggers: []plan.Trigger{
				{Address: app.Address, Fields: []string{"image"}, Reason: "image changed"},
				{Address: app.Address, Fields: []string{"odoo"}, Reason: "modules or settings changed"},
			},
		})
	}
	return steps, nil
}

// updateCommand is the module update: odoo -d DB -u a,b --stop-after-init.
func updateCommand(db string, modules []string) []string {
	return []string{"odoo", "-d", db, "-u", strings.Join(modules, ","), "--stop-after-init"}
}

// settingKeys is LP_SETTING_KEYS: the JSON list of the setting keys,
// whose values are in the env names settingEnv derives.
func settingKeys(keys []string) string {
	b, _ := json.Marshal(keys)
	return string(b)
}

// settingsScript sets ir.config_parameter from the LP_SETTING_* env the
// job receives; LP_SETTING_KEYS lists the parameter keys, and each value
// is in the env name settingEnv derives from its key. Values never appear
// on the command line.
const settingsScript = `import json, os, re, sys
import odoo
from odoo import api, SUPERUSER_ID
odoo.tools.config.parse_config([])
keys = json.loads(os.environ["LP_SETTING_KEYS"])
with odoo.registry(sys.argv[1]).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    for key in keys:
        var = "LP_SETTING_" + re.sub("[^A-Z0-9]", "_", key.upper())
        env["ir.config_parameter"].sudo().set_param(key, os.environ[var])
`

// Notes passed between hooks of one apply, and facts kept between applies.
const (
	noteModuleUpdate = "odoo:module-update-started"
	// factMigrated is the image whose module update ran last: the
	// database's schema belongs to it.
	factMigrated = "odoo.migrated_image"
	// factSanitized is the record of the last neutralize after a clone;
	// "" while a cloned database has not been neutralized.
	factSanitized = "odoo.sanitized"
	// factClonePending is the clone record whose restore stopped the app
	// and replaced its database, until the neutralize of that database
	// succeeds: while set, no deploy may start the app on prod data.
	factClonePending = "odoo.clone_pending"
)

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// preflight refuses, before any mutation, a gated deploy whose gate
// cannot be honoured: no fresh unused gate and no way to take one.
func preflight(rt drivers.Runtime, changes []plan.Change) error {
	if err := refuseUnneutralized(rt, changes); err != nil {
		return err
	}
	for _, c := range changes {
		if c.Kind == plan.KindRestore || c.Kind == plan.KindSanitize {
			inst, err := rt.Provider(c.Provider)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Address, err)
			}
			if err := canRun(rt, c, inst); err != nil {
				return err
			}
		}
		if c.Kind != plan.KindBackup {
			continue
		}
		maxAge, err := time.ParseDuration(str(c.After, "max_age"))
		if err != nil {
			return fmt.Errorf("%s: max_age: %w", c.Address, err)
		}
		if c.After["final"] != true && rt.Gate().Fresh(rt.Now(), maxAge) && gateMismatch(rt.Gate(), c) == "" {
			continue
		}
		inst, err := rt.Provider(c.Provider)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Address, err)
		}
		if _, ok := inst.(providers.Backups); ok {
			continue
		}
		if _, ok := inst.(providers.Jobs); ok && str(c.After, "root") != "" {
			continue
		}
		if c.After["final"] == true {
			return fmt.Errorf("%s: its app is destroyed only after a final backup, and provider %s cannot take backups (no backups role, and no jobs role with spec.odoo.backup.root): nothing was changed",
				c.Target, c.Provider)
		}
		problem := gateProblem(rt.Gate(), rt.Now(), maxAge)
		if why := gateMismatch(rt.Gate(), c); why != "" && rt.Gate().Fresh(rt.Now(), maxAge) {
			problem = "gate " + rt.Gate().Record + " was taken for another deployment: " + why
		}
		return fmt.Errorf("%s: backup gate required (gates.backup) but %s, and provider %s cannot take backups (no backups role, and no jobs role with spec.odoo.backup.root)",
			c.Target, problem, c.Provider)
	}
	return nil
}

// refuseUnneutralized refuses a deploy of an app whose database a clone
// replaced and whose neutralize never succeeded: the app was left
// stopped, and a deploy would start it on prod data. A clone (which
// neutralizes again) and a destroy are let through.
func refuseUnneutralized(rt drivers.Runtime, changes []plan.Change) error {
	pending := rt.Fact(factClonePending)
	if pending == "" {
		return nil
	}
	for _, c := range changes {
		if c.Kind == plan.KindSanitize {
			return nil
		}
	}
	for _, c := range changes {
		if c.Kind == plan.KindApp && (c.Action == plan.Create || c.Action == plan.Update || c.Action == plan.Replace) {
			return fmt.Errorf("%s: refused: the database was replaced by clone %s and never neutralized, so the app stays stopped; a deploy would start it on prod data: run launchplane clone again (or destroy the target): nothing was changed",
				c.Address, pending)
		}
	}
	return nil
}

// gateMismatch says which field of the deployment differs from what the
// gate was taken for, "" when none does: a gate authorises one deployment
// of the same product and lane (its target file), provider and database.
func gateMismatch(g *state.Gate, c plan.Change) string {
	var out []string
	if g.Provider != c.Provider {
		out = append(out, fmt.Sprintf("provider %s, gate taken on %s", c.Provider, g.Provider))
	}
	if db := str(c.After, "database"); g.Database != db {
		out = append(out, fmt.Sprintf("database %s, gate taken of %s", db, g.Database))
	}
	return strings.Join(out, "; ")
}

// gateProblem says why the current gate cannot authorise a deployment.
func gateProblem(g *state.Gate, now time.Time, maxAge time.Duration) string {
	switch {
	case g == nil:
		return "no backup gate was ever taken"
	case g.UsedBy != "":
		return fmt.Sprintf("gate %s was already used by deployment %s (a gate authorises one deployment)", g.Record, g.UsedBy)
	default:
		return fmt.Sprintf("gate %s was taken %s ago, more than maxAge %s", g.Record, now.Sub(g.Taken).Round(time.Second), maxAge)
	}
}

// backupStep claims a fresh unused gate for this deployment, or takes a
// new backup through the provider's Backups role, or through a pg_dump
// job when the provider only runs jobs. Either way the gate is then
// used: it authorises this deployment and no other.
func backupStep(ctx context.Context, rt drivers.Runtime, c plan.Change) (state.Evidence, state.ChangeOutcome, error) {
	maxAge, err := time.ParseDuration(str(c.After, "max_age"))
	if err != nil {
		return nil, "", fmt.Errorf("%s: max_age: %w", c.Address, err)
	}
	now := rt.Now()
	// Without an app change this is a standalone backup (launchplane
	// backup): it always takes a new one and leaves it unused, to gate the
	// next deployment.
	deploying := rt.Change(rt.Target()+"/app") != nil
	usedBy := ""
	if deploying {
		usedBy = rt.Record()
	}
	// A final backup before a destroy is always a new one.
	final := c.After["final"] == true
	mismatch := ""
	if g := rt.Gate(); deploying && !final && g.Fresh(now, maxAge) {
		mismatch = gateMismatch(g, c)
	}
	if g := rt.Gate(); deploying && !final && g.Fresh(now, maxAge) && mismatch == "" {
		cp := *g
		cp.UsedBy = rt.Record()
		rt.SetGate(&cp, nil)
		return state.GateReused{Gate: g.Record, Reused: true, BackupID: g.BackupID, Location: g.Location,
			Taken: state.Second{Time: g.Taken}, Age: now.Sub(g.Taken).Round(time.Second).String()}, state.OutcomeDone, nil
	}
	inst, err := rt.Provider(c.Provider)
	if err != nil {
		return nil, "", err
	}
	db := str(c.After, "database")
	start := time.Now()
	var b providers.Backup
	method := "backups"
	switch p := inst.(type) {
	case providers.Backups:
		b, err = p.TakeBackup(ctx, rt.Target(), db)
	case providers.Jobs:
		method = "jobs"
		b, err = dumpJob(ctx, p, rt.Target(), str(c.After, "root"), db, now)
	default:
		err = fmt.Errorf("provider %s cannot take backups", c.Provider)
	}
	if err != nil {
		return nil, "", providers.Wrap(c.Provider, "backup", rt.Target(), err)
	}
	if b.Duration == 0 {
		b.Duration = time.Since(start)
	}
	if b.Taken.IsZero() {
		b.Taken = now
	}
	id := state.NewRecordID(state.KindBackupGate, rt.Target(), now)
	g := &state.Gate{Record: id, Provider: c.Provider, Database: db, BackupID: b.ID, Location: b.Location, Size: b.Size,
		Checksum: b.Checksum, Taken: now, Duration: b.Duration, UsedBy: usedBy}
	ev := state.BackupEvidence{Gate: id, BackupID: b.ID, Location: b.Location, Size: b.Size, Checksum: b.Checksum,
		DurationMS: b.Duration.Milliseconds(), Method: method, Database: db, Final: final}
	if mismatch != "" {
		ev.NewBecause = "gate " + rt.Gate().Record + " does not authorise this deployment: " + mismatch
	}
	// a backup that does not say its size and checksum is no gate: the
	// step fails before the gate is taken or recorded
	if err := ev.Check(); err != nil {
		return nil, "", providers.Wrap(c.Provider, "backup", rt.Target(), fmt.Errorf("the backup %s gives no proof of itself: %w", b.ID, err))
	}
	gc := *g
	rec := &state.Record{FormatVersion: state.FormatVersion, ID: id, Kind: state.KindBackupGate, Target: rt.Target(), Started: now, Finished: now,
		Outcome: state.RecordSuccess, Gate: &gc, Evidence: ev, Changes: []state.RecordChange{}}
	rt.SetGate(g, rec)
	return ev, state.OutcomeDone, nil
}

// dumpJob takes a backup with pg_dump in the target's runtime, under
// root, and reads location, size and checksum from the job's output.
func dumpJob(ctx context.Context, j providers.Jobs, target, root, db string, now time.Time) (providers.Backup, error) {
	file := fmt.Sprintf("%s/%s-%s.dump", strings.TrimRight(root, "/"), db, now.UTC().Format("20060102T150405Z"))
	script := `set -e; pg_dump -Fc -d "$1" -f "$2"; echo "size=$(stat -c %s "$2")"; echo "sha256=$(sha256sum "$2" | cut -d' ' -f1)"`
	res, err := j.RunJob(ctx, providers.Job{Target: target, Name: "backup", Command: []string{"sh", "-c", script, "sh", db, file}})
	if err != nil {
		return providers.Backup{}, err
	}
	b := providers.Backup{ID: file, Location: file}
	for _, line := range strings.Split(res.Output, "\n") {
		if v, ok := strings.CutPrefix(line, "size="); ok {
			b.Size, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "sha256="); ok {
			b.Checksum = "sha256:" + strings.TrimSpace(v)
		}
	}
	// A job that ran but did not report a file is no backup: a gate is
	// never taken on a dump nobody saw written.
	if b.Size <= 0 || !sha256Hex.MatchString(strings.TrimPrefix(b.Checksum, "sha256:")) {
		return providers.Backup{}, fmt.Errorf("the backup job of %s ran but did not report the dump's size and sha256 (size=…, sha256=… in its output): no backup was taken", target)
	}
	return b, nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// postDeploy runs the module update after an image or module-list change
// (refused while another job runs on the target), then applies the
// settings. Secret setting values reach the job's environment only.
func postDeploy(ctx context.Context, rt drivers.Runtime, c plan.Change) (state.Evidence, state.ChangeOutcome, error) {
	inst, err := rt.Provider(c.Provider)
	if err != nil {
		return nil, "", err
	}
	jobs, ok := inst.(providers.Jobs)
	if !ok {
		return nil, "", fmt.Errorf("provider %s cannot run jobs: the odoo post-deploy step needs the jobs role", c.Provider)
	}
	if l, ok := inst.(providers.JobLister); ok {
		running, err := l.RunningJobs(ctx, rt.Target())
		if err != nil {
			return nil, "", err
		}
		if len(running) > 0 {
			return nil, "", fmt.Errorf("refused: job(s) %s still running on %s; the module update waits for them", strings.Join(running, ", "), rt.Target())
		}
	}
	app := rt.Change(rt.Target() + "/app")
	ev := state.PostDeployEvidence{}
	appName := str(c.After, "app")
	db := str(c.After, "database")
	ext, image, err := appExt(app)
	if err != nil {
		return nil, "", err
	}
	if needsUpdate(app) && c.After["command"] != nil {
		cmd := updateCommand(db, ext.Modules)
		rt.Note(noteModuleUpdate)
		rt.SetFact(factMigrated, image)
		res, err := jobs.RunJob(ctx, providers.Job{Target: rt.Target(), AppName: appName, Name: "module-update", Command: cmd})
		ev.ModuleUpdate = &state.ModuleUpdate{Job: &state.JobRun{Command: strings.Join(cmd, " "), ExitCode: res.ExitCode, Job: res.ID}}
		if err != nil {
			return ev, "", fmt.Errorf("module update: %w", err)
		}
	} else {
		ev.ModuleUpdate = &state.ModuleUpdate{NotNeeded: "not needed: image and modules unchanged"}
	}
	settings := ext.Settings
	if len(settings) == 0 {
		return ev, state.OutcomeDone, nil
	}
	env := map[string]string{}
	var secretKeys, names []string
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		name := settingEnv(k)
		names = append(names, k)
		var lit string
		var ref plan.SecretRef
		switch {
		case json.Unmarshal(settings[k], &lit) == nil:
			env[name] = lit
		case json.Unmarshal(settings[k], &ref) == nil:
			val, err := rt.Resolve(providers.SecretRef{FromEnv: ref.FromEnv, FromFile: ref.FromFile})
			if err != nil {
				return ev, "", fmt.Errorf("setting %s: %w", k, err)
			}
			env[name] = val
			secretKeys = append(secretKeys, name)
		}
	}
	env["LP_SETTING_KEYS"] = settingKeys(names)
	h := sha256.Sum256([]byte(strings.Join(names, "\n")))
	ev.Settings = &state.Settings{Keys: names, Count: len(names), SHA256: hex.EncodeToString(h[:]), FromSecretRefs: len(secretKeys)}
	res, err := jobs.RunJob(ctx, providers.Job{Target: rt.Target(), AppName: appName, Name: "settings",
		Command: []string{"python3", "-c", settingsScript, db}, Env: env, SecretKeys: secretKeys})
	if err != nil {
		return ev, "", fmt.Errorf("settings: %w", err)
	}
	ev.SettingsJob = &state.JobRun{ExitCode: res.ExitCode, Job: res.ID}
	return ev, state.OutcomeDone, nil
}

// needsUpdate reports whether the app change requires a module update: a
// new app, or a change of its image or module list.
func needsUpdate(app *plan.Change) bool {
	if app == nil {
		return false
	}
	switch app.Action {
	case plan.Create, plan.Replace:
		return true
	}
	for _, d := range app.Diff {
		if d.Path == "image" || d.Path == "odoo.modules" || strings.HasPrefix(d.Path, "odoo.modules.") || strings.HasPrefix(d.Path, "odoo.modules[") {
			return true
		}
	}
	return false
}

// onRollback: when the module update started, the database may already
// be migrated for the new image, so rolling the image back alone is
// unsafe. Restore the gate's backup first; where the provider cannot
// restore, stop and mark the target needs-operator.
func onRollback(ctx context.Context, rt drivers.Runtime) drivers.Verdict {
	if !rt.Noted(noteModuleUpdate) {
		return drivers.Verdict{Proceed: true}
	}
	g := rt.Gate()
	if g == nil || g.UsedBy != rt.Record() {
		return needsOperator(g, "the module update ran but this deployment took no backup gate to restore")
	}
	inst, err := rt.Provider(g.Provider)
	if err != nil {
		return needsOperator(g, err.Error())
	}
	restore := restorer(inst, rt.Target(), g)
	if restore == nil {
		return needsOperator(g, fmt.Sprintf("the module update ran and provider %s cannot restore backups", g.Provider))
	}
	err = rt.Step(ctx, rt.Target()+"/backup", "restore", "module update ran: restore the gate's backup before the previous image",
		func(ctx context.Context) (state.Evidence, error) {
			err := restore(ctx)
			return state.RestoreEvidence{Gate: g.Record, BackupID: g.BackupID, Location: g.Location}, providers.Wrap(g.Provider, "restore", rt.Target(), err)
		})
	if err != nil {
		return needsOperator(g, "restoring the gate's backup failed: "+err.Error())
	}
	return drivers.Verdict{Proceed: true}
}

// restorer returns how provider inst restores gate g on target: through
// its Restorer role, or pg_restore in a job for a dump a job took; nil
// when it cannot.
func restorer(inst any, target string, g *state.Gate) func(context.Context) error {
	switch p := inst.(type) {
	case providers.Restorer:
		return func(ctx context.Context) error {
			return p.RestoreBackup(ctx, target, g.Database, providers.Backup{ID: g.BackupID, Location: g.Location, Size: g.Size, Checksum: g.Checksum, Taken: g.Taken})
		}
	case providers.Jobs:
		if strings.HasPrefix(g.Location, "/") {
			return func(ctx context.Context) error {
				_, err := p.RunJob(ctx, providers.Job{Target: target, Name: "restore",
					Command: []string{"sh", "-c", `set -e; pg_restore --clean --if-exists -d "$1" "$2"`, "sh", g.Database, g.Location}})
				return err
			}
		}
	}
	return nil
}

// rollbackSteps: rolling an odoo target back from an image whose module
// update migrated the database needs the backup taken before that
// deployment restored first; without one the rollback is refused. No
// module update runs on the way back.
func rollbackSteps(desired *plan.DesiredTarget, app plan.Resource, recorded *state.TargetState) ([]plan.Step, error) {
	if recorded == nil || recorded.Facts[factMigrated] == "" || recorded.Facts[factMigrated] != recorded.Image {
		return nil, nil
	}
	g := recorded.Gate
	if g == nil || g.UsedBy == "" || g.UsedBy != recorded.ImageRecord {
		return nil, fmt.Errorf("cannot roll %s back safely: the module update of the image it runs migrated the database, and no backup gate of that deployment (%s) is recorded to restore first; restore the database by hand, then deploy the image you want", desired.Key, recorded.ImageRecord)
	}
	a, err := plan.AppOf(app.Attrs)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", state.TargetPath(desired.Key), app.Address, err)
	}
	ext, err := extOf(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", state.TargetPath(desired.Key), app.Address, err)
	}
	return []plan.Step{{
		Resource: plan.Resource{Address: desired.Key + "/restore", Target: desired.Key, Kind: plan.KindRestore, Provider: g.Provider,
			Attrs: map[string]any{"gate": g.Record, "backup_id": g.BackupID, "location": g.Location, "database": ext.Database}},
		Force:  true,
		Reason: fmt.Sprintf("the current image migrated the database: restore gate %s first", g.Record),
	}}, nil
}

// canRun checks, before any mutation, that the provider can do a restore
// or sanitize step: restore a backup, stop the app first when the
// backup comes from another lane (a clone), and run the neutralize job.
func canRun(rt drivers.Runtime, c plan.Change, inst any) error {
	if c.Kind == plan.KindSanitize {
		if _, ok := inst.(providers.Jobs); !ok {
			return fmt.Errorf("%s: provider %s cannot run jobs, so the database cannot be neutralized: the clone is refused", c.Address, c.Provider)
		}
		return nil
	}
	g := gateOf(rt, c)
	if g == nil || restorer(inst, c.Target, g) == nil {
		return fmt.Errorf("%s: provider %s cannot restore the backup, so the %s is refused: restore by hand", c.Address, c.Provider, map[bool]string{true: "clone", false: "rollback"}[str(c.After, "source") != ""])
	}
	if str(c.After, "source") != "" {
		if _, ok := inst.(providers.Stopper); !ok {
			return fmt.Errorf("%s: provider %s cannot stop the app, and a database cloned from %s must not be served before it is neutralized: the clone is refused", c.Address, c.Provider, str(c.After, "source"))
		}
	}
	return nil
}

// gateOf is the backup a restore step restores: the target's own gate
// (rollback), or the backup of another lane the step names (clone).
func gateOf(rt drivers.Runtime, c plan.Change) *state.Gate {
	if str(c.After, "source") == "" {
		return rt.Gate()
	}
	return &state.Gate{Record: str(c.After, "gate"), Provider: c.Provider, Database: str(c.After, "database"),
		BackupID: str(c.After, "backup_id"), Location: str(c.After, "location")}
}

// restoreStep restores the gate a rollback plan names, before the app goes
// back to the older image; or, for a clone, stops the app and restores
// another lane's backup into this target's database.
func restoreStep(ctx context.Context, rt drivers.Runtime, c plan.Change) (state.Evidence, state.ChangeOutcome, error) {
	g := gateOf(rt, c)
	clone := str(c.After, "source") != ""
	if !clone && (g == nil || g.Record != str(c.After, "gate")) {
		return nil, "", fmt.Errorf("the gate to restore (%s) is no longer the target's gate: plan the rollback again", str(c.After, "gate"))
	}
	inst, err := rt.Provider(c.Provider)
	if err != nil {
		return nil, "", err
	}
	restore := restorer(inst, rt.Target(), g)
	if restore == nil {
		return nil, "", fmt.Errorf("provider %s cannot restore backups", c.Provider)
	}
	ev := state.RestoreEvidence{Gate: g.Record, BackupID: g.BackupID, Location: g.Location}
	if clone {
		ev.Source = str(c.After, "source")
		ref := providers.AppRef{Target: rt.Target(), Name: str(c.After, "app")}
		if err := inst.(providers.Stopper).Stop(ctx, ref); err != nil {
			return ev, "", providers.Wrap(c.Provider, "stop", rt.Target(), err)
		}
		ev.AppStopped = true
		rt.SetFact(factSanitized, "")
		rt.SetFact(factClonePending, rt.Record())
	}
	if err := restore(ctx); err != nil {
		return ev, "", providers.Wrap(c.Provider, "restore", rt.Target(), err)
	}
	if clone {
		return ev, state.OutcomeDone, nil
	}
	if app := rt.Change(rt.Target() + "/app"); app != nil {
		a, err := plan.AppOf(app.After)
		if err != nil {
			return ev, "", fmt.Errorf("%s: %w", app.Address, err)
		}
		rt.SetFact(factMigrated, a.Image)
	}
	return ev, state.OutcomeDone, nil
}

func needsOperator(g *state.Gate, why string) drivers.Verdict {
	var ev state.RestoreByHand
	reason := why + "; the database may not match the previous image, so it was not redeployed"
	if g != nil {
		ev.Gate, ev.Location = g.Record, g.Location
		reason += fmt.Sprintf(": restore backup %s (%s) by hand, then roll back", g.BackupID, g.Location)
	}
	return drivers.Verdict{Status: state.StatusNeedsOperator, Reason: reason, Evidence: ev}
}

// NeutralizeCommand is the job that neutralizes a database cloned from
// prod (the sanitize step runs it in the app's runtime): no mail,
// no crons, no payment providers reach real customers.
func NeutralizeCommand(db string) []string { return []string{"odoo", "neutralize", "-d", db} }

// sanitizeStep runs odoo neutralize on the database a clone restored,
// while the app is still stopped, then starts the app. If it fails the
// app stays stopped: a database with prod data is never served
// un-neutralized.
func sanitizeStep(ctx context.Context, rt drivers.Runtime, c plan.Change) (state.Evidence, state.ChangeOutcome, error) {
	inst, err := rt.Provider(c.Provider)
	if err != nil {
		return nil, "", err
	}
	jobs, ok := inst.(providers.Jobs)
	if !ok {
		return nil, "", fmt.Errorf("provider %s cannot run jobs", c.Provider)
	}
	cmd := NeutralizeCommand(str(c.After, "database"))
	ref := providers.AppRef{Target: rt.Target(), Name: str(c.After, "app")}
	res, err := jobs.RunJob(ctx, providers.Job{Target: rt.Target(), AppName: ref.Name, Name: "sanitize", Command: cmd})
	ev := state.SanitizeEvidence{Command: strings.Join(cmd, " "), ExitCode: res.ExitCode, Job: res.ID}
	if err != nil {
		ev.App = "left stopped: the database holds un-neutralized data"
		return ev, "", fmt.Errorf("neutralize: %w (the app stays stopped)", err)
	}
	rt.SetFact(factSanitized, rt.Record())
	rt.SetFact(factClonePending, "")
	if st, ok := inst.(providers.Stopper); ok {
		if err := st.Start(ctx, ref); err != nil {
			return ev, "", providers.Wrap(c.Provider, "start", rt.Target(), err)
		}
		ev.App = "started"
	}
	return ev, state.OutcomeDone, nil
}
