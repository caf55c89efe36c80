package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The fast validator answers one question, "is this value valid?", for
// the documents that almost always are. It is compiled once from the same
// composed schema documents jsonschema compiles, for the keywords those
// documents use, and follows jsonschema/v5's semantics for each of them
// (numbers compared as rationals, lengths in runes, Go regexps, "integer"
// as a number with no fraction). It never produces a diagnostic: when it
// says "invalid", the document is validated again by jsonschema, which
// stays the reference and words every error. A schema with a keyword the
// fast validator does not know is not compiled at all, and its documents
// always go to jsonschema. FuzzFastValid and TestFastValidAgrees check
// that the two agree.

var fast struct {
	once    sync.Once
	schemas map[string]*fnode // kind -> compiled root; absent: use jsonschema
	errs    map[string]error  // kind -> why it was not compiled
}

// fastSchemas compiles every kind's composed document for the fast path.
func fastSchemas() map[string]*fnode {
	fast.once.Do(func() {
		fast.schemas, fast.errs = map[string]*fnode{}, map[string]error{}
		docs, err := documents()
		if err != nil {
			return
		}
		for _, k := range Kinds {
			n, err := compileFast(docs[k])
			if err != nil {
				fast.errs[k] = err
				continue
			}
			fast.schemas[k] = n
		}
	})
	return fast.schemas
}

// fastValid reports whether v certainly satisfies kind's schema; false
// means "ask jsonschema".
func fastValid(kind string, v any) bool {
	n := fastSchemas()[kind]
	return n != nil && n.valid(v)
}

// fnode is one compiled schema object. Limits are -1 when absent.
type fnode struct {
	always        *bool // a boolean schema
	types         []string
	hasConst      bool
	constVal      any
	enum          []any
	hasEnum       bool
	props         map[string]*fnode
	required      []string
	addFalse      bool   // additionalProperties: false
	additional    *fnode // additionalProperties: schema
	patternProps  []patternProp
	propertyNames *fnode
	minProps      int
	maxProps      int
	items         *fnode
	minItems      int
	maxItems      int
	uniqueItems   bool
	minLen        int
	maxLen        int
	pattern       *regexp.Regexp
	minimum       *big.Rat
	maximum       *big.Rat
	exclMin       *big.Rat
	exclMax       *big.Rat
	ref           *fnode
	allOf         []*fnode
	anyOf         []*fnode
	oneOf         []*fnode
	not           *fnode
	ifN           *fnode
	thenN         *fnode
	elseN         *fnode
	depRequired   map[string][]string
}

type patternProp struct {
	re *regexp.Regexp
	n  *fnode
}

// annotations are keywords that assert nothing.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$defs": true, "definitions": true, "$comment": true,
	"title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "x-messages": true,
}

type fastCompiler struct {
	root  map[string]any
	nodes map[string]*fnode // JSON pointer -> compiled node, for $ref and recursion
}

func compileFast(root map[string]any) (*fnode, error) {
	c := &fastCompiler{root: root, nodes: map[string]*fnode{}}
	return c.compile(root, "")
}

func (c *fastCompiler) at(ptr string) (*fnode, error) {
	if n, ok := c.nodes[ptr]; ok {
		return n, nil
	}
	s := lookup(c.root, ptr)
	if s == nil {
		return nil, fmt.Errorf("%s: no schema there", ptr)
	}
	return c.compile(s, ptr)
}

