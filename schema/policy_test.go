package schema_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/schema"
)

const specPolicy = `apiVersion: launchplane.dev/v1
kind: Policy
metadata: {name: default}
spec:
  rules:
    - match: {repository: acme/platform, ref: refs/heads/main, event: push}
      allow: {products: ["*"], lanes: [testing, prod], actions: [apply, rollback]}
    - match: {repository: acme/shop, event: pull_request}
      allow: {products: [shop], lanes: [preview], actions: [preview]}
`

func sp(s string) *string { return &s }

func TestLoadPolicy(t *testing.T) {
	p, ds := schema.LoadPolicy("policy.yaml", []byte(specPolicy))
	if len(ds) > 0 || p == nil {
		t.Fatalf("LoadPolicy = %v, diagnostics:\n%v", p, ds)
	}
	want := config.PolicySpec{Rules: []config.PolicyRule{
		{
			Match: config.PolicyMatch{Repository: sp("acme/platform"), Ref: sp("refs/heads/main"), Event: sp("push")},
			Allow: config.PolicyAllow{Products: []string{"*"}, Lanes: []string{"testing", "prod"}, Actions: []string{"apply", "rollback"}},
		},
		{
			Match: config.PolicyMatch{Repository: sp("acme/shop"), Event: sp("pull_request")},
			Allow: config.PolicyAllow{Products: []string{"shop"}, Lanes: []string{"preview"}, Actions: []string{"preview"}},
		},
	}}
	if p.Name != "default" || !reflect.DeepEqual(p.Spec, want) {
		t.Errorf("decoded %q %+v, want %+v", p.Name, p.Spec, want)
	}
	if pos := p.Source.Pos("/spec/rules/1/match/event"); pos != (diag.Pos{File: "policy.yaml", Line: 8, Col: 45}) {
		t.Errorf("position of spec.rules[1].match.event: %v", pos)
	}
}

// TestLoadPolicyEvaluate: a denial names the rule's line in policy.yaml.
func TestLoadPolicyEvaluate(t *testing.T) {
	p, ds := schema.LoadPolicy("policy.yaml", []byte(specPolicy))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	id := policy.Identity{Source: policy.SourceGitHubOIDC, Repository: "acme/platform", Ref: "refs/heads/main", Event: "pull_request"}
	d := policy.Evaluate(p, id, policy.Request{Action: "apply", Product: "shop", Lane: "prod"})
	if d.Allowed || !strings.Contains(d.Reason, "rule 1 (policy.yaml:6) matches repository, ref but not event (want push, got pull_request)") {
		t.Errorf("decision %+v", d)
	}
	id.Event = "push"
	if d := policy.Evaluate(p, id, policy.Request{Action: "apply", Product: "shop", Lane: "prod"}); !d.Allowed || d.Rule != 0 {
		t.Errorf("decision %+v, want allowed by rule 0", d)
	}
}

