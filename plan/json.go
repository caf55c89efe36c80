package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// JSON appends JSON values to B exactly as encoding/json's Encoder writes
// them with HTML escaping off (SetEscapeHTML(false)), compact or, with
// Indent, as SetIndent(Prefix, "  ") lays them out. The JSON-like types
// plans hold (map[string]any, []any, []string, map[string]string,
// string, bool, float64, int, int64, nil) are written directly, without
// reflection; any other value is handed to encoding/json itself, so the
// bytes are always encoding/json's (TestJSONSameAsEncodingJSON).
//
// The plan hash and idempotency keys are sha256 over these bytes: they
// are computed once, while the bytes are produced, and never parsed
// back, so a hand-edited plan file is judged by what it decodes to.
type JSON struct {
	B      []byte
	Indent bool
	Prefix string
	Err    error
}

// maxDepth is the nesting below which values are handed to
// encoding/json, which detects cycles.
const maxDepth = 200

// Newline starts a line at depth (a no-op when compact).
func (e *JSON) Newline(depth int) {
	if !e.Indent {
		return
	}
	e.B = append(e.B, '\n')
	e.B = append(e.B, e.Prefix...)
	for i := 0; i < depth; i++ {
		e.B = append(e.B, ' ', ' ')
	}
}

// Key writes an object member's name and separator ("name":  or "name": ).
func (e *JSON) Key(name string) {
	e.B = appendJSONString(e.B, name)
	e.B = append(e.B, ':')
	if e.Indent {
		e.B = append(e.B, ' ')
	}
}

// String writes a JSON string.
func (e *JSON) String(s string) { e.B = appendJSONString(e.B, s) }

// Bool writes true or false.
func (e *JSON) Bool(b bool) { e.B = strconv.AppendBool(e.B, b) }

// Int writes an integer.
func (e *JSON) Int(n int) { e.B = strconv.AppendInt(e.B, int64(n), 10) }

// Strings writes a list of strings; nil is null.
func (e *JSON) Strings(s []string, depth int) {
	writeList(e, s, depth, func(x string, _ int) { e.B = appendJSONString(e.B, x) })
}

// writeList writes a list whose elements write writes; nil is null.
func writeList[V any](e *JSON, s []V, depth int, write func(V, int)) {
	if s == nil {
		e.B = append(e.B, "null"...)
		return
	}
	if len(s) == 0 {
		e.B = append(e.B, "[]"...)
		return
	}
	e.B = append(e.B, '[')
	for i, x := range s {
		if i > 0 {
			e.B = append(e.B, ',')
		}
		e.Newline(depth + 1)
		write(x, depth+1)
	}
	e.Newline(depth)
	e.B = append(e.B, ']')
}

// writeObject writes a map as an object with sorted keys, whose values
// write writes; nil is null.
func writeObject[V any](e *JSON, m map[string]V, depth int, write func(V, int)) {
	if m == nil {
		e.B = append(e.B, "null"...)
		return
	}
	if len(m) == 0 {
		e.B = append(e.B, "{}"...)
		return
	}
	var arr [16]string
	e.B = append(e.B, '{')
	for i, k := range sortedKeys(arr[:0], m) {
		if i > 0 {
			e.B = append(e.B, ',')
		}
		e.Newline(depth + 1)
		e.Key(k)
		write(m[k], depth+1)
	}
	e.Newline(depth)
	e.B = append(e.B, '}')
}

// Value writes v as it appears at depth.
func (e *JSON) Value(v any, depth int) {
	if depth > maxDepth {
		e.fallback(v, depth)
		return
	}
	switch x := v.(type) {
	case nil:
		e.B = append(e.B, "null"...)
	case string:
		e.B = appendJSONString(e.B, x)
	case bool:
		e.B = strconv.AppendBool(e.B, x)
	case int:
		e.B = strconv.AppendInt(e.B, int64(x), 10)
	case int64:
		e.B = strconv.AppendInt(e.B, x, 10)
	case float64:
		e.float(x)
	case map[string]any:
		writeObject(e, x, depth, e.Value)
	case []any:
		writeList(e, x, depth, e.Value)
	case []string:
		e.Strings(x, depth)
	case map[string]string:
		writeObject(e, x, depth, func(v string, _ int) { e.B = appendJSONString(e.B, v) })
	default:
		e.fallback(v, depth)
	}
}

// sortedKeys appends m's keys to keys, sorted.
func sortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// float is encoding/json's float64 encoding (ES6 number to string).
func (e *JSON) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if e.Err == nil {
			e.Err = fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
		}
		e.B = append(e.B, "null"...)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(e.B, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	e.B = b
}

// fallback hands v to encoding/json, laid out as it would be at depth.
func (e *JSON) fallback(v any, depth int) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		if e.Err == nil {
			e.Err = err
		}
		e.B = append(e.B, "null"...)
		return
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if !e.Indent {
		e.B = append(e.B, out...)
		return
	}
	prefix := e.Prefix
	for i := 0; i < depth; i++ {
		prefix += "  "
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, out, prefix, "  "); err != nil {
		if e.Err == nil {
			e.Err = err
		}
		e.B = append(e.B, "null"...)
		return
	}
	e.B = append(e.B, ind.Bytes()...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping
// off: quotes, backslashes and control characters escaped, invalid UTF-8
// as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
