package request

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/state/gitstore"
)

const img = "ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111"

func TestCheckFacts(t *testing.T) {
	pr := policy.Identity{Repository: "acme/shop", Ref: "refs/pull/7/merge", Event: "pull_request"}
	push := policy.Identity{Repository: "acme/shop", Ref: "refs/heads/main", Event: "push", SHA: strings.Repeat("a", 40)}
	preview := &Request{Action: ActionPreview, Product: "shop", PullRequest: 7, Image: img}
	for name, c := range map[string]struct {
		r          *Request
		id         policy.Identity
		source     string
		want       string // "" allowed
		productImg string
	}{
		"own product":         {preview, pr, "acme/shop", "", "ghcr.io/acme/shop"},
		"case of the owner":   {preview, pr, "Acme/Shop", "", "ghcr.io/acme/shop"},
		"another repository":  {preview, policy.Identity{Repository: "acme/blog", Ref: "refs/pull/7/merge"}, "acme/shop", "the token is from acme/blog", "ghcr.io/acme/shop"},
		"no source declared":  {preview, pr, "", "declares no spec.source.repository", "ghcr.io/acme/shop"},
		"another pr":          {&Request{Action: ActionPreview, Product: "shop", PullRequest: 8, Image: img}, pr, "acme/shop", "names pull request 8", "ghcr.io/acme/shop"},
		"preview from a push": {preview, push, "acme/shop", "must come from a pull request", "ghcr.io/acme/shop"},
		"another image":       {preview, pr, "acme/shop", "is not product shop's image", "ghcr.io/acme/other"},
		"publish":             {&Request{Action: ActionPublish, Product: "shop", Image: img, SourceCommit: strings.Repeat("a", 40)}, push, "acme/shop", "", "ghcr.io/acme/shop"},
		"publish other sha":   {&Request{Action: ActionPublish, Product: "shop", Image: img, SourceCommit: strings.Repeat("b", 40)}, push, "acme/shop", "source commit", "ghcr.io/acme/shop"},
	} {
		got := CheckFacts(c.r, c.id, c.source, c.productImg)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
	}
}

// TestSpendOnce: a token is good once, also when two servers race with
// the same snapshot.
func TestSpendOnce(t *testing.T) {
	ctx := context.Background()
	s, err := gitstore.Open(ctx, filepath.Join(t.TempDir(), "state"), gitstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := &policy.Token{ID: "jti-1", Identity: policy.Identity{Repository: "acme/shop"}, Expiry: time.Now()}
	r := &Request{Action: ActionPreview, Product: "shop", PullRequest: 7}
	if err := Spend(ctx, s, snap, tok, "https://issuer", r, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Same stale snapshot: the other writer created the path first.
	if err := Spend(ctx, s, snap, tok, "https://issuer", r, time.Now()); !errors.Is(err, ErrReplayed) {
		t.Fatalf("raced replay: %v", err)
	}
	fresh, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Spend(ctx, s, fresh, tok, "https://issuer", r, time.Now()); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay: %v", err)
	}
	b, err := fresh.ReadFile(TokenPath("https://issuer", "jti-1"))
	if err != nil || strings.Contains(string(b), "jti-1") {
		t.Fatalf("token record: %s %v", b, err)
	}
	// Another issuer's token of the same id is another token.
	if err := Spend(ctx, s, fresh, tok, "https://other", r, time.Now()); err != nil {
		t.Fatal(err)
	}
}