func (c *fastCompiler) compile(s any, ptr string) (*fnode, error) {
	if n, ok := c.nodes[ptr]; ok {
		return n, nil
	}
	n := &fnode{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	c.nodes[ptr] = n
	if b, ok := s.(bool); ok {
		n.always = &b
		return n, nil
	}
	obj, ok := s.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema is %T", ptr, s)
	}
	sub := func(kw string) (*fnode, error) { return c.compile(obj[kw], ptr+"/"+escapePtr(kw)) }
	list := func(kw string) ([]*fnode, error) {
		items, ok := obj[kw].([]any)
		if !ok || len(items) == 0 {
			return nil, fmt.Errorf("%s/%s: not a list of schemas", ptr, kw)
		}
		var out []*fnode
		for i, it := range items {
			x, err := c.compile(it, ptr+"/"+kw+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	limit := func(kw string) (int, error) {
		f, ok := obj[kw].(float64)
		if !ok || f < 0 || f != float64(int(f)) {
			return 0, fmt.Errorf("%s/%s: not a non-negative integer", ptr, kw)
		}
		return int(f), nil
	}
	number := func(kw string) (*big.Rat, error) {
		f, ok := obj[kw].(float64)
		if !ok {
			return nil, fmt.Errorf("%s/%s: not a number", ptr, kw)
		}
		r, ok := new(big.Rat).SetString(fmt.Sprint(f))
		if !ok {
			return nil, fmt.Errorf("%s/%s: not a number", ptr, kw)
		}
		return r, nil
	}
	var err error
	for kw, val := range obj {
		switch {
		case annotations[kw]:
			if kw == "$id" && ptr != "" {
				return nil, fmt.Errorf("%s: $id below the root changes $ref resolution", ptr)
			}
		case kw == "type":
			switch t := val.(type) {
			case string:
				n.types = []string{t}
			case []any:
				for _, x := range t {
					s, ok := x.(string)
					if !ok {
						return nil, fmt.Errorf("%s/type: not a string", ptr)
					}
					n.types = append(n.types, s)
				}
			default:
				return nil, fmt.Errorf("%s/type: %T", ptr, val)
			}
			for _, t := range n.types {
				switch t {
				case "null", "boolean", "number", "integer", "string", "array", "object":
				default:
					return nil, fmt.Errorf("%s/type: unknown type %q", ptr, t)
				}
			}
		case kw == "const":
			n.hasConst, n.constVal = true, val
		case kw == "enum":
			e, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("%s/enum: not a list", ptr)
			}
			n.hasEnum, n.enum = true, e
		case kw == "properties":
			props, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s/properties: not an object", ptr)
			}
			n.props = make(map[string]*fnode, len(props))
			for name, ps := range props {
				if n.props[name], err = c.compile(ps, ptr+"/properties/"+escapePtr(name)); err != nil {
					return nil, err
				}
			}
		case kw == "required":
			req, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("%s/required: not a list", ptr)
			}
			for _, r := range req {
				s, ok := r.(string)
				if !ok {
					return nil, fmt.Errorf("%s/required: not a string", ptr)
				}
				n.required = append(n.required, s)
			}
		case kw == "additionalProperties":
			if b, ok := val.(bool); ok {
				n.addFalse = !b
				break
			}
			if n.additional, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "patternProperties":
			pp, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s/patternProperties: not an object", ptr)
			}
			for pat, ps := range pp {
				re, err := regexp.Compile(pat)
				if err != nil {
					return nil, err
				}
				x, err := c.compile(ps, ptr+"/patternProperties/"+escapePtr(pat))
				if err != nil {
					return nil, err
				}
				n.patternProps = append(n.patternProps, patternProp{re, x})
			}
		case kw == "propertyNames":
			if n.propertyNames, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "minProperties":
			if n.minProps, err = limit(kw); err != nil {
				return nil, err
			}
		case kw == "maxProperties":
			if n.maxProps, err = limit(kw); err != nil {
				return nil, err
			}
		case kw == "items":
			if _, ok := val.([]any); ok {
				return nil, fmt.Errorf("%s/items: a list (draft 2019 form)", ptr)
			}
			if n.items, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "minItems":
			if n.minItems, err = limit(kw); err != nil {
				return nil, err
			}
		case kw == "maxItems":
			if n.maxItems, err = limit(kw); err != nil {
				return nil, err
			}
		case kw == "uniqueItems":
			b, ok := val.(bool)
			if !ok {
				return nil, fmt.Errorf("%s/uniqueItems: not a boolean", ptr)
			}
			n.uniqueItems = b
		case kw == "minLength":
			if n.minLen, err = limit(kw); err != nil {
				return nil, err
			}
		case kw == "maxLength":
			if n.maxLen, err = limit(kw); err != nil {
				return nil, err
			}
		case kw == "pattern":
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("%s/pattern: not a string", ptr)
			}
			if n.pattern, err = regexp.Compile(s); err != nil {
				return nil, err
			}
		case kw == "minimum":
			if n.minimum, err = number(kw); err != nil {
				return nil, err
			}
		case kw == "maximum":
			if n.maximum, err = number(kw); err != nil {
				return nil, err
			}
		case kw == "exclusiveMinimum":
			if n.exclMin, err = number(kw); err != nil {
				return nil, err
			}
		case kw == "exclusiveMaximum":
			if n.exclMax, err = number(kw); err != nil {
				return nil, err
			}
		case kw == "$ref":
			ref, ok := val.(string)
			if !ok || !strings.HasPrefix(ref, "#") {
				return nil, fmt.Errorf("%s/$ref: only references inside the document are compiled", ptr)
			}
			if n.ref, err = c.at(ref[1:]); err != nil {
				return nil, err
			}
		case kw == "allOf":
			if n.allOf, err = list(kw); err != nil {
				return nil, err
			}
		case kw == "anyOf":
			if n.anyOf, err = list(kw); err != nil {
				return nil, err
			}
		case kw == "oneOf":
			if n.oneOf, err = list(kw); err != nil {
				return nil, err
			}
		case kw == "not":
			if n.not, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "if":
			if n.ifN, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "then":
			if n.thenN, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "else":
			if n.elseN, err = sub(kw); err != nil {
				return nil, err
			}
		case kw == "dependentRequired":
			dr, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s/dependentRequired: not an object", ptr)
			}
			n.depRequired = map[string][]string{}
			for name, l := range dr {
				items, ok := l.([]any)
				if !ok {
					return nil, fmt.Errorf("%s/dependentRequired: not a list", ptr)
				}
				for _, it := range items {
					s, ok := it.(string)
					if !ok {
						return nil, fmt.Errorf("%s/dependentRequired: not a string", ptr)
					}
					n.depRequired[name] = append(n.depRequired[name], s)
				}
			}
		default:
			// format, contains, unevaluated*, prefixItems, multipleOf,
			// dependentSchemas, $dynamicRef, …: left to jsonschema.
			return nil, fmt.Errorf("%s: keyword %q is not compiled", ptr, kw)
		}
	}
	return n, nil
}

