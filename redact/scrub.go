package redact

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// The heuristics below mask what looks like a secret without knowing its
// value. They work within a line, never mask a line break, and mask a
// quoted string's content with its escapes whole, never its closing quote,
// so JSON stays valid (also JSON inside a JSON string):
//
//   - "Bearer <token>" (any case) masks the token: the run of bytes up to
//     white space, a quote, a backslash, '<', '>', ',' or ';'.
//   - "Basic <token>" masks the token only when it is base64 of
//     "user:password", so that prose such as "basic auth" is left alone.
//   - "scheme://user:password@host" masks the password, for any scheme.
//     The authority ends at '/', '?', '#', white space, a quote, a
//     backslash, '<' or '>'; a username without a password is kept.
//   - KEY=value, KEY = value, KEY: value, "KEY": "value", 'KEY': 'value'
//     and \"KEY\": \"value\" mask the value when KEY is secret-shaped
//     (SecretSegment) or is Authorization or Proxy-Authorization. The
//     scheme word of a credential is kept: the first word of an
//     Authorization value ("Bearer", "token"), and Bearer, Basic or Token
//     before the value of another key. A quoted value is masked up to its
//     closing quote. An unquoted value ends at white space, a quote, a
//     backslash, '&', ')', ']' or '}', and, after ':' or a quoted key, also
//     at ',' and ';'; one ':', ',', ';' or '.' just before white space or
//     the end is punctuation, not value. A value that opens an object or a
//     list ('{', '[') is structure and is left alone, and so is an empty
//     value. Launchplane's own field names idempotency_key and settings_key
//     hold no secret and are not secret-shaped here. After "KEY:" (not
//     quoted) a lower-case word followed by a space and another
//     lower-case word is a sentence ("TOKEN: authentication required"),
//     not a value, and is kept.
//
// Known limits: multi-line values (YAML block scalars), values whose key is
// elsewhere ({"name": "TOKEN", "value": "…"}), "Bearer" in prose (the next
// word is masked) and unquoted values containing the delimiters above are
// handled by shape only as described; a registered value is removed
// whatever its surroundings.

// ownKeys are Launchplane's own field names that look secret-shaped but
// hold no secret.
var ownKeys = [...]string{"idempotency_key", "settings_key"}

// triggers are the bytes where a heuristic may start.
const triggers = ":=bB"

// indexByte returns the index of the first c in s[from:], counted from the
// start of s, or -1.
func indexByte[T ~string | ~[]byte](s T, from int, c byte) int {
	var k int
	switch v := any(s[from:]).(type) {
	case string:
		k = strings.IndexByte(v, c)
	case []byte:
		k = bytes.IndexByte(v, c)
	default:
		k = -1
		for i := from; i < len(s); i++ {
			if s[i] == c {
				k = i - from
				break
			}
		}
	}
	if k < 0 {
		return -1
	}
	return from + k
}

type span struct{ start, end int }

// scrub applies the heuristics to s; it reports whether it changed
// anything and allocates only if it did.
func scrub[T ~string | ~[]byte](s T) (T, bool) {
	var buf [8]span
	edits := buf[:0]
	floor := 0                  // a key never reaches back into an earlier edit
	var next [len(triggers)]int // next index of each trigger byte at or after i; -1: none left
	for k := range next {
		next[k] = indexByte(s, 0, triggers[k])
	}
	for i := 0; i < len(s); {
		// Jump to the nearest trigger byte; IndexByte is much faster than
		// looking at every byte.
		j := -1
		for k, n := range next {
			if n >= 0 && n < i {
				n = indexByte(s, i, triggers[k])
				next[k] = n
			}
			if n >= 0 && (j < 0 || n < j) {
				j = n
			}
		}
		if j < 0 {
			break
		}
		i = j
		c := s[i]
		var sp span
		ok := false
		end := i + 1
		switch {
		case c == ':' && i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/':
			sp, end, ok = userinfo(s, i)
		case c == ':' || c == '=':
			sp, end, ok = assignment(s, i, floor)
		case i == 0 || !isWord(s[i-1]):
			sp, end, ok = scheme(s, i)
		}
		if ok {
			edits = append(edits, sp)
			floor = sp.end
		}
		i = max(end, i+1)
	}
	if len(edits) == 0 {
		return s, false
	}
	out := make([]byte, 0, len(s)+len(edits)*len(Mask))
	last := 0
	for _, e := range edits {
		out = append(out, s[last:e.start]...)
		out = append(out, Mask...)
		last = e.end
	}
	out = append(out, s[last:]...)
	return T(out), true
}

