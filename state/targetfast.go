package state

import (
	"strconv"
	"unicode/utf8"

	"github.com/launchplane/launchplane/plan"
)

// fastTarget decodes a target file of the shape Launchplane writes
// without encoding/json's reflection (a plan decodes thousands). It only
// decides acceptance: it declines (false) anything outside a plain subset
// (escapes in strings, null, duplicate or unknown or differently cased
// keys, the rarely set fields rolled_back, gate, in_flight and
// interrupted, numbers a field cannot hold, trailing data), and the caller
// then decodes with encoding/json, which words every error. What it
// accepts, strictDecode accepts with an equal result (TestFastTargetSame,
// FuzzFastTarget).
func fastTarget(b []byte, ts *TargetState) bool {
	// One copy of the document; every string decoded is a substring of
	// it (encoding/json allocates each).
	d := fastDec{b: b, s: string(b)}
	d.ws()
	if !d.object(func(key []byte) bool { return d.targetField(key, ts) }) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

type fastDec struct {
	b     []byte
	s     string // b as a string
	i     int
	depth int
	seen  uint32 // the top-level fields read
}

// maxFastDepth bounds nesting; deeper documents go to encoding/json.
const maxFastDepth = 64

func (d *fastDec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads {"key": value, ...}, calling field after each key's colon
// to read the value; a key seen twice declines.
func (d *fastDec) object(field func(key []byte) bool) bool {
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		key, ok := d.str()
		if !ok {
			return false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		if !field(key) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string without escapes or control characters, in valid
// UTF-8, and returns its content (a slice of the input).
func (d *fastDec) str() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			d.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

func (d *fastDec) string() (string, bool) {
	s, ok := d.str()
	return d.sub(s), ok
}

// sub is the substring of d.s that the slice s of d.b is.
func (d *fastDec) sub(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	start := cap(d.b) - cap(s)
	return d.s[start : start+len(s)]
}

// flag marks a top-level field seen, declining a duplicate.
func flag(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// null reads a null: for any field, encoding/json then leaves the zero
// value a fresh document has (duplicates are declined before).
func (d *fastDec) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// topFields are the bits of the top-level fields, for once.
var topFields = map[string]uint{
	"format_version": 0, "target": 1, "status": 2, "image": 3, "healthy_image": 4, "previous_healthy_image": 5,
	"resources": 6, "provider_ids": 7, "last_record": 8, "image_record": 9, "facts": 10, "needs_operator": 11,
	"sequence": 12, "updated_at": 13, "config_file": 14, "rolled_back": 15, "gate": 16, "in_flight": 17, "interrupted": 18,
}

func (d *fastDec) targetField(key []byte, ts *TargetState) bool {
	if bit, ok := topFields[string(key)]; ok && d.i < len(d.b) && d.b[d.i] == 'n' {
		return d.once(bit) && d.null()
	}
	var ok bool
	switch string(key) {
	case "format_version":
		ts.FormatVersion, ok = d.stringOnce(0)
	case "target":
		ts.Target, ok = d.stringOnce(1)
	case "status":
		var s string
		s, ok = d.stringOnce(2)
		ts.Status = Status(s)
	case "image":
		ts.Image, ok = d.stringOnce(3)
	case "healthy_image":
		ts.HealthyImage, ok = d.stringOnce(4)
	case "previous_healthy_image":
		ts.PreviousHealthyImage, ok = d.stringOnce(5)
	case "resources":
		ok = d.once(6) && d.resources(&ts.Resources)
	case "provider_ids":
		ok = d.once(7) && d.stringMap(&ts.ProviderIDs)
	case "last_record":
		ts.LastRecord, ok = d.stringOnce(8)
	case "image_record":
		ts.ImageRecord, ok = d.stringOnce(9)
	case "facts":
		ok = d.once(10) && d.stringMap(&ts.Facts)
	case "needs_operator":
		ts.NeedsOperator, ok = d.stringOnce(11)
	case "sequence":
		ok = d.once(12) && d.int64(&ts.Sequence)
	case "updated_at":
		ok = d.once(13) && d.time(&ts.UpdatedAt)
	case "config_file":
		ts.ConfigFile, ok = d.stringOnce(14)
	}
	return ok
}

// once marks the top-level field bit read; false when it was already.
func (d *fastDec) once(bit uint) bool {
	return flag(&d.seen, 1<<bit)
}

func (d *fastDec) stringOnce(bit uint) (string, bool) {
	if !d.once(bit) {
		return "", false
	}
	return d.string()
}

// resourceFields are the bits of a resource's fields.
var resourceFields = map[string]uint32{"address": 1, "kind": 2, "provider": 4, "attrs": 8, "idempotency_key": 16}

func (d *fastDec) resources(out *[]Resource) bool {
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return false
	}
	d.i++
	d.ws()
	rs := []Resource{}
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		*out = rs
		return true
	}
	for {
		var r Resource
		var seen uint32
		if !d.object(func(key []byte) bool {
			var ok bool
			if d.i < len(d.b) && d.b[d.i] == 'n' {
				bit := resourceFields[string(key)]
				return bit != 0 && flag(&seen, bit) && d.null()
			}
			switch string(key) {
			case "address":
				ok = flag(&seen, 1)
				r.Address, ok = d.stringIf(ok)
			case "kind":
				ok = flag(&seen, 2)
				var s string
				s, ok = d.stringIf(ok)
				r.Kind = plan.Kind(s)
			case "provider":
				ok = flag(&seen, 4)
				r.Provider, ok = d.stringIf(ok)
			case "attrs":
				ok = flag(&seen, 8) && d.anyMap(&r.Attrs)
			case "idempotency_key":
				ok = flag(&seen, 16)
				r.IdempotencyKey, ok = d.stringIf(ok)
			}
			return ok
		}) {
			return false
		}
		rs = append(rs, r)
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			*out = rs
			return true
		default:
			return false
		}
	}
}

func (d *fastDec) stringIf(ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	return d.string()
}

func (d *fastDec) stringMap(out *map[string]string) bool {
	m := map[string]string{}
	if !d.object(func(key []byte) bool {
		if _, dup := m[string(key)]; dup {
			return false
		}
		v, ok := d.string()
		m[d.sub(key)] = v
		return ok
	}) {
		return false
	}
	*out = m
	return true
}

func (d *fastDec) anyMap(out *map[string]any) bool {
	d.depth++
	if d.depth > maxFastDepth {
		return false
	}
	m := map[string]any{}
	if !d.object(func(key []byte) bool {
		if _, dup := m[string(key)]; dup {
			return false
		}
		v, ok := d.value()
		m[d.sub(key)] = v
		return ok
	}) {
		return false
	}
	d.depth--
	*out = m
	return true
}

// value reads any JSON value as encoding/json decodes it into an any.
func (d *fastDec) value() (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.string()
	case c == '{':
		var m map[string]any
		ok := d.anyMap(&m)
		return m, ok
	case c == '[':
		return d.array()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		n, ok := d.number()
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	}
	return nil, false
}

func (d *fastDec) array() (any, bool) {
	d.depth++
	if d.depth > maxFastDepth {
		return nil, false
	}
	d.i++ // [
	d.ws()
	out := []any{}
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		d.depth--
		return out, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		d.ws()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			d.depth--
			return out, true
		default:
			return nil, false
		}
	}
}

func (d *fastDec) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// number reads a number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDec) number() ([]byte, bool) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return d.b[start:d.i], true
}

func (d *fastDec) int64(out *int64) bool {
	n, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	*out = v
	return err == nil
}

// time reads a timestamp through time.Time's own UnmarshalJSON, as
// encoding/json does, from the quoted literal.
func (d *fastDec) time(out interface{ UnmarshalJSON([]byte) error }) bool {
	start := d.i
	if _, ok := d.str(); !ok {
		return false
	}
	return out.UnmarshalJSON(d.b[start:d.i]) == nil
}
