package schema

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
)

// The position index kept after loading answers every pointer as the
// walk of the fast parser's tree does (the value's and the key's
// position, an absent pointer's nearest enclosing value, the root's
// 1:1), for every corpus file and a quarter of its line-edited variants
// the fast parser reads, including pointers with escaped ~0 ~1 tokens, leading zeros and
// negative or out-of-range indexes.
func TestPosIndexSameAsWalk(t *testing.T) {
	n := 0
	// keys that are not strings are never matched (the fast parser reads
	// these: TestPosIndexReadsOddKeys)
	odd := [][]byte{[]byte("spec:\n  1: a\n  true: b\n  null: c\n  list: [a, {k: v}, [x]]\n  k: {0: z}\n")}
	for _, data := range append(corpusFiles(t), odd...) {
		for i, v := range variants(data) {
			if i%4 != 0 {
				continue // a quarter of them: the rest add time, not cases
			}
			fn, ok := fastParse(v)
			if !ok || isEmptyDoc(fn) {
				continue
			}
			walked := &doc{file: "f.yaml", node: fn, walk: true}
			indexed := &doc{file: "f.yaml", idx: newPosIndex(fn)}
			_, locs, _, _ := convert(fn) // may fail part-way: the pointers it found
			ptrs := []string{"", "/", "/spec/", "/x", "/spec/~0", "/spec/~1", "/metadata/name/x", "/spec/true", "/spec/null", "/spec/~", "/spec/0x1", "/spec/k/0", "/spec/k/00", "/spec/1", "/spec/list/1/k", "/spec/list/2/0"}
			for ptr := range locs {
				ptrs = append(ptrs, ptr, ptr+"/x", ptr+"/0", ptr+"/1", ptr+"/00", ptr+"/-1", ptr+"/9999", ptr+"/a~1b", ptr+"/a~0b")
			}
			for _, ptr := range ptrs {
				for _, f := range []struct {
					name string
					get  func(d *doc, ptr string) diag.Pos
				}{{"pos", (*doc).pos}, {"keyPos", (*doc).keyPos}} {
					if got, want := f.get(indexed, ptr), f.get(walked, ptr); got != want {
						t.Fatalf("%s(%q): index %v, walk %v\n%s", f.name, ptr, got, want, v)
					}
					n++
				}
			}
		}
	}
	if n < 10000 {
		t.Fatalf("only %d positions compared", n)
	}
}

// Documents the fast parser reads keep an index after loading; others
// (yaml.v3's, several documents in a file) find positions as before.
func TestPosIndexKeptForFastDocs(t *testing.T) {
	fast := source{rel: "a.yaml", data: []byte("apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: a}\nspec:\n  driver: generic-web\n  image: ghcr.io/acme/a\n  port: 8080\n")}
	slow := source{rel: "b.yaml", data: []byte("apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: &m {name: b}\nspec:\n  driver: generic-web\n  image: ghcr.io/acme/b\n  port: 8080\n")}
	for _, tc := range []struct {
		src  source
		want bool
	}{{fast, true}, {slow, false}} {
		r := processFile(&tc.src, LoadOptions{})
		if len(r.docs) != 1 {
			t.Fatalf("%s: %d documents: %v", tc.src.rel, len(r.docs), r.ds)
		}
		d := r.docs[0].d
		if (d.idx != nil) != tc.want {
			t.Errorf("%s: index kept %v, want %v", tc.src.rel, d.idx != nil, tc.want)
		}
		if p := d.pos("/spec/port"); p.Line != 7 || p.Col != 9 {
			t.Errorf("%s: /spec/port at %v, want 7:9", tc.src.rel, p)
		}
	}
}

func TestPosIndexReadsOddKeys(t *testing.T) {
	if _, ok := fastParse([]byte("spec:\n  1: a\n  true: b\n  null: c\n  list: [a, {k: v}, [x]]\n  k: {0: z}\n")); !ok {
		t.Fatal("the fast parser declines the odd keys: TestPosIndexSameAsWalk does not compare them")
	}
}

// Loading with NoPosIndex keeps no index, and changes nothing else: the
// same diagnostics (semantic ones included, which ask for positions
// after the files are read) and the same positions of every field of
// every document, for the config files of each example and of each
// testdata/script archive, loaded as one config.
func TestNoPosIndexSame(t *testing.T) {
	sets := map[string][]source{}
	filepath.WalkDir("../examples", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsConfigFile(d.Name()) {
			b, _ := os.ReadFile(path)
			set := strings.SplitN(filepath.ToSlash(path), "/", 4)[2]
			sets[set] = append(sets[set], source{rel: filepath.ToSlash(path), data: b})
		}
		return nil
	})
	archives, _ := filepath.Glob("../testdata/script/*.txtar")
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if IsConfigFile(f.Name) {
				sets[a] = append(sets[a], source{rel: f.Name, data: f.Data})
			}
		}
	}
	ptrs := []string{"", "/metadata", "/metadata/name", "/spec", "/spec/image", "/spec/port", "/spec/product", "/spec/lane", "/spec/env", "/spec/deploy/provider", "/spec/ingress/domains/0", "/spec/x", "/spec/fake/path"}
	withIdx, diags := 0, 0
	for name, srcs := range sets {
		load := func(opts LoadOptions) (*config.Config, diag.Diagnostics) {
			cp := slices.Clone(srcs)
			var ds diag.Diagnostics
			cfg := loadSources("cfg", cp, false, opts, &ds)
			ds.Sort()
			return cfg, ds
		}
		a, ads := load(LoadOptions{})
		b, bds := load(LoadOptions{NoPosIndex: true})
		if !reflect.DeepEqual(ads, bds) {
			t.Fatalf("%s: diagnostics differ:\n%v\n%v", name, ads, bds)
		}
		diags += len(ads)
		type sourced struct{ a, b config.Source }
		var pairs []sourced
		if len(a.Products) != len(b.Products) || len(a.Targets) != len(b.Targets) || len(a.Providers) != len(b.Providers) {
			t.Fatalf("%s: documents differ", name)
		}
		for i := range a.Products {
			pairs = append(pairs, sourced{a.Products[i].Source, b.Products[i].Source})
		}
		for i := range a.Targets {
			pairs = append(pairs, sourced{a.Targets[i].Source, b.Targets[i].Source})
		}
		for i := range a.Providers {
			pairs = append(pairs, sourced{a.Providers[i].Source, b.Providers[i].Source})
		}
		for _, p := range pairs {
			for _, ptr := range ptrs {
				if pa, pb := p.a.Pos(ptr), p.b.Pos(ptr); pa != pb {
					t.Fatalf("%s: %s %q at %v with the index, %v without", name, p.a.File, ptr, pa, pb)
				}
			}
		}
		for _, s := range srcs {
			r := processFile(&s, LoadOptions{NoPosIndex: true})
			for _, dr := range r.docs {
				if dr.d.idx != nil {
					t.Fatalf("%s: %s: index kept under NoPosIndex", name, s.rel)
				}
			}
			r = processFile(&s, LoadOptions{})
			for _, dr := range r.docs {
				if dr.d.idx != nil {
					withIdx++
				}
			}
		}
	}
	if len(sets) < 20 || withIdx < 100 || diags < 50 {
		t.Fatalf("only %d configs, %d indexed documents, %d diagnostics compared", len(sets), withIdx, diags)
	}
}
