package plan

import (
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Step is a desired step: it runs when one of its triggers fires.
type Step struct {
	Resource
	Triggers []Trigger
	// Always makes the step run whenever the target has any change.
	Always bool
	// Force makes the step run even when nothing changed (a health check
	// of an image that never passed one).
	Force bool
	// Reason explains an Always or Force step.
	Reason string
}

// Trigger fires when the change to Address is a create or replace, or an
// update touching one of Fields (top-level attribute names; empty means
// any field).
type Trigger struct {
	Address string
	Fields  []string
	Reason  string
}

// Desired is what config asks for, per target key.
type Desired struct {
	Targets map[string]*DesiredTarget
}

// DesiredTarget is one target's desired resources and steps.
type DesiredTarget struct {
	Key       string
	Resources []Resource
	Steps     []Step
}

// Recorded is what the state repository says was applied, per target key.
type Recorded struct {
	Targets map[string][]Resource
}

// rank orders kinds within a target (SPEC §4): backup, app, post-deploy,
// health, routes; deletions run first, in reverse (routes, then app).
func rank(kind Kind, a Action) int {
	r := 6
	switch kind {
	case KindBackup, KindRestore, KindSanitize:
		r = 1
	case KindApp:
		r = 2
	case KindPostDeploy:
		r = 3
	case KindHealth:
		r = 4
	case KindRoute:
		r = 5
	}
	if a == Delete {
		return -r
	}
	return r
}

// Diff compares desired and recorded state and returns the ordered plan.
// It is deterministic: the same inputs give the same plan, byte for byte.
// Targets are diffed in parallel (each on its own, pure), and their
// changes concatenated in target order.
func Diff(desired Desired, recorded Recorded, base Base) *Plan {
	p := &Plan{Base: base}
	sorted := make([]string, 0, len(desired.Targets)+len(recorded.Targets))
	for k := range desired.Targets {
		sorted = append(sorted, k)
	}
	for k := range recorded.Targets {
		if _, ok := desired.Targets[k]; !ok {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	per := make([][]Change, len(sorted))
	forEachChunk(len(sorted), func(i int) {
		per[i] = diffTarget(sorted[i], desired.Targets[sorted[i]], recorded.Targets[sorted[i]])
	})
	n := 0
	for _, cs := range per {
		n += len(cs)
	}
	if n > 0 {
		p.Changes = make([]Change, 0, n)
	}
	for _, cs := range per {
		p.Changes = append(p.Changes, cs...)
	}
	return p
}

// forEachChunk calls f for 0..n-1, on as many goroutines as there are
// processors when n is large enough to pay for them.
func forEachChunk(n int, f func(i int)) {
	const chunk = 64
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				for i := start; i < min(start+chunk, n); i++ {
					f(i)
				}
			}
		}()
	}
	wg.Wait()
}

func diffTarget(key string, want *DesiredTarget, have []Resource) []Change {
	n := len(have)
	if want != nil {
		n += len(want.Resources) + len(want.Steps)
	}
	changes := make([]Change, 0, n)
	had := map[string]Resource{}
	for _, r := range have {
		had[r.Address] = r
	}
	wanted := map[string]bool{}
	if want != nil {
		for _, r := range want.Resources {
			wanted[r.Address] = true
			old, ok := had[r.Address]
			if !ok {
				changes = append(changes, change(r, nil, Create, "new in config", nil))
				continue
			}
			diff := Fields(old.Attrs, r.Attrs)
			switch {
			case old.Provider != r.Provider:
				changes = append(changes, change(r, &old, Replace, fmt.Sprintf("provider changed from %s to %s", old.Provider, r.Provider), diff))
			case len(diff) == 0:
				changes = append(changes, change(r, &old, NoOp, "up to date", nil))
			case touches(diff, r.ReplaceOn):
				changes = append(changes, change(r, &old, Replace, reasonFor(diff, r.ReplaceOn)+" (forces replacement)", diff))
			default:
				changes = append(changes, change(r, &old, Update, reasonFor(diff, nil), diff))
			}
		}
	}
	for _, r := range have {
		if !wanted[r.Address] {
			reason := "removed from config"
			if want == nil {
				reason = "target removed from config"
			}
			old := r
			changes = append(changes, change(Resource{Address: r.Address, Target: r.Target, Kind: r.Kind, Provider: r.Provider}, &old, Delete, reason, nil))
		}
	}
	if want != nil {
		changes = append(changes, steps(want.Steps, changes)...)
	}
	sort.SliceStable(changes, func(i, j int) bool {
		ri, rj := rank(changes[i].Kind, changes[i].Action), rank(changes[j].Kind, changes[j].Action)
		if ri != rj {
			return ri < rj
		}
		return changes[i].Address < changes[j].Address
	})
	dependencies(changes)
	return changes
}

