package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/plan"
)

// savedPlan is a plan as plan --out writes it.
func savedPlan(t *testing.T) []byte {
	t.Helper()
	p := &plan.Plan{Base: plan.Base{StateCommit: "abc", ConfigDigest: "sha256:d"},
		Changes: []plan.Change{
			{Address: "shop/prod/app", Target: "shop/prod", Kind: plan.KindApp, Action: plan.Create, Provider: "local", Reason: "new in config",
				After: map[string]any{"image": "ghcr.io/acme/shop@sha256:1111", "port": 8080, "env": map[string]any{"A": "1", "a": "2"}}},
			{Address: "shop/prod/health", Target: "shop/prod", Kind: plan.KindHealth, Action: plan.Run, Provider: "local",
				After: map[string]any{"url": "https://shop.example.com/healthz"}, DependsOn: []string{"shop/prod/app"}},
		}}
	var b bytes.Buffer
	if err := WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// verifies reads an edited file as apply PLANFILE does: it must decode,
// and hash to its own plan_hash.
func verifies(data []byte) (bool, error) {
	p, err := FromJSON(data)
	if err != nil {
		return false, err
	}
	return p.Hash() == p.FileHash, nil
}

// A hand-edited plan file is judged by what it decodes to: changes of
// layout alone (whitespace, member order, escapes spelling the same
// characters) still verify, since the hash is over the decoded meaning,
// not the bytes; every edit of meaning spelled through escapes, case or
// a second member of the same name is refused, a duplicate member as an
// edit (ErrEdited: apply and show exit 3).
func TestEditedPlanFile(t *testing.T) {
	orig := savedPlan(t)
	if ok, err := verifies(orig); !ok || err != nil {
		t.Fatalf("the saved plan does not verify: %v", err)
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("fixture has no %q", old)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	compact := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	same := map[string]func([]byte) []byte{
		"compacted":           compact,
		"re-indented":         func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n  "), []byte("\n\t \r\n  ")) },
		"members reordered":   replace(`"address": "shop/prod/app",`+"\n"+`      "target": "shop/prod",`, `"target": "shop/prod", "address": "shop/prod/app",`),
		"escaped same letter": replace(`"image": "ghcr.io`, `"image": "\u0067hcr.io`),
		"escaped slash":       replace(`"https://shop`, `"https:\/\/shop`),
		"escaped key":         replace(`"action": "create"`, `"\u0061ction": "create"`),
		"unknown member":      replace(`"reason": "new in config",`, `"reason": "new in config", "comment": "lgtm",`),
	}
	for name, edit := range same {
		ok, err := verifies(edit(append([]byte{}, orig...)))
		if err != nil || !ok {
			t.Errorf("%s: verifies %v, %v; want the file to verify (same meaning)", name, ok, err)
		}
	}
	differ := map[string]func([]byte) []byte{
		"escape changes image":     replace(`"image": "ghcr.io/acme/shop@sha256:1111"`, `"image": "ghcr.io/acme/shop@sha256:111\u0032"`),
		"escape changes action":    replace(`"action": "create"`, `"action": "\u0064elete"`),
		"member name case":         replace(`"action": "create"`, `"ACTION": "delete"`),
		"invalid UTF-8 in a value": replace(`"image": "ghcr.io`, "\"image\": \"\xffghcr.io"),
		"unicode look-alike":       replace(`"image": "ghcr.io`, `"image": "ghcr.ıo`),
		"null after":               replace(`"url": "https://shop.example.com/healthz"`, `"url": null`),
	}
	for name, edit := range differ {
		ok, err := verifies(edit(append([]byte{}, orig...)))
		if ok {
			t.Errorf("%s: the edited file verifies (err %v)", name, err)
		}
	}
	dups := map[string]func([]byte) []byte{
		"action twice, last wins":    replace(`"action": "create",`, `"action": "create", "action": "delete",`),
		"action twice, first edited": replace(`"action": "create",`, `"action": "delete", "action": "create",`),
		"action and Action":          replace(`"action": "create",`, `"action": "create", "Action": "delete",`),
		"escaped duplicate":          replace(`"action": "create",`, `"action": "create", "\u0061ction": "delete",`),
		"kelvin sign kind":           replace(`"kind": "app",`, "\"kind\": \"app\", \"\u212aind\": \"route\","),
		"long s address":             replace(`"address": "shop/prod/app",`, "\"address\": \"shop/prod/app\", \"addre\u017fs\": \"x/y/app\","),
		"after twice":                replace(`"after": {`, `"after": {"image": "evil"}, "after": {`),
		"image twice in after":       replace(`"image": "ghcr.io`, `"image": "evil", "image": "ghcr.io`),
		"plan_hash twice":            replace(`"plan_hash": `, `"plan_hash": "sha256:0", "plan_hash": `),
		"depends_on twice":           replace(`"depends_on": [`, `"depends_on": [], "depends_on": [`),
	}
	for name, edit := range dups {
		_, err := verifies(edit(append([]byte{}, orig...)))
		if !errors.Is(err, ErrEdited) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s: error %v, want a refusal naming the member given twice", name, err)
		}
	}
	// encoding/json does match those look-alike names to the members
	var c struct{ Address, Kind string }
	if err := json.Unmarshal([]byte("{\"addre\u017fs\": \"x\", \"\u212aind\": \"y\"}"), &c); err != nil || c.Address != "x" || c.Kind != "y" {
		t.Fatalf("encoding/json no longer folds the long s and the Kelvin sign (%+v, %v): simplify foldKey", c, err)
	}
	// attribute names differ by case legitimately: env A and a are two
	if !bytes.Contains(orig, []byte(`"A": "1"`)) || !bytes.Contains(orig, []byte(`"a": "2"`)) {
		t.Fatal("fixture lacks env A and a")
	}
}
