package schema

import (
	"testing"

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
		r := processFile(&tc.src)
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
