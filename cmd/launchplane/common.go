package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/operation"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// stateFlag registers --state with its default from LAUNCHPLANE_STATE.
func stateFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "state", "s", "", "state repository: a local path or a git URL (env LAUNCHPLANE_STATE, default .launchplane/state)")
}

func stateLoc(e *env, flag string) string {
	if flag != "" {
		return flag
	}
	if v := e.getenv("LAUNCHPLANE_STATE"); v != "" {
		return v
	}
	return ".launchplane/state"
}

func openState(ctx context.Context, e *env, flag string) (*gitstore.Store, state.Snapshot, error) {
	return openStateOpts(ctx, e, flag, false)
}

// noStateError is a read-only command's state location holding no
// repository.
type noStateError struct{ loc string }

func (e *noStateError) Error() string {
	return fmt.Sprintf("no state repository at %s: apply creates it; check --state or LAUNCHPLANE_STATE", e.loc)
}

// openStatePlan opens the state repository for a plan: where there is no
// repository it says so and plans against the empty state, creating
// nothing; the store is then nil.
func openStatePlan(ctx context.Context, e *env, flag string) (*gitstore.Store, state.Snapshot, error) {
	st, snap, err := openStateReadOnly(ctx, e, flag)
	var ns *noStateError
	if errors.As(err, &ns) {
		fmt.Fprintf(e.stderr, "warning: %v; planning against an empty state\n", err)
		return nil, gitstore.Empty(), nil
	}
	return st, snap, err
}

// openStateReadOnly opens the state repository for a command that only
// reads: a local path without a repository is an error, never created.
func openStateReadOnly(ctx context.Context, e *env, flag string) (*gitstore.Store, state.Snapshot, error) {
	return openStateOpts(ctx, e, flag, true)
}

func openStateOpts(ctx context.Context, e *env, flag string, noCreate bool) (*gitstore.Store, state.Snapshot, error) {
	loc := stateLoc(e, flag)
	st, err := gitstore.Open(ctx, loc, gitstore.Options{Token: e.getenv("LAUNCHPLANE_STATE_TOKEN"), NoCreate: noCreate})
	if errors.Is(err, gitstore.ErrNoRepository) {
		return nil, nil, &noStateError{loc: loc}
	}
	if err != nil {
		return nil, nil, err
	}
	snap, err := st.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	return st, snap, nil
}

// now is the clock: LAUNCHPLANE_NOW (RFC 3339) fixes it for tests.
func now(e *env) func() time.Time {
	if v := e.getenv("LAUNCHPLANE_NOW"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return func() time.Time { return t }
		}
	}
	return func() time.Time { return time.Now().UTC() }
}

// actor names who applies: LAUNCHPLANE_ACTOR, else the GitHub Actions run,
// else the local user.
func actor(e *env) string {
	if v := e.getenv("LAUNCHPLANE_ACTOR"); v != "" {
		return v
	}
	if e.getenv("GITHUB_ACTIONS") == "true" {
		return fmt.Sprintf("github:%s@%s:%s", e.getenv("GITHUB_ACTOR"), e.getenv("GITHUB_REPOSITORY"), e.getenv("GITHUB_REF"))
	}
	u := e.getenv("USER")
	if u == "" {
		u = "unknown"
	}
	h, _ := os.Hostname()
	return "local:" + u + "@" + h
}

// colour reports whether stdout is a terminal and NO_COLOR is unset.
func colour(e *env) bool {
	if e.getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := e.stdout.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress renders apply events on stderr, one line a step, redacted.
func progress(e *env, red *redact.Redactor) func(apply.Event) {
	return func(ev apply.Event) {
		var line string
		switch ev.Kind {
		case apply.StepStart:
			line = fmt.Sprintf("%s: %s...", ev.Address, ev.Action)
		case apply.StepDone:
			line = fmt.Sprintf("%s: %s %s [%s]", ev.Address, ev.Action, ev.Outcome, ev.Elapsed.Round(time.Millisecond))
			if ev.Err != nil {
				line += ": " + ev.Err.Error()
			}
		case apply.Info:
			line = ev.Message
		}
		fmt.Fprintln(e.stderr, red.String(line))
	}
}

// workspace is where the commands that change targets start: the loaded
// config and the state repository at its tip.
type workspace struct {
	cfg   *config.Config
	store *gitstore.Store
	snap  state.Snapshot
}

// openWorkspace loads the config dir, printing its diagnostics, and opens
// the state repository. Close it when done.
func openWorkspace(ctx context.Context, e *env, dir, stateLocFlag string) (*workspace, error) {
	cfg, ok := loadConfig(e, dir)
	if !ok {
		return nil, silent(exitError)
	}
	store, snap, err := openState(ctx, e, stateLocFlag)
	if err != nil {
		return nil, &exitErr{code: exitError, err: err}
	}
	return &workspace{cfg: cfg, store: store, snap: snap}, nil
}

func (w *workspace) Close() { w.store.Close() }

// runner is the operation runner on the workspace's state repository at
// its tip; dir is in the config checkout.
func (w *workspace) runner(e *env, dir string) *operation.Runner {
	return newRunner(e, w.store, w.snap, dir)
}

// newRunner is the one path of every command that changes something: it
// authorizes against the state repository's policy, runs, records and
// maps errors to exit codes (see package operation).
func newRunner(e *env, store state.Store, snap state.Snapshot, dir string) *operation.Runner {
	return &operation.Runner{Store: store, Snapshot: snap, ConfigDir: dir, Getenv: e.getenv, Now: now(e), Actor: actor(e),
		Stderr: e.stderr, Diagnostics: func(ds diag.Diagnostics) { printDiagnostics(e, ds, ".") }}
}

// operation fills in what every command's operation shares: the
// workspace's config, a redactor, and progress on stderr through it.
func (w *workspace) operation(e *env, op operation.Operation) operation.Operation {
	if op.Config == nil {
		op.Config = w.cfg
	}
	if op.Redactor == nil {
		op.Redactor = redact.New()
	}
	if op.Events == nil {
		op.Events = progress(e, op.Redactor)
	}
	return op
}

// opErr is an operation's error as the CLI's exit error.
func opErr(err error) error {
	var oe *operation.Error
	if errors.As(err, &oe) {
		return &exitErr{code: oe.Code, err: oe.Err}
	}
	return err
}

// short is a commit id as commands print it.
func short(sha string) string { return state.ShortCommit(sha) }
