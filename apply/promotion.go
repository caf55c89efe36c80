package apply

import (
	"fmt"
	"strings"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// checkPromotions refuses, before any mutation, an app change of a
// target with spec.promotion whose image is not the image recorded
// healthy on the lane it promotes from. It returns the evidence of each
// checked promotion by target.
func (r *run) checkPromotions(targets []string) (map[string]*state.PromotionEvidence, error) {
	out := map[string]*state.PromotionEvidence{}
	r.linked = map[string]link{}
	var errs []string
	for _, key := range targets {
		product, lane := state.SplitKey(key)
		t := r.o.Config.Target(product, lane)
		if t == nil || t.Spec.Promote == nil {
			continue
		}
		for _, c := range r.o.Plan.Changes {
			if c.Target != key || c.Kind != plan.KindApp || c.Action == plan.NoOp || c.Action == plan.Delete {
				continue
			}
			app, err := plan.AppOf(c.After)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Address, err)
			}
			image := app.Image
			fromKey := product + "/" + t.Spec.Promote.From
			ts, err := state.ReadTarget(r.o.Snapshot, fromKey)
			if err != nil {
				return nil, err
			}
			src := recorded{ts}
			switch {
			case src.healthy() != image && r.plannedImage(fromKey) == image:
				// the from lane gets this image in this run: check it
				// once that lane is applied
				r.linked[key] = link{from: fromKey, image: image}
			case src.healthy() == "":
				errs = append(errs, fmt.Sprintf("%s: promotion from %s: %s has no image recorded healthy, so %s cannot be promoted", key, t.Spec.Promote.From, fromKey, image))
			case src.HealthyImage != image:
				errs = append(errs, fmt.Sprintf("%s: promotion from %s: image %s is not the image recorded healthy on %s (%s); run 'launchplane promote %s --from %s --to %s'", key, t.Spec.Promote.From, image, fromKey, src.HealthyImage, product, t.Spec.Promote.From, lane))
			default:
				out[key] = &state.PromotionEvidence{From: fromKey, Image: image, Record: src.ImageRecord}
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// link is a promotion between two targets of one run.
type link struct{ from, image string }

// recorded is a possibly missing target state.
type recorded struct{ *state.TargetState }

func (r recorded) healthy() string {
	if r.TargetState == nil {
		return ""
	}
	return r.HealthyImage
}

// plannedImage is the image this run's plan gives key's app, "" when it
// does not change it.
func (r *run) plannedImage(key string) string {
	for _, c := range r.o.Plan.Changes {
		if c.Target == key && c.Kind == plan.KindApp && (c.Action == plan.Create || c.Action == plan.Update || c.Action == plan.Replace) {
			// an app that does not decode plans no image: its own
			// change fails on it
			app, _ := plan.AppOf(c.After)
			return app.Image
		}
	}
	return ""
}
