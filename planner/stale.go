package planner

import (
	"context"
	"fmt"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// CheckStale refuses a saved plan made for another config, or for a
// state of one of its targets that has changed since (SPEC §4): the
// checks Run makes of a saved plan, for a caller that must make them
// before re-planning to bind the plan.
func CheckStale(ctx context.Context, store state.Store, snap state.Snapshot, cfg *config.Config, p *plan.Plan) error {
	if cfg.Digest != p.Base.ConfigDigest {
		return fmt.Errorf("the config changed since the plan was made (%s, plan has %s): %w", short(cfg.Digest), short(p.Base.ConfigDigest), plan.ErrStale)
	}
	if snap.Commit() == p.Base.StateCommit {
		return nil
	}
	baseSnap, err := store.SnapshotAt(ctx, p.Base.StateCommit)
	if err != nil {
		return fmt.Errorf("the plan's state commit %s: %v: %w", short(p.Base.StateCommit), err, plan.ErrStale)
	}
	for _, t := range p.Targets() {
		if state.TargetChanged(baseSnap, snap, t) {
			return fmt.Errorf("the state of %s changed since the plan was made (state commit %s, now %s): %w", t, short(p.Base.StateCommit), short(snap.Commit()), plan.ErrStale)
		}
	}
	return nil
}

func short(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