func TestLoadPolicyDiagnostics(t *testing.T) {
	head := "apiVersion: launchplane.dev/v1\nkind: Policy\nmetadata: {name: default}\nspec:\n"
	tests := []struct {
		name string
		src  string
		want []string // diagnostics, rendered
	}{
		{
			name: "rule without repository",
			src:  head + "  rules:\n    - match: {event: push}\n      allow: {products: [shop], lanes: [prod], actions: [apply]}\n",
			want: []string{"policy.yaml:6:7: spec.rules[0].match.repository: required field is missing"},
		},
		{
			name: "star in match",
			src:  head + "  rules:\n    - match: {repository: acme/platform, ref: \"refs/heads/*\"}\n      allow: {products: [shop], lanes: [prod], actions: [apply]}\n",
			want: []string{`policy.yaml:6:47: spec.rules[0].match.ref: is matched literally: "*" is a wildcard only in allow; got "refs/heads/*"`},
		},
		{
			name: "star as a whole match value",
			src:  head + "  rules:\n    - match: {repository: \"*\"}\n      allow: {products: [shop], lanes: [prod], actions: [apply]}\n",
			want: []string{`policy.yaml:6:27: spec.rules[0].match.repository: is matched literally: "*" is a wildcard only in allow; got "*"`},
		},
		{
			name: "unknown lane and action",
			src:  head + "  rules:\n    - match: {repository: acme/platform}\n      allow: {products: [shop], lanes: [staging], actions: [deploy]}\n",
			want: []string{
				"policy.yaml:7:41: spec.rules[0].allow.lanes[0]: must be one of: *, testing, prod, preview; got \"staging\"",
				"policy.yaml:7:61: spec.rules[0].allow.actions[0]: must be one of: *, apply, destroy, rollback, preview, promote, backup, release, clone, unlock; got \"deploy\"",
			},
		},
		{
			name: "bad product name",
			src:  head + "  rules:\n    - match: {repository: acme/platform}\n      allow: {products: [Shop], lanes: [prod], actions: [apply]}\n",
			want: []string{`policy.yaml:7:26: spec.rules[0].allow.products[0]: must be a product name or "*"`},
		},
		{
			name: "missing allow list",
			src:  head + "  rules:\n    - match: {repository: acme/platform}\n      allow: {products: [shop], lanes: [prod]}\n",
			want: []string{"policy.yaml:7:7: spec.rules[0].allow.actions: required field is missing"},
		},
		{
			name: "unknown field",
			src:  head + "  allowlocal: true\n  rules: []\n",
			want: []string{"policy.yaml:5:3: spec.allowlocal: unknown field; did you mean allowLocal? (allowed: allowLocal, oidc, rules)"},
		},
		{
			name: "oidc issuer not a URL, empty audience, unknown key",
			src:  head + "  oidc: {issuer: token.example.com, audience: \"\", keys: x}\n  rules: []\n",
			want: []string{
				`policy.yaml:5:18: spec.oidc.issuer: "token.example.com" does not match ^https?://[^\s]+$`,
				`policy.yaml:5:47: spec.oidc.audience: must not be empty; got ""`,
				"policy.yaml:5:51: spec.oidc.keys: unknown field (allowed: audience, issuer)",
			},
		},
		{
			name: "allowLocal not a boolean",
			src:  head + "  allowLocal: \"yes\"\n  rules: []\n",
			want: []string{`policy.yaml:5:15: spec.allowLocal: must be a boolean; got "yes"`},
		},
		{
			name: "another kind",
			src:  "apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: shop}\nspec: {}\n",
			want: []string{`policy.yaml:2:7: kind: must be Policy in the policy file; got "Product"`},
		},
		{
			name: "wrong apiVersion",
			src:  "apiVersion: launchplane.dev/v2\nkind: Policy\nmetadata: {name: default}\nspec: {rules: []}\n",
			want: []string{`policy.yaml:1:13: apiVersion: must be "launchplane.dev/v1"; got "launchplane.dev/v2"`},
		},
		{
			name: "invalid YAML",
			src:  head + "  rules: [\n",
			want: []string{"policy.yaml:5:1: invalid YAML in the block that starts below this line: did not find expected node content (check the indentation)"},
		},
		{
			name: "empty file",
			src:  "# nothing\n",
			want: []string{"policy.yaml: the policy file is empty: it must hold one Policy document (remove the file to have no policy)"},
		},
		{
			name: "two documents",
			src:  head + "  rules: []\n---\n" + head + "  rules: []\n",
			want: []string{"policy.yaml:7:1: a second document: the policy file must hold exactly one Policy document"},
		},
		{
			name: "not a mapping",
			src:  "- a\n",
			want: []string{"policy.yaml:1:1: a document must be a mapping with apiVersion, kind, metadata and spec; got a list"},
		},
		{
			name: "duplicate key",
			src:  head + "  rules: []\n  rules: []\n",
			want: []string{`policy.yaml:6:3: spec: duplicate key "rules"`},
		},
		{
			name: "alias bomb",
			src: "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
				"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
			want: []string{"policy.yaml:5:36: e[7]: document expands to more than 100000 values through aliases (a YAML alias bomb?)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ds := schema.LoadPolicy("policy.yaml", []byte(tt.src))
			if p != nil {
				t.Errorf("policy %+v returned with errors", p)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diagnostics:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLoadPolicyTooLarge(t *testing.T) {
	data := []byte(specPolicy + "#" + strings.Repeat("x", schema.MaxFileSize) + "\n")
	p, ds := schema.LoadPolicy("policy.yaml", data)
	if p != nil || len(ds) != 1 || ds[0].String() != "policy.yaml: file is larger than 1 MiB; a policy must be smaller" {
		t.Errorf("LoadPolicy = %v, %v", p, ds)
	}
}

// TestLoadPolicyEmptyFieldsWarn: empty values are valid and match or
// allow nothing; they load with a warning each.
func TestLoadPolicyEmptyFieldsWarn(t *testing.T) {
	src := "apiVersion: launchplane.dev/v1\nkind: Policy\nmetadata: {name: default}\nspec:\n  allowLocal: true\n  rules:\n" +
		"    - match: {repository: acme/platform, ref: \"\"}\n      allow: {products: [], lanes: [prod], actions: [apply]}\n"
	p, ds := schema.LoadPolicy("policy.yaml", []byte(src))
	if p == nil || ds.HasErrors() {
		t.Fatalf("LoadPolicy = %v, %v", p, ds)
	}
	want := []string{
		"policy.yaml:7:47: warning: spec.rules[0].match.ref: is empty and matches nothing: this rule never applies",
		"policy.yaml:8:25: warning: spec.rules[0].allow.products: is empty and allows nothing: this rule never applies",
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n got %q\nwant %q", got, want)
	}
	if !p.Spec.AllowLocal || p.Spec.Rules[0].Match.Ref == nil || *p.Spec.Rules[0].Match.Ref != "" || p.Spec.Rules[0].Allow.Products == nil {
		t.Errorf("decoded %+v: an empty value must stay distinct from an absent one", p.Spec.Rules[0])
	}
	id := policy.Identity{Source: policy.SourceGitHubOIDC, Repository: "acme/platform"}
	if d := policy.Evaluate(p, id, policy.Request{Action: "apply", Product: "shop", Lane: "prod"}); d.Allowed {
		t.Errorf("an empty ref allowed %+v", d)
	}
}

// TestLoadPolicyOIDCAndLocal: spec.oidc and match.local decode.
func TestLoadPolicyOIDCAndLocal(t *testing.T) {
	src := "apiVersion: launchplane.dev/v1\nkind: Policy\nmetadata: {name: default}\nspec:\n  allowLocal: true\n" +
		"  oidc: {issuer: https://ghes.example.com/_services/token, audience: deploys}\n  rules:\n" +
		"    - match: {repository: acme/platform, local: true}\n      allow: {products: [shop], lanes: [testing], actions: [apply, destroy, unlock]}\n"
	p, ds := schema.LoadPolicy("policy.yaml", []byte(src))
	if p == nil || ds.HasErrors() {
		t.Fatalf("LoadPolicy = %v, %v", p, ds)
	}
	if o := p.Spec.OIDC; o == nil || o.Issuer != "https://ghes.example.com/_services/token" || o.Audience != "deploys" {
		t.Errorf("oidc = %+v", p.Spec.OIDC)
	}
	if !p.Spec.Rules[0].Match.Local {
		t.Errorf("match.local not decoded: %+v", p.Spec.Rules[0].Match)
	}
}