// masked returns the edit for s[start:end], or false when there is nothing
// to mask there.
func masked[T ~string | ~[]byte](s T, start, end int) (span, bool) {
	// A value that is already the mask, or the mask cut short by a
	// tokenizer that stops at "]", stays as it is: redacting twice must
	// give what redacting once gave.
	if end <= start || (end-start <= len(Mask) && hasPrefix(s[start:], Mask)) {
		return span{}, false
	}
	return span{start, end}, true
}

// scheme handles "Bearer <token>" and "Basic <credentials>" at s[i:].
func scheme[T ~string | ~[]byte](s T, i int) (span, int, bool) {
	var p int
	basic := false
	switch {
	case hasFoldPrefix(s[i:], "BEARER"):
		p = i + len("bearer")
	case hasFoldPrefix(s[i:], "BASIC"):
		p = i + len("basic")
		basic = true
	default:
		return span{}, i + 1, false
	}
	if p >= len(s) || (s[p] != ' ' && s[p] != '\t') {
		return span{}, p, false
	}
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	end := p
	for end < len(s) && !stopToken(s[end]) {
		end++
	}
	if basic && !isBasicCredentials(string(s[p:end])) {
		return span{}, end, false
	}
	sp, ok := masked(s, p, end)
	return sp, end, ok
}

// isBasicCredentials reports whether tok is base64 of "user:password".
func isBasicCredentials(tok string) bool {
	if len(tok) < 4 {
		return false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(tok); err == nil {
			return strings.IndexByte(string(b), ':') >= 0
		}
	}
	return false
}

// userinfo handles "scheme://user:password@host"; i is the index of ':'.
func userinfo[T ~string | ~[]byte](s T, i int) (span, int, bool) {
	k := i
	for k > 0 && isSchemeByte(s[k-1]) {
		k--
	}
	for k < i && !isLetter(s[k]) { // a scheme starts with a letter
		k++
	}
	start := i + 3
	if k == i {
		return span{}, start, false
	}
	end, at, colon := start, -1, -1
	for ; end < len(s) && !stopAuthority(s[end]); end++ {
		switch s[end] {
		case '@':
			at = end
		case ':':
			if at < 0 && colon < 0 {
				colon = end
			}
		}
	}
	if at < 0 || colon < 0 || colon > at {
		return span{}, start, false
	}
	// A ':' after the first '@' belongs to the host; the password runs to
	// the last '@' of the authority, as net/url reads it.
	sp, ok := masked(s, colon+1, at)
	return sp, at + 1, ok
}

const maxKey = 128

// assignment handles a secret-shaped key followed by '=' or ':' at s[j];
// the key does not reach back before floor.
func assignment[T ~string | ~[]byte](s T, j, floor int) (span, int, bool) {
	key, quoted, ok := assignedKey(s, j, floor)
	if !ok {
		return span{}, j + 1, false
	}
	auth := equalFold(key, "AUTHORIZATION") || equalFold(key, "PROXY-AUTHORIZATION")
	if !auth && !secretKey(key) {
		return span{}, j + 1, false
	}
	strict := s[j] == ':' || quoted // values in JSON, YAML, headers, Go's %v

	p := j + 1
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	if p >= len(s) {
		return span{}, p, false
	}
	delim, p, ok := openValue(s, p)
	if !ok {
		return span{}, p, false
	}
	p = skipAuthScheme(s, p, auth)
	e, ok := valueEnd(s, p, delim, strict, s[j] == ':' && !quoted)
	if !ok {
		return span{}, e, false
	}
	sp, ok := masked(s, p, e)
	return sp, e, ok
}

