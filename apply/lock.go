package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/state"
)

// Unlock clears key's in-flight mark at once (like terraform
// force-unlock) and records who unlocked it, why, and whose apply it cut
// off. The cut-off apply's announced record is written, with outcome
// interrupted, by the next apply of the target.
func Unlock(ctx context.Context, o Options, key, reason string) (record, commit string, cut *state.InFlight, err error) {
	if err := o.Grant.Require(o.Snapshot, policy.ActionUnlock, []string{key}); err != nil {
		return "", "", nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return "", "", nil, fmt.Errorf("unlock needs --reason: say why the apply holding %s is known to be dead", key)
	}
	ts, err := state.ReadTarget(o.Snapshot, key)
	if err != nil {
		return "", "", nil, err
	}
	if ts == nil || ts.InFlight == nil {
		return "", "", nil, fmt.Errorf("%s is not held by any apply: nothing to unlock", key)
	}
	now := o.Now()
	f := *ts.InFlight
	rec := &state.Record{FormatVersion: state.FormatVersion, ID: state.NewRecordID(state.KindUnlock, key, now), Kind: state.KindUnlock, Target: key,
		Actor: o.Actor, Started: now, Finished: now, Outcome: state.RecordSuccess, Reason: reason, Changes: []state.RecordChange{},
		Evidence: state.UnlockEvidence{CutOff: state.CutOff(f, f.Live(now)), Policy: o.Authorization}}
	next := *ts
	f.UnlockedBy = rec.ID
	next.Interrupted = append(slices.Clone(ts.Interrupted), f)
	next.InFlight = nil
	next.Sequence++
	rec.Sequence = next.Sequence
	next.LastRecord, next.UpdatedAt = rec.ID, now
	commit, err = commitRecord(ctx, o, key, &next, rec, "launchplane: unlock "+key)
	return rec.ID, commit, &f, err
}

// interruptedRuns are the applies of a target that never finished: those
// an unlock cut off, and a mark left by a killed one (preflight lets only
// an expired mark through).
func interruptedRuns(old *state.TargetState) []state.InFlight {
	if old == nil {
		return nil
	}
	runs := slices.Clone(old.Interrupted)
	if old.InFlight != nil {
		runs = append(runs, *old.InFlight)
	}
	return runs
}

// interruptedRecord is the record an apply announced and never wrote,
// written by the apply by that reconciles it.
func interruptedRecord(key string, f state.InFlight, by string, now time.Time) *state.Record {
	ev := state.InterruptedEvidence{ReconciledBy: by, Expires: state.Second{Time: f.Expires}, UnlockedBy: f.UnlockedBy}
	why := "the apply did not finish (its process stopped before recording an outcome)"
	if f.UnlockedBy != "" {
		why = "the apply did not finish: its in-flight mark was cleared by " + f.UnlockedBy
	}
	return &state.Record{FormatVersion: state.FormatVersion, ID: f.Record, Kind: recordKind(f.Record), Target: key, Plan: f.Plan,
		Actor: f.Actor, Started: f.Started, Finished: now, Outcome: state.RecordInterrupted, Reason: why + "; reconciled by " + by,
		Changes: []state.RecordChange{}, Evidence: ev}
}

// recordKind is the kind a record id starts with (SPEC §3:
// <kind>-<time>-…), a deployment when it names no known kind.
func recordKind(id string) state.RecordKind {
	if k, ok := state.KindOfID(id); ok {
		return k
	}
	return state.KindDeployment
}
