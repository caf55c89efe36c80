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
// document's tree does (TestPosIndexSameAsWalk), in a few dozen bytes a
// node.
type posIndex []posEntry

// posEntry is one node: the root (entry 0), a mapping member's value or
// a sequence item, with its first child and next sibling.
type posEntry struct {
	key         string // the member's key when it is a !!str scalar
	line, col   int32  // of the value
	kline, kcol int32  // of the key; 0 for the root and items
	first, next int32  // -1: none
	kind        yaml.Kind
	strKey      bool // a mapping member whose key walkPtr can match
}

// newPosIndex indexes the tree of a document (a DocumentNode).
func newPosIndex(doc *yaml.Node) posIndex {
	if len(doc.Content) == 0 {
		return nil
	}
	idx := make(posIndex, 0, 32)
	idx = append(idx, entryOf(doc.Content[0], nil))
	idx.add(0, doc.Content[0])
	return idx
}

func entryOf(val, key *yaml.Node) posEntry {
	e := posEntry{line: int32(val.Line), col: int32(val.Column), first: -1, next: -1, kind: val.Kind}
	if key != nil {
		e.kline, e.kcol = int32(key.Line), int32(key.Column)
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!str" {
			e.key, e.strKey = key.Value, true
		}
	}
	return e
}

// add appends the children of n, the node of entry i, and theirs.
func (idx *posIndex) add(i int32, n *yaml.Node) {
	prev := int32(-1)
	link := func(c int32) {
		if prev < 0 {
			(*idx)[i].first = c
		} else {
			(*idx)[prev].next = c
		}
		prev = c
	}
	switch n.Kind {
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			c := int32(len(*idx))
			*idx = append(*idx, entryOf(n.Content[j+1], n.Content[j]))
			link(c)
			idx.add(c, n.Content[j+1])
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			c := int32(len(*idx))
			*idx = append(*idx, entryOf(item, nil))
			link(c)
			idx.add(c, item)
		}
	}
}

// find is the entry at ptr, as walkPtr finds its node: the first member
// with that string key, or the item at that index; -1 when absent.
func (idx posIndex) find(ptr string) int32 {
	if len(idx) == 0 {
		return -1
	}
	if ptr == "" {
		return 0
	}
	cur := int32(0)
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescapePtr(tok)
		e := &idx[cur]
		switch e.kind {
		case yaml.MappingNode:
			found := int32(-1)
			for c := e.first; c >= 0; c = idx[c].next {
				if idx[c].strKey && idx[c].key == tok {
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
				c = idx[c].next
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
func (idx posIndex) pos(file, ptr string) diag.Pos {
	for {
		if i := idx.find(ptr); i >= 0 {
			return diag.Pos{File: file, Line: int(idx[i].line), Col: int(idx[i].col)}
		}
		if ptr == "" {
			return diag.Pos{File: file, Line: 1, Col: 1}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// keyPos is the position of the key naming ptr, like doc.keyPos.
func (idx posIndex) keyPos(file, ptr string) diag.Pos {
	if i := idx.find(ptr); i >= 0 && idx[i].kline > 0 {
		return diag.Pos{File: file, Line: int(idx[i].kline), Col: int(idx[i].kcol)}
	}
	return idx.pos(file, ptr)
}
