package caddytest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestStartServesCatchAll(t *testing.T) {
	c := Start(t)
	status, body, err := c.Get(t.Context(), "anything.test", "/")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusNotFound || body != CatchAllBody {
		t.Fatalf("catch-all answered %d %q, want 404 %q", status, body, CatchAllBody)
	}
	resp, err := http.Get(c.AdminURL + "/config/apps/http/servers/" + c.Server + "/listen")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin API answered %d", resp.StatusCode)
	}
}

func TestLaunchStopLeavesNothing(t *testing.T) {
	if _, err := Binary(); err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c, err := Launch(t.Context(), Options{NoServer: true})
	if err != nil {
		t.Fatal(err)
	}
	pid, dir := c.Pid(), c.Dir
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	// The process was waited for, so its pid no longer names it.
	if p, err := os.FindProcess(pid); err == nil {
		if err := p.Signal(syscall.Signal(0)); err == nil {
			t.Errorf("caddy pid %d still runs after Stop", pid)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary dir %s left behind: %v", dir, err)
	}
	if _, err := http.Get(c.AdminURL + "/config/"); err == nil {
		t.Errorf("admin API still answers after Stop")
	}
}

func TestLaunchMissingBinary(t *testing.T) {
	t.Setenv("CADDY", "/nonexistent/caddy-for-test")
	_, err := Launch(context.Background(), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("launch without a binary: %v, want ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "caddy") {
		t.Errorf("error does not say what is missing: %v", err)
	}
}
