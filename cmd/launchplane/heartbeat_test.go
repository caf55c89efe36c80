package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/redact"
)

// The heartbeat names what each running step waits for, on which
// provider, for how long; nothing once the step is done. The clock is
// injected: beat is called by hand, no ticker and no sleep.
func TestHeartbeatLines(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &out, getenv: func(string) string { return "" }}
	p := &plan.Plan{Changes: []plan.Change{
		{Address: "shop/prod/app", Target: "shop/prod", Kind: plan.KindApp, Action: plan.Update, Provider: "dokploy-main"},
		{Address: "shop/prod/health", Target: "shop/prod", Kind: plan.KindHealth, Action: plan.Run, Provider: "dokploy-main"},
	}}
	h := newHeartbeat(e, redact.New(), p, time.Hour)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return clock }

	h.beat()
	if out.Len() != 0 {
		t.Fatalf("a beat with no running step printed %q", out.String())
	}
	h.observe(apply.Event{Kind: apply.StepStart, Target: "shop/prod", Address: "shop/prod/app", Action: "update"})
	clock = clock.Add(10 * time.Second)
	h.beat()
	clock = clock.Add(10 * time.Second)
	h.beat()
	want := "shop/prod/app: still waiting for the deployment on dokploy-main (10s elapsed)\n" +
		"shop/prod/app: still waiting for the deployment on dokploy-main (20s elapsed)\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	h.observe(apply.Event{Kind: apply.StepDone, Target: "shop/prod", Address: "shop/prod/app", Action: "update"})
	h.observe(apply.Event{Kind: apply.StepStart, Target: "shop/prod", Address: "shop/prod/health", Action: "run"})
	clock = clock.Add(30 * time.Second)
	h.beat()
	if got := out.String(); got != "shop/prod/health: still waiting for the health check on dokploy-main (30s elapsed)\n" {
		t.Fatalf("after the app step ended: %q", got)
	}
}

// On a terminal the heartbeat is one line rewritten in place, cleared
// before the next progress line.
func TestHeartbeatLive(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &out, getenv: func(string) string { return "" }}
	h := newHeartbeat(e, redact.New(), &plan.Plan{}, time.Hour)
	h.live = true
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return clock }
	h.observe(apply.Event{Kind: apply.StepStart, Address: "a/prod/app", Action: "create"})
	h.observe(apply.Event{Kind: apply.StepStart, Address: "b/prod/app", Action: "create"})
	clock = clock.Add(10 * time.Second)
	h.beat()
	h.clear()
	got := out.String()
	want := "\r\x1b[Ka/prod/app: still waiting for the deployment (10s elapsed) (and 1 more)\r\x1b[K"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if strings.Contains(got, "\n") {
		t.Fatalf("a live line ends a line: %q", got)
	}
}
