// Package redact removes secrets from free text: errors, provider
// messages, logs, commit messages and PR comments (SPEC §9). Structured
// data (plans, state files, records) is built from typed values that hold
// no secret and is never passed through a Redactor: rewriting it with
// text substitution corrupts it.
//
// A Redactor removes two kinds of secret. Values registered with New or Add
// (resolved secret values) are removed wherever they appear, in raw and in
// encoded forms. Secrets it was never told about are removed by shape:
// Bearer and Basic credentials, URL userinfo passwords, and values of
// secret-shaped keys (see SecretSegment). Every removed secret becomes Mask.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every redacted secret.
const Mask = "[REDACTED]"

// Redactor removes secret values. It is safe for concurrent use.
//
// Use New. A nil *Redactor redacts by shape only, and Add on it panics.
type Redactor struct {
	mu     sync.Mutex // serialises Add
	values map[string]struct{}
	public map[string]bool         // never masked: see Public
	m      atomic.Pointer[matcher] // nil until a value is registered
}

// New returns a Redactor that removes values, as if added with Add.
func New(values ...string) *Redactor {
	r := &Redactor{}
	r.Add(values...)
	return r
}

// Add registers resolved secret values; empty strings are ignored. From
// then on each value is removed, longest first, in each of these forms:
//
//   - as is;
//   - escaped as encoding/json writes it inside a string, with and without
//     HTML escaping (\u003c, \u003e, \u0026), and escaped twice (a JSON
//     document inside a JSON string);
//   - quoted as Go's %q and strconv.Quote write it;
//   - escaped by url.QueryEscape and url.PathEscape, and as the path of a
//     url.URL is escaped ('/' kept);
//   - base64-encoded, standard and URL alphabets, padded and not.
//
// A value is removed where it is a whole token: not where it starts or
// ends inside a word, so that a secret equal to a common word ("odoo",
// a product name) does not corrupt every text that mentions it. Add does
// not second-guess what a caller calls secret.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		if v == "" || r.public[v] {
			continue
		}
		if _, ok := r.values[v]; ok {
			continue
		}
		if r.values == nil {
			r.values = map[string]struct{}{}
		}
		r.values[v] = struct{}{}
		changed = true
	}
	if !changed {
		return
	}
	seen := map[string]bool{}
	var patterns []string
	for v := range r.values {
		for _, f := range forms(v) {
			if f != "" && !seen[f] {
				seen[f] = true
				patterns = append(patterns, f)
			}
		}
	}
	sort.Strings(patterns) // a deterministic tree; the order does not change what matches
	r.m.Store(newMatcher(patterns))
}

// Public declares values that are public (written in plain in the
// config): Add ignores them from then on, whoever registers them, so a
// secret equal to a product name or a domain does not mask every text
// that names it. It does not unregister values added before.
func (r *Redactor) Public(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.public == nil {
		r.public = map[string]bool{}
	}
	for _, v := range values {
		r.public[v] = true
	}
}

// forms returns the ways v can appear in Launchplane's output.
func forms(v string) []string {
	html := jsonInner(v, true)
	plain := jsonInner(v, false)
	q := strconv.Quote(v)
	return []string{
		v,
		html, plain,
		jsonInner(html, true), jsonInner(plain, false),
		q[1 : len(q)-1],
		url.QueryEscape(v), url.PathEscape(v), (&url.URL{Path: v}).EscapedPath(),
		// JSON encoders that escape "/" (PHP's json_encode by default), as
		// an API echoing a request may
		strings.ReplaceAll(html, "/", `\/`), strings.ReplaceAll(plain, "/", `\/`),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
}

// jsonInner returns v as encoding/json writes it, without the quotes.
func jsonInner(v string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v) // a string always encodes
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}

func (r *Redactor) matcher() *matcher {
	if r == nil {
		return nil
	}
	return r.m.Load()
}

// redactWith removes registered values (with m, which may be nil) and then
// secrets recognised by shape.
func redactWith[T ~string | ~[]byte](m *matcher, s T) (T, bool) {
	changed := false
	if m != nil {
		s, changed = replace(m, s)
	}
	s, scrubbed := scrub(s)
	return s, changed || scrubbed
}

// String returns s with every secret replaced by Mask. It allocates only
// when it removes something.
func (r *Redactor) String(s string) string {
	s, _ = redactWith(r.matcher(), s)
	return s
}

// Bytes returns b with every secret replaced by Mask. b is never modified;
// when nothing is removed the result is b itself.
func (r *Redactor) Bytes(b []byte) []byte {
	b, _ = redactWith(r.matcher(), b)
	return b
}

// Error returns err with a redacted message. nil stays nil, and an error
// whose message needs no redaction is returned as is. The returned error's
// Unwrap gives err, so errors.Is and errors.As still see the original
// chain; callers must print only the returned error, never what it wraps.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red, changed := redactWith(r.matcher(), msg)
	if !changed {
		return err
	}
	return &redactedError{msg: red, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Value returns a redacted deep copy of a JSON-like value: map[string]any,
// []any, string, numbers, bools and nil, also map[string]string and
// []string, nested in any way. Every string, map keys included, is
// redacted, and the value under a secret-shaped map key (SecretSegment,
// except Launchplane's own idempotency_key and settings_key) is replaced by
// Mask whatever its type: a list, an object or null under such a key is
// masked whole.
//
// Maps and slices keep their types. Numbers and bools are returned as they
// are, and a string type keeps its name. Any other value (a struct, a
// pointer, another map or slice type) goes through encoding/json and comes
// back as map[string]any, []any, string, json.Number, bool or nil; a value
// that cannot be encoded becomes Mask.
func (r *Redactor) Value(v any) any {
	m := r.matcher()
	return value(m, v)
}

func value(m *matcher, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s, _ := redactWith(m, x)
		return s
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if secretKey(k) {
				out[redactKey(m, k)] = Mask
			} else {
				out[redactKey(m, k)] = value(m, e)
			}
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			if secretKey(k) {
				out[redactKey(m, k)] = Mask
			} else {
				out[redactKey(m, k)], _ = redactWith(m, e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = value(m, e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i], _ = redactWith(m, e)
		}
		return out
	case json.Number:
		return x
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return v
	case reflect.String:
		s, _ := redactWith(m, rv.String())
		return reflect.ValueOf(s).Convert(rv.Type()).Interface()
	}
	return value(m, viaJSON(v))
}

// viaJSON converts v to the generic JSON form, or Mask when it cannot.
func viaJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return Mask
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return Mask
	}
	return out
}

func redactKey(m *matcher, k string) string {
	s, _ := redactWith(m, k)
	return s
}
