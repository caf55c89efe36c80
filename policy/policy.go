// Package policy decides who may apply what (SPEC §2 Policy, §8
// preflight). The caller's identity comes from the GitHub Actions OIDC
// token, verified against the issuer's published keys, or, outside
// Actions, is a local identity that only a policy with allowLocal accepts.
//
// The package does no git and no config loading: the policy itself is
// read from the state repository and parsed by schema.LoadPolicy.
package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/launchplane/launchplane/config"
)

// Policy is the parsed policy.yaml (see schema.LoadPolicy).
type Policy = config.Policy

// Actions a Request may name (the allow.actions enum of the schema).
const (
	ActionApply    = "apply"
	ActionRollback = "rollback"
	ActionPreview  = "preview"
	ActionPromote  = "promote"
	// ActionDestroy deletes a target's app (a Target file removed).
	ActionDestroy = "destroy"
	// ActionUnlock clears an apply's in-flight mark (unlock).
	ActionUnlock = "unlock"
	// ActionBackup takes a backup gate outside an apply (backup).
	ActionBackup = "backup"
	// ActionClone replaces a lane's database with a backup (clone).
	ActionClone = "clone"
	// ActionRelease hands a needs-operator target back (release).
	ActionRelease = "release"
)

// LanePreview is the lane a Request names for a pull-request preview;
// targets' lanes are testing and prod.
const LanePreview = "preview"

// Wildcard in an allow list allows every value. Match fields have no
// wildcard: there "*" is compared literally.
const Wildcard = "*"

// ErrDenied is what Decision.Err wraps when the policy denies: callers
// map it to exit code 4.
var ErrDenied = errors.New("denied by policy")

// Request is what the caller wants to do.
type Request struct {
	Action  string // apply, rollback, preview, promote
	Product string
	Lane    string // testing, prod, preview
}

func (r Request) String() string {
	return r.Action + " of " + r.Product + "/" + r.Lane
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	// Rule is the index in spec.rules of the rule that allowed the
	// request, -1 when none did (or there is no policy).
	Rule int
	// Reason explains the decision; for a denial it names, rule by rule,
	// the dimension that failed. Reasons count rules from 1 ("rule 1" is
	// spec.rules[0]).
	Reason string
}

// Err is nil when the decision allows, else an error wrapping ErrDenied
// whose text is the Reason.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &DeniedError{Decision: d}
}

// DeniedError is a denial as an error; it matches ErrDenied.
type DeniedError struct {
	Decision Decision
}

func (e *DeniedError) Error() string { return e.Decision.Reason }

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// maxExplained bounds how many rules a denial explains one by one.
const maxExplained = 10

// Evaluate decides whether id may do req under p (SPEC §2):
//
//   - no policy (p nil) allows everything;
//   - otherwise default deny: the first rule that matches id and allows
//     req decides;
//   - a rule matches when every match field it names equals id's value;
//     a named field that is empty ("") matches nothing, and so does a
//     named field whose value id does not have; a rule naming no
//     repository matches nothing; "*" in a match field is literal;
//   - workflow matches id's workflow_ref or job_workflow_ref, either in
//     full ("owner/repo/.github/workflows/x.yml@refs/heads/main") or, when
//     the rule gives no "@ref", by its path;
//   - a rule allows req when each of its products, lanes and actions
//     lists holds req's value or "*"; an empty list allows nothing, and an
//     empty request field is allowed by nothing;
//   - a local identity is denied unless spec.allowLocal is true, and then
//     still needs a matching rule that says local: true, with the fields
//     known locally; a rule with local: true is met by nothing else;
//   - an identity of no known source is denied.
func Evaluate(p *Policy, id Identity, req Request) Decision {
	if p == nil {
		return Decision{Allowed: true, Rule: -1, Reason: "allowed: no policy in the state repository"}
	}
	deny := func(format string, args ...any) Decision {
		return Decision{Rule: -1, Reason: "denied: " + fmt.Sprintf(format, args...)}
	}
	switch id.Source {
	case SourceGitHubOIDC:
	case SourceLocal:
		if !p.Spec.AllowLocal {
			return deny("%s of %s by %s: the policy accepts only identities verified by GitHub Actions OIDC (spec.allowLocal is not true); run it in a workflow with permissions: id-token: write",
				req.Action, req.target(), id.describe())
		}
	default:
		return deny("%s of %s: the caller's identity has no verified source (got %q)", req.Action, req.target(), id.Source)
	}
	if len(p.Spec.Rules) == 0 {
		return deny("no rule allows %s for %s: the policy has no rules", req, id.describe())
	}
	var why []string
	for i, r := range p.Spec.Rules {
		matched, miss := matchRule(r.Match, id)
		if matched && r.Match.Local != (id.Source == SourceLocal) {
			matched = false
			if r.Match.Local {
				miss = "is for local identities (local: true), and the caller is verified by OIDC"
			} else {
				miss = "matches, but is not for local identities: only a rule with local: true accepts one"
			}
		}
		if !matched {
			if len(why) < maxExplained {
				why = append(why, fmt.Sprintf("%s %s", ruleName(p, i), miss))
			}
			continue
		}
		if notAllowed := allows(r.Allow, req); len(notAllowed) > 0 {
			if len(why) < maxExplained {
				why = append(why, fmt.Sprintf("%s allows %s", ruleName(p, i), strings.Join(notAllowed, " and ")))
			}
			continue
		}
		return Decision{Allowed: true, Rule: i, Reason: fmt.Sprintf("allowed by %s: %s may %s %s", ruleName(p, i), id.describe(), req.Action, req.target())}
	}
	if n := len(p.Spec.Rules) - maxExplained; n > 0 {
		why = append(why, fmt.Sprintf("and %d more rules", n))
	}
	return deny("no rule allows %s for %s: %s", req, id.describe(), strings.Join(why, "; "))
}

