package redact

import "bytes"

// matcher finds the registered patterns in a text: a radix tree over all
// patterns, built once per Add and never changed afterwards, so readers
// share it without locking. Matching is leftmost-longest and
// non-overlapping, like a strings.Replacer given the patterns longest
// first, but a text that contains no pattern costs no allocation.
type matcher struct {
	root  [256]int32 // node whose label starts with the byte; 0: none
	nodes []node     // nodes[0] is unused, so that 0 means "no node"
}

type node struct {
	label string  // the bytes on the edge into this node; never empty
	end   bool    // a pattern ends here
	keys  []byte  // keys[i] is the first byte of next[i]'s label
	next  []int32 // children
}

func newMatcher(patterns []string) *matcher {
	m := &matcher{nodes: make([]node, 1, 2*len(patterns)+1)}
	for _, p := range patterns {
		if p != "" {
			m.insert(p)
		}
	}
	return m
}

// insert adds the non-empty pattern p.
func (m *matcher) insert(p string) {
	parent := int32(-1) // -1: the root table
	for {
		id := m.child(parent, p[0])
		if id == 0 {
			m.nodes = append(m.nodes, node{label: p, end: true})
			m.setChild(parent, p[0], int32(len(m.nodes)-1))
			return
		}
		label := m.nodes[id].label
		c := 0
		for c < len(label) && c < len(p) && label[c] == p[c] {
			c++
		}
		if c < len(label) {
			// Split the edge: a new node for the common part, with the
			// old node below it.
			m.nodes = append(m.nodes, node{label: label[:c], keys: []byte{label[c]}, next: []int32{id}})
			mid := int32(len(m.nodes) - 1)
			m.nodes[id].label = label[c:]
			m.setChild(parent, p[0], mid)
			id = mid
		}
		if c == len(p) {
			m.nodes[id].end = true
			return
		}
		p = p[c:]
		parent = id
	}
}

func (m *matcher) child(parent int32, b byte) int32 {
	if parent < 0 {
		return m.root[b]
	}
	n := &m.nodes[parent]
	if k := bytes.IndexByte(n.keys, b); k >= 0 {
		return n.next[k]
	}
	return 0
}

func (m *matcher) setChild(parent int32, b byte, id int32) {
	if parent < 0 {
		m.root[b] = id
		return
	}
	n := &m.nodes[parent]
	if k := bytes.IndexByte(n.keys, b); k >= 0 {
		n.next[k] = id
		return
	}
	n.keys = append(n.keys, b)
	n.next = append(n.next, id)
}

// longestAt returns the length of the longest pattern that is a prefix of
// s (0 if none), and whether s ends where a longer pattern could still
// follow if more text came.
func longestAt[T ~string | ~[]byte](m *matcher, s T) (n int, open bool) {
	id := m.root[s[0]]
	pos := 0
	for id != 0 {
		nd := &m.nodes[id]
		rest := s[pos:]
		if len(rest) < len(nd.label) {
			return n, hasPrefix(nd.label, rest)
		}
		if !hasPrefix(rest, nd.label) {
			return n, false
		}
		pos += len(nd.label)
		if nd.end {
			n = pos
		}
		if pos == len(s) {
			return n, len(nd.keys) > 0
		}
		k := bytes.IndexByte(nd.keys, s[pos])
		if k < 0 {
			return n, false
		}
		id = nd.next[k]
	}
	return n, false
}

func hasPrefix[S, P ~string | ~[]byte](s S, p P) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if s[i] != p[i] {
			return false
		}
	}
	return true
}

// boundedAt returns the length of the longest pattern starting at s[i]
// that sits on token boundaries (see bounded), 0 if none.
func boundedAt[T ~string | ~[]byte](m *matcher, s T, i int) int {
	var ends [16]int
	found := ends[:0]
	id := m.root[s[i]]
	pos := i
	for id != 0 {
		nd := &m.nodes[id]
		if !hasPrefix(s[pos:], nd.label) {
			break
		}
		pos += len(nd.label)
		if nd.end {
			found = append(found, pos)
		}
		if pos == len(s) {
			break
		}
		k := bytes.IndexByte(nd.keys, s[pos])
		if k < 0 {
			break
		}
		id = nd.next[k]
	}
	for k := len(found) - 1; k >= 0; k-- {
		if found[k]-i >= anywhereLen || bounded(s, i, found[k]) {
			return found[k] - i
		}
	}
	return 0
}

// anywhereLen is the length from which a match is masked wherever it
// stands, inside a word too: a value that long glued to other text
// ("xxxx<secret>", a token after a fixed prefix) is still the secret,
// and no word of a message is that long by chance. Shorter values (a
// common word, a product name) are masked on token boundaries only.
const anywhereLen = 12

// bounded reports whether s[i:j] is a whole token: a match never starts
// or ends inside a word, so a secret "hello" is not masked in "hellos"
// or "othello", and a one-letter secret never eats the letter out of
// every word. Word bytes are ASCII letters, digits, '_' and every byte of
// a multi-byte character; a letter escaped by a backslash ("\n" in JSON)
// is not a word byte before a match.
func bounded[T ~string | ~[]byte](s T, i, j int) bool {
	startOK := i == 0 || !wordByte(s[i]) || !wordByte(s[i-1]) || (i >= 2 && s[i-2] == '\\' && isLetter(s[i-1]))
	endOK := j == len(s) || !wordByte(s[j-1]) || !wordByte(s[j])
	return startOK && endOK
}

func wordByte(c byte) bool { return isWord(c) || c >= 0x80 }

// replace masks every match in s that sits on token boundaries; it
// reports whether it changed anything and allocates only if it did.
func replace[T ~string | ~[]byte](m *matcher, s T) (T, bool) {
	var out []byte
	last := 0
	for i := 0; i < len(s); {
		if m.root[s[i]] == 0 {
			i++
			continue
		}
		n := boundedAt(m, s, i)
		if n == 0 {
			i++
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(s)+len(Mask))
		}
		out = append(out, s[last:i]...)
		out = append(out, Mask...)
		i += n
		last = i
	}
	if out == nil {
		return s, false
	}
	out = append(out, s[last:]...)
	return T(out), true
}

// lineCut returns how much of s a streaming writer can redact now: the end
// of the last complete line that neither ends inside a match nor follows
// a position where more text could complete a pattern. pending is the first
// such position (len(s) if none). The scan starts at from, a pending
// position of an earlier call on a prefix of s with the same matcher (or
// 0): what was settled before it stays settled. m may be nil.
func lineCut(m *matcher, s []byte, from int) (cut, pending int) {
	for i := from; i < len(s); {
		if m != nil && m.root[s[i]] != 0 {
			n, open := longestAt(m, s[i:])
			if open {
				return cut, i
			}
			if n > 0 {
				i += n
				if s[i-1] == '\n' {
					cut = i
				}
				continue
			}
		}
		if s[i] == '\n' {
			cut = i + 1
		}
		i++
	}
	return cut, len(s)
}
