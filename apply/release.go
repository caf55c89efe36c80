package apply

import (
	"context"
	"fmt"
	"github.com/launchplane/launchplane/policy"
	"strings"
	"time"

	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
)

// Release clears a needs-operator target after a person fixed what the
// record describes, writing a release record with their reason. The
// target's next apply deploys it again.
func Release(ctx context.Context, o Options, key, reason string) (record, commit string, err error) {
	if err := o.Grant.Require(o.Snapshot, policy.ActionRelease, []string{key}); err != nil {
		return "", "", err
	}
	if strings.TrimSpace(reason) == "" {
		return "", "", fmt.Errorf("a release needs --reason: say what was fixed")
	}
	ts, err := state.ReadTarget(o.Snapshot, key)
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
	rec := &state.Record{FormatVersion: state.FormatVersion, ID: state.NewRecordID(state.KindRelease, key, now), Kind: state.KindRelease, Target: key,
		Actor: o.Actor, Started: now, Finished: now, Outcome: state.RecordSuccess, Image: ts.Image, Reason: reason,
		Evidence: state.ReleaseEvidence{NeedsOperator: ts.NeedsOperator}, Changes: []state.RecordChange{}}
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
// commit. Both are typed values that hold no secret: never redacted.
func commitRecord(ctx context.Context, o Options, key string, ts *state.TargetState, rec *state.Record, msg string) (string, error) {
	rc, err := recordChange(key, rec)
	if err != nil {
		return "", err
	}
	tc, err := targetChange(key, ts)
	if err != nil {
		return "", err
	}
	changes := []state.Change{rc, tc}
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

// RecordDenial writes a "denied" record for each key: the policy refused
// the request, and the evidence says who asked and why it was refused. It
// changes no target, so it conflicts with no other writer.
func RecordDenial(ctx context.Context, store state.Store, snap state.Snapshot, keys []string, actor string, now time.Time, red *redact.Redactor, reason string, evidence *state.PolicyEvidence) error {
	var changes []state.Change
	var ids []string
	for _, key := range keys {
		rec := &state.Record{FormatVersion: state.FormatVersion, ID: state.NewRecordID(state.KindDenied, key, now), Kind: state.KindDenied, Target: key,
			Actor: actor, Started: now, Finished: now, Outcome: state.RecordDenied, Reason: red.String(reason), Evidence: policyEvidence(evidence), Changes: []state.RecordChange{}}
		ids = append(ids, rec.ID)
		ch, err := recordChange(key, rec)
		if err != nil {
			return err
		}
		changes = append(changes, ch)
	}
	_, err := store.Commit(ctx, state.Write{
		Base: snap.Commit(), Changes: changes, Message: "launchplane: denied by policy",
		Trailers: []state.Trailer{{Key: "Launchplane-Actor", Value: actor}, {Key: "Launchplane-Records", Value: strings.Join(ids, ", ")}},
		Author:   state.Signature{Name: "launchplane", Email: "launchplane@localhost", When: now},
	})
	return err
}

// policyEvidence is ev as a record's evidence: none for nil.
func policyEvidence(ev *state.PolicyEvidence) state.Evidence {
	if ev == nil {
		return nil
	}
	return *ev
}