func (r Request) target() string { return r.Product + "/" + r.Lane }

// ruleName is "rule N", counting from 1 as people do (spec.rules[N-1]),
// with the rule's line in policy.yaml when the policy came from a file.
func ruleName(p *Policy, i int) string {
	name := fmt.Sprintf("rule %d", i+1)
	if pos := p.Source.Pos(fmt.Sprintf("/spec/rules/%d", i)); pos.Line > 0 {
		name += fmt.Sprintf(" (%s:%d)", pos.File, pos.Line)
	}
	return name
}

// matchRule reports whether m matches id; when it does not, miss says
// which fields failed, with what was wanted and what id has.
func matchRule(m config.PolicyMatch, id Identity) (bool, string) {
	if m.Repository == nil {
		return false, "names no repository, so it matches nothing"
	}
	fields := []struct {
		name string
		want *string
		ok   func(want string) bool
		got  string
	}{
		{"repository", m.Repository, eq(id.Repository), id.Repository},
		{"ref", m.Ref, eq(id.Ref), id.Ref},
		{"event", m.Event, eq(id.Event), id.Event},
		{"environment", m.Environment, eq(id.Environment), id.Environment},
		{"workflow", m.Workflow, id.matchesWorkflow, id.workflowText()},
		{"actor", m.Actor, eq(id.Actor), id.Actor},
	}
	var matched, failed []string
	for i, f := range fields {
		if f.want == nil {
			continue
		}
		switch {
		case *f.want == "":
			failed = append(failed, f.name+" (the rule's "+f.name+" is empty, which matches nothing)")
		case !f.ok(*f.want):
			failed = append(failed, fmt.Sprintf("%s (want %s, got %s)", f.name, *f.want, orNone(f.got)))
		default:
			matched = append(matched, f.name)
		}
		if i == 0 && len(failed) > 0 {
			// A rule for another repository: the rest does not matter.
			return false, "does not match " + failed[0]
		}
	}
	if len(failed) == 0 {
		return true, ""
	}
	return false, "matches " + strings.Join(matched, ", ") + " but not " + strings.Join(failed, " nor ")
}

// eq matches a named field against the caller's value: an empty value is
// one the caller does not have, and it matches nothing.
func eq(got string) func(string) bool {
	return func(want string) bool { return got != "" && want == got }
}

// allows lists the dimensions of req that a does not allow, as
// "lanes [testing] not prod".
func allows(a config.PolicyAllow, req Request) []string {
	var out []string
	for _, f := range []struct {
		name string
		list []string
		val  string
	}{
		{"products", a.Products, req.Product},
		{"lanes", a.Lanes, req.Lane},
		{"actions", a.Actions, req.Action},
	} {
		if f.val != "" && (slices.Contains(f.list, f.val) || slices.Contains(f.list, Wildcard)) {
			continue
		}
		if len(f.list) == 0 {
			out = append(out, fmt.Sprintf("no %s (the list is empty)", f.name))
			continue
		}
		out = append(out, fmt.Sprintf("%s [%s] not %s", f.name, strings.Join(f.list, ", "), orNone(f.val)))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