// assignedKey finds the key that s[j] ('=' or ':') assigns to: the key
// bytes just before it (for '=', blanks may come between), bare or quoted
// as "KEY", 'KEY' or \"KEY\", at most maxKey bytes, never reaching back
// before floor. quoted reports a quoted key.
func assignedKey[T ~string | ~[]byte](s T, j, floor int) (key T, quoted, ok bool) {
	k := j
	if s[j] == '=' {
		for k > floor && (s[k-1] == ' ' || s[k-1] == '\t') {
			k--
		}
	}
	var quote byte
	escaped := false
	if k > floor && (s[k-1] == '"' || s[k-1] == '\'') {
		quote = s[k-1]
		k--
		if quote == '"' && k > floor && s[k-1] == '\\' {
			escaped = true
			k--
		}
	}
	end := k
	for k > floor && end-k <= maxKey && isKeyByte(s[k-1]) {
		k--
	}
	if k == end || end-k > maxKey {
		return key, false, false
	}
	switch {
	case escaped:
		if k-2 < floor || s[k-1] != '"' || s[k-2] != '\\' {
			return key, false, false
		}
	case quote != 0:
		if k-1 < floor || s[k-1] != quote {
			return key, false, false
		}
	}
	return s[k:end], quote != 0, true
}

// valueDelim is how an assigned value is delimited.
type valueDelim int

const (
	bareValue          valueDelim = iota
	singleQuoted                  // 'value'
	doubleQuoted                  // "value"
	escapedDoubleQuote            // \"value\", a JSON string inside a JSON string
)

// openValue reads how the value at s[p] is delimited and returns where its
// content starts. A value that opens an object or a list ('{', '[') is
// structure, not a value: false.
func openValue[T ~string | ~[]byte](s T, p int) (valueDelim, int, bool) {
	switch {
	case s[p] == '"':
		return doubleQuoted, p + 1, true
	case s[p] == '\'':
		return singleQuoted, p + 1, true
	case s[p] == '\\' && p+1 < len(s) && s[p+1] == '"':
		return escapedDoubleQuote, p + 2, true
	case s[p] == '{' || s[p] == '[':
		return bareValue, p, false
	}
	return bareValue, p, true
}

// valueEnd is the end of the value whose content starts at s[p]. A quoted
// value runs to its closing quote (or the end of the line); a bare one is
// cut by bareValueEnd, and false means it is message text, not a value.
func valueEnd[T ~string | ~[]byte](s T, p int, delim valueDelim, strict, afterColon bool) (int, bool) {
	e := p
	switch delim {
	case bareValue:
		return bareValueEnd(s, p, strict, afterColon)
	case singleQuoted:
		for e < len(s) && s[e] != '\'' && s[e] != '\n' && s[e] != '\r' {
			e++
		}
	case doubleQuoted:
		for e < len(s) && s[e] != '"' && s[e] != '\n' && s[e] != '\r' {
			if s[e] == '\\' && e+1 < len(s) && s[e+1] != '\n' && s[e+1] != '\r' {
				e++
			}
			e++
		}
	case escapedDoubleQuote:
		e = endEscapedString(s, p)
	}
	return e, true
}

// bareValueEnd is the end of an unquoted value starting at s[p], without
// the punctuation that ends a clause. afterColon is set after an unquoted
// "KEY:", where a sentence is not a value: then it reports false.
func bareValueEnd[T ~string | ~[]byte](s T, p int, strict, afterColon bool) (int, bool) {
	e := p
	for e < len(s) && !stopValue(s[e], strict) {
		e++
	}
	// Punctuation that ends a clause is not part of the value:
	// "token=abc: not found", "set PASSWORD=abc.".
	if e-p > 1 && (e == len(s) || isSpace(s[e])) && isClauseEnd(s[e-1]) {
		e--
	}
	// After "KEY:" a lower-case word that a sentence goes on from is
	// message text, not a value: "secret SMTP_PASSWORD: cannot be
	// read", "x-access-token: authentication required".
	if afterColon && prose(s, p, e) {
		return e, false
	}
	return e, true
}

