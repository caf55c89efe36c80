package planner

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/redact"
)

// fixture is the shared test fixture (internal/testfixture) the planner's
// tests use: they apply to have recorded state to plan against.
type fixture struct {
	*testfixture.Fixture
	events testfixture.Events[apply.Event]
}

func newFixture(t *testing.T) *fixture {
	return &fixture{Fixture: testfixture.New(t)}
}

func (fx *fixture) plan(cfg *config.Config, only map[string]bool) *plan.Plan {
	fx.T.Helper()
	p, _, err := Plan(cfg, fx.Snap(), only)
	if err != nil {
		fx.T.Fatal(err)
	}
	return p
}

// options are apply.Run's options for cfg and p at the current tip.
func (fx *fixture) options(cfg *config.Config, p *plan.Plan) apply.Options {
	snap := fx.Snap()
	return apply.Options{Config: cfg, Store: fx.Store, Snapshot: snap, Plan: p, Grant: testfixture.GrantAll(fx.T, snap, p), Actor: "tester",
		Now: fx.Now, Getenv: fx.Getenv, Redactor: redact.New(), Events: fx.events.Add}
}

// mustApply plans cfg and runs the plan (mod edits its options),
// expecting every target to succeed.
func (fx *fixture) mustApply(cfg *config.Config, mod func(*apply.Options)) *apply.Result {
	fx.T.Helper()
	o := fx.options(cfg, fx.plan(cfg, nil))
	if mod != nil {
		mod(&o)
	}
	res, err := apply.Run(context.Background(), o)
	if err != nil {
		fx.T.Fatal(err)
	}
	if len(res.Failed) > 0 {
		fx.T.Fatalf("failed targets %v (records %v)", res.Failed, res.Records)
	}
	return res
}

// encode is v as indented JSON.
func encode(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}
