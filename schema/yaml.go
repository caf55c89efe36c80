package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the values one document may expand to. A config document
// has tens of nodes; aliases that multiply past this are an alias bomb, and
// conversion stops there, so memory stays bounded whatever the input.
const maxNodes = 100_000

// maxDepth bounds nesting, so a deeply nested document cannot exhaust the
// stack of the converter or of the validator.
const maxDepth = 64

// loc is where a JSON pointer's value, and the key that names it, stand.
type loc struct {
	key *yaml.Node // nil for the document root and sequence items
	val *yaml.Node
}

// doc is one YAML document converted for validation.
type doc struct {
	file  string // relative to the config dir, slash-separated
	index int    // 0-based document index in the file
	node  *yaml.Node
	value any            // JSON value for the validator
	locs  map[string]loc // JSON pointer -> nodes
	// data is the file's bytes: positions are found again from them
	// once node and locs are let go (see lookup).
	data []byte
	walk bool // node is the fast parser's tree, read again: walk it (see lookup)
	fast bool // node is the fast parser's tree of the whole file
	// idx answers pos and keyPos once the fast parser's tree is let go;
	// set before the document is shared, never changed after.
	idx *posIndex
	mu  sync.Mutex
}

// convError is a problem found while converting; it stops the document.
type convError struct {
	node *yaml.Node
	ptr  string
	msg  string
}

func (e *convError) Error() string { return e.msg }

type converter struct {
	locs  map[string]loc
	nodes int
	// keyErrs are bad keys (not strings, duplicates): reported, skipped,
	// and conversion goes on so every one of them is found.
	keyErrs []*convError
	// outer is the outermost alias being expanded, and its pointer: an
	// alias bomb is reported there, not deep inside the expansion.
	outer    *yaml.Node
	outerPtr string
}

// convert turns a parsed document into a JSON value and its pointer map.
// Keys must be strings and unique; tags must be core-schema tags; merge
// keys (<<) are honoured; aliases expand within the node budget. Bad keys
// are all returned in keyErrs; err is a problem that stopped conversion.
func convert(n *yaml.Node) (v any, locs map[string]loc, keyErrs []*convError, err error) {
	c := &converter{locs: make(map[string]loc, 32)}
	root := n
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		root = n.Content[0]
	}
	v, err = c.value(root, nil, "", 0)
	return v, c.locs, c.keyErrs, err
}

// convertValue converts a document that has no problem at all, keeping
// no pointer map; it reports false on any problem, and convert then finds
// and words them.
func convertValue(n *yaml.Node) (v any, ok bool) {
	c := &converter{}
	root := n
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		root = n.Content[0]
	}
	v, err := c.value(root, nil, "", 0)
	return v, err == nil && len(c.keyErrs) == 0
}

