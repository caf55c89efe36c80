package gitstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// objRepo is a repository of similar files over a few commits (so git
// finds deltas between them), written by Store (one pack, then loose).
func objRepo(t *testing.T) string {
	t.Helper()
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, dir, Options{})
	files := map[string]string{}
	for i := 0; i < 400; i++ {
		files[fmt.Sprintf("targets/app%04d/prod.json", i)] = strings.Repeat(`{"common": "abcdefghijklmnopqrstuvwxyz"}`+"\n", 1+i%40) + fmt.Sprintf(`{"target": "app%04d/prod", "n": %d}`+"\n", i, i)
	}
	base := write(t, s, "", nil, files)
	for c := 0; c < 5; c++ {
		edit := map[string]string{}
		for i := c; i < 400; i += 37 {
			edit[fmt.Sprintf("targets/app%04d/prod.json", i)] = files[fmt.Sprintf("targets/app%04d/prod.json", i)] + fmt.Sprintf(`{"edit": %d}`, c)
		}
		edit[fmt.Sprintf("records/r%d.json", c)] = strings.Repeat("x", 70000*c) // > 64 KiB: copies of 0x10000
		base = write(t, s, base, nil, edit)
	}
	return dir
}

// allObjects is every object id of the repository (git cat-file).
func allObjects(t *testing.T, dir string) []plumbing.Hash {
	t.Helper()
	var out []plumbing.Hash
	for _, l := range strings.Split(strings.TrimSpace(gitCLI(t, dir, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")), "\n") {
		out = append(out, plumbing.NewHash(l))
	}
	if len(out) < 400 {
		t.Fatalf("only %d objects", len(out))
	}
	return out
}

// goGitObject reads an object through go-git: the reference.
func goGitObject(t *testing.T, s *Store, h plumbing.Hash) (plumbing.ObjectType, []byte) {
	t.Helper()
	obj, err := s.objs.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		t.Fatalf("go-git %s: %v", h, err)
	}
	r, err := obj.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Type(), b
}

// The fast reader reads every object exactly as go-git does, whatever
// shape git gave the repository: Store's own pack and loose objects;
// git's packs with offset deltas, reference deltas, deep chains; an index
// with 64-bit offsets.
func TestObjReaderSameAsGoGit(t *testing.T) {
	shapes := []struct {
		name    string
		reshape func(t *testing.T, dir string)
	}{
		{"store-written", func(t *testing.T, dir string) {}},
		{"git-repack-ofs-delta", func(t *testing.T, dir string) {
			gitCLI(t, dir, "repack", "-a", "-d", "-q", "-f", "--depth=50", "--window=50")
		}},
		{"git-repack-ref-delta", func(t *testing.T, dir string) {
			gitCLI(t, dir, "-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-q", "--depth=4000", "--window=250", "-f")
		}},
		{"two-packs-and-loose", func(t *testing.T, dir string) {
			gitCLI(t, dir, "repack", "-d", "-q")
			dir2 := dir
			s := mustOpen(t, dir2, Options{})
			write(t, s, strings.TrimSpace(gitCLI(t, dir, "rev-parse", "main")), nil, map[string]string{"loose.json": "{}"})
		}},
		{"index-64-bit-offsets", func(t *testing.T, dir string) {
			gitCLI(t, dir, "repack", "-a", "-d", "-q")
			idx, _ := filepath.Glob(filepath.Join(dir, "objects/pack/*.idx"))
			pack := strings.TrimSuffix(idx[0], ".idx") + ".pack"
			os.Chmod(idx[0], 0o644)
			os.Remove(idx[0])
			gitCLI(t, dir, "index-pack", "--index-version=2,256", "-o", idx[0], pack)
			p, err := openPack(idx[0])
			if err != nil {
				t.Fatal(err)
			}
			defer p.f.Close()
			if len(p.off64) < 8*100 {
				t.Fatalf("only %d 64-bit offsets", len(p.off64)/8)
			}
		}},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			if sh.name == "git-repack-ofs-delta" {
				// Chunks smaller than most objects: every object crosses one.
				defer func(n int64) { chunkSize = n }(chunkSize)
				chunkSize = 97
			}
			dir := objRepo(t)
			sh.reshape(t, dir)
			s := mustOpen(t, dir, Options{})
			ids := allObjects(t, dir)
			counts := map[string]int{}
			for _, h := range ids {
				wantT, want := goGitObject(t, s, h)
				typ, got, err := s.fast.read(h)
				if err != nil {
					t.Fatalf("%s: %v", h, err)
				}
				if typ != wantT || !bytes.Equal(got, want) {
					t.Fatalf("%s: read a %s of %d bytes, go-git a %s of %d", h, typ, len(got), wantT, len(want))
				}
				counts[typ.String()]++
			}
			stats := gitCLI(t, dir, "count-objects", "-v")
			t.Logf("%v; %s", counts, strings.ReplaceAll(stats, "\n", " "))
			kinds := entryKinds(t, s.fast)
			t.Logf("pack entries: %v", kinds)
			switch sh.name {
			case "git-repack-ofs-delta":
				if kinds[plumbing.OFSDeltaObject] < 300 {
					t.Fatal("too few offset deltas")
				}
			case "git-repack-ref-delta":
				if kinds[plumbing.REFDeltaObject] < 300 || kinds[plumbing.OFSDeltaObject] > 0 {
					t.Fatal("want reference deltas only")
				}
			}
		})
	}
}

