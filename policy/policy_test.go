package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/config"
)

func s(v string) *string { return &v }

func rule(m config.PolicyMatch, products, lanes, actions []string) config.PolicyRule {
	return config.PolicyRule{Match: m, Allow: config.PolicyAllow{Products: products, Lanes: lanes, Actions: actions}}
}

func list(v ...string) []string { return v }

// specExample is the policy of SPEC §2.
func specExample() *Policy {
	return &Policy{Name: "default", Spec: config.PolicySpec{Rules: []config.PolicyRule{
		rule(config.PolicyMatch{Repository: s("acme/platform"), Ref: s("refs/heads/main"), Event: s("push")},
			list("*"), list("testing", "prod"), list("apply", "rollback")),
		rule(config.PolicyMatch{Repository: s("acme/shop"), Event: s("pull_request")},
			list("shop"), list("preview"), list("preview")),
	}}}
}

func oidcID(repo, ref, event string) Identity {
	return Identity{Source: SourceGitHubOIDC, Repository: repo, Ref: ref, Event: event, Actor: "octocat"}
}

func with(p *Policy, f func(*Policy)) *Policy { f(p); return p }

func one(r config.PolicyRule) *Policy {
	return &Policy{Spec: config.PolicySpec{Rules: []config.PolicyRule{r}}}
}

