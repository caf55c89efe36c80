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
	match         func(string) bool // pattern's hand-written matcher, if any
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
	k := &kwCompiler{c: c, obj: obj, ptr: ptr, n: n}
	for kw, val := range obj {
		done, err := k.keyword(kw, val)
		if err != nil {
			return nil, err
		}
		if !done {
			// format, contains, unevaluated*, prefixItems, multipleOf,
			// dependentSchemas, $dynamicRef, …: left to jsonschema.
			return nil, fmt.Errorf("%s: keyword %q is not compiled", ptr, kw)
		}
	}
	return n, nil
}

// kwCompiler compiles the keywords of one schema object obj, at ptr,
// into n.
type kwCompiler struct {
	c   *fastCompiler
	obj map[string]any
	ptr string
	n   *fnode
}

// keyword compiles one keyword; false means the fast validator does not
// know it.
func (k *kwCompiler) keyword(kw string, val any) (bool, error) {
	if annotations[kw] {
		if kw == "$id" && k.ptr != "" {
			return false, fmt.Errorf("%s: $id below the root changes $ref resolution", k.ptr)
		}
		return true, nil
	}
	for _, family := range []func(string, any) (bool, error){
		k.typeEnum, k.objectKw, k.arrayKw, k.scalarKw, k.combinator,
	} {
		if done, err := family(kw, val); done || err != nil {
			return done, err
		}
	}
	return false, nil
}

// sub compiles the schema under keyword kw.
func (k *kwCompiler) sub(kw string) (*fnode, error) {
	return k.c.compile(k.obj[kw], k.ptr+"/"+escapePtr(kw))
}

// list compiles the non-empty list of schemas under keyword kw.
func (k *kwCompiler) list(kw string) ([]*fnode, error) {
	items, ok := k.obj[kw].([]any)
	if !ok || len(items) == 0 {
		return nil, fmt.Errorf("%s/%s: not a list of schemas", k.ptr, kw)
	}
	var out []*fnode
	for i, it := range items {
		x, err := k.c.compile(it, k.ptr+"/"+kw+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// limit reads the non-negative integer under keyword kw.
func (k *kwCompiler) limit(kw string) (int, error) {
	f, ok := k.obj[kw].(float64)
	if !ok || f < 0 || f != float64(int(f)) {
		return 0, fmt.Errorf("%s/%s: not a non-negative integer", k.ptr, kw)
	}
	return int(f), nil
}

// number reads the number under keyword kw as a rational.
func (k *kwCompiler) number(kw string) (*big.Rat, error) {
	f, ok := k.obj[kw].(float64)
	if !ok {
		return nil, fmt.Errorf("%s/%s: not a number", k.ptr, kw)
	}
	r, ok := new(big.Rat).SetString(fmt.Sprint(f))
	if !ok {
		return nil, fmt.Errorf("%s/%s: not a number", k.ptr, kw)
	}
	return r, nil
}

// stringList reads val, found under keyword kw, as a list of strings.
func (k *kwCompiler) stringList(kw string, val any) ([]string, error) {
	l, ok := val.([]any)
	if !ok {
		return nil, fmt.Errorf("%s/%s: not a list", k.ptr, kw)
	}
	var out []string
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s/%s: not a string", k.ptr, kw)
		}
		out = append(out, s)
	}
	return out, nil
}

// typeEnum compiles type, const and enum.
func (k *kwCompiler) typeEnum(kw string, val any) (bool, error) {
	n := k.n
	switch kw {
	case "type":
		return true, k.types(val)
	case "const":
		n.hasConst, n.constVal = true, val
	case "enum":
		e, ok := val.([]any)
		if !ok {
			return false, fmt.Errorf("%s/enum: not a list", k.ptr)
		}
		n.hasEnum, n.enum = true, e
	default:
		return false, nil
	}
	return true, nil
}

// types compiles type: one type name or a list of them.
func (k *kwCompiler) types(val any) error {
	n := k.n
	switch t := val.(type) {
	case string:
		n.types = []string{t}
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("%s/type: not a string", k.ptr)
			}
			n.types = append(n.types, s)
		}
	default:
		return fmt.Errorf("%s/type: %T", k.ptr, val)
	}
	for _, t := range n.types {
		switch t {
		case "null", "boolean", "number", "integer", "string", "array", "object":
		default:
			return fmt.Errorf("%s/type: unknown type %q", k.ptr, t)
		}
	}
	return nil
}

