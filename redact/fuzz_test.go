package redact

import (
	"bytes"
	"strings"
	"testing"
)

// overlapsMask reports whether secret could reappear in redacted output
// built partly from Mask itself: it is part of Mask, contains it, or starts
// with an end of Mask or ends with a start of it ("D]ab", "x[RE"). No
// redaction with a fixed mask can keep such a string out of its output;
// the text it came from is gone all the same.
func overlapsMask(secret string) bool {
	if strings.Contains(Mask, secret) || strings.Contains(secret, Mask) {
		return true
	}
	for k := 1; k < len(Mask) && k <= len(secret); k++ {
		if strings.HasPrefix(secret, Mask[len(Mask)-k:]) || strings.HasSuffix(secret, Mask[:k]) {
			return true
		}
	}
	return false
}

func FuzzString(f *testing.F) {
	f.Add("some text with a secret in it", "secret", uint16(3))
	f.Add(`{"k": "vvvv"}`, "vvvv", uint16(9))
	f.Add("aaaa", "aaaa", uint16(2))
	f.Add("token=", "a b\nc\"d", uint16(7))
	f.Add("https://u:", "p@ss<&>", uint16(12))
	f.Add("ab", "abab", uint16(1))
	f.Fuzz(func(t *testing.T, in, secret string, split uint16) {
		if len(secret) < 4 {
			return
		}
		r := New(secret)
		for _, form := range forms(secret) {
			if overlapsMask(form) {
				continue
			}
			// registered values are masked on token boundaries
			text := in + " " + form + " " + in
			out := r.String(text)
			if strings.Contains(out, form) {
				t.Fatalf("form %q of %q survives in %q", form, secret, out)
			}
			if b := r.Bytes([]byte(text)); string(b) != out {
				t.Fatalf("Bytes %q != String %q", b, out)
			}
		}
		if overlapsMask(secret) {
			return
		}
		text := in + " " + secret + " " + in
		k := int(split) % (len(text) + 1)
		var buf bytes.Buffer
		w := r.Writer(&buf)
		_, _ = w.Write([]byte(text[:k]))
		_, _ = w.Write([]byte(text[k:]))
		_ = w.Close()
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("secret %q survives the writer split at %d: %q", secret, k, buf.String())
		}
	})
}
