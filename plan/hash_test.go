package plan

import (
	"strings"
	"testing"
)

func hashFixture() *Plan {
	return &Plan{
		Base: Base{StateCommit: "abc", ConfigDigest: "sha256:def"},
		Changes: []Change{
			{Address: "shop/prod/app", Target: "shop/prod", Kind: KindApp, Action: Update, Reason: "image changed", Provider: "p",
				Before: map[string]any{"image": "a"}, After: map[string]any{"image": "b", "port": 8080, "secrets": map[string]any{"X": map[string]any{"fromEnv": "X"}}},
				Diff: []FieldDiff{{Path: "image", Before: "a", After: "b"}}, IdempotencyKey: "k"},
			{Address: "shop/prod/health", Target: "shop/prod", Kind: KindHealth, Action: Run, Provider: "p",
				After: map[string]any{"url": "https://shop.example.com/healthz"}, DependsOn: []string{"shop/prod/app"}},
			{Address: "shop/testing/app", Target: "shop/testing", Kind: KindApp, Action: NoOp, Provider: "p", After: map[string]any{"image": "b"}},
		},
	}
}

// The hash covers what apply would do and nothing that only explains it
// or is volatile; every edit of meaning changes it and is named.
func TestHash(t *testing.T) {
	base := hashFixture().Hash()
	if !ValidHash(base) {
		t.Fatalf("hash %q is not sha256:<64 hex>", base)
	}
	same := map[string]func(p *Plan){
		"reason":          func(p *Plan) { p.Changes[0].Reason = "whatever" },
		"before":          func(p *Plan) { p.Changes[0].Before = nil },
		"diff":            func(p *Plan) { p.Changes[0].Diff = nil },
		"idempotency key": func(p *Plan) { p.Changes[0].IdempotencyKey = "" },
		"base":            func(p *Plan) { p.Base = Base{StateCommit: "zzz", ConfigCommit: "c"} },
		"diagnostics":     func(p *Plan) { p.Diagnostics = []string{"note"} },
		"port as float":   func(p *Plan) { p.Changes[0].After["port"] = 8080.0 },
		"nil depends_on":  func(p *Plan) { p.Changes[2].DependsOn = []string{} },
	}
	for name, edit := range same {
		p := hashFixture()
		edit(p)
		if got := p.Hash(); got != base {
			t.Errorf("%s changed the hash", name)
		}
	}
	differ := map[string]struct {
		edit  func(p *Plan)
		first string
	}{
		"image":       {func(p *Plan) { p.Changes[0].After["image"] = "evil" }, "shop/prod/app: after.image differ"},
		"delete":      {func(p *Plan) { p.Changes[0].Action = Delete }, "shop/prod/app: action delete in edited, update in made"},
		"noop→update": {func(p *Plan) { p.Changes[2].Action = Update }, "shop/testing/app: action update in edited, noop in made"},
		"secret": {func(p *Plan) {
			p.Changes[0].After["secrets"].(map[string]any)["Y"] = map[string]any{"fromFile": "/etc/hostname"}
		}, "shop/prod/app: after.secrets.Y differ"},
		"health url": {func(p *Plan) { p.Changes[1].After["url"] = "https://x" }, "shop/prod/health: after.url differ"},
		"step gone":  {func(p *Plan) { p.Changes = append(p.Changes[:1], p.Changes[2:]...) }, "shop/prod/health: run in made, not in edited"},
		"added": {func(p *Plan) {
			p.Changes = append(p.Changes, Change{Address: "x/y/app", Target: "x/y", Kind: KindApp, Action: Delete})
		}, "x/y/app: delete in edited, not in made"},
		"swapped":    {func(p *Plan) { p.Changes[0].Target, p.Changes[2].Target = p.Changes[2].Target, p.Changes[0].Target }, "shop/prod/app: target shop/testing in edited, shop/prod in made"},
		"depends_on": {func(p *Plan) { p.Changes[1].DependsOn = nil }, "shop/prod/health: depends_on  in edited, shop/prod/app in made"},
		"provider":   {func(p *Plan) { p.Changes[0].Provider = "q" }, "shop/prod/app: provider q in edited"},
		"only":       {func(p *Plan) { p.Only = []string{"shop/prod"} }, "targets: shop/prod in edited, all in made"},
		"checked":    {func(p *Plan) { p.SecretsChecked = true }, "secret rotation: checked in edited, not checked in made"},
		"order":      {func(p *Plan) { p.Changes[0], p.Changes[1] = p.Changes[1], p.Changes[0] }, "the order of changes differs"},
	}
	for name, tc := range differ {
		p := hashFixture()
		tc.edit(p)
		if p.Hash() == base {
			t.Errorf("%s did not change the hash", name)
			continue
		}
		d := Differences(p, hashFixture(), "edited", "made")
		if len(d) == 0 || !strings.HasPrefix(d[0], tc.first) {
			t.Errorf("%s: differences %q, want first %q", name, d, tc.first)
		}
	}
}
