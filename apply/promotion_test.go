package apply

import (
	"bytes"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/providers/fake"
	"github.com/launchplane/launchplane/state"
)

// setPromoted points prod at image, promoted from testing.
func (fx *fixture) setPromoted(image string) {
	fx.Write("prod.yaml", testfixture.TargetYAML("prod", image, "shop.example.com", "www.shop.example.com")+"  promotion: {from: testing}\n")
}

// A prod target with spec.promotion deploys only the exact digest
// recorded healthy on the lane it promotes from: another digest of the
// same repository is refused before any mutation.
func TestRunPromotionNeedsHealthyDigest(t *testing.T) {
	fx := newFixture(t)
	fx.setPromoted(testfixture.OldImg)
	// testing gets oldImg in the same run: prod follows once it is healthy
	res := fx.mustApply(fx.Load(), nil)
	if ev, _ := fx.Record("shop/prod", res.Records["shop/prod"]).Evidence.(state.RunEvidence); ev.Promotion == nil {
		t.Fatalf("prod record has no promotion evidence")
	}

	// newImg was never deployed on testing
	fx.setPromoted(testfixture.NewImg)
	cfg := fx.Load()
	tip, world := fx.Tip(), fx.WorldBytes()
	_, err := fx.apply(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "image "+testfixture.NewImg+" is not the image recorded healthy on shop/testing ("+testfixture.OldImg+")") {
		t.Fatalf("promoting a digest not healthy on testing: %v", err)
	}
	if fx.Tip() != tip || !bytes.Equal(fx.WorldBytes(), world) {
		t.Errorf("the refused promotion changed the state or the world")
	}

	// once testing runs newImg healthy, prod may take it
	fx.SetImage("testing", testfixture.NewImg)
	fx.mustApply(fx.Load(), func(o *Options) { o.Plan = fx.plan(o.Config, map[string]bool{"shop/testing": true}) })
	res = fx.mustApply(fx.Load(), nil)
	run, _ := fx.Record("shop/prod", res.Records["shop/prod"]).Evidence.(state.RunEvidence)
	if ev := run.Promotion; ev == nil || ev.Image != testfixture.NewImg || ev.From != "shop/testing" {
		t.Fatalf("prod promotion evidence %+v", run.Promotion)
	}
	if ts := fx.Target("shop/prod"); ts.Image != testfixture.NewImg {
		t.Fatalf("prod runs %s, want %s", ts.Image, testfixture.NewImg)
	}
}

// In one run that deploys the image on both lanes, prod waits for
// testing: when testing's health check fails, prod is not deployed.
func TestRunPromotionInSameRunWaitsForHealth(t *testing.T) {
	fx := newFixture(t)
	fx.setPromoted(testfixture.OldImg)
	fx.mustApply(fx.Load(), nil)
	fx.SetImage("testing", testfixture.V3Img)
	fx.setPromoted(testfixture.V3Img)
	fx.SetWorld(func(w *fake.World) { w.Unhealthy = []string{"shop/testing"} })
	res, err := fx.apply(fx.Load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ts := fx.Target("shop/prod"); ts.Image != testfixture.OldImg {
		t.Fatalf("prod runs %s although testing did not prove it healthy", ts.Image)
	}
	if app := fx.WorldState().Apps["shop/prod"]; app.Image != testfixture.OldImg {
		t.Fatalf("fake prod app runs %s", app.Image)
	}
	if !strings.Contains(strings.Join(res.Failed, ","), "shop/testing") {
		t.Errorf("failed %v", res.Failed)
	}
}