var (
	mainPush  = oidcID("acme/platform", "refs/heads/main", "push")
	applyProd = Request{Action: ActionApply, Product: "shop", Lane: "prod"}
	anyAllow  = config.PolicyAllow{Products: list("*"), Lanes: list("*"), Actions: list("*")}
)

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name    string
		policy  *Policy
		id      Identity
		req     Request
		allowed bool
		rule    int
		reason  []string // substrings of Reason
	}{
		{
			name: "no policy allows everything", policy: nil,
			id: Identity{Source: SourceLocal, Actor: "alice@laptop"}, req: applyProd,
			allowed: true, rule: -1, reason: []string{"no policy in the state repository"},
		},
		{
			name: "main push may apply prod", policy: specExample(), id: mainPush, req: applyProd,
			allowed: true, rule: 0, reason: []string{"allowed by rule 1", "acme/platform@refs/heads/main (event push) may apply shop/prod"},
		},
		{
			name: "products wildcard allows any product", policy: specExample(), id: mainPush,
			req:     Request{Action: ActionRollback, Product: "anything", Lane: "testing"},
			allowed: true, rule: 0,
		},
		{
			name: "other branch is denied naming ref", policy: specExample(),
			id: oidcID("acme/platform", "refs/heads/feature", "push"), req: applyProd,
			rule: -1, reason: []string{"rule 1 matches repository, event but not ref (want refs/heads/main, got refs/heads/feature)"},
		},
		{
			name: "pull_request run for prod is denied naming event", policy: specExample(),
			id: oidcID("acme/platform", "refs/heads/main", "pull_request"), req: applyProd,
			rule: -1, reason: []string{"rule 1 matches repository, ref but not event (want push, got pull_request)",
				"rule 2 does not match repository (want acme/shop, got acme/platform)"},
		},
		{
			name: "lane not allowed is named", policy: specExample(), id: mainPush,
			req:  Request{Action: ActionApply, Product: "shop", Lane: LanePreview},
			rule: -1, reason: []string{"rule 1 allows lanes [testing, prod] not preview"},
		},
		{
			name: "action not allowed is named", policy: specExample(), id: mainPush,
			req:  Request{Action: ActionPromote, Product: "shop", Lane: "prod"},
			rule: -1, reason: []string{"rule 1 allows actions [apply, rollback] not promote"},
		},
		{
			name: "preview rule allows shop previews", policy: specExample(),
			id: oidcID("acme/shop", "refs/pull/7/merge", "pull_request"), req: Request{Action: ActionPreview, Product: "shop", Lane: LanePreview},
			allowed: true, rule: 1,
		},
		{
			name: "preview rule names every dimension it does not allow", policy: specExample(),
			id: oidcID("acme/shop", "refs/pull/7/merge", "pull_request"), req: Request{Action: ActionApply, Product: "blog", Lane: "prod"},
			rule: -1, reason: []string{"rule 2 allows products [shop] not blog and lanes [preview] not prod and actions [preview] not apply"},
		},
		{
			name: "first rule that allows decides", id: mainPush, req: applyProd,
			policy: &Policy{Spec: config.PolicySpec{Rules: []config.PolicyRule{
				rule(config.PolicyMatch{Repository: s("acme/platform")}, list("blog"), list("*"), list("*")),
				rule(config.PolicyMatch{Repository: s("acme/platform")}, list("shop"), list("prod"), list("apply")),
			}}},
			allowed: true, rule: 1,
		},
		{
			name: "default deny: no rules", policy: &Policy{}, id: mainPush, req: applyProd,
			rule: -1, reason: []string{"the policy has no rules"},
		},
		{
			name:   "empty match string matches nothing, not even an empty value",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Environment: s("")}, Allow: anyAllow}),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"environment (the rule's environment is empty, which matches nothing)"},
		},
		{
			name:   "empty repository matches nothing",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("")}, Allow: anyAllow}),
			id:     Identity{Source: SourceGitHubOIDC}, req: applyProd,
			rule: -1, reason: []string{"repository (the rule's repository is empty"},
		},
		{
			name:   "rule without repository matches nothing",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Event: s("push")}, Allow: anyAllow}),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"rule 1 names no repository"},
		},
		{
			name:   "empty allow list allows nothing",
			policy: one(rule(config.PolicyMatch{Repository: s("acme/platform")}, list(), list("*"), list("*"))),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"rule 1 allows no products (the list is empty)"},
		},
		{
			name:   "nil allow list allows nothing",
			policy: one(rule(config.PolicyMatch{Repository: s("acme/platform")}, list("*"), nil, list("*"))),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"no lanes"},
		},
		{
			name:   "star in match is literal",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("*")}, Allow: anyAllow}),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"repository (want *, got acme/platform)"},
		},
		{
			name:   "star in match ref is literal",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Ref: s("refs/heads/*")}, Allow: anyAllow}),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"ref (want refs/heads/*, got refs/heads/main)"},
		},
		{
			name:   "star in allow matches any value",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform")}, Allow: anyAllow}),
			id:     mainPush, req: Request{Action: ActionPromote, Product: "x", Lane: "testing"},
			allowed: true, rule: 0,
		},
		{
			name:   "star in allow does not allow an empty request field",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform")}, Allow: anyAllow}),
			id:     mainPush, req: Request{Action: ActionApply, Lane: "prod"},
			rule: -1, reason: []string{"products [*] not none"},
		},
		{
			name:   "named field the caller lacks matches nothing",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Environment: s("production")}, Allow: anyAllow}),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"environment (want production, got none)"},
		},
		{
			name:   "environment and actor match when equal",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Environment: s("production"), Actor: s("octocat")}, Allow: anyAllow}),
			id:     func() Identity { id := mainPush; id.Environment = "production"; return id }(), req: applyProd,
			allowed: true, rule: 0,
		},
		{
			name:   "actor mismatch is named",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Actor: s("alice")}, Allow: anyAllow}),
			id:     mainPush, req: applyProd,
			rule: -1, reason: []string{"actor (want alice, got octocat)"},
		},
		{
			name: "comparison is exact", policy: specExample(),
			id: oidcID("Acme/Platform", "refs/heads/main", "push"), req: applyProd,
			rule: -1, reason: []string{"want acme/platform, got Acme/Platform"},
		},
		{
			name:   "local identity is denied without allowLocal",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform")}, Allow: anyAllow}),
			id:     Identity{Source: SourceLocal, Actor: "alice@laptop", Repository: "acme/platform"}, req: applyProd,
			rule: -1, reason: []string{"local user alice@laptop", "spec.allowLocal is not true"},
		},
		{
			name: "local identity with allowLocal still needs a rule",
			policy: with(one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform")}, Allow: anyAllow}),
				func(p *Policy) { p.Spec.AllowLocal = true }),
			id: Identity{Source: SourceLocal, Actor: "alice@laptop"}, req: applyProd,
			rule: -1, reason: []string{"repository (want acme/platform, got none)"},
		},
		{
			name: "local identity with allowLocal and a matching local rule",
			policy: with(one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Actor: s("alice@laptop"), Local: true}, Allow: anyAllow}),
				func(p *Policy) { p.Spec.AllowLocal = true }),
			id: Identity{Source: SourceLocal, Actor: "alice@laptop", Repository: "acme/platform"}, req: applyProd,
			allowed: true, rule: 0,
		},
		{
			// a checkout whose origin says acme/platform is not CI: a rule
			// written for CI (no local: true) is never met by it
			name: "local identity never meets a rule written for CI",
			policy: with(one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform")}, Allow: anyAllow}),
				func(p *Policy) { p.Spec.AllowLocal = true }),
			id: Identity{Source: SourceLocal, Actor: "mallory@laptop", Repository: "acme/platform", Ref: "refs/heads/main"}, req: applyProd,
			rule: -1, reason: []string{"rule 1 matches, but is not for local identities: only a rule with local: true accepts one"},
		},
		{
			name: "an OIDC identity never meets a local rule",
			policy: with(one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Local: true}, Allow: anyAllow}),
				func(p *Policy) { p.Spec.AllowLocal = true }),
			id: mainPush, req: applyProd,
			rule: -1, reason: []string{"is for local identities (local: true)"},
		},
		{
			name:   "local identity with allowLocal does not match event rules",
			policy: with(specExample(), func(p *Policy) { p.Spec.AllowLocal = true }),
			id:     Identity{Source: SourceLocal, Actor: "alice@laptop", Repository: "acme/platform", Ref: "refs/heads/main"}, req: applyProd,
			rule: -1, reason: []string{"event (want push, got none)"},
		},
		{
			name:   "identity of no source is denied",
			policy: one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform")}, Allow: anyAllow}),
			id:     Identity{Repository: "acme/platform"}, req: applyProd,
			rule: -1, reason: []string{"no verified source"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Evaluate(tt.policy, tt.id, tt.req)
			if d.Allowed != tt.allowed || d.Rule != tt.rule {
				t.Fatalf("Evaluate = {Allowed: %v, Rule: %d}, want {%v, %d}; reason: %s", d.Allowed, d.Rule, tt.allowed, tt.rule, d.Reason)
			}
			wantPrefix := "denied: "
			if tt.allowed {
				wantPrefix = "allowed"
			}
			if !strings.HasPrefix(d.Reason, wantPrefix) {
				t.Errorf("reason %q does not start with %q", d.Reason, wantPrefix)
			}
			for _, sub := range tt.reason {
				if !strings.Contains(d.Reason, sub) {
					t.Errorf("reason %q does not contain %q", d.Reason, sub)
				}
			}
			if err := d.Err(); (err == nil) != tt.allowed || (err != nil && !errors.Is(err, ErrDenied)) {
				t.Errorf("Err() = %v, want ErrDenied iff denied", err)
			}
		})
	}
}

