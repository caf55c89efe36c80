package schema

import (
	"reflect"
	"testing"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
)

// The typed spec decoded from the validated JSON value is the one
// yaml.v3 decodes from the tree, for every valid Product and Target of
// the corpus and their line-edited variants; specs the fast path does
// not take are decoded by yaml.v3 as before.
func TestFastDecodeSame(t *testing.T) {
	fast, total := map[string]int{}, map[string]int{}
	extra := [][]byte{
		[]byte("apiVersion: launchplane.dev/v1\nkind: Target\nmetadata: {name: a-prod}\nspec:\n  product: a\n  lane: prod\n  image: 'ghcr.io/a@sha256:" + sha + "'\n  source: {commit: abc}\n  deploy: {provider: local}\n  ingress: {provider: local, domains: []}\n  env: {}\n"),
		[]byte("apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: a}\nspec:\n  driver: generic-web\n  image: ghcr.io/a\n  port: 0x1F90\n  source: {repository: acme/a}\n  health: {path: /h, timeout: 1h2m}\n  env: {A: '1', B: \"x\"}\n  secrets: {DB: {fromEnv: DB}, F: {fromFile: /run/f}}\n"),
		[]byte("apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: b}\nspec:\n  driver: generic-web\n  image: ghcr.io/b\n  port: 8_080\n  health: {path: /h}\n  secrets: {}\n"),
	}
	for _, data := range append(corpusFiles(t), extra...) {
		for i, v := range variants(data) {
			if i%3 != 0 {
				continue // a third of them: the rest add time, not cases
			}
			var ds diag.Diagnostics
			docs, _ := parse(source{rel: "f.yaml", data: v}, &ds)
			for _, d := range docs {
				dr, _ := document(d, &ds)
				if dr.kind != "Target" && dr.kind != "Product" {
					continue
				}
				if valid, err := validateDoc(dr.kind, d, &diag.Diagnostics{}); err != nil || !valid {
					continue
				}
				spec, _ := lookup(d.value, "/spec").(map[string]any)
				var got, want any
				var fastOK bool
				var err error
				if dr.kind == "Target" {
					var w config.TargetSpec
					err = d.specNode().Decode(&w)
					want = w
					_, fastOK = fastTargetSpec(d, spec)
					if dr.target != nil {
						got = dr.target.Spec
					}
				} else {
					var w config.ProductSpec
					err = d.specNode().Decode(&w)
					want = w
					_, fastOK = fastProductSpec(d, spec, driverBlockKeys())
					if dr.product != nil {
						g := dr.product.Spec
						g.Settings = nil // set from the JSON value after decoding, either way
						got = g
					}
				}
				total[dr.kind]++
				if fastOK {
					fast[dr.kind]++
				}
				if err != nil {
					if fastOK || got != nil {
						t.Fatalf("yaml.v3 refuses the spec (%v), the load took it\n%s", err, v)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s spec %+v, yaml.v3 decodes %+v\n%s", dr.kind, got, want, v)
				}
			}
		}
	}
	t.Logf("fast decode: %v of %v", fast, total)
	for _, k := range []string{"Target", "Product"} {
		if fast[k] < 100 || fast[k] == total[k] {
			t.Errorf("%s: %d of %d specs decoded fast: the comparison covers too little", k, fast[k], total[k])
		}
	}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
