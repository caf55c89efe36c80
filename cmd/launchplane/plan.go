package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/secrets"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// planFlags are the flags of plan.
type planFlags struct {
	dir, stateLocFlag, out, output string
	detailed, refresh, comment     bool
	probe                          bool
	targets                        []string
}

func newPlanCmd(e *env) *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change, comparing config with the state repository",
		Long: `Plan compares the desired state (config, expanded by each product's driver)
with the state recorded in the state repository and prints the changes:
+ create, ~ update, -/+ replace, - delete, > run (steps such as health checks).

--refresh first asks each provider what really runs: an app or route that
was changed behind Launchplane's back shows as a "drifted" change that
apply corrects; a provider that cannot observe is named in a warning.

--out saves the plan as JSON for 'launchplane apply PLANFILE'; that apply
refuses (exit 3) if the state of a planned target or the config changed since,
or if the file was edited or a plan made then differs (plan_hash).
Secret values are read and fingerprinted (keyed by LAUNCHPLANE_FINGERPRINT_KEY,
else the state repository's salt), so a rotated secret is an update; a plan
that cannot read them says that rotation was not checked.
--detailed-exitcode exits 2 when there are changes.`,
		Args: noArgsConfig,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), e, &f)
		},
	}
	configFlag(cmd, &f.dir)
	stateFlag(cmd, &f.stateLocFlag)
	outputFlag(cmd, &f.output, "human", "json", "markdown")
	cmd.Flags().StringVar(&f.out, "out", "", "save the plan as JSON to this file")
	cmd.Flags().BoolVar(&f.detailed, "detailed-exitcode", false, "exit 2 when the plan has changes")
	cmd.Flags().BoolVar(&f.refresh, "refresh", false, "ask providers for what really runs and plan drift corrections")
	cmd.Flags().BoolVar(&f.comment, "comment", false, "post the plan as a pull request comment")
	cmd.Flags().BoolVar(&f.probe, "probe", true, "check whether deploy providers can work fully from here (a docker engine for compose); --probe=false where the deploy hosts are out of reach, such as a hosted CI runner")
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "plan only this target key (product/lane); repeatable")
	return cmd
}

// runPlan plans, saves (--out), shows and comments (--comment) the plan.
func runPlan(ctx context.Context, e *env, f *planFlags) error {
	if err := checkOutput(f.output, "human", "json", "markdown"); err != nil {
		return &exitErr{code: exitError, err: err}
	}
	shortRun() // before the state read allocates too
	// The state is read while the config loads (they are independent);
	// its outcome is reported after the config's, as if read after.
	readCtx, cancelRead := context.WithCancel(ctx)
	read := readStateAhead(readCtx, e, f.stateLocFlag, f.targets)
	cfg, ok := loadConfig(e, f.dir)
	if !ok {
		cancelRead()
		<-read
		if f.comment {
			if err := commentDiagnostics(ctx, e, f.dir); err != nil {
				return err
			}
		}
		return silent(exitError)
	}
	r := <-read
	cancelRead()
	snap, err := r.snap, r.err
	var ns *noStateError
	if errors.As(err, &ns) {
		fmt.Fprintf(e.stderr, "warning: %v; planning against an empty state\n", err)
		snap, err = gitstore.Empty(), nil
	}
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	only, err := targetFilter(cfg, snap, f.targets)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	p, err := makePlan(ctx, e, cfg, snap, only, f.refresh, f.probe)
	if err != nil {
		if f.comment {
			if cerr := commentPlanError(ctx, e, f.dir, err); cerr != nil {
				fmt.Fprintf(e.stderr, "launchplane: %v\n", cerr)
			}
		}
		return err
	}
	if f.out != "" {
		var b bytes.Buffer
		if err := render.WriteJSON(&b, p); err != nil {
			return err
		}
		if err := os.WriteFile(f.out, b.Bytes(), 0o644); err != nil {
			return &exitErr{code: exitError, err: err}
		}
	}
	for _, d := range p.Diagnostics {
		fmt.Fprintln(e.stderr, "warning: "+d)
	}
	showPlan(e, p, f.output, f.dir)
	stepSummary(e, p, f.dir)
	if f.comment {
		if err := commentPlan(ctx, e, p, f.dir); err != nil {
			return err
		}
	}
	if f.out != "" && f.output == "human" {
		fmt.Fprintf(e.stdout, "\nSaved the plan to %s (plan hash %s). To apply exactly these changes, run:\n    launchplane apply%s %s\n", f.out, p.Hash(), locationFlags(f.dir, f.stateLocFlag), shellQuote(f.out))
	}
	if f.detailed && p.HasChanges() {
		return silent(exitChanges)
	}
	return nil
}

