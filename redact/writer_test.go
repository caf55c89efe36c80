package redact

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// writeAll writes chunks to a Writer over r and returns what reached the
// underlying writer before Close and in all.
func writeAll(t *testing.T, r *Redactor, chunks ...string) (beforeClose, all string) {
	t.Helper()
	var out bytes.Buffer
	w := r.Writer(&out)
	for _, c := range chunks {
		if n, err := w.Write([]byte(c)); err != nil || n != len(c) {
			t.Fatalf("Write(%q) = %d, %v", c, n, err)
		}
	}
	beforeClose = out.String()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return beforeClose, out.String()
}

func TestWriterSplitSecret(t *testing.T) {
	const secret = "hunter2-long-secret"
	_, got := writeAll(t, New(secret), "line one hunter2-", "long-sec", "ret end\nsecond ", "hunter2-long-secret")
	if want := "line one [REDACTED] end\nsecond [REDACTED]"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// One byte at a time.
	text := "a " + secret + "\nb " + secret + " c\n"
	var chunks []string
	for i := range len(text) {
		chunks = append(chunks, text[i:i+1])
	}
	if _, got := writeAll(t, New(secret), chunks...); got != "a [REDACTED]\nb [REDACTED] c\n" {
		t.Fatalf("byte by byte: %q", got)
	}
}

func TestWriterMultiLineSecret(t *testing.T) {
	key := "-----BEGIN KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END KEY-----"
	var chunks []string
	for _, l := range strings.SplitAfter("key:\n"+key+"\ndone\n", "\n") {
		chunks = append(chunks, l)
	}
	_, got := writeAll(t, New(key), chunks...)
	if want := "key:\n[REDACTED]\ndone\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWriterShapesAcrossWrites(t *testing.T) {
	_, got := writeAll(t, New(), "DB_PASSWORD=hun", "ter2 ok\nAuthorization: Bea", "rer abc\n")
	if want := "DB_PASSWORD=[REDACTED] ok\nAuthorization: Bearer [REDACTED]\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWriterFlushesLines(t *testing.T) {
	before, all := writeAll(t, New("zzzz"), "one\ntwo\nthr", "ee")
	if before != "one\ntwo\n" || all != "one\ntwo\nthree" {
		t.Fatalf("before Close %q, after %q", before, all)
	}
	// A line that may continue into a secret is held back from its start.
	before, all = writeAll(t, New("zzzz"), "one\ntwo zz")
	if before != "one\n" || all != "one\ntwo zz" {
		t.Fatalf("before Close %q, after %q", before, all)
	}
}

func TestWriterLongLine(t *testing.T) {
	long := strings.Repeat("x", maxHold+10)
	before, all := writeAll(t, New("secret-value"), long, " secret-", "value\n")
	if len(before) < maxHold || strings.Contains(all, "secret-value") || !strings.HasSuffix(all, " [REDACTED]\n") {
		t.Fatalf("flushed %d bytes before Close; tail %q", len(before), all[len(all)-20:])
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestWriterErrors(t *testing.T) {
	f := &failWriter{}
	w := New().Writer(f)
	if _, err := w.Write([]byte("a\n")); err == nil {
		t.Fatal("want the underlying error")
	}
	if _, err := w.Write([]byte("b\n")); err == nil || f.n != 1 {
		t.Fatalf("error not sticky: %v, %d writes", err, f.n)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close should report the error")
	}
	w = New().Writer(&bytes.Buffer{})
	_ = w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after Close should fail")
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
