package plan

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func app(image string, env map[string]any) Resource {
	return Resource{Address: "shop/prod/app", Target: "shop/prod", Kind: KindApp, Provider: "p",
		Attrs: map[string]any{"image": image, "port": 8080, "env": env}, ReplaceOn: []string{"port"}}
}

func route(domain string) Resource {
	return Resource{Address: "shop/prod/route/" + domain, Target: "shop/prod", Kind: KindRoute, Provider: "edge",
		Attrs: map[string]any{"domain": domain, "port": 8080}}
}

func health() Step {
	return Step{
		Resource: Resource{Address: "shop/prod/health", Target: "shop/prod", Kind: KindHealth, Provider: "p", Attrs: map[string]any{"url": "https://shop.example.com/healthz"}},
		Triggers: []Trigger{{Address: "shop/prod/app", Reason: "app changed"}},
	}
}

func desired(rs ...Resource) Desired {
	return Desired{Targets: map[string]*DesiredTarget{"shop/prod": {Key: "shop/prod", Resources: rs, Steps: []Step{health()}}}}
}

func recorded(rs ...Resource) Recorded {
	// Recorded attrs come back from JSON: numbers are float64.
	var out []Resource
	for _, r := range rs {
		attrs := map[string]any{}
		for k, v := range r.Attrs {
			if i, ok := v.(int); ok {
				v = float64(i)
			}
			attrs[k] = v
		}
		r.Attrs = attrs
		r.ReplaceOn = nil
		out = append(out, r)
	}
	return Recorded{Targets: map[string][]Resource{"shop/prod": out}}
}

func actions(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Action.String()+" "+c.Address)
	}
	return out
}

