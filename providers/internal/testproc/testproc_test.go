package testproc

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func sh(t *testing.T, script string) *Proc {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	p, err := Start(exec.Command("sh", "-c", script))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(syscall.SIGKILL, 0) })
	return p
}

// A process that exits before it is ready ends the wait with ErrExited.
func TestPollSeesExit(t *testing.T) {
	p := sh(t, "exit 3")
	err := Poll(context.Background(), p.Done(), time.Millisecond, func() bool { return false })
	if !errors.Is(err, ErrExited) {
		t.Fatalf("Poll = %v, want ErrExited", err)
	}
	if p.Err() == nil {
		t.Fatal("Err after exit 3 is nil")
	}
	if err := p.Stop(syscall.SIGTERM, time.Second); err != nil {
		t.Fatalf("Stop of an exited process: %v", err)
	}
}

// A process that ignores the signal is killed after the grace period.
func TestStopKillsAfterGrace(t *testing.T) {
	p := sh(t, "trap '' TERM; echo ready; while :; do sleep 1; done")
	if err := p.Stop(syscall.SIGTERM, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the process exited")
	}
}

// ctx ending first is ctx's error; ready true is nil.
func TestPollContextAndReady(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Poll(ctx, nil, time.Millisecond, func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll = %v, want context.Canceled", err)
	}
	if err := Poll(ctx, nil, time.Millisecond, func() bool { return true }); err != nil {
		t.Fatalf("Poll with ready = %v", err)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 3 || ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("ports %v", ports)
	}
}
