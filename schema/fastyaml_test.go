package schema

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/diag"
)

// corpusFiles is every YAML file of the examples and testdata/script
// archives, and the fuzz seeds.
func corpusFiles(t testing.TB) [][]byte {
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
	return datas
}

// sameTree reports where a and b differ in what the loader reads of a
// node (comments aside): kind, style, tag, value, anchor, position and
// children.
func sameTree(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) || (a.Alias == nil) != (b.Alias == nil) {
		return fmt.Errorf("%s: fast {kind %v style %v tag %q value %q at %d:%d, %d children}, yaml.v3 {kind %v style %v tag %q value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFastParse: when the fast parser accepts data, yaml.v3 reads the
// same single document from it, without error.
func checkFastParse(t testing.TB, data []byte) bool {
	fn, ok := fastParse(data)
	if !ok {
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var ref yaml.Node
	if err := dec.Decode(&ref); err != nil {
		t.Fatalf("fast parser accepted what yaml.v3 refuses (%v):\n%s", err, data)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		t.Fatalf("fast parser read one document where yaml.v3 reads more (%v):\n%s", err, data)
	}
	if err := sameTree(fn, &ref, ""); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return true
}

// TestFastParseSame: on every corpus file, and on every prefix and
// line-edited variant of each, the fast parser either declines or builds
// the tree yaml.v3 builds.
func TestFastParseSame(t *testing.T) {
	files := corpusFiles(t)
	fastN, total := 0, 0
	for _, data := range files {
		for _, v := range variants(data) {
			total++
			if checkFastParse(t, v) {
				fastN++
			}
		}
	}
	t.Logf("%d corpus files, %d variants, %d read by the fast parser", len(files), total, fastN)
	if fastN < total/4 {
		t.Fatalf("the fast parser read only %d of %d inputs", fastN, total)
	}
}

// variants: the file, each prefix of it cut at a line end, and each line
// re-indented by one more space, with a trailing comment, or cut in half.
func variants(data []byte) [][]byte {
	out := [][]byte{data}
	lines := strings.SplitAfter(string(data), "\n")
	for i := range lines {
		out = append(out, []byte(strings.Join(lines[:i], "")))
		edit := func(f func(string) string) {
			cp := append([]string{}, lines...)
			cp[i] = f(cp[i])
			out = append(out, []byte(strings.Join(cp, "")))
		}
		edit(func(l string) string { return " " + l })
		edit(func(l string) string { return strings.TrimSuffix(l, "\n") + " # c\n" })
		edit(func(l string) string { return strings.TrimSuffix(l, "\n") + "#c\n" })
		edit(func(l string) string { return l[:len(l)/2] + "\n" })
		edit(func(l string) string { return strings.Replace(l, ": ", ":", 1) })
		edit(func(l string) string { return strings.Replace(l, " ", "  ", 1) })
		edit(func(l string) string { return strings.TrimLeft(l, " ") })
		edit(func(l string) string { return l + l })
	}
	return out
}

// TestFastParseDeclines: what the fast parser must leave to yaml.v3.
func TestFastParseDeclines(t *testing.T) {
	for _, in := range []string{
		"", "\n", "# only a comment\n", "---\na: 1\n", "a: 1\n---\nb: 2\n", "a: 1\n...\n", "%YAML 1.2\n---\na: 1\n",
		"a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  text\n", "a: >\n  text\n", "a: \"esc\\n\"\n",
		"a: \"multi\n  line\"\n", "a: plain\n  continued\n", "a:\n", "a:\nb: 1\n", "<<: {a: 1}\n", "a: {<<: {b: 1}}\n",
		"a:\tb\n", "a: b\r\n", "a: caf\xc3\xa9\n", "\xef\xbb\xbfa: 1\n", "a: \x01\n", "- a: 1\n", "a:\n- b: 1\n",
		"a: [1,\n  2]\n", "a: {b: 1,}\n", "a: {b}\n", "a: {b: }\n", "? a\n: b\n", "a: b: c\n", "a: b:\n", "a: 1\n  b: 2\n",
		"\"a\": 1\n", "a: [b: c]\n", "a: {b: [c, {d: e}], f: 'g''h'}\nb: x #\n c\n",
	} {
		if n, ok := fastParse([]byte(in)); ok {
			// A few of these are read; then they must match yaml.v3.
			var ref yaml.Node
			if err := yaml.Unmarshal([]byte(in), &ref); err != nil {
				t.Errorf("%q: fast parser accepted, yaml.v3: %v", in, err)
				continue
			}
			if err := sameTree(n, &ref, ""); err != nil {
				t.Errorf("%q: %v", in, err)
			}
		}
	}
}

// FuzzFastParse: whatever the bytes, the fast parser declines or builds
// yaml.v3's tree.
func FuzzFastParse(f *testing.F) {
	for _, dir := range []string{"../examples/odoo", "../examples/generic-web"} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && IsConfigFile(d.Name()) {
				b, _ := os.ReadFile(path)
				f.Add(b)
			}
			return nil
		})
	}
	f.Add([]byte("a: {b: [c, {d: e}], f: 'g''h'}\nl:\n- x\n- [y]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastParse(t, data)
	})
}