func TestDiffCreateOrdersAndDepends(t *testing.T) {
	p := Diff(desired(route("b.example.com"), app("img@1", nil), route("a.example.com")), Recorded{}, Base{})
	want := []string{"create shop/prod/app", "run shop/prod/health", "create shop/prod/route/a.example.com", "create shop/prod/route/b.example.com"}
	if got := actions(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := p.Changes[1].DependsOn; !reflect.DeepEqual(got, []string{"shop/prod/app"}) {
		t.Errorf("health depends on %v", got)
	}
	if got := p.Changes[2].DependsOn; !reflect.DeepEqual(got, []string{"shop/prod/health"}) {
		t.Errorf("route depends on %v", got)
	}
	if p.Changes[0].Reason != "new in config" || p.Changes[0].IdempotencyKey == "" {
		t.Errorf("change: %+v", p.Changes[0])
	}
	s := p.Summary()
	if s[Create] != 3 || s[Run] != 1 {
		t.Errorf("summary %v", s)
	}
}

func TestDiffNoChangesIsNoop(t *testing.T) {
	rs := []Resource{app("img@1", map[string]any{"A": "1"}), route("a.example.com")}
	p := Diff(desired(rs...), recorded(rs...), Base{})
	if p.HasChanges() {
		t.Fatalf("changes: %q", actions(p))
	}
	if got := actions(p); len(got) != 2 {
		t.Errorf("noops: %q", got)
	}
}

func TestDiffUpdateReasonAndDiff(t *testing.T) {
	p := Diff(desired(app("img@2", map[string]any{"A": "2"})), recorded(app("img@1", map[string]any{"A": "1"})), Base{})
	c := p.Changes[0]
	if c.Action != Update || c.Reason != "env and image changed" {
		t.Fatalf("change %v %q", c.Action, c.Reason)
	}
	want := []FieldDiff{{Path: "env.A", Before: "1", After: "2"}, {Path: "image", Before: "img@1", After: "img@2"}}
	if !reflect.DeepEqual(c.Diff, want) {
		t.Errorf("diff %+v", c.Diff)
	}
	if actions(p)[1] != "run shop/prod/health" {
		t.Errorf("health not run: %q", actions(p))
	}
}

func TestDiffReplaceOnPortOrProvider(t *testing.T) {
	d := app("img@1", nil)
	d.Attrs["port"] = 9090
	p := Diff(desired(d), recorded(app("img@1", nil)), Base{})
	if c := p.Changes[0]; c.Action != Replace || !strings.Contains(c.Reason, "port changed") {
		t.Fatalf("%v %q", c.Action, c.Reason)
	}
	d = app("img@1", nil)
	d.Provider = "other"
	p = Diff(desired(d), recorded(app("img@1", nil)), Base{})
	if c := p.Changes[0]; c.Action != Replace || c.Reason != "provider changed from p to other" {
		t.Fatalf("%v %q", c.Action, c.Reason)
	}
}

func TestDiffTargetRemovedDeletesRoutesFirst(t *testing.T) {
	p := Diff(Desired{}, recorded(app("img@1", nil), route("a.example.com")), Base{})
	want := []string{"delete shop/prod/route/a.example.com", "delete shop/prod/app"}
	if got := actions(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
	if p.Changes[0].Reason != "target removed from config" || p.Changes[0].After != nil {
		t.Errorf("%+v", p.Changes[0])
	}
	if !reflect.DeepEqual(p.Changes[1].DependsOn, []string{"shop/prod/route/a.example.com"}) {
		t.Errorf("app delete depends on %v", p.Changes[1].DependsOn)
	}
}

func TestIdempotencyKeyStable(t *testing.T) {
	a := IdempotencyKey("shop/prod", Update, map[string]any{"b": 1, "a": []any{"x"}})
	b := IdempotencyKey("shop/prod", Update, map[string]any{"a": []any{"x"}, "b": 1})
	if a != b || len(a) != 64 {
		t.Fatalf("%s %s", a, b)
	}
	if a == IdempotencyKey("shop/prod", Create, map[string]any{"a": []any{"x"}, "b": 1}) {
		t.Fatal("action not in key")
	}
}

func TestActionStrings(t *testing.T) {
	for _, a := range []Action{NoOp, Create, Update, Replace, Delete, Run} {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("%v: %v %v", a, got, err)
		}
	}
	if !Delete.IsDestructive() || !Replace.IsDestructive() || Update.IsDestructive() {
		t.Error("IsDestructive")
	}
}

// Targets diffed in parallel give the plan a sequential diff gives, in
// target order: desired only, recorded only and both, updated, deleted
// and unchanged, across many chunks.
func TestDiffParallelSameAsSequential(t *testing.T) {
	d := Desired{Targets: map[string]*DesiredTarget{}}
	r := Recorded{Targets: map[string][]Resource{}}
	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("p%04d/prod", i)
		a := Resource{Address: key + "/app", Target: key, Kind: KindApp, Provider: "p", Attrs: map[string]any{"image": fmt.Sprint("i", i%3), "port": 8080}}
		rt := Resource{Address: key + "/route/x", Target: key, Kind: KindRoute, Provider: "p", Attrs: map[string]any{"domain": "x"}}
		if i%4 != 3 {
			d.Targets[key] = &DesiredTarget{Key: key, Resources: []Resource{a, rt},
				Steps: []Step{{Resource: Resource{Address: key + "/health", Target: key, Kind: KindHealth}, Triggers: []Trigger{{Address: key + "/app", Reason: "app changed"}}}}}
		}
		if i%4 != 0 {
			old := a
			old.Attrs = map[string]any{"image": "i1", "port": 8080.0}
			r.Targets[key] = []Resource{old, rt}
		}
	}
	var keys []string
	for k := range d.Targets {
		keys = append(keys, k)
	}
	for k := range r.Targets {
		if d.Targets[k] == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var want []Change
	for _, k := range keys {
		want = append(want, diffTarget(k, d.Targets[k], r.Targets[k])...)
	}
	got := Diff(d, r, Base{})
	if !reflect.DeepEqual(got.Changes, want) {
		t.Fatalf("parallel diff differs from sequential (%d changes, want %d)", len(got.Changes), len(want))
	}
	var creates, deletes, noops int
	for _, c := range got.Changes {
		switch c.Action {
		case Create:
			creates++
		case Delete:
			deletes++
		case NoOp:
			noops++
		}
	}
	if creates == 0 || deletes == 0 || noops == 0 {
		t.Fatalf("fixture exercises too little: %d creates, %d deletes, %d no-ops", creates, deletes, noops)
	}
}
