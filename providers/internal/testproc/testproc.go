// Package testproc runs the helper processes behind test stand-ins (a
// real Caddy, a docker engine, a registry): it starts one and tells when
// it exits, polls it until it answers, stops it, and picks free loopback
// ports for it.
package testproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"
)

// Proc is a started process.
type Proc struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// Start starts cmd and waits for it in the background.
func Start(cmd *exec.Cmd) (*Proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is what waiting for the process returned; valid once Done is closed.
func (p *Proc) Err() error { return p.err }

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Stop sends sig (or kills at once if sig cannot be sent), kills the
// process if it has not exited after grace, and waits for it. A process
// that has exited already is not an error; the error is the kill's.
func (p *Proc) Stop(sig os.Signal, grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.Cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = p.Cmd.Process.Kill()
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	if err := p.Cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// ErrExited is returned by Poll when the process exited before it was
// ready.
var ErrExited = errors.New("process exited")

// Poll calls ready every interval until it reports true. It returns
// ErrExited when done is closed first (a nil done never is), and ctx's
// error when ctx ends first.
func Poll(ctx context.Context, done <-chan struct{}, every time.Duration, ready func() bool) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if ready() {
			return nil
		}
		select {
		case <-done:
			return ErrExited
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// FreePorts reserves n distinct loopback ports by listening on port 0,
// then releases them for the process to bind.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