// TestEvaluateReasonFormat pins a whole denial, as users read it.
func TestEvaluateReasonFormat(t *testing.T) {
	p := &Policy{Spec: config.PolicySpec{Rules: []config.PolicyRule{
		rule(config.PolicyMatch{Repository: s("acme/platform"), Event: s("push")}, list("*"), list("*"), list("apply")),
		rule(config.PolicyMatch{Repository: s("acme/platform")}, list("shop"), list("testing"), list("apply")),
	}}}
	d := Evaluate(p, oidcID("acme/platform", "refs/heads/feature", "pull_request"), applyProd)
	want := "denied: no rule allows apply of shop/prod for acme/platform@refs/heads/feature (event pull_request): " +
		"rule 1 matches repository but not event (want push, got pull_request); rule 2 allows lanes [testing] not prod"
	if d.Reason != want {
		t.Errorf("reason:\n got %s\nwant %s", d.Reason, want)
	}
	if err := d.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want the reason", err)
	}
}

func TestEvaluateExplainsAtMostTenRules(t *testing.T) {
	p := &Policy{}
	for range 13 {
		p.Spec.Rules = append(p.Spec.Rules, rule(config.PolicyMatch{Repository: s("other/repo")}, list("*"), list("*"), list("*")))
	}
	d := Evaluate(p, mainPush, applyProd)
	if d.Allowed || !strings.Contains(d.Reason, "rule 10 ") || strings.Contains(d.Reason, "rule 11 ") || !strings.HasSuffix(d.Reason, "and 3 more rules") {
		t.Errorf("reason = %q, want rules 1-10 explained and 3 more counted", d.Reason)
	}
}

