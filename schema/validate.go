package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/launchplane/launchplane/internal/jsonschema"
	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/diag"
)

var compiled struct {
	once    sync.Once
	schemas map[string]*jsonschema.Schema
	err     error
}

func schemaURL(kind string) string {
	return "https://launchplane.dev/schema/v1/" + strings.ToLower(kind) + ".schema.json"
}

// compiledSchemas compiles every kind's composed document once. The
// compiler's loader refuses every URL: all schemas are embedded.
func compiledSchemas() (map[string]*jsonschema.Schema, error) {
	compiled.once.Do(func() {
		docs, err := documents()
		if err != nil {
			compiled.err = err
			return
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.LoadURL = func(u string) (io.ReadCloser, error) {
			return nil, fmt.Errorf("schema %s: loading external schemas is disabled", u)
		}
		for _, k := range Kinds {
			b, err := json.Marshal(docs[k])
			if err != nil {
				compiled.err = err
				return
			}
			if err := c.AddResource(schemaURL(k), bytes.NewReader(b)); err != nil {
				compiled.err = fmt.Errorf("schema %s: %w", k, err)
				return
			}
		}
		compiled.schemas = map[string]*jsonschema.Schema{}
		for _, k := range Kinds {
			s, err := c.Compile(schemaURL(k))
			if err != nil {
				compiled.err = fmt.Errorf("schema %s: %w", k, err)
				return
			}
			compiled.schemas[k] = s
		}
	})
	return compiled.schemas, compiled.err
}

// validateDoc validates d against kind's schema and appends one
// diagnostic per failed leaf keyword. It reports whether d is valid.
func validateDoc(kind string, d *doc, ds *diag.Diagnostics) (bool, error) {
	if fastValid(kind, d.value) {
		return true, nil
	}
	schemas, err := compiledSchemas()
	if err != nil {
		return false, err
	}
	err = schemas[kind].Validate(d.value)
	if err == nil {
		return true, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return false, err
	}
	docs, _ := documents()
	for _, leaf := range leaves(ve, docs[kind]) {
		*ds = append(*ds, describeLeaf(d, leaf, docs[kind])...)
	}
	return false, nil
}

// leaves returns the errors worth showing: the deepest causes, except that
// a keyword with its own x-messages text stands for everything below it
// (anyOf over "string or secret reference" is one message, not two).
func leaves(ve *jsonschema.ValidationError, root map[string]any) []*jsonschema.ValidationError {
	var out []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 || customMessage(e, root) != "" {
			out = append(out, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].InstanceLocation < out[j].InstanceLocation })
	return out
}

// keyword splits an absolute keyword location into the schema object's
// JSON pointer and the keyword that failed.
func keyword(e *jsonschema.ValidationError) (schemaPtr, kw string) {
	loc := e.AbsoluteKeywordLocation
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		loc = loc[i+1:]
	} else {
		loc = ""
	}
	i := strings.LastIndexByte(loc, '/')
	if i < 0 {
		return "", loc
	}
	return loc[:i], unescapePtr(loc[i+1:])
}

