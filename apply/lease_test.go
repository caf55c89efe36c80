package apply

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/state"
)

// A second apply of a target while a first one holds it (its in-flight
// mark committed and live, its changes under way) is refused before any
// mutation: whether it read the state after the mark (the lease check)
// or before it (the scoped compare-and-swap of its own mark). The second
// apply runs from inside the first one's progress callback, so the
// interleaving is exact, with no sleeps.
func TestRunSecondApplyRefusedWhileFirstHoldsTarget(t *testing.T) {
	fx := newFixture(t)
	fx.mustApply(fx.Load(), nil)
	fx.SetImage("prod", testfixture.NewImg)
	cfg := fx.Load()
	prodOnly := map[string]bool{"shop/prod": true}
	before := fx.Snap() // what a second apply that started earlier read
	planBefore := fx.plan(cfg, prodOnly)

	var once sync.Once
	type outcome struct {
		name        string
		err         error
		worldBefore []byte
		worldAfter  []byte
		sawLiveMark bool
	}
	var got []outcome
	second := func() {
		for _, tc := range []struct {
			name string
			snap func() (state.Snapshot, error)
		}{
			{"read after the mark", func() (state.Snapshot, error) { return fx.Store.Snapshot(context.Background()) }},
			{"read before the mark", func() (state.Snapshot, error) { return before, nil }},
		} {
			o := outcome{name: tc.name}
			sn, err := tc.snap()
			if err != nil {
				o.err = err
				got = append(got, o)
				continue
			}
			if ts, _ := state.ReadTarget(sn, "shop/prod"); ts != nil && ts.InFlight.Live(testfixture.FixedNow) {
				o.sawLiveMark = true
			}
			p, _, err := planner.Plan(cfg, sn, prodOnly)
			if err != nil {
				o.err = err
				got = append(got, o)
				continue
			}
			if tc.name == "read before the mark" {
				p = planBefore
			}
			opts := fx.options(cfg, p)
			opts.Snapshot, opts.Actor, opts.Events = sn, "bob", func(Event) {}
			o.worldBefore = fx.WorldBytes()
			_, o.err = Run(context.Background(), opts)
			o.worldAfter = fx.WorldBytes()
			got = append(got, o)
		}
	}
	res, errFirst := fx.apply(cfg, func(o *Options) {
		o.Plan = fx.plan(cfg, prodOnly)
		events := o.Events
		o.Events = func(e Event) {
			if e.Kind == StepStart && e.Address == "shop/prod/app" {
				once.Do(second)
			}
			events(e)
		}
	})
	if len(got) != 2 {
		t.Fatalf("the second apply did not run during the first: %+v", got)
	}
	if !got[0].sawLiveMark {
		t.Fatalf("the state read during the first apply holds no live mark for shop/prod")
	}
	for _, o := range got {
		if !errors.Is(o.err, state.ErrConflict) {
			t.Errorf("second apply (%s): %v, want a state conflict", o.name, o.err)
		}
		if !bytes.Equal(o.worldBefore, o.worldAfter) {
			t.Errorf("second apply (%s) changed the world", o.name)
		}
	}
	if !strings.Contains(errString(got[0].err), "tester") {
		t.Errorf("refusal does not name the holder: %v", got[0].err)
	}
	if errFirst != nil || len(res.Failed) > 0 {
		t.Fatalf("the first apply: %v (failed %v)", errFirst, res)
	}
	ts := fx.Target("shop/prod")
	if ts.Image != testfixture.NewImg || ts.InFlight != nil || ts.LastRecord != res.Records["shop/prod"] {
		t.Errorf("after the first apply: image %s, in flight %+v, last record %s", ts.Image, ts.InFlight, ts.LastRecord)
	}
	for _, rec := range fx.Records("shop/prod") {
		if rec.Actor == "bob" {
			t.Errorf("the refused apply wrote record %s", rec.ID)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
