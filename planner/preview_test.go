package planner

import (
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

const previewImg = "ghcr.io/acme/shop@sha256:" + "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

// previewProduct is the fixture's product with another preview policy.
func previewProduct(policy string) string {
	i := strings.Index(testfixture.Product, "  preview:\n")
	return testfixture.Product[:i] + policy
}

func TestPreviewOf(t *testing.T) {
	for _, tc := range []struct {
		name, policy string
		pr           int
		want         Preview
	}{
		{
			name: "fixture", pr: 7, policy: "",
			want: Preview{Key: "shop/preview/pr-7", Product: "shop", PR: 7, Slug: "pr-7", Host: "pr-7.preview.example.com", From: "testing", TTL: 72 * time.Hour},
		},
		{
			name: "product and number everywhere", pr: 12,
			policy: "  preview:\n    enabled: true\n    slug: \"{product}-{number}\"\n    host: \"{slug}.{product}.{number}.example.com\"\n    from: prod\n",
			want:   Preview{Key: "shop/preview/pr-12", Product: "shop", PR: 12, Slug: "shop-12", Host: "shop-12.shop.12.example.com", From: "prod"},
		},
		{
			name: "host without slug", pr: 3,
			policy: "  preview:\n    enabled: true\n    slug: \"pr-{number}\"\n    host: \"review-{number}.example.com\"\n    from: testing\n",
			want:   Preview{Key: "shop/preview/pr-3", Product: "shop", PR: 3, Slug: "pr-3", Host: "review-3.example.com", From: "testing"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			if tc.policy != "" {
				fx.Write("shop.yaml", previewProduct(tc.policy))
			}
			cfg := fx.Load()
			pv, err := PreviewOf(cfg, "shop", tc.pr)
			if err != nil {
				t.Fatal(err)
			}
			if *pv != tc.want {
				t.Errorf("got  %+v\nwant %+v", *pv, tc.want)
			}
			if PRNumber(pv.Key) != tc.pr {
				t.Errorf("PRNumber(%s) = %d", pv.Key, PRNumber(pv.Key))
			}
		})
	}
}

func TestPreviewOfErrors(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	for _, tc := range []struct {
		product string
		pr      int
		want    string
	}{
		{"shop", 0, "want a pull request number"},
		{"shop", -4, "want a pull request number"},
		{"blog", 1, "no product blog"},
	} {
		if _, err := PreviewOf(cfg, tc.product, tc.pr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PreviewOf(%s, %d): %v, want %q", tc.product, tc.pr, err, tc.want)
		}
	}
	for _, policy := range []string{"", "  preview:\n    enabled: false\n"} {
		fx.Write("shop.yaml", previewProduct(policy))
		cfg := fx.Load()
		if _, err := PreviewOf(cfg, "shop", 1); err == nil || !strings.Contains(err.Error(), "no preview policy") {
			t.Errorf("policy %q: %v", policy, err)
		}
	}
}

// The schema documents preview.from as "default testing", and the config
// check defaults it to testing; PreviewOf must agree, or a policy without
// from validates and then fails at preview time.
func TestPreviewFromDefaultsToTesting(t *testing.T) {
	fx := newFixture(t)
	fx.Write("shop.yaml", previewProduct("  preview:\n    enabled: true\n    slug: \"pr-{number}\"\n    host: \"{slug}.preview.example.com\"\n"))
	cfg := fx.Load()
	pv, err := PreviewOf(cfg, "shop", 5)
	if err != nil {
		t.Fatal(err)
	}
	if pv.From != "testing" {
		t.Errorf("from %q, want testing", pv.From)
	}
	if _, err := WithPreview(cfg, pv, previewImg); err != nil {
		t.Errorf("WithPreview: %v", err)
	}
}

func TestWithPreview(t *testing.T) {
	fx := newFixture(t)
	fx.Write("testing.yaml", `apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: shop-testing}
spec:
  product: shop
  lane: testing
  image: `+testfixture.OldImg+`
  source: {commit: 0123456789abcdef0123456789abcdef01234567}
  deploy: {provider: local}
  ingress: {provider: local, domains: [testing.shop.example.com, t2.shop.example.com]}
  env: {FEATURE_X: "on"}
  health: {url: "https://testing.shop.example.com/ready"}
`)
	cfg := fx.Load()
	origTargets := len(cfg.Targets)
	testing0 := cfg.Target("shop", "testing")
	pv, err := PreviewOf(cfg, "shop", 7)
	if err != nil {
		t.Fatal(err)
	}
	want, err := WithPreview(cfg, pv, previewImg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != origTargets || cfg.Target("shop", "preview/pr-7") != nil {
		t.Fatalf("WithPreview changed the config it was given")
	}
	if d := testing0.Spec.Ingress.Domains; strings.Join(d, ",") != "testing.shop.example.com,t2.shop.example.com" || testing0.Spec.Image != testfixture.OldImg || testing0.Spec.Health == nil {
		t.Fatalf("the from lane's target changed: %+v", testing0.Spec)
	}
	if len(want.Targets) != origTargets+1 {
		t.Fatalf("%d targets, want %d", len(want.Targets), origTargets+1)
	}
	for i := 1; i < len(want.Targets); i++ {
		if want.Targets[i-1].Key() >= want.Targets[i].Key() {
			t.Errorf("targets not sorted: %s before %s", want.Targets[i-1].Key(), want.Targets[i].Key())
		}
	}
	pt := want.Target("shop", "preview/pr-7")
	if pt == nil {
		t.Fatal("no preview target")
	}
	if pt.Key() != pv.Key || pt.Name != "shop-pr-7" || pt.Spec.Image != previewImg {
		t.Errorf("preview target %s name %s image %s", pt.Key(), pt.Name, pt.Spec.Image)
	}
	if pt.Spec.Health != nil || pt.Spec.Promote != nil || pt.Spec.Gates != nil || pt.Spec.Source != nil {
		t.Errorf("preview target keeps health %v promotion %v gates %v source %v", pt.Spec.Health, pt.Spec.Promote, pt.Spec.Gates, pt.Spec.Source)
	}
	if pt.Spec.Ingress == nil || strings.Join(pt.Spec.Ingress.Domains, ",") != "pr-7.preview.example.com" || pt.Spec.Ingress.Provider != "local" {
		t.Errorf("preview ingress %+v", pt.Spec.Ingress)
	}
	if pt.Spec.Deploy.Provider != "local" || pt.Spec.Env["FEATURE_X"] != "on" {
		t.Errorf("preview does not take the from lane's provider and env: %+v", pt.Spec)
	}

	// the driver expands it with the preview's object name and host
	d, err := Desired(want, map[string]bool{pv.Key: true})
	if err != nil {
		t.Fatal(err)
	}
	dt := d.Targets[pv.Key]
	if dt == nil {
		t.Fatal("preview not expanded")
	}
	var addrs []string
	for _, r := range dt.Resources {
		addrs = append(addrs, r.Address)
		switch r.Kind {
		case plan.KindApp:
			if r.Attrs["name"] != "shop-pr-7" || r.Attrs["image"] != previewImg {
				t.Errorf("app attrs %v", r.Attrs)
			}
		case plan.KindRoute:
			if r.Attrs["domain"] != "pr-7.preview.example.com" || r.Attrs["upstream"] != "shop-pr-7" {
				t.Errorf("route attrs %v", r.Attrs)
			}
		}
	}
	if strings.Join(addrs, ",") != "shop/preview/pr-7/app,shop/preview/pr-7/route/pr-7.preview.example.com" {
		t.Errorf("resources %v", addrs)
	}
	for _, s := range dt.Steps {
		if s.Kind == plan.KindHealth && s.Attrs["url"] != "https://pr-7.preview.example.com/healthz" {
			t.Errorf("preview health url %v, want the preview host's (not the from lane's health.url)", s.Attrs["url"])
		}
	}
}

func TestWithPreviewErrors(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	pv, err := PreviewOf(cfg, "shop", 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ image, want string }{
		{"ghcr.io/acme/shop:latest", "want a digest-pinned image ghcr.io/acme/shop@sha256:<64 hex>"},
		{"ghcr.io/acme/shop@sha256:" + strings.Repeat("a", 63), "want a digest-pinned image"},
		{"ghcr.io/acme/shop@sha256:" + strings.Repeat("A", 64), "want a digest-pinned image"},
		{"ghcr.io/acme/shop@sha256:" + strings.Repeat("a", 64) + "\n", "want a digest-pinned image"},
		{"ghcr.io/evil/shop@sha256:" + strings.Repeat("a", 64), "repository ghcr.io/evil/shop is not product shop's image ghcr.io/acme/shop"},
		{"ghcr.io/acme/shop-evil@sha256:" + strings.Repeat("a", 64), "is not product shop's image"},
		{"ghcr.io/acme/shop@sha256:" + strings.Repeat("a", 64) + "@sha256:" + strings.Repeat("b", 64), "is not product shop's image"},
	} {
		if _, err := WithPreview(cfg, pv, tc.image); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("image %q: %v, want %q", tc.image, err, tc.want)
		}
	}

	missing := *pv
	missing.From = "staging"
	if _, err := WithPreview(cfg, &missing, previewImg); err == nil || !strings.Contains(err.Error(), "previews from lane staging, which has no target") {
		t.Errorf("from lane missing: %v", err)
	}
}

// A preview planned and applied like the CLI does: recorded under
// previews/, deployed under its own object name and host.
func TestPreviewApply(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	fx.mustApply(cfg, nil)
	pv, err := PreviewOf(cfg, "shop", 7)
	if err != nil {
		t.Fatal(err)
	}
	want, err := WithPreview(cfg, pv, previewImg)
	if err != nil {
		t.Fatal(err)
	}
	only := map[string]bool{pv.Key: true}
	p := fx.plan(want, only)
	if got := p.Targets(); strings.Join(got, ",") != pv.Key {
		t.Fatalf("preview plan targets %v", got)
	}
	res := fx.mustApply(want, func(o *apply.Options) { o.Plan = p; o.Kind = state.KindPreview })
	id := res.Records[pv.Key]
	if !strings.HasPrefix(id, "preview-20261123T120000Z-shop-preview-pr-7-") {
		t.Errorf("record id %s", id)
	}
	if _, err := fx.Snap().ReadFile("previews/shop/pr-7.json"); err != nil {
		t.Errorf("preview state file: %v", err)
	}
	if _, err := fx.Snap().ReadFile(state.RecordPath(pv.Key, id)); err != nil {
		t.Errorf("preview record: %v", err)
	}
	w := fx.WorldState()
	if app := w.Apps[pv.Key]; app == nil || app.Name != "shop-pr-7" || app.Image != previewImg {
		t.Errorf("fake app %+v", app)
	}
	if r := w.Routes["pr-7.preview.example.com"]; r == nil || r.Target != pv.Key || r.Upstream != "shop-pr-7" {
		t.Errorf("fake route %+v", r)
	}
	previews, err := RecordedPreviews(fx.Snap())
	if err != nil {
		t.Fatal(err)
	}
	if ts := previews[pv.Key]; len(previews) != 1 || ts == nil || ts.Image != previewImg || ts.Status != state.StatusHealthy {
		t.Errorf("recorded previews %v", previews)
	}
	// lanes are untouched, and the normal plan ignores the preview
	if fx.plan(cfg, nil).HasChanges() {
		t.Errorf("the lanes' plan has changes after a preview")
	}
	if fx.plan(want, only).HasChanges() {
		t.Errorf("the preview's plan has changes after it was applied")
	}
}
