package plan

import "testing"

// An idempotency key is what a provider uses to recognise a retried
// change: the same change must give the same key, a different change a
// different one, or a retry would redo (or skip) the wrong deployment.
func TestIdempotencyKeyDiffersPerChange(t *testing.T) {
	after := func(image string) map[string]any {
		return map[string]any{"image": image, "port": 8080, "env": map[string]any{"A": "1"}}
	}
	base := IdempotencyKey("shop/prod", Update, after("shop@sha256:aaaa"))
	if again := IdempotencyKey("shop/prod", Update, after("shop@sha256:aaaa")); again != base {
		t.Fatalf("same change, keys %s and %s", base, again)
	}
	nested := after("shop@sha256:aaaa")
	nested["env"] = map[string]any{"A": "2"}
	for name, k := range map[string]string{
		"other image":      IdempotencyKey("shop/prod", Update, after("shop@sha256:bbbb")),
		"other nested env": IdempotencyKey("shop/prod", Update, nested),
		"other target":     IdempotencyKey("shop/testing", Update, after("shop@sha256:aaaa")),
		"other action":     IdempotencyKey("shop/prod", Replace, after("shop@sha256:aaaa")),
		"no after":         IdempotencyKey("shop/prod", Update, nil),
	} {
		if k == base {
			t.Errorf("%s: same key %s as the original change", name, k)
		}
	}
	// Separators: target and action cannot run into each other.
	if IdempotencyKey("a", Update, nil) == IdempotencyKey("a"+"update", NoOp, nil) {
		t.Error("target and action are not separated in the key")
	}
}

// Diff gives every change the key of its target, action and after: a
// plan made twice from the same config carries the same keys, and a new
// image changes the app's key.
func TestDiffIdempotencyKeys(t *testing.T) {
	old := recorded(app("img@1", nil))
	p1 := Diff(desired(app("img@2", nil)), old, Base{})
	p2 := Diff(desired(app("img@2", nil)), old, Base{})
	p3 := Diff(desired(app("img@3", nil)), old, Base{})
	if p1.Changes[0].Address != "shop/prod/app" || p1.Changes[0].Action != Update {
		t.Fatalf("first change %+v", p1.Changes[0])
	}
	k1, k2, k3 := p1.Changes[0].IdempotencyKey, p2.Changes[0].IdempotencyKey, p3.Changes[0].IdempotencyKey
	if k1 == "" || k1 != k2 {
		t.Errorf("same plan twice: keys %q and %q", k1, k2)
	}
	if k1 == k3 {
		t.Errorf("img@2 and img@3 share key %s", k1)
	}
	if want := IdempotencyKey("shop/prod", Update, p1.Changes[0].After); k1 != want {
		t.Errorf("app key %s, want the key of its target, action and after %s", k1, want)
	}
}
