package drivers

import (
	"context"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// bare is a driver with nothing but a descriptor.
type bare struct{ desc Descriptor }

func (b bare) Descriptor() Descriptor { return b.desc }
func (bare) Expand(*config.Config, *config.Target) (*plan.DesiredTarget, error) {
	return nil, nil
}
func (bare) Steps() map[plan.Kind]StepFunc               { return nil }
func (bare) Preflight(Runtime, []plan.Change) error      { return nil }
func (bare) OnRollback(context.Context, Runtime) Verdict { return Verdict{} }
func (bare) RollbackSteps(*plan.DesiredTarget, plan.Resource, *state.TargetState) ([]plan.Step, error) {
	return nil, nil
}

// cloning is a bare driver that implements Cloner.
type cloning struct{ bare }

func (cloning) CloneSteps(CloneRequest) ([]plan.Change, error) { return nil, nil }

// TestRegisterRefusesCloneActionAndClonerDisagreeing: the clone action
// (what policy and `launchplane drivers` show) and the Cloner capability
// (what the planner uses) go together.
func TestRegisterRefusesCloneActionAndClonerDisagreeing(t *testing.T) {
	clone := []Action{{Name: ActionClone, Safety: SafetyDestructive, Doc: "clone"}}
	for _, tc := range []struct {
		name string
		d    Driver
		want string
	}{
		{"declared, not implemented", bare{Descriptor{ID: "t-declared", Actions: clone}}, "declares the clone action but does not implement drivers.Cloner"},
		{"implemented, not declared", cloning{bare{Descriptor{ID: "t-implemented"}}}, "implements drivers.Cloner but declares no clone action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), tc.want) {
					t.Fatalf("Register: panic %v, want one saying %q", r, tc.want)
				}
				if _, ok := Lookup(tc.d.Descriptor().ID); ok {
					t.Fatal("the refused driver was registered")
				}
			}()
			Register(tc.d)
		})
	}
	Register(cloning{bare{Descriptor{ID: "t-both", Actions: clone}}})
	Register(bare{Descriptor{ID: "t-neither"}})
}
