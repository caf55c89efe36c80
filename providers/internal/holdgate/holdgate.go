// Package holdgate makes a test stand-in slow on demand: while the gate
// is held, every request waits until it is released or its client gives
// up.
package holdgate

import (
	"context"
	"sync"
)

// Gate is open when zero.
type Gate struct {
	mu sync.Mutex
	ch chan struct{} // non-nil: held
}

// Hold holds the gate until the returned release is called (once or
// more).
func (g *Gate) Hold() (release func()) {
	ch := make(chan struct{})
	g.mu.Lock()
	g.ch = ch
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.ch = nil
			g.mu.Unlock()
			close(ch)
		})
	}
}

// Wait blocks while the gate is held; false when ctx ended first.
func (g *Gate) Wait(ctx context.Context) bool {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}