// lookup resolves a JSON pointer inside a schema document.
func lookup(root any, ptr string) any {
	cur := root
	if ptr == "" {
		return cur
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = unescapePtr(tok)
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// customMessage is the schema's own wording for a failed keyword, from the
// "x-messages" object beside it.
func customMessage(e *jsonschema.ValidationError, root map[string]any) string {
	sp, kw := keyword(e)
	obj, _ := lookup(root, sp).(map[string]any)
	msgs, _ := obj["x-messages"].(map[string]any)
	s, _ := msgs[kw].(string)
	return s
}

// describeLeaf turns one validation failure into diagnostics a person can
// act on: position, field and message.
func describeLeaf(d *doc, e *jsonschema.ValidationError, root map[string]any) []diag.Diagnostic {
	one := func(pos diag.Pos, field, msg string) []diag.Diagnostic {
		return []diag.Diagnostic{{Pos: pos, Field: field, Message: msg}}
	}
	sp, kw := keyword(e)
	ptr := e.InstanceLocation
	schemaObj, _ := lookup(root, sp).(map[string]any)
	inPropertyNames := strings.Contains(e.KeywordLocation, "/propertyNames/")
	msg := customMessage(e, root)
	if msg != "" && kw == "pattern" {
		msg += "; got " + got(d, ptr)
	}

	switch {
	case inPropertyNames:
		// The instance is the key itself: point at it.
		if msg == "" {
			msg = "invalid key: " + e.Message
		}
		return one(d.keyPos(ptr), fieldPath(ptr), msg)
	case kw == "required" && msg == "":
		var out []diag.Diagnostic
		for _, name := range quoted(e.Message) {
			out = append(out, one(d.keyPos(ptr), joinField(ptr, name), "required field is missing")...)
		}
		return out
	case kw == "additionalProperties" && msg == "":
		// One diagnostic per unknown key, at the key.
		allowed := strings.Join(sortedKeys(propsOf(schemaObj)), ", ")
		var out []diag.Diagnostic
		for _, name := range quoted(e.Message) {
			p := ptr + "/" + escapePtr(name)
			msg := "unknown field (allowed: " + allowed + ")"
			if near := closest(name, sortedKeys(propsOf(schemaObj))); near != "" {
				msg = fmt.Sprintf("unknown field; did you mean %s? (allowed: %s)", near, allowed)
			}
			out = append(out, one(d.keyPos(p), fieldPath(p), msg)...)
		}
		return out
	case kw == "enum" && msg == "":
		vals, _ := schemaObj["enum"].([]any)
		msg = "must be one of: " + joinValues(vals) + "; got " + got(d, ptr)
	case kw == "const" && msg == "":
		msg = fmt.Sprintf("must be %s; got %s", jsonText(schemaObj["const"]), got(d, ptr))
	case kw == "type" && msg == "":
		msg = fmt.Sprintf("must be %s; got %s", typeName(schemaObj["type"]), got(d, ptr))
	case (kw == "minimum" || kw == "maximum") && msg == "":
		word := map[string]string{"minimum": "at least", "maximum": "at most"}[kw]
		msg = fmt.Sprintf("must be %s %v; got %s", word, schemaObj[kw], got(d, ptr))
	case (kw == "minItems" || kw == "minLength") && msg == "":
		msg = fmt.Sprintf("must not be empty; got %s", got(d, ptr))
	case kw == "uniqueItems" && msg == "":
		// "items at index 0 and 1 are equal": point at the repeat.
		var i, j int
		if _, err := fmt.Sscanf(e.Message, "items at index %d and %d are equal", &i, &j); err == nil {
			p := fmt.Sprintf("%s/%d", ptr, j)
			return one(d.pos(p), fieldPath(p), fmt.Sprintf("%s is listed twice (also at %s)", got(d, p), fieldPath(fmt.Sprintf("%s/%d", ptr, i))))
		}
		msg = "must not repeat an item: " + e.Message
	case kw == "pattern" && msg == "":
		msg = fmt.Sprintf("%s does not match %v", got(d, ptr), schemaObj["pattern"])
	case msg == "":
		msg = e.Message
	}
	return one(d.pos(ptr), fieldPath(ptr), msg)
}

func joinField(ptr, name string) string {
	return fieldPath(ptr + "/" + escapePtr(name))
}

func propsOf(obj map[string]any) map[string]any {
	p, _ := obj["properties"].(map[string]any)
	return p
}

// quoted reads property names out of the library's messages ("missing
// properties: 'a', 'b'", "additionalProperties 'x' not allowed"):
// single-quoted names, in order.
func quoted(msg string) []string {
	var out []string
	for {
		i := strings.IndexByte(msg, '\'')
		if i < 0 {
			return out
		}
		// The library quotes with %q and swaps the outer quotes, so names
		// are plain here for every key the schemas allow.
		j := strings.IndexByte(msg[i+1:], '\'')
		if j < 0 {
			return out
		}
		out = append(out, msg[i+1:i+1+j])
		msg = msg[i+1+j+1:]
	}
}

func joinValues(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func typeName(t any) string {
	switch t := t.(type) {
	case string:
		return article(t)
	case []any:
		var parts []string
		for _, x := range t {
			parts = append(parts, article(fmt.Sprint(x)))
		}
		return strings.Join(parts, " or ")
	}
	return fmt.Sprint(t)
}

func article(t string) string {
	switch t {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "integer":
		return "an integer"
	case "null":
		return "null"
	}
	return "a " + t
}

// got describes the value at ptr as the user wrote it.
func got(d *doc, ptr string) string {
	l, ok := d.lookup(ptr)
	if !ok || l.val == nil {
		return "nothing"
	}
	return gotNode(l.val)
}

// gotNode describes a node as the user wrote it: "a list", "the number 4".
func gotNode(n *yaml.Node) string {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return strconv.Quote(n.Value)
	case "!!null":
		return "null"
	case "!!int":
		return "the number " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return n.Value
}

// closest is the candidate within edit distance 2 of name, if any.
func closest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance, for "did you mean" hints.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