// objectKw compiles the keywords that apply to objects.
func (k *kwCompiler) objectKw(kw string, val any) (bool, error) {
	n := k.n
	var err error
	switch kw {
	case "properties":
		err = k.properties(val)
	case "required":
		n.required, err = k.stringList(kw, val)
	case "additionalProperties":
		if b, ok := val.(bool); ok {
			n.addFalse = !b
			break
		}
		n.additional, err = k.sub(kw)
	case "patternProperties":
		err = k.patternProperties(val)
	case "propertyNames":
		n.propertyNames, err = k.sub(kw)
	case "minProperties":
		n.minProps, err = k.limit(kw)
	case "maxProperties":
		n.maxProps, err = k.limit(kw)
	case "dependentRequired":
		err = k.dependentRequired(val)
	default:
		return false, nil
	}
	return err == nil, err
}

func (k *kwCompiler) properties(val any) error {
	props, ok := val.(map[string]any)
	if !ok {
		return fmt.Errorf("%s/properties: not an object", k.ptr)
	}
	n := k.n
	n.props = make(map[string]*fnode, len(props))
	for name, ps := range props {
		var err error
		if n.props[name], err = k.c.compile(ps, k.ptr+"/properties/"+escapePtr(name)); err != nil {
			return err
		}
	}
	return nil
}

func (k *kwCompiler) patternProperties(val any) error {
	pp, ok := val.(map[string]any)
	if !ok {
		return fmt.Errorf("%s/patternProperties: not an object", k.ptr)
	}
	for pat, ps := range pp {
		re, err := regexp.Compile(pat)
		if err != nil {
			return err
		}
		x, err := k.c.compile(ps, k.ptr+"/patternProperties/"+escapePtr(pat))
		if err != nil {
			return err
		}
		k.n.patternProps = append(k.n.patternProps, patternProp{re, x})
	}
	return nil
}

func (k *kwCompiler) dependentRequired(val any) error {
	dr, ok := val.(map[string]any)
	if !ok {
		return fmt.Errorf("%s/dependentRequired: not an object", k.ptr)
	}
	k.n.depRequired = map[string][]string{}
	for name, l := range dr {
		deps, err := k.stringList("dependentRequired", l)
		if err != nil {
			return err
		}
		if len(deps) > 0 {
			k.n.depRequired[name] = deps
		}
	}
	return nil
}

// arrayKw compiles the keywords that apply to arrays.
func (k *kwCompiler) arrayKw(kw string, val any) (bool, error) {
	n := k.n
	var err error
	switch kw {
	case "items":
		if _, ok := val.([]any); ok {
			return false, fmt.Errorf("%s/items: a list (draft 2019 form)", k.ptr)
		}
		n.items, err = k.sub(kw)
	case "minItems":
		n.minItems, err = k.limit(kw)
	case "maxItems":
		n.maxItems, err = k.limit(kw)
	case "uniqueItems":
		b, ok := val.(bool)
		if !ok {
			return false, fmt.Errorf("%s/uniqueItems: not a boolean", k.ptr)
		}
		n.uniqueItems = b
	default:
		return false, nil
	}
	return err == nil, err
}

// scalarKw compiles the keywords that apply to strings and numbers.
func (k *kwCompiler) scalarKw(kw string, val any) (bool, error) {
	n := k.n
	var err error
	switch kw {
	case "minLength":
		n.minLen, err = k.limit(kw)
	case "maxLength":
		n.maxLen, err = k.limit(kw)
	case "pattern":
		s, ok := val.(string)
		if !ok {
			return false, fmt.Errorf("%s/pattern: not a string", k.ptr)
		}
		n.pattern, err = regexp.Compile(s)
		n.match = patternMatchers[s]
	case "minimum":
		n.minimum, err = k.number(kw)
	case "maximum":
		n.maximum, err = k.number(kw)
	case "exclusiveMinimum":
		n.exclMin, err = k.number(kw)
	case "exclusiveMaximum":
		n.exclMax, err = k.number(kw)
	default:
		return false, nil
	}
	return err == nil, err
}

