package apply

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/state"
)

// everyAction is what the fixture's options grant: the tests of the
// executor's work run with a grant of every action on their targets.
var everyAction = []string{policy.ActionApply, policy.ActionDestroy, policy.ActionRollback, policy.ActionPreview,
	policy.ActionBackup, policy.ActionClone, policy.ActionRelease, policy.ActionUnlock}

// grant asks the policy in snap (the fixture's state has none) for each
// action on keys, as the operation runner does.
func grant(t testing.TB, snap state.Snapshot, keys []string, actions ...string) *policy.Grant {
	t.Helper()
	loaded, _, err := policy.Load(snap)
	if err != nil {
		t.Fatal(err)
	}
	var g *policy.Grant
	for _, a := range actions {
		ga, _, err := loaded.Authorize(nil, policy.Ask{Action: a, Targets: keys, DestroyWithoutPolicy: true})
		if err != nil {
			t.Fatal(err)
		}
		if g == nil {
			g = ga
		} else {
			g = g.Join(ga)
		}
	}
	return g
}

// grantAll grants every action on p's targets and the fixture's.
func grantAll(t testing.TB, snap state.Snapshot, p *plan.Plan) *policy.Grant {
	keys := append([]string{"shop/prod", "shop/testing"}, p.Targets()...)
	return grant(t, snap, keys, everyAction...)
}

// refused checks that err is the executor's refusal and that nothing
// changed: no state commit, no provider call, no event.
func (fx *fixture) refused(t *testing.T, err error, tip string, world []byte) {
	t.Helper()
	if !errors.Is(err, policy.ErrNotAuthorized) {
		t.Fatalf("err %v, want a refusal wrapping ErrNotAuthorized", err)
	}
	if got := fx.tip(); got != tip {
		t.Errorf("state moved from %s to %s", tip, got)
	}
	if got := fx.worldBytes(); !bytes.Equal(got, world) {
		t.Errorf("the providers were called:\n%s", got)
	}
	if ev := fx.takeEvents(); len(ev) != 0 {
		t.Errorf("events %v", ev)
	}
}

// A Go caller that skips the policy check cannot run a plan: Run refuses
// a missing grant, and a grant that does not cover every target of the
// plan, or not the action of the records' kind.
func TestRunRefusesWithoutCoveringGrant(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.load()
	p := fx.plan(cfg, nil)
	snap := fx.snap()
	cases := []struct {
		name  string
		kind  state.RecordKind
		grant *policy.Grant
	}{
		{"no grant", "", nil},
		{"a zero grant", "", &policy.Grant{}},
		{"apply of one target, plan of two", "", grant(t, snap, []string{"shop/testing"}, policy.ActionApply)},
		{"apply of another product", "", grant(t, snap, []string{"blog/prod", "blog/testing"}, policy.ActionApply)},
		{"destroy is not apply", "", grant(t, snap, fxKeys, policy.ActionDestroy)},
		{"apply is not rollback", "rollback", grant(t, snap, fxKeys, policy.ActionApply)},
		{"apply is not backup", "backup", grant(t, snap, fxKeys, policy.ActionApply)},
		{"apply is not clone", "clone", grant(t, snap, fxKeys, policy.ActionApply)},
		{"apply is not preview", "preview", grant(t, snap, fxKeys, policy.ActionApply)},
		{"preview is not apply", "", grant(t, snap, fxKeys, policy.ActionPreview)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fx.options(cfg, p)
			o.Kind, o.Grant = tc.kind, tc.grant
			tip, world := fx.tip(), fx.worldBytes()
			_, err := Run(context.Background(), o)
			fx.refused(t, err, tip, world)
		})
	}
	// the same plan runs with the grant it needs
	o := fx.options(cfg, p)
	o.Grant = grant(t, snap, fxKeys, policy.ActionApply)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

