package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/redact"
)

// defaultHeartbeat is how often a step that waits on a provider says so.
const defaultHeartbeat = 10 * time.Second

// heartbeatInterval is LAUNCHPLANE_HEARTBEAT (a Go duration; tests make it
// short), else 10s.
func heartbeatInterval(e *env) time.Duration {
	if d, err := time.ParseDuration(e.getenv("LAUNCHPLANE_HEARTBEAT")); err == nil && d > 0 {
		return d
	}
	return defaultHeartbeat
}

// heartbeat prints, every interval, what each running step waits for and
// for how long: on a terminal as one live line rewritten in place, else
// (CI, a file) as plain lines.
type heartbeat struct {
	interval time.Duration
	now      func() time.Time
	changes  map[string]plan.Change
	red      *redact.Redactor
	// out writes a line; live lines are rewritten in place.
	out  func(line string, live bool)
	live bool

	mu      sync.Mutex
	running map[string]runningStep
	shown   bool // a live line is on the screen
	done    chan struct{}
	wg      sync.WaitGroup
}

type runningStep struct {
	action string
	start  time.Time
}

func newHeartbeat(e *env, red *redact.Redactor, p *plan.Plan, interval time.Duration) *heartbeat {
	h := &heartbeat{interval: interval, now: time.Now, changes: map[string]plan.Change{}, red: red,
		running: map[string]runningStep{}, done: make(chan struct{})}
	for _, c := range p.Changes {
		h.changes[c.Address] = c
	}
	f, ok := e.stderr.(*os.File)
	h.live = ok && isTerminal(f) && e.getenv("CI") == "" && e.getenv("GITHUB_ACTIONS") != "true"
	h.out = func(line string, live bool) {
		if live {
			fmt.Fprint(e.stderr, "\r\x1b[K"+line)
			return
		}
		fmt.Fprintln(e.stderr, line)
	}
	return h
}

// observe follows the steps that start and end.
func (h *heartbeat) observe(ev apply.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch ev.Kind {
	case apply.StepStart:
		h.running[ev.Address] = runningStep{action: ev.Action, start: h.now()}
	case apply.StepDone:
		delete(h.running, ev.Address)
	}
}

// start ticks every interval until stop.
func (h *heartbeat) start() {
	t := time.NewTicker(h.interval)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer t.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-t.C:
				h.beat()
			}
		}
	}()
}

// stop ends the ticks and clears a live line.
func (h *heartbeat) stop() {
	close(h.done)
	h.wg.Wait()
	h.clear()
}

// clear removes the live line before another line is printed.
func (h *heartbeat) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shown {
		h.out("", true)
		h.shown = false
	}
}

// beat prints one line per running step (one live line on a terminal).
func (h *heartbeat) beat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	lines := h.lines()
	if len(lines) == 0 {
		return
	}
	if h.live {
		line := lines[0]
		if len(lines) > 1 {
			line += fmt.Sprintf(" (and %d more)", len(lines)-1)
		}
		h.out(line, true)
		h.shown = true
		return
	}
	for _, l := range lines {
		h.out(l, false)
	}
}

func (h *heartbeat) lines() []string {
	addrs := make([]string, 0, len(h.running))
	for a := range h.running {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	now := h.now()
	var out []string
	for _, a := range addrs {
		s := h.running[a]
		c, ok := h.changes[a]
		if !ok { // a sub-step (rollback, gate): its kind is in its address
			for _, seg := range strings.Split(a, "/") {
				if k := plan.Kind(seg); k == plan.KindApp || k == plan.KindRoute || plan.IsStep(k) {
					c.Kind = k
					break
				}
			}
		}
		line := fmt.Sprintf("%s: still waiting for %s", a, waitsFor(c.Kind, s.action))
		if c.Provider != "" {
			line += " on " + c.Provider
		}
		line += fmt.Sprintf(" (%s elapsed)", now.Sub(s.start).Round(time.Second))
		out = append(out, h.red.String(line))
	}
	return out
}

// waitsFor names what a step of kind waits on its provider for.
func waitsFor(kind plan.Kind, action string) string {
	switch kind {
	case plan.KindApp:
		if action == plan.Delete.String() {
			return "the app's removal"
		}
		return "the deployment"
	case plan.KindRoute:
		return "the route"
	case plan.KindHealth:
		return "the health check"
	case plan.KindBackup:
		return "the backup"
	case plan.KindRestore:
		return "the restore"
	case plan.KindPostDeploy, plan.KindSanitize:
		return "the job"
	}
	return action
}