func (c *converter) value(n, key *yaml.Node, ptr string, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		at, atPtr := n, ptr
		if c.outer != nil {
			at, atPtr = c.outer, c.outerPtr
		}
		return nil, &convError{at, atPtr, fmt.Sprintf("document expands to more than %d values through aliases (a YAML alias bomb?)", maxNodes)}
	}
	if depth > maxDepth {
		return nil, &convError{n, ptr, fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	if c.locs != nil {
		if _, seen := c.locs[ptr]; !seen {
			c.locs[ptr] = loc{key: key, val: n}
		}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &convError{n, ptr, "alias to an unknown anchor"}
		}
		if c.outer == nil {
			c.outer, c.outerPtr = n, ptr
			defer func() { c.outer, c.outerPtr = nil, "" }()
		}
		return c.value(n.Alias, key, ptr, depth+1)
	case yaml.ScalarNode:
		return scalar(n, ptr)
	case yaml.SequenceNode:
		if n.Tag != "" && n.ShortTag() != "!!seq" {
			return nil, &convError{n, ptr, fmt.Sprintf("unsupported YAML tag %s", n.Tag)}
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			ip := ""
			if c.locs != nil {
				ip = ptr + "/" + strconv.Itoa(i)
			}
			v, err := c.value(item, nil, ip, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if n.Tag != "" && n.ShortTag() != "!!map" {
			return nil, &convError{n, ptr, fmt.Sprintf("unsupported YAML tag %s", n.Tag)}
		}
		out := make(map[string]any, len(n.Content)/2)
		if err := c.mapping(n, ptr, depth, out, map[string]bool{}); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, &convError{n, ptr, "unsupported YAML node"}
}

// mapping fills out from n. Explicit keys win over merged ones (<<), as in
// YAML's merge-key rule; explicit holds the keys set explicitly so far.
func (c *converter) mapping(n *yaml.Node, ptr string, depth int, out map[string]any, explicit map[string]bool) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			msg := fmt.Sprintf("mapping key %s is not a string; quote it", describe(k))
			if k.Kind != yaml.ScalarNode {
				msg = fmt.Sprintf("mapping key is %s; keys must be strings", strings.Trim(describe(k), "()"))
			}
			c.keyErrs = append(c.keyErrs, &convError{k, ptr, msg})
			continue
		}
		if explicit[k.Value] {
			c.keyErrs = append(c.keyErrs, &convError{k, ptr, fmt.Sprintf("duplicate key %q", k.Value)})
			continue
		}
		explicit[k.Value] = true
		cp := ""
		if c.locs != nil {
			cp = ptr + "/" + escapePtr(k.Value)
		}
		val, err := c.value(v, k, cp, depth+1)
		if err != nil {
			return err
		}
		out[k.Value] = val
	}
	for _, m := range merges {
		src := m
		if src.Kind == yaml.AliasNode {
			src = src.Alias
		}
		var maps []*yaml.Node
		switch {
		case src != nil && src.Kind == yaml.MappingNode:
			maps = []*yaml.Node{src}
		case src != nil && src.Kind == yaml.SequenceNode:
			for _, item := range src.Content {
				if item.Kind == yaml.AliasNode {
					item = item.Alias
				}
				if item == nil || item.Kind != yaml.MappingNode {
					return &convError{m, ptr, "merge key (<<) needs a mapping or a list of mappings"}
				}
				maps = append(maps, item)
			}
		default:
			return &convError{m, ptr, "merge key (<<) needs a mapping or a list of mappings"}
		}
		for _, mm := range maps {
			merged := map[string]any{}
			if err := c.mapping(mm, ptr, depth+1, merged, map[string]bool{}); err != nil {
				return err
			}
			for k, v := range merged {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		}
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%q (%s)", n.Value, strings.TrimPrefix(n.ShortTag(), "!!"))
	case yaml.MappingNode:
		return "(a mapping)"
	case yaml.SequenceNode:
		return "(a sequence)"
	case yaml.AliasNode:
		return "(an alias)"
	}
	return "(unknown)"
}

func scalar(n *yaml.Node, ptr string) (any, error) {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return nil, &convError{n, ptr, fmt.Sprintf("invalid boolean %q", n.Value)}
		}
		return b, nil
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		if u, err := strconv.ParseUint(s, 0, 64); err == nil {
			return json.Number(strconv.FormatUint(u, 10)), nil
		}
		return nil, &convError{n, ptr, fmt.Sprintf("integer %q out of range", n.Value)}
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &convError{n, ptr, fmt.Sprintf("%q is not a finite number", n.Value)}
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return nil, &convError{n, ptr, fmt.Sprintf("unsupported YAML tag %s", n.Tag)}
}

// escapePtr escapes a JSON pointer token (RFC 6901).
func escapePtr(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func unescapePtr(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

// fieldPath turns a JSON pointer into the dotted form diagnostics show:
// /spec/ingress/domains/0 -> spec.ingress.domains[0]. Keys that are not
// identifiers are quoted: /spec/env/a.b -> spec.env["a.b"].
func fieldPath(ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	toks := strings.Split(ptr[1:], "/")
	if len(toks) > 12 {
		// Deep paths (a nesting error) keep their head and tail.
		toks = append(append(append([]string{}, toks[:6]...), "…"), toks[len(toks)-2:]...)
	}
	for _, tok := range toks {
		if tok == "…" {
			b.WriteString("…")
			continue
		}
		tok = unescapePtr(tok)
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if isIdent(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			continue
		}
		b.WriteString("[" + strconv.Quote(tok) + "]")
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
