package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// hashedChange is the canonical meaning of one change: what apply would
// do. Reasons, diffs, before values and idempotency keys explain or are
// derived; they are not part of it, and neither is anything volatile
// (timestamps, the state commit, the config digest).
type hashedChange struct {
	Address   string         `json:"address"`
	Target    string         `json:"target"`
	Kind      Kind           `json:"kind"`
	Action    string         `json:"action"`
	Provider  string         `json:"provider"`
	After     map[string]any `json:"after"`
	DependsOn []string       `json:"depends_on"`
}

func meaning(c Change) hashedChange {
	deps := append([]string{}, c.DependsOn...)
	return hashedChange{Address: c.Address, Target: c.Target, Kind: c.Kind, Action: c.Action.String(), Provider: c.Provider,
		After: c.After, DependsOn: deps}
}

// Hash is the plan hash (SPEC §4): "sha256:<64 hex>" over the canonical
// meaning of every change (address, target, kind, action, provider, after
// and depends_on, steps included, in plan order), the targets the plan was
// restricted to, and whether secret fingerprints were checked.
//
// The bytes hashed are the canonical JSON (Canonical) of
// {"v","only","secrets_checked","changes":[hashedChange...]}; they are
// written change by change into the hash, never held whole.
func (p *Plan) Hash() string {
	only := append([]string{}, p.Only...)
	sort.Strings(only)
	h := sha256.New()
	e := &JSON{B: make([]byte, 0, 64<<10)}
	e.B = append(e.B, `{"v":"1","only":`...)
	e.Strings(only, 0)
	e.B = append(e.B, `,"secrets_checked":`...)
	e.Bool(p.SecretsChecked)
	e.B = append(e.B, `,"changes":[`...)
	for i := range p.Changes {
		if i > 0 {
			e.B = append(e.B, ',')
		}
		writeMeaning(e, &p.Changes[i])
		if len(e.B) >= 32<<10 {
			h.Write(e.B)
			e.B = e.B[:0]
		}
	}
	e.B = append(e.B, "]}"...)
	if e.Err != nil {
		panic(fmt.Sprintf("plan: canonical JSON: %v", e.Err)) // attrs are JSON-like by construction
	}
	h.Write(e.B)
	var sum [sha256.Size]byte
	return "sha256:" + hex.EncodeToString(h.Sum(sum[:0]))
}

// writeMeaning writes Canonical(meaning(*c)).
func writeMeaning(e *JSON, c *Change) {
	e.B = append(e.B, `{"address":`...)
	e.String(c.Address)
	e.B = append(e.B, `,"target":`...)
	e.String(c.Target)
	e.B = append(e.B, `,"kind":`...)
	e.String(string(c.Kind))
	e.B = append(e.B, `,"action":`...)
	e.String(c.Action.String())
	e.B = append(e.B, `,"provider":`...)
	e.String(c.Provider)
	e.B = append(e.B, `,"after":`...)
	e.Value(c.After, 1)
	e.B = append(e.B, `,"depends_on":`...)
	if c.DependsOn == nil {
		e.B = append(e.B, "[]"...) // meaning copies it: never null
	} else {
		e.Strings(c.DependsOn, 1)
	}
	e.B = append(e.B, '}')
}

// ValidHash reports whether h has the form of a plan hash.
func ValidHash(h string) bool {
	rest, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(rest) != 64 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil && strings.ToLower(rest) == rest
}

// Differences lists how plan b differs from plan a, change by change in
// address order, the first difference first: "shop/prod/app: action
// delete in the saved plan, update now". Empty when they mean the same.
func Differences(a, b *Plan, aName, bName string) []string {
	var out []string
	if strings.Join(sortedCopy(a.Only), ",") != strings.Join(sortedCopy(b.Only), ",") {
		out = append(out, fmt.Sprintf("targets: %s in %s, %s in %s", onlyText(a.Only), aName, onlyText(b.Only), bName))
	}
	if a.SecretsChecked != b.SecretsChecked {
		out = append(out, fmt.Sprintf("secret rotation: %s in %s, %s in %s", checkedText(a.SecretsChecked), aName, checkedText(b.SecretsChecked), bName))
	}
	am, bm := map[string]Change{}, map[string]Change{}
	var addrs []string
	for _, c := range a.Changes {
		if _, dup := am[c.Address]; dup {
			out = append(out, fmt.Sprintf("%s: listed twice in %s", c.Address, aName))
		}
		am[c.Address] = c
		addrs = append(addrs, c.Address)
	}
	for _, c := range b.Changes {
		if _, ok := am[c.Address]; !ok {
			if _, seen := bm[c.Address]; !seen {
				addrs = append(addrs, c.Address)
			}
		}
		bm[c.Address] = c
	}
	sort.Strings(addrs)
	seen := map[string]bool{}
	for _, addr := range addrs {
		if seen[addr] {
			continue
		}
		seen[addr] = true
		ca, ina := am[addr]
		cb, inb := bm[addr]
		switch {
		case !inb:
			out = append(out, fmt.Sprintf("%s: %s in %s, not in %s", addr, ca.Action, aName, bName))
		case !ina:
			out = append(out, fmt.Sprintf("%s: %s in %s, not in %s", addr, cb.Action, bName, aName))
		default:
			if d := changeDiff(meaning(ca), meaning(cb), aName, bName); d != "" {
				out = append(out, addr+": "+d)
			}
		}
	}
	if len(out) == 0 && a.Hash() != b.Hash() {
		out = append(out, "the order of changes differs")
	}
	return out
}

// changeDiff says what differs between two changes of one address.
func changeDiff(a, b hashedChange, aName, bName string) string {
	pair := func(what, x, y string) string {
		return fmt.Sprintf("%s %s in %s, %s in %s", what, x, aName, y, bName)
	}
	switch {
	case a.Action != b.Action:
		return pair("action", a.Action, b.Action)
	case a.Target != b.Target:
		return pair("target", a.Target, b.Target)
	case a.Kind != b.Kind:
		return pair("kind", string(a.Kind), string(b.Kind))
	case a.Provider != b.Provider:
		return pair("provider", a.Provider, b.Provider)
	case string(Canonical(a.DependsOn)) != string(Canonical(b.DependsOn)):
		return pair("depends_on", strings.Join(a.DependsOn, ","), strings.Join(b.DependsOn, ","))
	}
	if d := Fields(a.After, b.After); len(d) > 0 {
		var paths []string
		for _, f := range d {
			paths = append(paths, "after."+f.Path)
		}
		return fmt.Sprintf("%s differ between %s and %s", strings.Join(paths, ", "), aName, bName)
	}
	return ""
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

func onlyText(s []string) string {
	if len(s) == 0 {
		return "all"
	}
	return strings.Join(sortedCopy(s), ", ")
}

func checkedText(b bool) string {
	if b {
		return "checked"
	}
	return "not checked"
}