// TestPositionsAfterLoad: once loaded, a document's fields are found at
// the positions yaml.v3 gives them, whether the file was read by the fast
// parser or by yaml.v3 (anchors, several documents, comments, quotes),
// though the trees were let go during the load.
func TestPositionsAfterLoad(t *testing.T) {
	files := map[string]string{
		"providers.yaml":      "apiVersion: launchplane.dev/v1\nkind: Provider\nmetadata: {name: local}\nspec:\n  type: fake\n  fake: {path: w.json}\n",
		"products/a.yaml":     "# the a product\napiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: a}\nspec:\n  driver: generic-web\n  image: 'ghcr.io/acme/a'\n  port: 8080\n  env: {LOG_LEVEL: info}   # trailing\n",
		"targets/a-prod.yaml": "apiVersion: launchplane.dev/v1\nkind: Target\nmetadata: {name: a-prod}\nspec:\n  product: a\n  lane: prod\n  image: \"ghcr.io/acme/a@sha256:" + strings.Repeat("ab", 32) + "\"\n  deploy: {provider: local}\n  ingress:\n    provider: local\n    domains:\n    - a.example.com\n    - [x][0]\n",
		"targets/multi.yaml":  "apiVersion: launchplane.dev/v1\nkind: Target\nmetadata: &m {name: a-testing}\nspec:\n  product: a\n  lane: testing\n  image: ghcr.io/acme/a@sha256:" + strings.Repeat("cd", 32) + "\n  deploy: &d {provider: local}\n---\n# b\napiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: b}\nspec:\n  driver: generic-web\n  image: ghcr.io/acme/b\n  port: 8080\n",
	}
	files["targets/a-prod.yaml"] = strings.Replace(files["targets/a-prod.yaml"], "    - [x][0]\n", "", 1)
	dir := t.TempDir()
	for name, body := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, ds := Load(dir)
	if ds.HasErrors() {
		t.Fatalf("load: %v", ds)
	}
	check := func(file string, index int, pos func(string) diag.Pos) {
		t.Helper()
		dec := yaml.NewDecoder(strings.NewReader(files[file]))
		var n yaml.Node
		for i := 0; i <= index; i++ {
			n = yaml.Node{}
			if err := dec.Decode(&n); err != nil {
				t.Fatal(err)
			}
		}
		_, locs, _, err := convert(&n)
		if err != nil {
			t.Fatal(err)
		}
		if len(locs) < 8 {
			t.Fatalf("%s: only %d pointers", file, len(locs))
		}
		for ptr, l := range locs {
			got := pos(ptr)
			if got.File != file || got.Line != l.val.Line || got.Col != l.val.Column {
				t.Errorf("%s %q: at %v, yaml.v3 says %d:%d", file, ptr, got, l.val.Line, l.val.Column)
			}
		}
	}
	check("products/a.yaml", 0, cfg.Product("a").Source.Pos)
	check("targets/a-prod.yaml", 0, cfg.Target("a", "prod").Source.Pos)
	check("targets/multi.yaml", 0, cfg.Target("a", "testing").Source.Pos)
	check("targets/multi.yaml", 1, cfg.Product("b").Source.Pos)
	check("providers.yaml", 0, cfg.Provider("local").Source.Pos)
}

