package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrEdited marks a saved plan whose text is ambiguous: only an edit
// makes it so (WriteJSON never writes such a file).
var ErrEdited = errors.New("the plan file was edited")

// duplicateKey finds the first object member named twice in the first
// JSON value of data (valid JSON: FromJSON decoded it). encoding/json
// keeps the last of two members and matches the wire form's member names
// case-insensitively, while a reviewer's tool may show the first: a file
// with "action" twice, or "action" and "Action", means different things
// to different readers and is refused. Names inside before and after
// (attribute maps, where "A" and "a" differ) are compared exactly.
func duplicateKey(data []byte) error {
	s := dupScanner{b: data}
	s.value(true, "")
	return s.err
}

type dupScanner struct {
	b   []byte
	i   int
	err error
}

func (s *dupScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// value skips the value at s.i; fold says its objects' member names
// match case-insensitively (the wire form's structs).
func (s *dupScanner) value(fold bool, path string) {
	s.ws()
	if s.err != nil || s.i >= len(s.b) {
		return
	}
	switch s.b[s.i] {
	case '{':
		s.i++
		seen := map[string]bool{}
		for s.err == nil {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] == '}' {
				s.i++
				return
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			name := s.str()
			key := name
			if fold {
				key = foldKey(name)
			}
			if seen[key] {
				s.err = fmt.Errorf("%w: %q is given twice in %s", ErrEdited, name, where(path))
				return
			}
			seen[key] = true
			s.ws()
			s.i++ // ':'
			child := fold && !strings.EqualFold(name, "before") && !strings.EqualFold(name, "after")
			s.value(child, join(path, name))
		}
	case '[':
		s.i++
		for n := 0; s.err == nil; {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] == ']' {
				s.i++
				return
			}
			if s.b[s.i] == ',' {
				s.i++
				n++
				continue
			}
			s.value(fold, fmt.Sprintf("%s[%d]", path, n))
		}
	case '"':
		s.str()
	default: // a number, true, false or null
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\n\r", rune(s.b[s.i])) {
			s.i++
		}
	}
}

// str reads the string at s.i as encoding/json decodes it.
func (s *dupScanner) str() string {
	start := s.i
	plain := true
	s.i++
	for s.i < len(s.b) && s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			plain = false
			s.i++
		} else if s.b[s.i] >= utf8.RuneSelf {
			plain = false
		}
		s.i++
	}
	s.i++
	if s.i > len(s.b) {
		s.err = fmt.Errorf("%w: unterminated string", ErrEdited)
		return ""
	}
	raw := s.b[start:s.i]
	if plain {
		return string(raw[1 : len(raw)-1])
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		s.err = fmt.Errorf("%w: %v", ErrEdited, err)
	}
	return out
}

// foldKey is the same for two names exactly when strings.EqualFold says
// they are equal: each rune replaced by the smallest of its case-folding
// orbit (so the Kelvin sign is "k" and the long s is "s", as encoding/json
// matches them).
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func where(path string) string {
	if path == "" {
		return "the plan"
	}
	return path
}