// makePlan plans, with --refresh observing the providers first (their
// credentials are read as at apply, and redacted from everything shown).
// probe adds the notes of providers in a reduced mode (limitations).
// Secret values are read and fingerprinted when a fingerprint key is
// known, so a rotated secret shows; otherwise the plan says rotation was
// not checked.
func makePlan(ctx context.Context, e *env, cfg *config.Config, snap state.Snapshot, only map[string]bool, refresh, probe bool) (*plan.Plan, error) {
	key, err := secrets.LoadFingerprintKey(e.getenv, snap, false)
	if err != nil {
		return nil, &exitErr{code: exitError, err: err}
	}
	return makePlanWith(ctx, e, cfg, snap, only, refresh, probe, planner.Secrets{Getenv: e.getenv, Key: key})
}

// makePlanWith is makePlan with the secrets handling given.
func makePlanWith(ctx context.Context, e *env, cfg *config.Config, snap state.Snapshot, only map[string]bool, refresh, probe bool, fp planner.Secrets) (*plan.Plan, error) {
	var p *plan.Plan
	var states map[string]*state.TargetState
	var err error
	red := redact.New()
	if refresh {
		p, states, err = planner.PlanRefresh(ctx, cfg, snap, only, planner.RefreshOptions{Getenv: e.getenv, Redactor: red, Secrets: fp})
	} else {
		p, states, err = planner.PlanWith(cfg, snap, only, fp)
	}
	if err != nil {
		return nil, &exitErr{code: exitError, err: red.Error(err)}
	}
	p.Diagnostics = append(p.Diagnostics, planner.InFlightNotes(states, now(e)())...)
	if probe {
		p.Diagnostics = append(p.Diagnostics, planner.Limitations(ctx, cfg, p)...)
	}
	for i, d := range p.Diagnostics {
		p.Diagnostics[i] = red.String(d)
	}
	p.Base.ConfigCommit = configCommit(e)
	p.Refreshed = refresh
	return p, nil
}

// configCommit is the config repository's commit being planned:
// LAUNCHPLANE_CONFIG_COMMIT (the action sets the pull request's head),
// else GITHUB_SHA under GitHub Actions; "" when unknown.
func configCommit(e *env) string {
	if v := e.getenv("LAUNCHPLANE_CONFIG_COMMIT"); v != "" {
		return v
	}
	if e.getenv("GITHUB_ACTIONS") == "true" {
		return e.getenv("GITHUB_SHA")
	}
	return ""
}

func showPlan(e *env, p *plan.Plan, output, title string) {
	switch output {
	case "json":
		render.WriteJSON(e.stdout, p)
	case "markdown":
		render.WriteMarkdown(e.stdout, p, render.MarkdownOptions{Title: "Launchplane plan", ConfigDir: title, MaxChars: commentBudget})
	default:
		render.Human(e.stdout, p, colour(e))
	}
}

// stateRead is the state a plan reads: the snapshot with its recorded
// targets read ahead (planner.Prefetch), or the error opening it.
type stateRead struct {
	snap state.Snapshot
	err  error
}

// readStateAhead opens the state repository and reads the target files a
// plan of the --target keys (none: all) reads, in the background; the
// channel delivers the outcome, and is always delivered to (no goroutine
// outlives a command that waits for it). Nothing is printed here.
func readStateAhead(ctx context.Context, e *env, flag string, targets []string) <-chan stateRead {
	out := make(chan stateRead, 1)
	go func() {
		_, snap, err := openStateReadOnly(ctx, e, flag)
		if err != nil {
			out <- stateRead{err: err}
			return
		}
		var only map[string]bool
		if len(targets) > 0 {
			only = map[string]bool{}
			for _, k := range targets {
				only[k] = true
			}
		}
		out <- stateRead{snap: planner.Prefetch(snap, only)}
	}()
	return out
}

// targetFilter turns --target keys into a set, refusing keys that are
// neither in the config nor in the state repository (whose target files
// are listed, not read: a plan reads only those of its targets).
func targetFilter(cfg *config.Config, snap state.Snapshot, keys []string) (map[string]bool, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	recorded, err := planner.RecordedKeys(snap)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, t := range cfg.Targets {
		known[t.Key()] = true
	}
	for _, k := range recorded {
		known[k] = true
	}
	only := map[string]bool{}
	for _, k := range keys {
		if !known[k] {
			var all []string
			for k := range known {
				all = append(all, k)
			}
			sort.Strings(all)
			return nil, fmt.Errorf("--target %s: no such target (known: %s)", k, strings.Join(all, ", "))
		}
		only[k] = true
	}
	return only, nil
}
