package redact

import (
	"errors"
	"io"
	"sync"
)

// maxHold bounds what a Writer holds back while it waits for the end of a
// line.
const maxHold = 64 << 10

// Writer returns a writer that passes to w what is written to it, redacted.
// It is line-buffered: it redacts and writes complete lines, and holds back
// the rest until the line ends or Close. It also holds back, from the start
// of its line, text where a registered value may begin, so a secret split
// across Write calls is still removed, even one that spans lines (a PEM
// key). A line longer than 64 KiB is redacted in pieces, and a shape
// heuristic may then miss a secret cut in two.
//
// Close writes what is held back; it does not close w. The writer is safe
// for concurrent use, and uses the values registered at the time of each
// Write.
func (r *Redactor) Writer(w io.Writer) io.WriteCloser {
	return &lineWriter{r: r, w: w}
}

var errClosed = errors.New("redact: write to closed writer")

type lineWriter struct {
	mu     sync.Mutex
	r      *Redactor
	w      io.Writer
	buf    []byte
	m      *matcher // the matcher resume belongs to
	resume int      // where lineCut goes on scanning buf
	err    error    // sticky: the first error from w
	closed bool
}

func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return 0, errClosed
	}
	if lw.err != nil {
		return 0, lw.err
	}
	lw.buf = append(lw.buf, p...)
	m := lw.r.matcher()
	if m != lw.m {
		lw.m, lw.resume = m, 0 // new values: scan again from the start
	}
	cut, pending := lineCut(m, lw.buf, lw.resume)
	if cut == 0 && len(lw.buf) > maxHold {
		cut = pending
		if cut == 0 {
			cut = len(lw.buf)
		}
	}
	lw.resume = max(pending-cut, 0)
	if cut > 0 {
		lw.emit(m, lw.buf[:cut])
		n := copy(lw.buf, lw.buf[cut:])
		lw.buf = lw.buf[:n]
	}
	if lw.err != nil {
		return len(p), lw.err
	}
	return len(p), nil
}

// Close writes what is held back, redacted.
func (lw *lineWriter) Close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return lw.err
	}
	lw.closed = true
	if len(lw.buf) > 0 && lw.err == nil {
		lw.emit(lw.r.matcher(), lw.buf)
	}
	lw.buf = nil
	return lw.err
}

func (lw *lineWriter) emit(m *matcher, b []byte) {
	out, _ := redactWith(m, b)
	if _, err := lw.w.Write(out); err != nil {
		lw.err = err
	}
}