// combinator compiles $ref and the keywords that combine subschemas.
func (k *kwCompiler) combinator(kw string, val any) (bool, error) {
	n := k.n
	var err error
	switch kw {
	case "$ref":
		ref, ok := val.(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return false, fmt.Errorf("%s/$ref: only references inside the document are compiled", k.ptr)
		}
		n.ref, err = k.c.at(ref[1:])
	case "allOf":
		n.allOf, err = k.list(kw)
	case "anyOf":
		n.anyOf, err = k.list(kw)
	case "oneOf":
		n.oneOf, err = k.list(kw)
	case "not":
		n.not, err = k.sub(kw)
	case "if":
		n.ifN, err = k.sub(kw)
	case "then":
		n.thenN, err = k.sub(kw)
	case "else":
		n.elseN, err = k.sub(kw)
	default:
		return false, nil
	}
	return err == nil, err
}

// valid reports whether v satisfies n, as jsonschema/v5 would decide.
func (n *fnode) valid(v any) bool {
	if n.always != nil {
		return *n.always
	}
	return n.validType(v) && n.validEnum(v) && n.validKind(v) && n.validApplicators(v)
}

// validType checks type.
func (n *fnode) validType(v any) bool {
	if len(n.types) == 0 {
		return true
	}
	vt := jsonTypeOf(v)
	for _, t := range n.types {
		if t == vt || (t == "integer" && vt == "number" && isInt(v)) {
			return true
		}
	}
	return false
}

// validEnum checks const and enum.
func (n *fnode) validEnum(v any) bool {
	if n.hasConst && !jsonEqual(v, n.constVal) {
		return false
	}
	if !n.hasEnum {
		return true
	}
	for _, e := range n.enum {
		if jsonEqual(v, e) {
			return true
		}
	}
	return false
}

// validKind checks the keywords that apply to v's JSON type.
func (n *fnode) validKind(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return n.validObject(v)
	case []any:
		return n.validArray(v)
	case string:
		return n.validString(v)
	}
	return n.validNumber(v)
}

func (n *fnode) validArray(v []any) bool {
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
	return true
}

func (n *fnode) validString(v string) bool {
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCountInString(v)
		if n.minLen >= 0 && l < n.minLen || n.maxLen >= 0 && l > n.maxLen {
			return false
		}
	}
	if n.match != nil {
		return n.match(v)
	}
	return n.pattern == nil || n.pattern.MatchString(v)
}

// validNumber checks the numeric limits; v is any value that is not an
// object, an array or a string.
func (n *fnode) validNumber(v any) bool {
	if n.minimum == nil && n.maximum == nil && n.exclMin == nil && n.exclMax == nil || jsonTypeOf(v) != "number" {
		return true
	}
	r, ok := new(big.Rat).SetString(fmt.Sprint(v))
	if !ok {
		return false
	}
	return !(n.minimum != nil && r.Cmp(n.minimum) < 0 || n.maximum != nil && r.Cmp(n.maximum) > 0 ||
		n.exclMin != nil && r.Cmp(n.exclMin) <= 0 || n.exclMax != nil && r.Cmp(n.exclMax) >= 0)
}

// validApplicators checks $ref, allOf, anyOf, oneOf, not and
// if/then/else.
func (n *fnode) validApplicators(v any) bool {
	if n.ref != nil && !n.ref.valid(v) {
		return false
	}
	for _, s := range n.allOf {
		if !s.valid(v) {
			return false
		}
	}
	if len(n.anyOf) > 0 && !anyValid(n.anyOf, v) {
		return false
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
	if n.ifN == nil {
		return true
	}
	if n.ifN.valid(v) {
		return n.thenN == nil || n.thenN.valid(v)
	}
	return n.elseN == nil || n.elseN.valid(v)
}

func anyValid(ns []*fnode, v any) bool {
	for _, s := range ns {
		if s.valid(v) {
			return true
		}
	}
	return false
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