// steps decides which steps run given the resource changes.
func steps(desired []Step, changes []Change) []Change {
	byAddr := map[string]*Change{}
	anyChange := false
	for i := range changes {
		byAddr[changes[i].Address] = &changes[i]
		anyChange = anyChange || changes[i].Action != NoOp
	}
	var out []Change
	for _, s := range desired {
		reason := ""
		if s.Force || (s.Always && anyChange) {
			reason = s.Reason
		}
		for _, t := range s.Triggers {
			if reason != "" {
				break
			}
			c := byAddr[t.Address]
			if c == nil {
				continue
			}
			switch c.Action {
			case Create, Replace:
				reason = t.Reason
			case Update:
				if len(t.Fields) == 0 || touches(c.Diff, t.Fields) {
					reason = t.Reason
				}
			}
		}
		if reason == "" {
			continue // a step that does not run is not shown
		}
		out = append(out, change(s.Resource, nil, Run, reason, nil))
	}
	return out
}

// dependencies makes each change depend on the mutating changes of the
// previous phase of its target.
func dependencies(changes []Change) {
	var prev, cur []string
	curRank := 0
	first := true
	for i := range changes {
		c := &changes[i]
		r := rank(c.Kind, c.Action)
		if first || r != curRank {
			if len(cur) > 0 {
				prev = cur
			}
			cur = nil
			curRank = r
			first = false
		}
		if c.Action == NoOp {
			continue
		}
		c.DependsOn = append([]string(nil), prev...)
		cur = append(cur, c.Address)
	}
}

func change(r Resource, old *Resource, a Action, reason string, diff []FieldDiff) Change {
	c := Change{
		Address:  r.Address,
		Target:   r.Target,
		Kind:     r.Kind,
		Action:   a,
		Reason:   reason,
		Provider: r.Provider,
		Diff:     diff,
	}
	if old != nil {
		c.Before = old.Attrs
		if c.Provider == "" {
			c.Provider = old.Provider
		}
	}
	if a != Delete {
		c.After = r.Attrs
	}
	if a != NoOp {
		c.IdempotencyKey = IdempotencyKey(r.Target, a, c.After)
	}
	return c
}

func touches(diff []FieldDiff, fields []string) bool {
	for _, d := range diff {
		top := d.Path
		if i := strings.IndexAny(top, ".["); i >= 0 {
			top = top[:i]
		}
		for _, f := range fields {
			if f == top {
				return true
			}
		}
	}
	return false
}

// Reason names the changed top-level fields of diff: "image changed".
func Reason(diff []FieldDiff) string { return reasonFor(diff, nil) }

// reasonFor names the changed top-level fields: "image changed", "image
// and env changed". With only, it names just those fields.
func reasonFor(diff []FieldDiff, only []string) string {
	seen := map[string]bool{}
	var names []string
	for _, d := range diff {
		top := d.Path
		if i := strings.IndexAny(top, ".["); i >= 0 {
			top = top[:i]
		}
		if seen[top] || (only != nil && !contains(only, top)) {
			continue
		}
		seen[top] = true
		names = append(names, top)
	}
	switch len(names) {
	case 0:
		return "changed"
	case 1:
		return names[0] + " changed"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " changed"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Fields returns the leaf differences between two JSON-like values, by
// dotted path, sorted by path.
func Fields(before, after map[string]any) []FieldDiff {
	var out []FieldDiff
	walkDiff("", before, after, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func walkDiff(path string, a, b any, out *[]FieldDiff) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkDiff(p, am[k], bm[k], out)
		}
		return
	}
	if !equal(a, b) {
		*out = append(*out, FieldDiff{Path: path, Before: a, After: b})
	}
}

// equal compares JSON-like values, treating numbers of any Go type alike
// (recorded state decodes as float64, desired state may hold ints).
func equal(a, b any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	}
	return v
}