// Deleting a target's app is destroy: a grant of apply does not do it.
func TestRunDestroyNeedsDestroyGrant(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.load()
	fx.mustApply(cfg, nil)
	if err := os.Remove(filepath.Join(fx.dir, "prod.yaml")); err != nil {
		t.Fatal(err)
	}
	cfg = fx.load()
	p := fx.plan(cfg, nil)
	if got := p.Targets(); len(got) != 1 || got[0] != "shop/prod" {
		t.Fatalf("plan targets %v", got)
	}
	fx.takeEvents()
	o := fx.options(cfg, p)
	o.Grant = grant(t, fx.snap(), fxKeys, policy.ActionApply)
	tip, world := fx.tip(), fx.worldBytes()
	_, err := Run(context.Background(), o)
	fx.refused(t, err, tip, world)

	o.Grant = grant(t, fx.snap(), []string{"shop/prod"}, policy.ActionDestroy)
	res, err := Run(context.Background(), o)
	if err != nil || len(res.Failed) != 0 {
		t.Fatalf("destroy with its grant: %v %+v", err, res)
	}
}

// A grant is decided with the policy of the state repository: one made
// before a policy.yaml was committed (or from a forged, empty Loaded)
// does not run on the state that has it.
func TestRunRefusesGrantOfAnotherPolicy(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.load()
	p := fx.plan(cfg, nil)
	g := grant(t, fx.snap(), fxKeys, policy.ActionApply)
	forged, _, err := (&policy.Loaded{}).Authorize(nil, policy.Ask{Action: policy.ActionApply, Targets: fxKeys})
	if err != nil {
		t.Fatal(err)
	}
	withPolicy := policySnap{Snapshot: fx.snap(), policy: "apiVersion: launchplane.dev/v1\nkind: Policy\nmetadata: {name: default}\nspec:\n  rules: []\n"}
	for name, g := range map[string]*policy.Grant{"made before the policy": g, "forged Loaded": forged} {
		t.Run(name, func(t *testing.T) {
			o := fx.options(cfg, p)
			o.Snapshot, o.Grant = withPolicy, g
			tip, world := fx.tip(), fx.worldBytes()
			_, err := Run(context.Background(), o)
			fx.refused(t, err, tip, world)
		})
	}
}

// policySnap is a snapshot of the state repository that holds a
// policy.yaml (the store refuses to write one: it is the operators').
type policySnap struct {
	state.Snapshot
	policy string
}

func (s policySnap) ReadFile(path string) ([]byte, error) {
	if path == policy.File {
		return []byte(s.policy), nil
	}
	return s.Snapshot.ReadFile(path)
}

// Release and Unlock refuse without a grant of their own action on
// their target.
func TestReleaseAndUnlockRefuseWithoutGrant(t *testing.T) {
	fx := newFixture(t)
	snap := fx.snap()
	o := fx.options(fx.load(), &plan.Plan{})
	for name, g := range map[string]*policy.Grant{
		"none":           nil,
		"apply":          grant(t, snap, fxKeys, policy.ActionApply),
		"other target":   grant(t, snap, []string{"shop/testing"}, policy.ActionRelease, policy.ActionUnlock),
		"unlock/release": nil, // set below
	} {
		t.Run(name, func(t *testing.T) {
			o.Grant = g
			if name == "unlock/release" {
				o.Grant = grant(t, snap, []string{"shop/prod"}, policy.ActionUnlock)
			}
			tip := fx.tip()
			_, _, err := Release(context.Background(), o, "shop/prod", "fixed")
			if !errors.Is(err, policy.ErrNotAuthorized) {
				t.Errorf("Release: %v, want a refusal", err)
			}
			if name == "unlock/release" {
				o.Grant = grant(t, snap, []string{"shop/prod"}, policy.ActionRelease)
			}
			_, _, _, err = Unlock(context.Background(), o, "shop/prod", "dead")
			if !errors.Is(err, policy.ErrNotAuthorized) {
				t.Errorf("Unlock: %v, want a refusal", err)
			}
			if fx.tip() != tip {
				t.Error("the state moved")
			}
		})
	}
	// with their grant they get past it (to "nothing to release/unlock")
	o.Grant = grant(t, snap, []string{"shop/prod"}, policy.ActionRelease, policy.ActionUnlock)
	if _, _, err := Release(context.Background(), o, "shop/prod", "fixed"); errors.Is(err, policy.ErrNotAuthorized) || err == nil {
		t.Errorf("Release with its grant: %v", err)
	}
	if _, _, _, err := Unlock(context.Background(), o, "shop/prod", "dead"); errors.Is(err, policy.ErrNotAuthorized) || err == nil {
		t.Errorf("Unlock with its grant: %v", err)
	}
}
