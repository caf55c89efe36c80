package apply

import (
	"bytes"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers/fake"
)

// setPromoted points prod at image, promoted from testing.
func (fx *fixture) setPromoted(image string) {
	fx.write("prod.yaml", fxTarget("prod", image, "shop.example.com", "www.shop.example.com")+"  promotion: {from: testing}\n")
}

// A prod target with spec.promotion deploys only the exact digest
// recorded healthy on the lane it promotes from: another digest of the
// same repository is refused before any mutation.
func TestRunPromotionNeedsHealthyDigest(t *testing.T) {
	fx := newFixture(t)
	fx.setPromoted(oldImg)
	// testing gets oldImg in the same run: prod follows once it is healthy
	res := fx.mustApply(fx.load(), nil)
	if ev := fx.record("shop/prod", res.Records["shop/prod"]).Evidence["promotion"]; ev == nil {
		t.Fatalf("prod record has no promotion evidence")
	}

	// newImg was never deployed on testing
	fx.setPromoted(newImg)
	cfg := fx.load()
	tip, world := fx.tip(), fx.worldBytes()
	_, err := fx.apply(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "image "+newImg+" is not the image recorded healthy on shop/testing ("+oldImg+")") {
		t.Fatalf("promoting a digest not healthy on testing: %v", err)
	}
	if fx.tip() != tip || !bytes.Equal(fx.worldBytes(), world) {
		t.Errorf("the refused promotion changed the state or the world")
	}

	// once testing runs newImg healthy, prod may take it
	fx.setImage("testing", newImg)
	fx.mustApply(fx.load(), func(o *Options) { o.Plan = fx.plan(o.Config, map[string]bool{"shop/testing": true}) })
	res = fx.mustApply(fx.load(), nil)
	ev, _ := fx.record("shop/prod", res.Records["shop/prod"]).Evidence["promotion"].(map[string]any)
	if ev["image"] != newImg || ev["from"] != "shop/testing" {
		t.Fatalf("prod promotion evidence %v", ev)
	}
	if ts := fx.target("shop/prod"); ts.Image != newImg {
		t.Fatalf("prod runs %s, want %s", ts.Image, newImg)
	}
}

// In one run that deploys the image on both lanes, prod waits for
// testing: when testing's health check fails, prod is not deployed.
func TestRunPromotionInSameRunWaitsForHealth(t *testing.T) {
	fx := newFixture(t)
	fx.setPromoted(oldImg)
	fx.mustApply(fx.load(), nil)
	fx.setImage("testing", v3Img)
	fx.setPromoted(v3Img)
	fx.setWorld(func(w *fake.World) { w.Unhealthy = []string{"shop/testing"} })
	res, err := fx.apply(fx.load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ts := fx.target("shop/prod"); ts.Image != oldImg {
		t.Fatalf("prod runs %s although testing did not prove it healthy", ts.Image)
	}
	if app := fx.worldState().Apps["shop/prod"]; app.Image != oldImg {
		t.Fatalf("fake prod app runs %s", app.Image)
	}
	if !strings.Contains(strings.Join(res.Failed, ","), "shop/testing") {
		t.Errorf("failed %v", res.Failed)
	}
}