// prose reports whether s[p:e] is a lower-case word followed by a space
// and another lower-case word: the start of a sentence.
func prose[T ~string | ~[]byte](s T, p, e int) bool {
	if e-p < 2 {
		return false
	}
	for k := p; k < e; k++ {
		if !isLower(s[k]) {
			return false
		}
	}
	return e+1 < len(s) && s[e] == ' ' && isLower(s[e+1])
}

// endEscapedString returns where a JSON string inside a JSON string, whose
// content starts at s[p], ends: at the next \" that is not itself escaped.
func endEscapedString[T ~string | ~[]byte](s T, p int) int {
	for p < len(s) && s[p] != '\n' && s[p] != '\r' {
		if s[p] != '\\' || p+1 >= len(s) {
			p++
			continue
		}
		switch s[p+1] {
		case '"':
			return p
		case '\\':
			// An escaped backslash of the inner string: the character it
			// escapes is escaped again in the outer one when it is a quote
			// or a backslash.
			p += 2
			if p+1 < len(s) && s[p] == '\\' && (s[p+1] == '"' || s[p+1] == '\\') {
				p += 2
			} else if p < len(s) {
				p++
			}
		default:
			p += 2
		}
	}
	return p
}

// skipAuthScheme skips the scheme word of a credential ("Bearer abc" →
// "abc"): any word when anyWord is set (Authorization headers), else only
// Bearer, Basic and Token. A value of one word is all credential.
func skipAuthScheme[T ~string | ~[]byte](s T, p int, anyWord bool) int {
	q := p
	for q < len(s) && isLetter(s[q]) {
		q++
	}
	if q == p || q >= len(s) || (s[q] != ' ' && s[q] != '\t') {
		return p
	}
	if w := s[p:q]; !anyWord && !equalFold(w, "BEARER") && !equalFold(w, "BASIC") && !equalFold(w, "TOKEN") {
		return p
	}
	for q < len(s) && (s[q] == ' ' || s[q] == '\t') {
		q++
	}
	if q >= len(s) || stopToken(s[q]) {
		return p
	}
	return q
}

func secretKey[T ~string | ~[]byte](key T) bool {
	if _, _, ok := secretSegment(key); !ok {
		return false
	}
	for _, k := range ownKeys {
		if len(key) == len(k) && hasPrefix(key, k) {
			return false
		}
	}
	return true
}

func hasFoldPrefix[T ~string | ~[]byte](s T, w string) bool {
	return len(s) >= len(w) && equalFold(s[:len(w)], w)
}

func isLetter(c byte) bool { return isUpper(c) || isLower(c) }
func isWord(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' }

func isKeyByte(c byte) bool { return isWord(c) || c == '-' || c == '.' }

func isSchemeByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// stopStructural are the bytes a mask never swallows.
func stopStructural(c byte) bool {
	return isSpace(c) || c == '"' || c == '\'' || c == '`' || c == '\\'
}

func stopToken(c byte) bool {
	return stopStructural(c) || c == '<' || c == '>' || c == ',' || c == ';'
}

func stopAuthority(c byte) bool {
	return stopStructural(c) || c == '/' || c == '?' || c == '#' || c == '<' || c == '>'
}

func isClauseEnd(c byte) bool { return c == ':' || c == ',' || c == ';' || c == '.' }

func stopValue(c byte, strict bool) bool {
	switch c {
	case '&', ')', ']', '}':
		return true
	case ',', ';':
		return strict
	}
	return stopStructural(c)
}
