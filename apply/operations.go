package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// StepPlan is a plan of one target's step of kind (a standalone backup
// gate): the step as the driver expands it, to run now.
func StepPlan(cfg *config.Config, snap state.Snapshot, key, kind, reason string) (*plan.Plan, error) {
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

// Release clears a needs-operator target after a person fixed what the
// record describes, writing a release record with their reason. The
// target's next apply deploys it again.
func Release(ctx context.Context, o Options, key, reason string) (record, commit string, err error) {
	if strings.TrimSpace(reason) == "" {
		return "", "", fmt.Errorf("a release needs --reason: say what was fixed")
	}
	ts, err := ReadTarget(o.Snapshot, key)
	if err != nil {
		return "", "", err
	}
	if ts == nil {
		return "", "", fmt.Errorf("no recorded state for %s", key)
	}
	if ts.Status != state.StatusNeedsOperator {
		return "", "", fmt.Errorf("%s is %s, not %s: nothing to release", key, ts.Status, state.StatusNeedsOperator)
	}
	now := o.Now()
	rec := &state.Record{FormatVersion: state.FormatVersion, ID: state.NewRecordID("release", key, now), Kind: "release", Target: key,
		Actor: o.Actor, Started: now, Finished: now, Outcome: "success", Image: ts.Image, Reason: reason,
		Evidence: map[string]any{"needs_operator": ts.NeedsOperator}, Changes: []state.RecordChange{}}
	next := *ts
	// Still failed: the next apply checks health again before calling the
	// target healthy.
	next.Status, next.NeedsOperator = state.StatusFailed, ""
	next.Sequence++
	rec.Sequence = next.Sequence
	next.LastRecord, next.UpdatedAt = rec.ID, now
	commit, err = commitRecord(ctx, o, key, &next, rec, "launchplane: release "+key)
	return rec.ID, commit, err
}

// commitRecord writes one target's new state and one record in one
// commit, redacted.
func commitRecord(ctx context.Context, o Options, key string, ts *state.TargetState, rec *state.Record, msg string) (string, error) {
	changes := []state.Change{
		{Path: state.RecordPath(key, rec.ID), Data: o.Redactor.Bytes(encode(rec))},
		{Path: state.TargetPath(key), Data: o.Redactor.Bytes(encode(ts))},
	}
	sha, err := o.Store.Commit(ctx, state.Write{
		Base: o.Snapshot.Commit(), Changes: changes, Scopes: scopes([]string{key}), Message: msg,
		Trailers: []state.Trailer{{Key: "Launchplane-Actor", Value: o.Actor}, {Key: "Launchplane-Records", Value: rec.ID}},
		Author:   state.Signature{Name: "launchplane", Email: "launchplane@localhost", When: o.Now()},
	})
	if err != nil {
		return "", fmt.Errorf("record %s: %w", rec.ID, err)
	}
	return sha, nil
}
