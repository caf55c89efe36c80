package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/internal/jsonschema"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/launchplane/launchplane/diag"
)

// corpusDocs is every YAML document the repository's tests and examples
// hold: the examples, the files of every testdata/script archive and the
// fuzz seeds, converted to JSON values.
func corpusDocs(t testing.TB) []any {
	var datas [][]byte
	filepath.WalkDir("../examples", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsConfigFile(d.Name()) {
			b, _ := os.ReadFile(path)
			datas = append(datas, b)
		}
		return nil
	})
	archives, _ := filepath.Glob("../testdata/script/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no testdata/script archives found")
	}
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".yaml") || strings.HasSuffix(f.Name, ".yml") {
				datas = append(datas, f.Data)
			}
		}
	}
	fuzz, _ := filepath.Glob("testdata/fuzz/*/*")
	for _, f := range fuzz {
		b, _ := os.ReadFile(f)
		datas = append(datas, b)
	}
	var out []any
	seen := map[string]bool{}
	for _, data := range datas {
		for _, v := range valuesOf(data) {
			b, _ := json.Marshal(v)
			if !seen[string(b)] {
				seen[string(b)] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// valuesOf converts every document of data that converts cleanly.
func valuesOf(data []byte) []any {
	var ds diag.Diagnostics
	docs, _ := parse(source{rel: "f.yaml", data: data}, &ds)
	var out []any
	for _, d := range docs {
		v, _, keyErrs, err := convert(d.node)
		if err == nil && len(keyErrs) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// mutations derives invalid and borderline values from v: every field
// removed, every value replaced by values of other types and edge values,
// an unknown key added to every mapping.
func mutations(v any) []any {
	repl := []any{
		nil, true, false, "", "x", "UPPER", "a b", "1", "60s", "-", strings.Repeat("a", 300),
		json.Number("0"), json.Number("-1"), json.Number("1"), json.Number("1.5"), json.Number("8080"),
		json.Number("65535"), json.Number("65536"), json.Number("1e+21"), json.Number("3.0"),
		[]any{}, []any{"a"}, []any{"a", "a"}, []any{json.Number("1")},
		map[string]any{}, map[string]any{"a": "b"}, map[string]any{"fromEnv": "X"},
	}
	var out []any
	var walk func(cur any, set func(any) any)
	walk = func(cur any, set func(any) any) {
		for _, r := range repl {
			out = append(out, set(r))
		}
		switch c := cur.(type) {
		case map[string]any:
			for _, k := range sortedKeys(c) {
				k := k
				out = append(out, set(without(c, k)))
				walk(c[k], func(x any) any { return set(with(c, k, x)) })
			}
			out = append(out, set(with(c, "unknownField", "x")))
		case []any:
			for i := range c {
				i := i
				walk(c[i], func(x any) any {
					cp := append([]any{}, c...)
					cp[i] = x
					return set(cp)
				})
			}
			if len(c) > 0 {
				out = append(out, set(append(append([]any{}, c...), c[0])))
			}
		}
	}
	walk(v, func(x any) any { return x })
	return out
}

func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}

// agree checks the fast validator and jsonschema give the same verdict on
// v for the given kinds (every kind when none is given).
func agree(t testing.TB, v any, kinds ...string) (valid bool) {
	schemas, err := compiledSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) == 0 {
		kinds = Kinds
	}
	for _, k := range kinds {
		ref := schemas[k].Validate(v) == nil
		if got := fastValid(k, v); got != ref {
			b, _ := json.Marshal(v)
			t.Fatalf("%s: fast validator says valid=%v, jsonschema says valid=%v, for %s", k, got, ref, b)
		}
		valid = ref
	}
	return valid
}

// TestFastValidCompiles: every kind's schema is compiled for the fast
// path (a keyword it does not know would silently send every document to
// the slow path).
func TestFastValidCompiles(t *testing.T) {
	fastSchemas()
	for _, k := range Kinds {
		if fast.schemas[k] == nil {
			t.Errorf("%s: not compiled for the fast path: %v", k, fast.errs[k])
		}
	}
}

// TestFastValidAgrees: on every document of the corpus and on many
// mutations of each, the fast validator and jsonschema agree on
// validity, for every kind's schema.
func TestFastValidAgrees(t *testing.T) {
	docs := corpusDocs(t)
	if len(docs) < 100 {
		t.Fatalf("only %d corpus documents", len(docs))
	}
	n, valid := 0, 0
	schemas, _ := compiledSchemas()
	for _, d := range docs {
		agree(t, d)
		if testing.Short() {
			continue
		}
		// A mutation is compared against the schema of the kind the
		// document declares (a changed kind fails every schema's const).
		kind, _ := lookup(d, "/kind").(string)
		if schemas[kind] == nil {
			continue
		}
		for _, v := range mutations(d) {
			n++
			if agree(t, v, kind) {
				valid++
			}
		}
	}
	t.Logf("%d corpus documents, %d values compared, %d (value, kind) pairs valid", len(docs), n, valid)
	if !testing.Short() && valid < 200 {
		t.Fatalf("only %d valid pairs: the comparison does not exercise the valid path", valid)
	}
}

// TestFastValidKeywords: each keyword the fast validator compiles, on a
// schema of its own, agrees with jsonschema on values either side of it.
func TestFastValidKeywords(t *testing.T) {
	schemasJSON := []string{
		`{"type": "integer"}`, `{"type": ["string", "null"]}`, `{"const": 3}`, `{"const": {"a": [1, "x"]}}`,
		`{"enum": ["a", 1, null]}`, `{"minimum": 1, "maximum": 10}`, `{"exclusiveMinimum": 0, "exclusiveMaximum": 5}`,
		`{"minLength": 2, "maxLength": 3}`, `{"pattern": "^a+$"}`, `{"pattern": "b"}`,
		`{"required": ["a"], "properties": {"a": {"type": "string"}}, "additionalProperties": false}`,
		`{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": {"type": "integer"}}`,
		`{"propertyNames": {"pattern": "^[a-z]+$"}, "minProperties": 1, "maxProperties": 2}`,
		`{"items": {"type": "string"}, "minItems": 1, "maxItems": 2, "uniqueItems": true}`,
		`{"anyOf": [{"type": "string"}, {"type": "integer"}]}`, `{"oneOf": [{"minimum": 0}, {"maximum": 5}]}`,
		`{"not": {"type": "null"}}`, `{"allOf": [{"type": "object"}, {"required": ["b"]}]}`,
		`{"if": {"properties": {"a": {"const": 1}}, "required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}`,
		`{"dependentRequired": {"a": ["b"]}}`, `{"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}}`,
		`true`, `false`, `{"properties": {"a": false}}`,
	}
	values := []any{
		nil, true, "", "a", "aa", "aaa", "ab", "B", "x-y", json.Number("0"), json.Number("1"), json.Number("1.0"),
		json.Number("3"), json.Number("3.0"), json.Number("5"), json.Number("10"), json.Number("10.5"), json.Number("-2"),
		[]any{}, []any{"a"}, []any{"a", "a"}, []any{"a", "b"}, []any{"a", "b", "c"}, []any{json.Number("1")},
		map[string]any{}, map[string]any{"a": "x"}, map[string]any{"a": json.Number("1")},
		map[string]any{"a": json.Number("1"), "b": "y"}, map[string]any{"x-a": "s", "b": json.Number("2")},
		map[string]any{"x-a": json.Number("1")}, map[string]any{"A": "x"}, map[string]any{"a": "x", "b": "y", "c": "z"},
		map[string]any{"a": []any{json.Number("1"), "x"}}, map[string]any{"c": "z"},
	}
	for i, sj := range schemasJSON {
		var raw any
		if err := json.Unmarshal([]byte(sj), &raw); err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		url := fmt.Sprintf("mem://s%d.json", i)
		if err := c.AddResource(url, strings.NewReader(sj)); err != nil {
			t.Fatal(err)
		}
		ref := c.MustCompile(url)
		fn, err := (&fastCompiler{root: rootOf(raw), nodes: map[string]*fnode{}}).compile(raw, "")
		if err != nil {
			t.Fatalf("%s: %v", sj, err)
		}
		for _, v := range values {
			if got, want := fn.valid(v), ref.Validate(v) == nil; got != want {
				b, _ := json.Marshal(v)
				t.Errorf("schema %s, value %s: fast %v, jsonschema %v", sj, b, got, want)
			}
		}
	}
}

func rootOf(raw any) map[string]any {
	m, _ := raw.(map[string]any)
	return m
}

// TestFastValidRefuses: a schema with a keyword the fast validator does
// not implement is not compiled (its documents go to jsonschema).
func TestFastValidRefuses(t *testing.T) {
	for _, sj := range []string{
		`{"format": "email"}`, `{"multipleOf": 2}`, `{"contains": {"type": "string"}}`,
		`{"unevaluatedProperties": false}`, `{"prefixItems": [{"type": "string"}]}`,
		`{"properties": {"a": {"$ref": "other.json"}}}`, `{"properties": {"a": {"$id": "x", "type": "string"}}}`,
		`{"items": [{"type": "string"}]}`,
	} {
		var raw map[string]any
		if err := json.Unmarshal([]byte(sj), &raw); err != nil {
			t.Fatal(err)
		}
		if _, err := compileFast(raw); err == nil {
			t.Errorf("%s: compiled, want refused", sj)
		}
	}
}

// FuzzFastValid: whatever document the bytes hold, the fast validator
// and jsonschema agree on it for every kind.
func FuzzFastValid(f *testing.F) {
	for _, dir := range []string{"../examples/odoo", "../examples/generic-web"} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && IsConfigFile(d.Name()) {
				b, _ := os.ReadFile(path)
				f.Add(b)
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range valuesOf(data) {
			agree(t, v)
		}
	})
}
