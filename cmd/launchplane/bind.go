package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/render"
)

// maxDifferences is how many differing changes a refusal lists.
const maxDifferences = 10

// loadPlanFile reads a saved plan and checks that its content still
// hashes to its own plan_hash: an edited file is refused (exit 3) even
// when the edit is self-consistent elsewhere.
func loadPlanFile(path string) (*plan.Plan, error) {
	b, err := readPlanFile(path)
	if err != nil {
		return nil, &exitErr{code: exitError, err: err}
	}
	p, err := render.FromJSON(b)
	if err != nil {
		return nil, &exitErr{code: planFileExit(err), err: fmt.Errorf("%s: %w", path, err)}
	}
	if err := verifyFile(path, p); err != nil {
		return nil, &exitErr{code: exitConflict, err: err}
	}
	return p, nil
}

// planFileExit is the exit code of a saved plan that cannot be read: 3
// when only an edit makes a file so (render.ErrEdited), else 1.
func planFileExit(err error) int {
	if errors.Is(err, render.ErrEdited) {
		return exitConflict
	}
	return exitError
}

// verifyFile says why a saved plan does not verify; nil when it does.
func verifyFile(path string, p *plan.Plan) error {
	if p.FileHash == "" {
		return fmt.Errorf("%s has no plan_hash: it was not made by this launchplane, or was edited; make a new plan with 'launchplane plan --out'", path)
	}
	if got := p.Hash(); got != p.FileHash {
		return fmt.Errorf("%s does not verify: its changes hash to %s, not to its plan_hash %s; the file was edited after it was made", path, got, p.FileHash)
	}
	return nil
}

// bound is the plan apply runs after binding: the plan made now from
// config and state, and the changes it has that the approved plan, made
// without secret values, could not show (rotations).
type bound struct {
	plan  *plan.Plan
	extra []string
}

// bindPlan makes the plan to run now (secrets fingerprinted with key) and
// checks it means what was approved: want is the approved plan hash
// (from a saved plan or --expect-plan-hash), what names it in messages.
// A plan approved without secret values (rotation not checked) binds to
// the plan made now the same way; the rotations found now are then
// applied too, and listed. Any other difference is a refusal (exit 3)
// naming the first differing change.
func bindPlan(ctx context.Context, e *env, ws *workspace, only map[string]bool, refresh bool, fp planner.Secrets, want, what string, approved *plan.Plan) (*bound, error) {
	now, err := makePlanWith(ctx, e, ws.cfg, ws.snap, only, refresh, true, fp)
	if err != nil {
		return nil, err
	}
	if now.Hash() == want {
		return &bound{plan: now}, nil
	}
	if !now.SecretsChecked || (approved != nil && approved.SecretsChecked) {
		return nil, refusal(want, what, approved, now)
	}
	unchecked, err := makePlanWith(ctx, e, ws.cfg, ws.snap, only, refresh, false, planner.Secrets{})
	if err != nil {
		return nil, err
	}
	if unchecked.Hash() != want {
		if approved != nil {
			return nil, refusal(want, what, approved, unchecked)
		}
		return nil, refusal(want, what, nil, now)
	}
	// What the approved plan could not show: the changes whose action or
	// reason the secret values changed (rotations and the steps they
	// trigger). Fingerprints added to a change it did show are not news.
	was := map[string]plan.Change{}
	for _, c := range unchecked.Changes {
		was[c.Address] = c
	}
	var extra []string
	for _, c := range now.Changes {
		if old, ok := was[c.Address]; ok && old.Action == c.Action && old.Reason == c.Reason {
			continue
		}
		extra = append(extra, fmt.Sprintf("%s %s %s (%s)", render.Symbol(c.Action), c.Action, c.Address, c.Reason))
	}
	return &bound{plan: now, extra: extra}, nil
}

// refusal is the exit-3 error of a plan that is not the approved one.
func refusal(want, what string, approved, now *plan.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan apply would run (plan hash %s) is not %s (plan hash %s): refusing, nothing was changed", now.Hash(), what, want)
	var lines []string
	if approved != nil {
		lines = plan.Differences(approved, now, what, "a plan made now")
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\nfirst difference: %s", lines[0])
			lines = lines[1:]
		}
		if len(lines) > 0 {
			b.WriteString("\nother differences:")
		}
	} else {
		for _, c := range now.Changes {
			if c.Action != plan.NoOp {
				lines = append(lines, fmt.Sprintf("%s %s %s (%s)", render.Symbol(c.Action), c.Action, c.Address, c.Reason))
			}
		}
		if len(lines) == 0 {
			lines = []string{"no changes"}
		}
		b.WriteString("\nthe plan made now:")
	}
	for i, l := range lines {
		if i == maxDifferences {
			fmt.Fprintf(&b, "\n  … and %d more", len(lines)-i)
			break
		}
		b.WriteString("\n  " + l)
	}
	b.WriteString("\nre-plan ('launchplane plan'), review that plan, and apply it (with --expect-plan-hash set to its hash)")
	return &exitErr{code: exitConflict, err: fmt.Errorf("%s: %w", b.String(), apply.ErrStale)}
}