func TestEvaluateWorkflow(t *testing.T) {
	caller := "acme/platform/.github/workflows/deploy.yml@refs/heads/main"
	reusable := "acme/infra/.github/workflows/release.yml@refs/tags/v1"
	tests := []struct {
		want            string
		wfRef, jobWfRef string
		allowed         bool
	}{
		{want: caller, wfRef: caller, jobWfRef: caller, allowed: true},
		{want: "acme/platform/.github/workflows/deploy.yml", wfRef: caller, jobWfRef: caller, allowed: true},
		{want: "acme/platform/.github/workflows/deploy.yml@refs/heads/dev", wfRef: caller, jobWfRef: caller},
		{want: ".github/workflows/deploy.yml", wfRef: caller, jobWfRef: caller},
		{want: "deploy", wfRef: caller, jobWfRef: caller},
		{want: reusable, wfRef: caller, jobWfRef: reusable, allowed: true},
		{want: "acme/infra/.github/workflows/release.yml", wfRef: caller, jobWfRef: reusable, allowed: true},
		{want: "acme/infra/.github/workflows/other.yml", wfRef: caller, jobWfRef: reusable},
		{want: caller},
	}
	for _, tt := range tests {
		id := mainPush
		id.Workflow, id.WorkflowRef, id.JobWorkflowRef = "deploy", tt.wfRef, tt.jobWfRef
		p := one(config.PolicyRule{Match: config.PolicyMatch{Repository: s("acme/platform"), Workflow: s(tt.want)}, Allow: anyAllow})
		d := Evaluate(p, id, applyProd)
		if d.Allowed != tt.allowed {
			t.Errorf("workflow %q vs (%q, %q): allowed = %v, want %v (%s)", tt.want, tt.wfRef, tt.jobWfRef, d.Allowed, tt.allowed, d.Reason)
		}
		if !d.Allowed && !strings.Contains(d.Reason, "not workflow (want "+tt.want) {
			t.Errorf("reason %q does not name the workflow", d.Reason)
		}
	}
}

func TestIdentityString(t *testing.T) {
	id := Identity{
		Source: SourceGitHubOIDC, Repository: "acme/platform", Ref: "refs/heads/main", Event: "push",
		WorkflowRef: "acme/platform/.github/workflows/deploy.yml@refs/heads/main", JobWorkflowRef: "acme/platform/.github/workflows/deploy.yml@refs/heads/main",
		Actor: "octocat", RunID: "42", SHA: "abc",
	}
	want := "github-oidc acme/platform@refs/heads/main event=push workflow=acme/platform/.github/workflows/deploy.yml@refs/heads/main actor=octocat run=42 sha=abc"
	if got := id.String(); got != want {
		t.Errorf("String() =\n %s\nwant\n %s", got, want)
	}
	local := Identity{Source: SourceLocal, Actor: "alice@laptop"}
	if got := local.String(); got != "local alice@laptop" {
		t.Errorf("local String() = %q", got)
	}
}

func TestLocal(t *testing.T) {
	env := map[string]string{"USER": "alice"}
	id, err := Local(func(k string) string { return env[k] }, Options{
		Repository: "acme/platform",
		Hostname:   func() (string, error) { return "laptop", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{Source: SourceLocal, Actor: "alice@laptop", Repository: "acme/platform"}
	if id != want {
		t.Errorf("Local = %+v, want %+v", id, want)
	}
	_, err = Local(func(string) string { return "" }, Options{Hostname: func() (string, error) { return "", errors.New("no name") }})
	if err == nil || !strings.Contains(err.Error(), "no name") {
		t.Errorf("Local with failing hostname: err = %v", err)
	}
}
