package schema

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"gopkg.in/yaml.v3"
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