// valid reports whether v satisfies n, as jsonschema/v5 would decide.
func (n *fnode) valid(v any) bool {
	if n.always != nil {
		return *n.always
	}
	if len(n.types) > 0 {
		vt := jsonTypeOf(v)
		ok := false
		for _, t := range n.types {
			if t == vt || (t == "integer" && vt == "number" && isInt(v)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if n.hasConst && !jsonEqual(v, n.constVal) {
		return false
	}
	if n.hasEnum {
		ok := false
		for _, e := range n.enum {
			if jsonEqual(v, e) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	switch v := v.(type) {
	case map[string]any:
		if !n.validObject(v) {
			return false
		}
	case []any:
		if n.minItems >= 0 && len(v) < n.minItems || n.maxItems >= 0 && len(v) > n.maxItems {
			return false
		}
		if n.uniqueItems {
			for i := 1; i < len(v); i++ {
				for j := 0; j < i; j++ {
					if jsonEqual(v[i], v[j]) {
						return false
					}
				}
			}
		}
		if n.items != nil {
			for _, it := range v {
				if !n.items.valid(it) {
					return false
				}
			}
		}
	case string:
		if n.minLen >= 0 || n.maxLen >= 0 {
			l := utf8.RuneCountInString(v)
			if n.minLen >= 0 && l < n.minLen || n.maxLen >= 0 && l > n.maxLen {
				return false
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(v) {
			return false
		}
	default:
		if (n.minimum != nil || n.maximum != nil || n.exclMin != nil || n.exclMax != nil) && jsonTypeOf(v) == "number" {
			r, ok := new(big.Rat).SetString(fmt.Sprint(v))
			if !ok {
				return false
			}
			if n.minimum != nil && r.Cmp(n.minimum) < 0 || n.maximum != nil && r.Cmp(n.maximum) > 0 ||
				n.exclMin != nil && r.Cmp(n.exclMin) <= 0 || n.exclMax != nil && r.Cmp(n.exclMax) >= 0 {
				return false
			}
		}
	}
	if n.ref != nil && !n.ref.valid(v) {
		return false
	}
	for _, s := range n.allOf {
		if !s.valid(v) {
			return false
		}
	}
	if len(n.anyOf) > 0 {
		ok := false
		for _, s := range n.anyOf {
			if s.valid(v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(n.oneOf) > 0 {
		matched := 0
		for _, s := range n.oneOf {
			if s.valid(v) {
				matched++
			}
		}
		if matched != 1 {
			return false
		}
	}
	if n.not != nil && n.not.valid(v) {
		return false
	}
	if n.ifN != nil {
		if n.ifN.valid(v) {
			if n.thenN != nil && !n.thenN.valid(v) {
				return false
			}
		} else if n.elseN != nil && !n.elseN.valid(v) {
			return false
		}
	}
	return true
}

func (n *fnode) validObject(v map[string]any) bool {
	if n.minProps >= 0 && len(v) < n.minProps || n.maxProps >= 0 && len(v) > n.maxProps {
		return false
	}
	for _, r := range n.required {
		if _, ok := v[r]; !ok {
			return false
		}
	}
	for name, deps := range n.depRequired {
		if _, ok := v[name]; ok {
			for _, d := range deps {
				if _, ok := v[d]; !ok {
					return false
				}
			}
		}
	}
	for k, pv := range v {
		if n.propertyNames != nil && !n.propertyNames.valid(k) {
			return false
		}
		evaluated := false
		if ps, ok := n.props[k]; ok {
			evaluated = true
			if !ps.valid(pv) {
				return false
			}
		}
		for _, pp := range n.patternProps {
			if pp.re.MatchString(k) {
				evaluated = true
				if !pp.n.valid(pv) {
					return false
				}
			}
		}
		if !evaluated {
			if n.addFalse {
				return false
			}
			if n.additional != nil && !n.additional.valid(pv) {
				return false
			}
		}
	}
	return true
}

// jsonTypeOf is jsonschema/v5's jsonType for the values convert makes;
// anything else is "" and matches no type.
func jsonTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return ""
}

func isInt(v any) bool {
	r, ok := new(big.Rat).SetString(fmt.Sprint(v))
	return ok && r.IsInt()
}

// jsonEqual is jsonschema/v5's equals: numbers compare as rationals.
func jsonEqual(a, b any) bool {
	ta := jsonTypeOf(a)
	if ta == "" || ta != jsonTypeOf(b) {
		return false
	}
	switch ta {
	case "array":
		x, y := a.([]any), b.([]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case "object":
		x, y := a.(map[string]any), b.(map[string]any)
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case "number":
		r1, ok1 := new(big.Rat).SetString(fmt.Sprint(a))
		r2, ok2 := new(big.Rat).SetString(fmt.Sprint(b))
		return ok1 && ok2 && r1.Cmp(r2) == 0
	}
	return a == b
}
