package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/state"
)

// applyCLI holds the flags of apply that choose targets, talk to the user
// and shape the output: --target, --shard, --auto-approve, --output.
type applyCLI struct {
	targets     []string
	shard       string
	autoApprove bool
	output      string
	started     time.Time
	json        *jsonEvents
	races       int64 // state commits rebuilt after losing a race
	done        bool  // the result object was written
}

func (x *applyCLI) flags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&x.targets, "target", nil, "apply only this target key (product/lane); repeatable")
	cmd.Flags().StringVar(&x.shard, "shard", "", "apply only shard I of N (I/N, 1-based): targets split by a stable hash of their key")
	cmd.Flags().BoolVar(&x.autoApprove, "auto-approve", false, "do not ask for 'yes' on a terminal before applying")
	outputFlag(cmd, &x.output, "human", "json")
}

// check validates the flags before any work; a saved plan is applied
// whole, so target selection is refused with one.
func (x *applyCLI) check(e *env, saved bool) error {
	x.started = time.Now()
	if err := checkOutput(x.output, "human", "json"); err != nil {
		return &exitErr{code: exitError, err: err}
	}
	if x.output == "json" {
		x.json = &jsonEvents{w: e.stdout}
	}
	if _, _, err := parseShard(x.shard); err != nil {
		return &exitErr{code: exitError, err: err}
	}
	if saved && len(x.targets) > 0 {
		return &exitErr{code: exitError, err: fmt.Errorf("--target chooses targets while planning; a saved plan is applied whole, or by --shard (give --target to 'launchplane plan --out' instead)")}
	}
	return nil
}

// only is the set of targets --target and --shard select (nil: all). ok is
// false when the selection is empty (a shard without targets).
func (x *applyCLI) only(cfg *config.Config, snap state.Snapshot) (only map[string]bool, ok bool, err error) {
	if only, err = targetFilter(cfg, snap, x.targets); err != nil {
		return nil, false, &exitErr{code: exitError, err: err}
	}
	if x.shard == "" {
		return only, true, nil
	}
	i, n, _ := parseShard(x.shard)
	keys, err := knownTargets(cfg, snap)
	if err != nil {
		return nil, false, &exitErr{code: exitError, err: err}
	}
	sel := map[string]bool{}
	for _, k := range keys {
		if (only == nil || only[k]) && shardOf(k, n) == i {
			sel[k] = true
		}
	}
	return sel, len(sel) > 0, nil
}

// noTargets says that --shard (with --target) selected no target.
func (x *applyCLI) noTargets(e *env) {
	if x.json != nil {
		x.result(map[string]any{"outcome": "no_changes"})
		return
	}
	fmt.Fprintf(e.stdout, "Shard %s holds no targets: nothing to apply.\n", x.shard)
}

// showPlan prints the plan: human on stdout, or as the first JSON event.
func (x *applyCLI) showPlan(e *env, p *plan.Plan) {
	if x.json != nil {
		x.json.emit(map[string]any{"type": "plan", "plan": render.ToJSON(p)})
		return
	}
	render.Human(e.stdout, p, colour(e))
}

// events is the apply's event sink: human progress lines on stderr with
// heartbeats while a step waits, or JSON events on stdout.
func (x *applyCLI) events(e *env, red *redact.Redactor, p *plan.Plan) (func(apply.Event), func()) {
	hb := newHeartbeat(e, red, p, heartbeatInterval(e))
	human := progress(e, red)
	sink := func(ev apply.Event) {
		hb.observe(ev)
		if x.json != nil {
			x.json.event(red, ev)
			return
		}
		hb.clear()
		human(ev)
	}
	if x.json != nil {
		hb.out = func(line string, _ bool) { x.json.emit(map[string]any{"type": "heartbeat", "message": line}) }
	}
	hb.start()
	return sink, hb.stop
}

// confirm asks for "yes" when stdin is a terminal, unless --auto-approve.
func (x *applyCLI) confirm(e *env) error {
	if x.autoApprove || !isTerminal(e.stdin) {
		return nil
	}
	fmt.Fprint(e.stderr, "\nApply these changes? Only 'yes' will be accepted.\n  Enter a value: ")
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		fmt.Fprintln(e.stderr, "\nApply cancelled: nothing was changed.")
		x.result(map[string]any{"outcome": "cancelled"})
		return silent(exitError)
	}
	return nil
}

