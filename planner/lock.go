package planner

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/launchplane/launchplane/state"
)

// LiveHolders says, for each of keys that another apply holds at now (an
// unexpired in-flight mark), who holds it and until when; nil when none is
// held.
func LiveHolders(snap state.Snapshot, keys []string, now time.Time) ([]string, error) {
	var out []string
	for _, key := range keys {
		ts, err := state.ReadTarget(snap, key)
		if err != nil {
			return nil, err
		}
		if ts != nil && ts.InFlight.Live(now) {
			out = append(out, state.HolderText(key, ts.InFlight))
		}
	}
	return out, nil
}

// InFlightNotes are the plan's notes on in-flight marks: a live one names
// its holder and until when it holds the target (apply refuses until
// then); an expired one did not finish and the next apply reconciles it.
func InFlightNotes(states map[string]*state.TargetState, now time.Time) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(states)) {
		for _, f := range states[key].Interrupted {
			out = append(out, fmt.Sprintf("%s: the apply of %s started %s was cut off by %s (record %s); the next apply of %s records it as interrupted",
				key, f.Actor, f.Started.UTC().Format("2006-01-02 15:04:05Z"), orUnlock(f.UnlockedBy), f.Record, key))
		}
		f := states[key].InFlight
		switch {
		case f == nil:
		case f.Live(now):
			out = append(out, fmt.Sprintf("%s; apply refuses it until then (apply --lock-timeout D waits for it; if that apply is dead, 'launchplane unlock %s --reason TEXT' clears the mark)", state.HolderText(key, f), key))
		default:
			out = append(out, fmt.Sprintf("%s: an apply started %s by %s did not finish (record %s, its mark expired %s); the next apply reconciles it",
				key, f.Started.UTC().Format("2006-01-02 15:04:05Z"), f.Actor, f.Record, f.Expires.UTC().Format(time.RFC3339)))
		}
	}
	return out
}

func orUnlock(id string) string {
	if id == "" {
		return "a later apply"
	}
	return id
}
