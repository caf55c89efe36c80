package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// process opens the fake as a separate process would: its own in-memory
// world, not the one this test process shares by path.
func process(t *testing.T, path string) *Provider {
	t.Helper()
	return &Provider{name: "local", store: &store{path: path}, red: redact.New()}
}

func deploy(t *testing.T, p *Provider, target string) {
	t.Helper()
	app := providers.App{AppRef: providers.AppRef{Target: target, Name: providers.ObjectName(target)}, Image: "ghcr.io/acme/x@sha256:" + strings.Repeat("1", 64), Port: 8080}
	if _, _, err := p.Deploy(context.Background(), app); err != nil {
		t.Fatal(err)
	}
}

func readWorld(t *testing.T, path string) World {
	t.Helper()
	var w World
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// A call costs what it changes: with 2,000 apps deployed, one more deploy
// appends one short journal line and leaves the world file alone (the old
// fake rewrote the whole file on every call: apply was quadratic).
func TestCallCostIndependentOfWorldSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	p := process(t, path)
	for i := 0; i < 2000; i++ {
		deploy(t, p, fmt.Sprintf("app%04d/prod", i))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	journal := func() int64 {
		st, err := os.Stat(path + ".journal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	j0 := journal()
	deploy(t, p, "app9999/prod")
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || after.ModTime() != before.ModTime() {
		t.Errorf("one deploy rewrote the %d-byte world file", before.Size())
	}
	if grew := journal() - j0; grew == 0 || grew > 1024 {
		t.Errorf("one deploy appended %d journal bytes, want one line under 1 KiB", grew)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if w := readWorld(t, path); len(w.Apps) != 2001 || len(w.Log) != 2001 {
		t.Errorf("after close the world file has %d apps and %d log lines, want 2001", len(w.Apps), len(w.Log))
	}
	if journal() != 0 {
		t.Errorf("journal not emptied by close")
	}
}

// Two processes mutating one world both land, and each sees the other's
// changes at its next call.
func TestTwoProcessesShareTheWorld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	a, b := process(t, path), process(t, path)
	deploy(t, a, "shop/testing")
	deploy(t, b, "shop/prod")
	deploy(t, a, "blog/testing")
	st, err := b.Observe(context.Background(), providers.AppRef{Target: "blog/testing"})
	if err != nil || !st.Exists {
		t.Fatalf("b does not see a's deploy: %+v %v", st, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	deploy(t, b, "blog/prod") // after a folded the journal into the file
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	w := readWorld(t, path)
	for _, k := range []string{"shop/testing", "shop/prod", "blog/testing", "blog/prod"} {
		if w.Apps[k] == nil {
			t.Errorf("%s lost", k)
		}
	}
	if len(w.Log) != 4 {
		t.Errorf("log %q, want 4 deploys", w.Log)
	}
}

// A process killed after a deploy (never closed) leaves it in the journal:
// the next process sees it and writes it into the file.
func TestKilledProcessLeavesItsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	deploy(t, process(t, path), "shop/prod") // never closed
	next := process(t, path)
	st, err := next.Observe(context.Background(), providers.AppRef{Target: "shop/prod"})
	if err != nil || !st.Exists {
		t.Fatalf("the killed process's deploy is lost: %+v %v", st, err)
	}
	if err := next.Close(); err != nil {
		t.Fatal(err)
	}
	if w := readWorld(t, path); w.Apps["shop/prod"] == nil {
		t.Error("not in the world file after close")
	}
}

// A line cut short by a crash mid-write never happened; the lines before
// it did.
func TestTornJournalLineDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	deploy(t, process(t, path), "shop/prod")
	f, err := os.OpenFile(path+".journal", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"apps": {"shop/testing": {"id": "x"`)
	f.Close()
	next := process(t, path)
	deploy(t, next, "blog/prod")
	if err := next.Close(); err != nil {
		t.Fatal(err)
	}
	w := readWorld(t, path)
	if w.Apps["shop/prod"] == nil || w.Apps["blog/prod"] == nil || w.Apps["shop/testing"] != nil {
		t.Errorf("apps %v, want shop/prod and blog/prod only", w.Apps)
	}
}

// Editing the world file by hand (a test injecting a fault) wins over a
// journal written before the edit, and a running process sees the edit.
func TestHandEditWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	p := process(t, path)
	deploy(t, p, "shop/prod")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	deploy(t, p, "shop/testing") // in the journal only
	w := readWorld(t, path)
	w.Faults = []*Fault{{Op: "deploy", Times: 1, Error: "injected"}}
	b, _ := json.Marshal(w)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	app := providers.App{AppRef: providers.AppRef{Target: "blog/prod"}}
	if _, _, err := p.Deploy(context.Background(), app); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("the running process missed the edited fault: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got := readWorld(t, process(t, path).store.path)
	if got.Apps["shop/testing"] != nil || got.Apps["shop/prod"] == nil || len(got.Faults) != 0 {
		t.Errorf("apps %v faults %v: want the edited world, its fault used", got.Apps, got.Faults)
	}
}
