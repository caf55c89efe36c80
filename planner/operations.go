package planner

import (
	"fmt"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// StepPlan is a plan of one target's step of kind (a standalone backup
// gate): the step as the driver expands it, to run now.
func StepPlan(cfg *config.Config, snap state.Snapshot, key string, kind plan.Kind, reason string) (*plan.Plan, error) {
	d, err := Desired(cfg, map[string]bool{key: true})
	if err != nil {
		return nil, err
	}
	dt := d.Targets[key]
	if dt == nil {
		return nil, fmt.Errorf("no target %s in the config", key)
	}
	for _, s := range dt.Steps {
		if s.Kind == kind {
			c := plan.Change{Address: s.Address, Target: key, Kind: kind, Action: plan.Run, Reason: reason, Provider: s.Provider, After: s.Attrs,
				IdempotencyKey: plan.IdempotencyKey(key, plan.Run, s.Attrs)}
			return &plan.Plan{Base: plan.Base{StateCommit: snap.Commit(), ConfigDigest: cfg.Digest}, Changes: []plan.Change{c}}, nil
		}
	}
	return nil, fmt.Errorf("%s has no %s step: its driver or config does not ask for one", key, kind)
}

// RollbackTarget decides the image a rollback of key goes to: the image
// of record (a successful deployment or rollback record of the target),
// else the previous healthy one: the healthy image when the current one
// failed, the one before it when the current one is healthy.
func RollbackTarget(snap state.Snapshot, key, record string) (to string, ts *state.TargetState, err error) {
	ts, err = state.ReadTarget(snap, key)
	if err != nil {
		return "", nil, err
	}
	if ts == nil || ts.Image == "" {
		return "", nil, fmt.Errorf("%s has no recorded deployment to roll back", key)
	}
	switch {
	case record != "":
		rec, err := state.ReadRecord(snap, key, record)
		if err != nil {
			return "", nil, err
		}
		if (rec.Kind != state.KindDeployment && rec.Kind != state.KindRollback) || rec.Outcome != state.RecordSuccess || rec.Image == "" {
			return "", nil, fmt.Errorf("record %s is a %s %s with image %q: only a successful deployment or rollback can be rolled back to", record, rec.Outcome, rec.Kind, rec.Image)
		}
		to = rec.Image
	case ts.Image != ts.HealthyImage:
		to = ts.HealthyImage
	default:
		to = ts.PreviousHealthyImage
	}
	if to == "" {
		return "", nil, fmt.Errorf("%s has no previous healthy image to roll back to (give --to RECORD_ID)", key)
	}
	if to == ts.Image {
		return "", nil, fmt.Errorf("%s already runs %s", key, to)
	}
	return to, ts, nil
}

// RollbackPlan is the plan of a rollback of key to image: the recorded
// resources as they are, the app on image, and the driver's rollback
// steps (health, a restore). Pending config changes are not part of it.
func RollbackPlan(cfg *config.Config, snap state.Snapshot, key, image string) (*plan.Plan, error) {
	ts, err := state.ReadTarget(snap, key)
	if err != nil {
		return nil, err
	}
	d, err := Desired(cfg, map[string]bool{key: true})
	if err != nil {
		return nil, err
	}
	dt := d.Targets[key]
	if dt == nil || ts == nil {
		return nil, fmt.Errorf("%s is not both in the config and in the state repository", key)
	}
	product, _ := state.SplitKey(key)
	drv, ok := drivers.Lookup(cfg.Product(product).Spec.Driver)
	if !ok {
		return nil, fmt.Errorf("%s: driver %s is not built into this binary", key, cfg.Product(product).Spec.Driver)
	}
	var resources []plan.Resource
	var app plan.Resource
	found := false
	for _, r := range ts.Resources {
		res := plan.Resource{Address: r.Address, Target: key, Kind: r.Kind, Provider: r.Provider, Attrs: r.Attrs}
		if r.Kind == plan.KindApp {
			a, err := plan.AppOf(r.Attrs)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", state.TargetPath(key), r.Address, err)
			}
			a.Image = image
			res.Attrs = a.Attrs()
			app, found = res, true
		}
		resources = append(resources, res)
	}
	if !found {
		return nil, fmt.Errorf("%s has no recorded app", key)
	}
	steps, err := drv.RollbackSteps(dt, app, ts)
	if err != nil {
		return nil, err
	}
	recorded, _, err := Recorded(snap, map[string]bool{key: true})
	if err != nil {
		return nil, err
	}
	want := plan.Desired{Targets: map[string]*plan.DesiredTarget{key: {Key: key, Resources: resources, Steps: steps}}}
	p := plan.Diff(want, recorded, plan.Base{StateCommit: snap.Commit(), ConfigDigest: cfg.Digest})
	for i := range p.Changes {
		if p.Changes[i].Kind == plan.KindApp && p.Changes[i].Action != plan.NoOp {
			p.Changes[i].Reason = "rollback to " + image
		}
	}
	return p, nil
}