// elapsed is the wall time of the apply command so far.
func (x *applyCLI) elapsed() time.Duration {
	return time.Since(x.started).Round(100 * time.Millisecond)
}

// finished prints the total elapsed time (human) or the result event (JSON).
func (x *applyCLI) finished(e *env, res *apply.Result, outcome string, err error) {
	if x.json == nil {
		if x.races > 0 {
			fmt.Fprintf(e.stderr, "State commits were rebuilt %d time(s): other appliers moved the state branch first.\n", x.races)
		}
		fmt.Fprintf(e.stderr, "Total elapsed: %s.\n", x.elapsed())
		return
	}
	r := map[string]any{"outcome": outcome, "state_retries": x.races}
	if res != nil {
		failed := res.Failed
		if failed == nil {
			failed = []string{}
		}
		r["commit"], r["records"], r["failed"] = res.Commit, res.Records, failed
	}
	if err != nil {
		r["error"] = err.Error()
	}
	x.result(r)
}

func (x *applyCLI) result(r map[string]any) {
	if x.json == nil {
		return
	}
	x.done = true
	r["type"] = "result"
	r["elapsed_ms"] = time.Since(x.started).Milliseconds()
	x.json.emit(r)
}

// jsonEvents writes one JSON object a line, from concurrent targets.
type jsonEvents struct {
	mu sync.Mutex
	w  io.Writer
}

func (j *jsonEvents) emit(v map[string]any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	enc := json.NewEncoder(j.w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (j *jsonEvents) event(red *redact.Redactor, ev apply.Event) {
	m := map[string]any{}
	switch ev.Kind {
	case apply.StepStart:
		m["type"] = "step_start"
	case apply.StepDone:
		m["type"] = "step_done"
		m["outcome"] = ev.Outcome
		m["elapsed_ms"] = ev.Elapsed.Milliseconds()
		if ev.Err != nil {
			m["error"] = red.String(ev.Err.Error())
		}
	default:
		m["type"] = "info"
		m["message"] = red.String(ev.Message)
	}
	if ev.Target != "" {
		m["target"] = ev.Target
	}
	if ev.Address != "" {
		m["address"], m["action"] = ev.Address, ev.Action
	}
	j.emit(m)
}

// isTerminal reports whether r is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

// staleHint adds to a stale-plan refusal what to do: plan again, with a
// command that works from here.
func staleHint(err error, dir, stateLocFlag string) error {
	if !errors.Is(err, apply.ErrStale) {
		return err
	}
	var xe *exitErr
	if !errors.As(err, &xe) {
		return err
	}
	cmd := "launchplane plan" + locationFlags(dir, stateLocFlag) + " --out plan.json"
	return &exitErr{code: xe.code, err: fmt.Errorf("%w\nThe saved plan no longer describes what apply would do, so nothing was changed: run plan again, review it and apply the new plan:\n    %s", xe.err, cmd)}
}

// locationFlags are the --config and --state flags that reproduce this
// command's locations, for commands printed as hints.
func locationFlags(dir, stateLocFlag string) string {
	s := " --config " + shellQuote(dir)
	if stateLocFlag != "" {
		s += " --state " + shellQuote(stateLocFlag)
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// failedEarly writes the result object of an apply that failed before it
// applied anything (a refused plan, a denial, a bad flag), so that with
// -o json every run ends with one result, whatever the exit code.
func (x *applyCLI) failedEarly(err error) {
	if x.json == nil || x.done || err == nil {
		return
	}
	outcome, code := "error", exitError
	var xe *exitErr
	if errors.As(err, &xe) {
		code = xe.code
		switch xe.code {
		case exitConflict:
			outcome = "refused"
		case exitDenied:
			outcome = "denied"
		}
	}
	r := map[string]any{"outcome": outcome, "exit_code": code}
	if xe == nil || xe.err != nil {
		r["error"] = err.Error()
	}
	x.result(r)
}

// shardKeys are the targets of the saved plan p in this --shard.
func (x *applyCLI) shardKeys(p *plan.Plan) map[string]bool {
	i, n, _ := parseShard(x.shard)
	sel := map[string]bool{}
	for _, c := range p.Changes {
		if shardOf(c.Target, n) == i {
			sel[c.Target] = true
		}
	}
	return sel
}
