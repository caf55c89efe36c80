package gitstore

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/launchplane/launchplane/state"
)

// dirTree is a decoded tree object: its entries, in git order when sorted
// (as every tree git accepts is).
type dirTree struct {
	Entries []object.TreeEntry
	sorted  bool
}

// tree returns the decoded tree h. Trees are content-addressed, so the
// decoded ones are kept.
func (s *Store) tree(h plumbing.Hash) (*dirTree, error) {
	if t, ok := s.trees[h]; ok {
		return t, nil
	}
	b, err := s.fastRead(h, plumbing.TreeObject)
	if errors.Is(err, errNotHere) {
		b, err = s.slowObject(h, plumbing.TreeObject)
	}
	if err != nil {
		return nil, err
	}
	t, err := decodeTree(b)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	s.keepTree(h, t)
	return t, nil
}

func (s *Store) keepTree(h plumbing.Hash, t *dirTree) {
	if len(s.trees) >= maxCachedTrees {
		clear(s.trees)
	}
	s.trees[h] = t
}

// slowObject reads the object h of type t through go-git.
func (s *Store) slowObject(h plumbing.Hash, t plumbing.ObjectType) ([]byte, error) {
	obj, err := s.objs.EncodedObject(t, h)
	if err != nil {
		return nil, err
	}
	if obj.Type() != t {
		return nil, fmt.Errorf("is a %s", obj.Type())
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// decodeTree parses the content of a tree object: per entry the octal
// mode, a space, the name, a NUL and the binary hash. The names share one
// string.
func decodeTree(b []byte) (*dirTree, error) {
	content := string(b)
	t := &dirTree{Entries: make([]object.TreeEntry, 0, len(content)/40), sorted: true}
	for rest := content; rest != ""; {
		sp := strings.IndexByte(rest, ' ')
		nul := strings.IndexByte(rest, 0)
		if sp <= 0 || nul < sp || len(rest) < nul+1+len(plumbing.ZeroHash) {
			return nil, errors.New("malformed tree entry")
		}
		mode, err := strconv.ParseUint(rest[:sp], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("malformed tree entry mode %q", rest[:sp])
		}
		e := object.TreeEntry{Name: rest[sp+1 : nul], Mode: filemode.FileMode(mode)}
		copy(e.Hash[:], rest[nul+1:])
		if n := len(t.Entries); n > 0 && gitOrder(t.Entries[n-1], e) >= 0 {
			t.sorted = false
		}
		t.Entries = append(t.Entries, e)
		rest = rest[nul+1+len(plumbing.ZeroHash):]
	}
	return t, nil
}

// find returns the index of the entry called name, or -1.
func (t *dirTree) find(name string) int {
	if !t.sorted {
		for i := range t.Entries {
			if t.Entries[i].Name == name {
				return i
			}
		}
		return -1
	}
	// A file sorts under its name, a directory under its name plus "/".
	for _, mode := range []filemode.FileMode{filemode.Regular, filemode.Dir} {
		key := object.TreeEntry{Name: name, Mode: mode}
		i, _ := slices.BinarySearchFunc(t.Entries, key, gitOrder)
		if i < len(t.Entries) && t.Entries[i].Name == name {
			return i
		}
	}
	return -1
}

// lookup finds the entry at the clean slash path p under the tree root
// (zero: the empty tree), reading only the trees along p.
func (s *Store) lookup(root plumbing.Hash, p string) (object.TreeEntry, bool, error) {
	h := root
	for !h.IsZero() {
		name, rest, more := strings.Cut(p, "/")
		t, err := s.tree(h)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		i := t.find(name)
		if i < 0 {
			return object.TreeEntry{}, false, nil
		}
		e := t.Entries[i]
		if !more {
			return e, true, nil
		}
		if e.Mode != filemode.Dir {
			return object.TreeEntry{}, false, nil
		}
		h, p = e.Hash, rest
	}
	return object.TreeEntry{}, false, nil
}

// gitOrder orders tree entries as git does: by name, a directory compared
// as if its name ended in "/". (Executable, symlink and submodule entries
// sort as files; a submodule is not a directory here.)
func gitOrder(a, b object.TreeEntry) int {
	n := min(len(a.Name), len(b.Name))
	if c := strings.Compare(a.Name[:n], b.Name[:n]); c != 0 {
		return c
	}
	return cmp.Compare(nextByte(a, n), nextByte(b, n))
}

func nextByte(e object.TreeEntry, n int) int {
	switch {
	case n < len(e.Name):
		return int(e.Name[n])
	case e.Mode == filemode.Dir:
		return '/'
	}
	return 0
}

// firstDiff is the first path, in git order, whose content differs between
// the trees a and b (zero: absent) under prefix. It descends only into
// subtrees whose hashes differ.
func (s *Store) firstDiff(a, b plumbing.Hash, prefix string) (string, error) {
	var ea, eb []object.TreeEntry
	if !a.IsZero() {
		t, err := s.tree(a)
		if err != nil {
			return "", err
		}
		ea = t.Entries
	}
	if !b.IsZero() {
		t, err := s.tree(b)
		if err != nil {
			return "", err
		}
		eb = t.Entries
	}
	for i, j := 0, 0; i < len(ea) || j < len(eb); {
		var c int
		switch {
		case i == len(ea):
			c = 1
		case j == len(eb):
			c = -1
		default:
			c = gitOrder(ea[i], eb[j])
		}
		switch {
		case c < 0:
			return s.firstFile(ea[i], prefix)
		case c > 0:
			return s.firstFile(eb[j], prefix)
		case ea[i].Hash != eb[j].Hash || ea[i].Mode != eb[j].Mode:
			if ea[i].Mode == filemode.Dir && eb[j].Mode == filemode.Dir {
				return s.firstDiff(ea[i].Hash, eb[j].Hash, prefix+ea[i].Name+"/")
			}
			return prefix + ea[i].Name, nil
		}
		i, j = i+1, j+1
	}
	return strings.TrimSuffix(prefix, "/"), nil
}

// firstFile is the path of e, or of the first file under it for a directory.
func (s *Store) firstFile(e object.TreeEntry, prefix string) (string, error) {
	for e.Mode == filemode.Dir {
		t, err := s.tree(e.Hash)
		if err != nil {
			return "", err
		}
		if len(t.Entries) == 0 {
			break
		}
		prefix += e.Name + "/"
		e = t.Entries[0]
	}
	return prefix + e.Name, nil
}

// pending holds the changes below one directory of a write.
type pending struct {
	files map[string]*state.Change
	dirs  map[string]*pending
}

func newPending() *pending {
	return &pending{files: map[string]*state.Change{}, dirs: map[string]*pending{}}
}

// add files c under its path; a later change of the same path wins.
func (p *pending) add(c *state.Change) error {
	rest := c.Path
	for {
		name, sub, more := strings.Cut(rest, "/")
		if !more {
			if _, ok := p.dirs[name]; ok {
				return fmt.Errorf("%s is both a file and a directory in this write", c.Path)
			}
			p.files[name] = c
			return nil
		}
		if _, ok := p.files[name]; ok {
			return fmt.Errorf("%s is both a file and a directory in this write", strings.TrimSuffix(c.Path, "/"+sub))
		}
		next := p.dirs[name]
		if next == nil {
			next = newPending()
			p.dirs[name] = next
		}
		p, rest = next, sub
	}
}

// writes reports whether anything below p is written rather than deleted.
func (p *pending) writes() bool {
	for _, c := range p.files {
		if !c.Delete {
			return true
		}
	}
	for _, d := range p.dirs {
		if d.writes() {
			return true
		}
	}
	return false
}

// buildCommit writes the blobs, the trees on changed paths and the commit
// object for w on top of parent (whose tree is root), and returns the
// commit and every object it wrote (what a push must send).
func (s *Store) buildCommit(parent, root plumbing.Hash, w state.Write) (plumbing.Hash, []plumbing.Hash, error) {
	top := newPending()
	if parent.IsZero() {
		// The first commit marks the repository and its format.
		if err := top.add(&state.Change{Path: state.FormatFile, Data: formatFile()}); err != nil {
			return plumbing.ZeroHash, nil, err
		}
	}
	for i := range w.Changes {
		if err := top.add(&w.Changes[i]); err != nil {
			return plumbing.ZeroHash, nil, err
		}
	}
	objs := collectObjects()
	tree, _, err := s.writeTree(root, "", top, objs)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	if tree.IsZero() {
		// Everything was deleted: git's empty tree.
		if tree, err = objs.put(encodeTree(nil)); err != nil {
			return plumbing.ZeroHash, nil, err
		}
	}
	who := sig(w.Author)
	c := &object.Commit{
		Author:    who,
		Committer: who,
		Message:   state.FormatMessage(w.Message, w.Trailers),
		TreeHash:  tree,
	}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	enc := s.st.NewEncodedObject()
	if err := c.Encode(enc); err != nil {
		return plumbing.ZeroHash, nil, err
	}
	h, err := objs.put(enc)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	if err := objs.store(s.st); err != nil {
		return plumbing.ZeroHash, nil, err
	}
	return h, objs.hashes, nil
}

// writeTree applies the changes p under prefix to the tree old (zero: none)
// and returns the new tree's hash (zero when it is left empty) and whether
// it changed. Unchanged subtrees keep their hashes and are not read.
func (s *Store) writeTree(old plumbing.Hash, prefix string, p *pending, objs *newObjects) (plumbing.Hash, bool, error) {
	base := &dirTree{sorted: true}
	if !old.IsZero() {
		t, err := s.tree(old)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		base = t
	}
	ed := newTreeEdit(base)
	if err := ed.writeFiles(prefix, p.files, objs); err != nil {
		return plumbing.ZeroHash, false, err
	}
	if err := s.writeDirs(ed, prefix, p.dirs, objs); err != nil {
		return plumbing.ZeroHash, false, err
	}
	if !ed.changed {
		return old, false, nil
	}
	return s.putTree(ed.result(), objs)
}

// treeEdit is one tree being rewritten. Entries of its base keep their
// names and order: a change replaces the hash, a deletion marks the entry
// gone; new entries are added apart.
type treeEdit struct {
	base    *dirTree
	entries []object.TreeEntry
	gone    []bool
	added   []object.TreeEntry
	changed bool
}

func newTreeEdit(base *dirTree) *treeEdit {
	return &treeEdit{base: base, entries: slices.Clone(base.Entries), gone: make([]bool, len(base.Entries))}
}

// find is the entry named name and its index in the base (-1: added, or
// absent when the entry is nil).
func (ed *treeEdit) find(name string) (*object.TreeEntry, int) {
	if i := ed.base.find(name); i >= 0 && !ed.gone[i] {
		return &ed.entries[i], i
	}
	for i := range ed.added {
		if ed.added[i].Name == name {
			return &ed.added[i], -1
		}
	}
	return nil, -1
}

// remove drops the base's entry i.
func (ed *treeEdit) remove(i int) {
	ed.gone[i] = true
	ed.changed = true
}

// add adds a new entry.
func (ed *treeEdit) add(e object.TreeEntry) {
	ed.added = append(ed.added, e)
	ed.changed = true
}

// writeFiles writes (as blobs) or deletes the files of one directory.
func (ed *treeEdit) writeFiles(prefix string, files map[string]*state.Change, objs *newObjects) error {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		c := files[name]
		e, i := ed.find(name)
		if e != nil && e.Mode == filemode.Dir {
			return fmt.Errorf("%s%s is a directory", prefix, name)
		}
		if c.Delete {
			if e != nil {
				ed.remove(i) // files are only added for writes, so i >= 0
			}
			continue
		}
		h, err := putBlob(c.Data, objs)
		if err != nil {
			return err
		}
		switch {
		case e == nil:
			ed.add(object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		case e.Hash != h || (e.Mode != filemode.Regular && e.Mode != filemode.Executable):
			// A rewritten file stays executable if it was; anything
			// else (a symlink, a submodule) becomes a regular file.
			mode := filemode.Regular
			if e.Mode == filemode.Executable {
				mode = filemode.Executable
			}
			e.Hash, e.Mode = h, mode
			ed.changed = true
		}
	}
	return nil
}

// putBlob adds data as a blob object.
func putBlob(data []byte, objs *newObjects) (plumbing.Hash, error) {
	blob := &plumbing.MemoryObject{}
	blob.SetType(plumbing.BlobObject)
	if _, err := blob.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	return objs.put(blob)
}

// writeDirs rewrites the subtrees of one directory that have changes,
// dropping those left empty.
func (s *Store) writeDirs(ed *treeEdit, prefix string, dirs map[string]*pending, objs *newObjects) error {
	for _, name := range slices.Sorted(maps.Keys(dirs)) {
		sub := dirs[name]
		e, i := ed.find(name)
		var subOld plumbing.Hash
		if e != nil {
			if e.Mode != filemode.Dir {
				if sub.writes() {
					return fmt.Errorf("%s%s is a file", prefix, name)
				}
				continue // deleting below a file: nothing there
			}
			subOld = e.Hash
		}
		h, subChanged, err := s.writeTree(subOld, prefix+name+"/", sub, objs)
		if err != nil {
			return err
		}
		switch {
		case !subChanged:
		case h.IsZero() && e != nil:
			ed.remove(i)
		case h.IsZero():
		case e != nil:
			e.Hash = h
			ed.changed = true
		default:
			ed.add(object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
	}
	return nil
}

// result is the edited tree's entries, in git order.
func (ed *treeEdit) result() []object.TreeEntry {
	out := make([]object.TreeEntry, 0, len(ed.entries)+len(ed.added))
	for i, e := range ed.entries {
		if !ed.gone[i] {
			out = append(out, e)
		}
	}
	out = append(out, ed.added...)
	if len(ed.added) > 0 || !ed.base.sorted {
		slices.SortFunc(out, gitOrder)
	}
	return out
}

// putTree adds the tree of entries (sorted) and keeps it decoded for the
// next write; an empty tree is not written: its hash is zero.
func (s *Store) putTree(entries []object.TreeEntry, objs *newObjects) (plumbing.Hash, bool, error) {
	if len(entries) == 0 {
		return plumbing.ZeroHash, true, nil
	}
	h, err := objs.put(encodeTree(entries))
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	s.keepTree(h, &dirTree{Entries: entries, sorted: true})
	return h, true, nil
}

// encodeTree encodes sorted entries as a git tree object: per entry the
// octal mode, a space, the name, a NUL and the binary hash.
func encodeTree(entries []object.TreeEntry) *plumbing.MemoryObject {
	n := 0
	for _, e := range entries {
		n += len(e.Name) + 8 + len(e.Hash)
	}
	buf := make([]byte, 0, n)
	for _, e := range entries {
		buf = strconv.AppendUint(buf, uint64(e.Mode), 8)
		buf = append(buf, ' ')
		buf = append(buf, e.Name...)
		buf = append(buf, 0)
		buf = append(buf, e.Hash[:]...)
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(plumbing.TreeObject)
	obj.Write(buf)
	return obj
}

// packMin is the number of new objects from which a commit's objects are
// written as one pack file instead of one loose file each (a temp file,
// zlib and a rename per object: most of an apply of thousands of targets).
const packMin = 256

// newObjects are the objects a commit adds, kept in memory until the
// commit is built, then stored all at once.
type newObjects struct {
	mem    *memory.ObjectStorage
	hashes []plumbing.Hash
}

func collectObjects() *newObjects {
	return &newObjects{mem: &memory.NewStorage().ObjectStorage}
}

func (n *newObjects) put(o plumbing.EncodedObject) (plumbing.Hash, error) {
	h := o.Hash()
	if _, dup := n.mem.Objects[h]; dup {
		return h, nil
	}
	if _, err := n.mem.SetEncodedObject(o); err != nil {
		return plumbing.ZeroHash, err
	}
	n.hashes = append(n.hashes, h)
	return h, nil
}

// store writes the objects into st: loose when they are few, else as one
// pack (no deltas: the objects are small and computing them costs more
// than it saves), indexed as it is written.
func (n *newObjects) store(st *filesystem.Storage) error {
	if len(n.hashes) < packMin {
		for _, h := range n.hashes {
			if _, err := st.SetEncodedObject(n.mem.Objects[h]); err != nil {
				return err
			}
		}
		return nil
	}
	w, err := st.PackfileWriter()
	if err != nil {
		return err
	}
	if _, err := packfile.NewEncoder(w, n.mem, false).Encode(n.hashes, 0); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