func mustGlob(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) == 0 {
		t.Fatalf("no %s", pattern)
	}
	return m[0]
}

// A damaged pack never yields wrong content: each read is the object's
// true content or an error naming the object. Bytes flipped anywhere in
// a delta-compressed pack, one at a time.
func TestObjReaderDamagedPack(t *testing.T) {
	dir := objRepo(t)
	gitCLI(t, dir, "repack", "-a", "-d", "-q", "--depth=50", "--window=50")
	ids := allObjects(t, dir)
	want := map[plumbing.Hash][]byte{}
	s := mustOpen(t, dir, Options{})
	for _, h := range ids {
		_, want[h] = goGitObject(t, s, h)
	}
	pack := mustGlob(t, dir, "objects/pack/*.pack")
	orig, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(pack, 0o644)
	rng := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for round := 0; round < 60; round++ {
		b := bytes.Clone(orig)
		at := 12 + rng.IntN(len(b)-32)
		b[at] ^= byte(1 + rng.IntN(255))
		if err := os.WriteFile(pack, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := newObjReader(filepath.Join(dir, "objects"))
		r.loadPacks()
		for _, h := range ids {
			_, got, err := r.read(h)
			switch {
			case errors.Is(err, errNotHere):
				t.Fatalf("flip at %d: %s not found", at, h)
			case err != nil:
				failed++
				if !strings.Contains(err.Error(), h.String()) {
					t.Fatalf("flip at %d: error does not name the object: %v", at, err)
				}
			case !bytes.Equal(got, want[h]):
				t.Fatalf("flip at %d: %s read wrong content", at, h)
			}
		}
		r.close()
	}
	if failed == 0 {
		t.Fatal("no flip was noticed")
	}
	// Truncated anywhere: errors, never wrong content.
	for round := 0; round < 20; round++ {
		n := 12 + rng.IntN(len(orig)-12)
		if err := os.WriteFile(pack, orig[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		r := newObjReader(filepath.Join(dir, "objects"))
		r.loadPacks()
		for _, h := range ids {
			if _, got, err := r.read(h); err == nil && !bytes.Equal(got, want[h]) {
				t.Fatalf("truncated at %d: %s read wrong content", n, h)
			}
		}
		r.close()
	}
}

// Deltas are applied exactly, and malformed ones refused.
func TestApplyDelta(t *testing.T) {
	base := []byte("0123456789abcdef")
	d := []byte{16, 9, 0x91, 2, 4, 3, 'X', 'Y', 'Z', 0x90, 2}
	got, err := applyDelta(base, d)
	if err != nil || string(got) != "2345XYZ01" {
		t.Fatalf("got %q %v", got, err)
	}
	bad := [][]byte{
		{15, 9, 0x91, 2, 4, 3, 'X', 'Y', 'Z', 0x90, 2},  // wrong base size
		{16, 10, 0x91, 2, 4, 3, 'X', 'Y', 'Z', 0x90, 2}, // result shorter than stated
		{16, 2, 0x91, 2, 4},                             // result longer than stated
		{16, 4, 0x91, 14, 4},                            // copy beyond the base
		{16, 4, 0},                                      // reserved instruction
		{16, 4, 5, 'a'},                                 // insert beyond the delta
		{16},                                            // no result size
		{16, 4, 0x91, 2},                                // copy without its size
	}
	for _, d := range bad {
		if got, err := applyDelta(base, d); err == nil {
			t.Errorf("%v: applied as %q", d, got)
		}
	}
}

// entryKinds counts the entry types of the reader's packs.
func entryKinds(t *testing.T, r *objReader) map[plumbing.ObjectType]int {
	t.Helper()
	out := map[plumbing.ObjectType]int{}
	for _, p := range r.packs {
		for i := 0; i < p.n; i++ {
			var h plumbing.Hash
			copy(h[:], p.names[20*i:])
			off, _ := p.find(h)
			var b [1]byte
			if _, err := p.f.ReadAt(b[:], off); err != nil {
				t.Fatal(err)
			}
			out[plumbing.ObjectType((b[0]>>4)&7)]++
		}
	}
	return out
}

// An object file that holds another object's content (a well-formed
// zlib stream, so nothing but the id can tell) is refused, naming it.
func TestObjReaderSwappedObject(t *testing.T) {
	dir := objRepo(t)
	s := mustOpen(t, dir, Options{})
	a := plumbing.NewHash(strings.TrimSpace(gitCLI(t, dir, "rev-parse", "main:records/r1.json")))
	b := plumbing.NewHash(strings.TrimSpace(gitCLI(t, dir, "rev-parse", "main:records/r2.json")))
	loose := func(h plumbing.Hash) string { return filepath.Join(dir, "objects", h.String()[:2], h.String()[2:]) }
	data, err := os.ReadFile(loose(a))
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose(b), 0o644)
	if err := os.WriteFile(loose(b), data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, got, err := s.fast.read(b)
	if err == nil || !strings.Contains(err.Error(), "object "+b.String()+" is corrupt: its content hashes to "+a.String()) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	sn := snap(t, s)
	if got, err := sn.ReadFile("records/r2.json"); err == nil || !strings.Contains(err.Error(), "state file records/r2.json: object "+b.String()+" is corrupt") {
		t.Fatalf("ReadFile: %d bytes, %v", len(got), err)
	}
}

// A pack index being written (go-git writes it in place) is not used
// until it is whole; objects meanwhile come from go-git, and the pack is
// read once its index is complete.
func TestObjReaderPartialIndex(t *testing.T) {
	dir := objRepo(t)
	gitCLI(t, dir, "repack", "-a", "-d", "-q")
	idx := mustGlob(t, dir, "objects/pack/*.idx")
	// With a 64-bit offset table, an index short of 8 bytes still parses.
	os.Chmod(idx, 0o644)
	os.Remove(idx)
	gitCLI(t, dir, "index-pack", "--index-version=2,256", "-o", idx, strings.TrimSuffix(idx, ".idx")+".pack")
	whole, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(idx, 0o644)
	for _, cut := range []int{8, 16, 20, 1} {
		if err := os.WriteFile(idx, whole[:len(whole)-cut], 0o644); err != nil {
			t.Fatal(err)
		}
		r := newObjReader(filepath.Join(dir, "objects"))
		r.loadPacks()
		if len(r.packs) != 0 {
			t.Fatalf("cut %d: a partial index was used", cut)
		}
		if err := os.WriteFile(idx, whole, 0o644); err != nil {
			t.Fatal(err)
		}
		h := allObjects(t, dir)[0]
		if _, _, err := r.read(h); err != nil || len(r.packs) != 1 {
			t.Fatalf("cut %d: whole again: %v, %d packs", cut, err, len(r.packs))
		}
		r.close()
	}
}
