package schema

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/diag"
)

// posIndex is the positions of a fast-parsed document's nodes, kept when
// its tree is let go after loading: a plan asks for a few positions of
// every target (its causes), and parsing each file again to answer cost
// as much as the plan itself. It answers exactly as walkPtr on the
// document's tree does (TestPosIndexSameAsWalk), in one allocation of
// 32 bytes a node without pointers, and the keys in one string.
type posIndex struct {
	e    []posEntry
	keys string
}

// posEntry is one node: the root (entry 0), a mapping member's value or
// a sequence item, with its first child and next sibling.
type posEntry struct {
	koff, klen  int32 // the member's key in keys, when it is a !!str scalar
	line, col   int32 // of the value
	kline, kcol int32 // of the key; 0 for the root and items
	first, next int32 // -1: none
}

// kind and strKey ride in the top bits of klen: 0-based yaml.Kind
// (Document 1 .. Scalar 8, Alias 16) needs 5 bits.
const (
	strKeyBit = 1 << 30
	kindShift = 24
	klenMask  = 1<<kindShift - 1
)

func (p *posEntry) kind() yaml.Kind { return yaml.Kind(p.klen >> kindShift & 0x1f) }
func (p *posEntry) strKey() bool    { return p.klen&strKeyBit != 0 }

// newPosIndex indexes the tree of a document (a DocumentNode).
func newPosIndex(doc *yaml.Node) *posIndex {
	if len(doc.Content) == 0 {
		return nil
	}
	n, keyBytes := countNodes(doc.Content[0])
	b := indexBuilder{idx: posIndex{e: make([]posEntry, 0, n)}}
	b.keys.Grow(keyBytes)
	b.entry(doc.Content[0], nil)
	b.add(0, doc.Content[0])
	b.idx.keys = b.keys.String()
	return &b.idx
}

func countNodes(n *yaml.Node) (nodes, keyBytes int) {
	nodes = 1
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			keyBytes += len(c.Value)
			continue
		}
		cn, ck := countNodes(c)
		nodes += cn
		keyBytes += ck
	}
	return nodes, keyBytes
}

type indexBuilder struct {
	idx  posIndex
	keys strings.Builder
}

func (b *indexBuilder) entry(val, key *yaml.Node) int32 {
	e := posEntry{line: int32(val.Line), col: int32(val.Column), first: -1, next: -1, klen: int32(val.Kind&0x1f) << kindShift}
	if key != nil {
		e.kline, e.kcol = int32(key.Line), int32(key.Column)
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!str" && len(key.Value) <= klenMask {
			e.koff = int32(b.keys.Len())
			e.klen |= int32(len(key.Value)) | strKeyBit
			b.keys.WriteString(key.Value)
		}
	}
	b.idx.e = append(b.idx.e, e)
	return int32(len(b.idx.e) - 1)
}

// add appends the children of n, the node of entry i, and theirs.
func (b *indexBuilder) add(i int32, n *yaml.Node) {
	prev := int32(-1)
	link := func(c int32) {
		if prev < 0 {
			b.idx.e[i].first = c
		} else {
			b.idx.e[prev].next = c
		}
		prev = c
	}
	switch n.Kind {
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			c := b.entry(n.Content[j+1], n.Content[j])
			link(c)
			b.add(c, n.Content[j+1])
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			c := b.entry(item, nil)
			link(c)
			b.add(c, item)
		}
	}
}

// find is the entry at ptr, as walkPtr finds its node: the first member
// with that string key, or the item at that index; -1 when absent.
func (idx *posIndex) find(ptr string) int32 {
	if len(idx.e) == 0 {
		return -1
	}
	if ptr == "" {
		return 0
	}
	cur := int32(0)
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescapePtr(tok)
		e := &idx.e[cur]
		switch e.kind() {
		case yaml.MappingNode:
			found := int32(-1)
			for c := e.first; c >= 0; c = idx.e[c].next {
				if m := &idx.e[c]; m.strKey() && idx.keys[m.koff:m.koff+m.klen&klenMask] == tok {
					found = c
					break
				}
			}
			if found < 0 {
				return -1
			}
			cur = found
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || strconv.Itoa(i) != tok {
				return -1
			}
			c := e.first
			for ; c >= 0 && i > 0; i-- {
				c = idx.e[c].next
			}
			if c < 0 {
				return -1
			}
			cur = c
		default:
			return -1
		}
	}
	return cur
}

// pos is the position of the value at ptr, like doc.pos.
func (idx *posIndex) pos(file, ptr string) diag.Pos {
	for {
		if i := idx.find(ptr); i >= 0 {
			return diag.Pos{File: file, Line: int(idx.e[i].line), Col: int(idx.e[i].col)}
		}
		if ptr == "" {
			return diag.Pos{File: file, Line: 1, Col: 1}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// keyPos is the position of the key naming ptr, like doc.keyPos.
func (idx *posIndex) keyPos(file, ptr string) diag.Pos {
	if i := idx.find(ptr); i >= 0 && idx.e[i].kline > 0 {
		return diag.Pos{File: file, Line: int(idx.e[i].kline), Col: int(idx.e[i].kcol)}
	}
	return idx.pos(file, ptr)
}
