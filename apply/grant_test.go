package apply

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/state"
)

// refused checks that err is the executor's refusal and that nothing
// changed: no state commit, no provider call, no event.
func (fx *fixture) refused(t *testing.T, err error, tip string, world []byte) {
	t.Helper()
	if !errors.Is(err, policy.ErrNotAuthorized) {
		t.Fatalf("err %v, want a refusal wrapping ErrNotAuthorized", err)
	}
	if got := fx.Tip(); got != tip {
		t.Errorf("state moved from %s to %s", tip, got)
	}
	if got := fx.WorldBytes(); !bytes.Equal(got, world) {
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
	cfg := fx.Load()
	p := fx.plan(cfg, nil)
	snap := fx.Snap()
	cases := []struct {
		name  string
		kind  state.RecordKind
		grant *policy.Grant
	}{
		{"no grant", "", nil},
		{"a zero grant", "", &policy.Grant{}},
		{"apply of one target, plan of two", "", testfixture.Grant(t, snap, []string{"shop/testing"}, policy.ActionApply)},
		{"apply of another product", "", testfixture.Grant(t, snap, []string{"blog/prod", "blog/testing"}, policy.ActionApply)},
		{"destroy is not apply", "", testfixture.Grant(t, snap, fxKeys, policy.ActionDestroy)},
		{"apply is not rollback", "rollback", testfixture.Grant(t, snap, fxKeys, policy.ActionApply)},
		{"apply is not backup", "backup", testfixture.Grant(t, snap, fxKeys, policy.ActionApply)},
		{"apply is not clone", "clone", testfixture.Grant(t, snap, fxKeys, policy.ActionApply)},
		{"apply is not preview", "preview", testfixture.Grant(t, snap, fxKeys, policy.ActionApply)},
		{"preview is not apply", "", testfixture.Grant(t, snap, fxKeys, policy.ActionPreview)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fx.options(cfg, p)
			o.Kind, o.Grant = tc.kind, tc.grant
			tip, world := fx.Tip(), fx.WorldBytes()
			_, err := Run(context.Background(), o)
			fx.refused(t, err, tip, world)
		})
	}
	// the same plan runs with the grant it needs
	o := fx.options(cfg, p)
	o.Grant = testfixture.Grant(t, snap, fxKeys, policy.ActionApply)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

// Deleting a target's app is destroy: a grant of apply does not do it.
func TestRunDestroyNeedsDestroyGrant(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.mustApply(cfg, nil)
	if err := os.Remove(filepath.Join(fx.Dir, "prod.yaml")); err != nil {
		t.Fatal(err)
	}
	cfg = fx.Load()
	p := fx.plan(cfg, nil)
	if got := p.Targets(); len(got) != 1 || got[0] != "shop/prod" {
		t.Fatalf("plan targets %v", got)
	}
	fx.takeEvents()
	o := fx.options(cfg, p)
	o.Grant = testfixture.Grant(t, fx.Snap(), fxKeys, policy.ActionApply)
	tip, world := fx.Tip(), fx.WorldBytes()
	_, err := Run(context.Background(), o)
	fx.refused(t, err, tip, world)

	o.Grant = testfixture.Grant(t, fx.Snap(), []string{"shop/prod"}, policy.ActionDestroy)
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
	cfg := fx.Load()
	p := fx.plan(cfg, nil)
	g := testfixture.Grant(t, fx.Snap(), fxKeys, policy.ActionApply)
	forged, _, err := (&policy.Loaded{}).Authorize(nil, policy.Ask{Action: policy.ActionApply, Targets: fxKeys})
	if err != nil {
		t.Fatal(err)
	}
	withPolicy := policySnap{Snapshot: fx.Snap(), policy: "apiVersion: launchplane.dev/v1\nkind: Policy\nmetadata: {name: default}\nspec:\n  rules: []\n"}
	for name, g := range map[string]*policy.Grant{"made before the policy": g, "forged Loaded": forged} {
		t.Run(name, func(t *testing.T) {
			o := fx.options(cfg, p)
			o.Snapshot, o.Grant = withPolicy, g
			tip, world := fx.Tip(), fx.WorldBytes()
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
	snap := fx.Snap()
	o := fx.options(fx.Load(), &plan.Plan{})
	for name, g := range map[string]*policy.Grant{
		"none":           nil,
		"apply":          testfixture.Grant(t, snap, fxKeys, policy.ActionApply),
		"other target":   testfixture.Grant(t, snap, []string{"shop/testing"}, policy.ActionRelease, policy.ActionUnlock),
		"unlock/release": nil, // set below
	} {
		t.Run(name, func(t *testing.T) {
			o.Grant = g
			if name == "unlock/release" {
				o.Grant = testfixture.Grant(t, snap, []string{"shop/prod"}, policy.ActionUnlock)
			}
			tip := fx.Tip()
			_, _, err := Release(context.Background(), o, "shop/prod", "fixed")
			if !errors.Is(err, policy.ErrNotAuthorized) {
				t.Errorf("Release: %v, want a refusal", err)
			}
			if name == "unlock/release" {
				o.Grant = testfixture.Grant(t, snap, []string{"shop/prod"}, policy.ActionRelease)
			}
			_, _, _, err = Unlock(context.Background(), o, "shop/prod", "dead")
			if !errors.Is(err, policy.ErrNotAuthorized) {
				t.Errorf("Unlock: %v, want a refusal", err)
			}
			if fx.Tip() != tip {
				t.Error("the state moved")
			}
		})
	}
	// with their grant they get past it (to "nothing to release/unlock")
	o.Grant = testfixture.Grant(t, snap, []string{"shop/prod"}, policy.ActionRelease, policy.ActionUnlock)
	if _, _, err := Release(context.Background(), o, "shop/prod", "fixed"); errors.Is(err, policy.ErrNotAuthorized) || err == nil {
		t.Errorf("Release with its grant: %v", err)
	}
	if _, _, _, err := Unlock(context.Background(), o, "shop/prod", "dead"); errors.Is(err, policy.ErrNotAuthorized) || err == nil {
		t.Errorf("Unlock with its grant: %v", err)
	}
}