// ClonePlan is the plan of a clone of product's from-lane database into
// its to-lane: restore the from-lane's backup gate (or the backup-gate
// record given) into the to-lane's database and make it safe to serve
// (the driver's clone steps, drivers.Cloner), then check health. Only
// drivers that can clone do, and never into prod.
func ClonePlan(cfg *config.Config, snap state.Snapshot, product, from, to, gateRecord string) (*plan.Plan, error) {
	if to == "prod" {
		return nil, fmt.Errorf("refusing to clone into prod: clones go from prod to a lane that is neutralized")
	}
	if from == to {
		return nil, fmt.Errorf("--from and --to are both %s", to)
	}
	p := cfg.Product(product)
	if p == nil {
		return nil, fmt.Errorf("no product %s in the config", product)
	}
	drv, _ := drivers.Lookup(p.Spec.Driver)
	cloner, ok := drv.(drivers.Cloner)
	if !ok {
		return nil, fmt.Errorf("product %s's driver %s does not sanitize cloned databases: it cannot clone", product, p.Spec.Driver)
	}
	key, fromKey := product+"/"+to, product+"/"+from
	ts, err := state.ReadTarget(snap, key)
	if err != nil {
		return nil, err
	}
	if cfg.Target(product, to) == nil || ts == nil {
		return nil, fmt.Errorf("%s must be in the config and deployed before a clone into it", key)
	}
	g, err := cloneSource(snap, fromKey, gateRecord)
	if err != nil {
		return nil, err
	}
	d, err := Desired(cfg, map[string]bool{key: true})
	if err != nil {
		return nil, err
	}
	var recordedApp *state.Resource
	for i, r := range ts.Resources {
		if r.Kind == plan.KindApp {
			recordedApp = &ts.Resources[i]
		}
	}
	if recordedApp == nil {
		return nil, fmt.Errorf("%s has no recorded app", key)
	}
	app, err := plan.AppOf(recordedApp.Attrs)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", state.TargetPath(key), recordedApp.Address, err)
	}
	changes, err := cloner.CloneSteps(drivers.CloneRequest{From: fromKey, To: key, Provider: cfg.Target(product, to).Spec.Deploy.Provider, App: app, Gate: *g})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", state.TargetPath(key), err)
	}
	for _, s := range d.Targets[key].Steps {
		if s.Kind == plan.KindHealth {
			changes = append(changes, plan.Change{Address: s.Address, Target: key, Kind: s.Kind, Action: plan.Run, Provider: s.Provider, After: s.Attrs, Reason: "the app restarted on the cloned database"})
		}
	}
	for i := range changes {
		changes[i].IdempotencyKey = plan.IdempotencyKey(key, plan.Run, changes[i].After)
		if i > 0 {
			changes[i].DependsOn = []string{changes[i-1].Address}
		}
	}
	return &plan.Plan{Base: plan.Base{StateCommit: snap.Commit(), ConfigDigest: cfg.Digest}, Changes: changes}, nil
}

// cloneSource is the backup a clone restores: the from-lane's gate, or a
// backup-gate record of it.
func cloneSource(snap state.Snapshot, fromKey, record string) (*state.Gate, error) {
	if record == "" {
		ts, err := state.ReadTarget(snap, fromKey)
		if err != nil {
			return nil, err
		}
		if ts == nil || ts.Gate == nil {
			product, lane := state.SplitKey(fromKey)
			return nil, fmt.Errorf("%s has no backup gate to clone from: take one with 'launchplane backup %s %s'", fromKey, product, lane)
		}
		return ts.Gate, nil
	}
	rec, err := state.ReadRecord(snap, fromKey, record)
	if err != nil {
		return nil, err
	}
	if rec.Kind != state.KindBackupGate || rec.Outcome != state.RecordSuccess || rec.Gate == nil {
		return nil, fmt.Errorf("record %s is a %s %s, not a backup gate", record, rec.Outcome, rec.Kind)
	}
	return rec.Gate, nil
}