// TestWalkPtrIsLocs: in every corpus file the fast parser reads and that
// converts cleanly, walking the tree finds, for every pointer, the key
// and value the pointer map holds; and nothing for pointers it lacks.
func TestWalkPtrIsLocs(t *testing.T) {
	n := 0
	for _, data := range corpusFiles(t) {
		for _, v := range variants(data) {
			fn, ok := fastParse(v)
			if !ok || isEmptyDoc(fn) {
				continue
			}
			if _, ok := convertValue(fn); !ok {
				continue
			}
			_, locs, _, _ := convert(fn)
			for ptr, want := range locs {
				got, ok := walkPtr(fn, ptr)
				if !ok || got.key != want.key || got.val != want.val {
					t.Fatalf("%q: walk found %+v, the map holds %+v\n%s", ptr, got, want, v)
				}
				n++
				for _, miss := range []string{ptr + "/x", ptr + "/0", ptr + "/00", ptr + "/-1"} {
					if _, inMap := locs[miss]; !inMap {
						if got, ok := walkPtr(fn, miss); ok {
							t.Fatalf("%q: walk found %+v, the map has nothing\n%s", miss, got, v)
						}
					}
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d pointers compared", n)
	}
}

// Files parsed one after the other in one arena (as a loader worker
// does) yield what each yields parsed on the heap, compared after every
// file has been parsed, so a result that still pointed into a reused
// tree would show: the same diagnostics, kinds, names, typed specs and
// positions, for every corpus file and a quarter of its variants.
func TestArenaSameAsHeap(t *testing.T) {
	var srcs []source
	for i, data := range corpusFiles(t) {
		for j, v := range variants(data) {
			if j%4 == 0 {
				srcs = append(srcs, source{rel: fmt.Sprintf("f%d-%d.yaml", i, j), data: v})
			}
		}
	}
	var arena parseArena
	inArena := make([]fileResult, len(srcs))
	for i := range srcs {
		s := srcs[i]
		inArena[i] = processFileIn(&s, LoadOptions{}, &arena)
	}
	ptrs := []string{"", "/metadata/name", "/spec", "/spec/image", "/spec/port", "/spec/env", "/spec/deploy/provider", "/spec/ingress/domains/0", "/spec/x"}
	fast, docs := 0, 0
	for i := range srcs {
		s := srcs[i]
		if _, ok := fastParse(s.data); ok {
			fast++
		}
		a, h := inArena[i], processFile(&s, LoadOptions{})
		a.ds.Sort() // the order of one file's diagnostics is Load's to fix
		h.ds.Sort()
		if !reflect.DeepEqual(a.ds, h.ds) || a.parseErr != h.parseErr || a.unread != h.unread || len(a.docs) != len(h.docs) {
			t.Fatalf("%s: in the arena %v, on the heap %v\n%s", s.rel, a.ds, h.ds, s.data)
		}
		for j := range a.docs {
			x, y := a.docs[j], h.docs[j]
			same := x.kind == y.kind && x.name == y.name && (x.product == nil) == (y.product == nil) && (x.target == nil) == (y.target == nil) && (x.provider == nil) == (y.provider == nil)
			if same && x.product != nil {
				same = reflect.DeepEqual(x.product.Spec, y.product.Spec)
			}
			if same && x.target != nil {
				same = reflect.DeepEqual(x.target.Spec, y.target.Spec)
			}
			if same && x.provider != nil {
				same = x.provider.Type == y.provider.Type && string(x.provider.Config) == string(y.provider.Config) && reflect.DeepEqual(x.d.value, y.d.value)
			}
			if !same {
				t.Fatalf("%s: document %d differs in the arena\n%s", s.rel, j, s.data)
			}
			for _, ptr := range ptrs {
				if p, q := x.d.pos(ptr), y.d.pos(ptr); p != q {
					t.Fatalf("%s: %q at %v in the arena, %v on the heap", s.rel, ptr, p, q)
				}
			}
			docs++
		}
	}
	if fast < 1000 || docs < 1000 {
		t.Fatalf("only %d files the fast parser reads, %d documents compared", fast, docs)
	}
}
