package gitstore

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// objReader reads the objects of a local repository (loose files and
// version 2 pack files, with their offset and reference deltas) without
// go-git, safe for concurrent use: pack files are read with pread on
// descriptors kept open, and each read decompresses into a buffer of the
// object's known size. go-git's packfile reader is neither safe for
// concurrent use nor cheap (an object copied three times, a scanner per
// read), and a plan reads thousands of objects.
//
// It is an accelerator, never the authority: an object it does not find
// (a pack added since it listed them, alternates, an index format it does
// not read) is errNotHere, and the caller asks go-git. Every object it
// returns has been checked against its id (SHA-1 of header and content),
// so a corrupt pack or a bug in delta resolution is an error naming the
// object, never wrong content.
type objReader struct {
	dir string // the objects directory

	mu    sync.RWMutex
	packs []*packIndex
	seen  map[string]bool // pack indexes loaded
	done  bool            // closed

	cacheMu   sync.Mutex
	bases     map[baseKey]rawObject // delta bases, by pack and offset
	baseBytes int
}

// errNotHere is what the reader returns for an object it does not have.
var errNotHere = errors.New("object not in the fast reader's packs")

// maxBaseBytes bounds the delta-base cache; it is emptied when full.
const maxBaseBytes = 32 << 20

// maxDeltaDepth bounds a delta chain (git's default is 50, --depth 4095
// at most): a longer one, or a cycle, is a corrupt pack.
const maxDeltaDepth = 10000

type baseKey struct {
	pack *packIndex
	off  int64
}

type rawObject struct {
	typ  plumbing.ObjectType
	data []byte
}

func newObjReader(objectsDir string) *objReader {
	return &objReader{dir: objectsDir, seen: map[string]bool{}, bases: map[baseKey]rawObject{}}
}

// packIndex is one pack file with its version 2 index, read whole.
type packIndex struct {
	name   string // pack-<sha>.pack, for messages
	f      *os.File
	size   int64 // of the pack file when opened
	n      int
	fanout [256]uint32
	names  []byte // n x 20
	off32  []byte // n x 4
	off64  []byte // m x 8

	// chunks are pieces of the pack file read lately (chunkSize each, by
	// index): a plan reads thousands of objects a few hundred bytes
	// apart, mostly in pack order; one pread per 64 KiB instead of one
	// per object.
	chunkMu sync.Mutex
	chunks  map[int64][]byte
}

// chunkSize is the size of a chunk (a variable for the tests, which read
// through small ones).
var chunkSize int64 = 64 << 10

// maxChunks bounds the chunks kept of a pack (4 MiB); they are let go
// when it is reached.
const maxChunks = 64

// chunk is the piece i of the pack file (shorter at its end).
func (p *packIndex) chunk(i int64) ([]byte, error) {
	p.chunkMu.Lock()
	c, ok := p.chunks[i]
	p.chunkMu.Unlock()
	if ok {
		return c, nil
	}
	start := i * chunkSize
	if start >= p.size {
		return nil, io.EOF
	}
	c = make([]byte, min(chunkSize, p.size-start))
	n, err := p.f.ReadAt(c, start)
	if n < len(c) {
		// The file shrank since it was opened: not kept.
		if n == 0 && err == nil {
			err = io.ErrNoProgress
		}
		return c[:n], err
	}
	p.chunkMu.Lock()
	if p.chunks == nil || len(p.chunks) >= maxChunks {
		p.chunks = map[int64][]byte{}
	}
	p.chunks[i] = c
	p.chunkMu.Unlock()
	return c, nil
}

// loadPacks lists the pack directory and opens the packs not seen yet.
// A pack whose index it cannot read is left to go-git.
func (r *objReader) loadPacks() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	idxs, _ := filepath.Glob(filepath.Join(r.dir, "pack", "pack-*.idx"))
	slices.Sort(idxs)
	for _, idx := range idxs {
		if r.seen[idx] {
			continue
		}
		// One that does not open (go-git writes the index in place, then
		// renames the pack into place) is tried again at the next miss.
		if p, err := openPack(idx); err == nil {
			r.seen[idx] = true
			r.packs = append(r.packs, p)
		}
	}
}

// openPack opens the pack of the index file idx.
func openPack(idx string) (*packIndex, error) {
	b, err := os.ReadFile(idx)
	if err != nil {
		return nil, err
	}
	p, err := parseIndex(b)
	if err != nil {
		return nil, err
	}
	packPath := strings.TrimSuffix(idx, ".idx") + ".pack"
	f, err := os.Open(packPath)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var hdr [12]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "PACK" || binary.BigEndian.Uint32(hdr[4:]) != 2 && binary.BigEndian.Uint32(hdr[4:]) != 3 {
		f.Close()
		return nil, fmt.Errorf("%s: not a pack file of version 2 or 3", packPath)
	}
	p.name, p.f, p.size = filepath.Base(packPath), f, fi.Size()
	return p, nil
}

// parseIndex reads a version 2 pack index: magic, version, fanout, the
// sorted ids, their CRCs, 31-bit offsets (the high bit marks an index into
// the 64-bit table), the 64-bit table, then two checksums.
func parseIndex(b []byte) (*packIndex, error) {
	const head = 8 + 256*4
	if len(b) < head+40 || string(b[:4]) != "\xfftOc" || binary.BigEndian.Uint32(b[4:]) != 2 {
		return nil, errors.New("not a version 2 pack index")
	}
	if sum := sha1.Sum(b[:len(b)-20]); !bytes.Equal(sum[:], b[len(b)-20:]) {
		return nil, errors.New("pack index: checksum mismatch (partly written?)")
	}
	p := &packIndex{}
	prev := uint32(0)
	for i := range p.fanout {
		p.fanout[i] = binary.BigEndian.Uint32(b[8+4*i:])
		if p.fanout[i] < prev {
			return nil, errors.New("pack index: fanout not sorted")
		}
		prev = p.fanout[i]
	}
	p.n = int(p.fanout[255])
	rest := len(b) - head - 40
	if p.n > rest/28 {
		return nil, errors.New("pack index: truncated")
	}
	at := head
	p.names = b[at : at+20*p.n]
	at += 20*p.n + 4*p.n // the CRCs are not needed
	p.off32 = b[at : at+4*p.n]
	at += 4 * p.n
	big := len(b) - 40 - at
	if big%8 != 0 {
		return nil, errors.New("pack index: malformed 64-bit offset table")
	}
	p.off64 = b[at : at+big]
	return p, nil
}

// find is the offset of h in the pack, if it is there.
func (p *packIndex) find(h plumbing.Hash) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(p.fanout[h[0]-1])
	}
	hi := int(p.fanout[h[0]])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(p.names[20*m:20*m+20], h[:]); {
		case c == 0:
			o := binary.BigEndian.Uint32(p.off32[4*m:])
			if o&0x80000000 == 0 {
				return int64(o), true
			}
			i := int(o &^ 0x80000000)
			if 8*i+8 > len(p.off64) {
				return -1, true // the caller reports it malformed
			}
			return int64(binary.BigEndian.Uint64(p.off64[8*i:])), true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0, false
}

// read returns the type and content of object h, checked against h.
func (r *objReader) read(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	typ, data, err := r.lookup(h)
	if errors.Is(err, errNotHere) {
		r.loadPacks() // a pack added since (a fetch, a gc)
		typ, data, err = r.lookup(h)
	}
	if err != nil {
		if errors.Is(err, errNotHere) {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("object %s: %w", h, err)
	}
	if got := objectID(typ, data); got != h {
		return 0, nil, fmt.Errorf("object %s is corrupt: its content hashes to %s", h, got)
	}
	return typ, data, nil
}

func (r *objReader) lookup(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	r.mu.RLock()
	packs, done := r.packs, r.done
	r.mu.RUnlock()
	if done {
		return 0, nil, errNotHere
	}
	for _, p := range packs {
		if off, ok := p.find(h); ok {
			if off < 0 {
				return 0, nil, fmt.Errorf("%s: malformed index", p.name)
			}
			return r.packed(p, off, 0)
		}
	}
	return r.loose(h)
}

// objectID is the git id of an object: SHA-1 of "<type> <size>\0<data>".
func objectID(t plumbing.ObjectType, data []byte) plumbing.Hash {
	d := sha1.New()
	var hdr [32]byte
	b := append(hdr[:0], t.Bytes()...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(data)), 10)
	b = append(b, 0)
	d.Write(b)
	d.Write(data)
	var h plumbing.Hash
	d.Sum(h[:0])
	return h
}

// loose reads objects/xx/yyyy: a zlib stream of "<type> <size>\0<data>".
func (r *objReader) loose(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	hex := h.String()
	f, err := os.Open(filepath.Join(r.dir, hex[:2], hex[2:]))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, errNotHere
	}
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	src := getSource(f, 0, 0)
	defer putSource(src)
	z, err := getZlib(src)
	if err != nil {
		return 0, nil, fmt.Errorf("loose object: %w", err)
	}
	defer zlibs.Put(z)
	var hdr [64]byte
	n := 0
	for {
		if n == len(hdr) {
			return 0, nil, errors.New("loose object: malformed header")
		}
		if _, err := io.ReadFull(z, hdr[n:n+1]); err != nil {
			return 0, nil, fmt.Errorf("loose object: %w", unexpected(err))
		}
		if hdr[n] == 0 {
			break
		}
		n++
	}
	ts, ss, ok := strings.Cut(string(hdr[:n]), " ")
	typ, err := plumbing.ParseObjectType(ts)
	if !ok || err != nil || typ < plumbing.CommitObject || typ > plumbing.TagObject {
		return 0, nil, fmt.Errorf("loose object: malformed header %q", hdr[:n])
	}
	size, err := strconv.ParseInt(ss, 10, 64)
	if err != nil || size < 0 || size > maxObjectSize {
		return 0, nil, fmt.Errorf("loose object: malformed header %q", hdr[:n])
	}
	data, err := inflateAll(z, size)
	if err != nil {
		return 0, nil, fmt.Errorf("loose object: %w", err)
	}
	return typ, data, nil
}

// maxObjectSize bounds an object read into memory: a state file is
// kilobytes, a tree of every target some hundred kilobytes.
const maxObjectSize = 1 << 30

// packed reads the object at off in p, resolving deltas.
func (r *objReader) packed(p *packIndex, off int64, depth int) (plumbing.ObjectType, []byte, error) {
	if depth > maxDeltaDepth {
		return 0, nil, fmt.Errorf("%s: delta chain longer than %d at offset %d", p.name, maxDeltaDepth, off)
	}
	if off < 12 || off >= p.size-20 {
		return 0, nil, fmt.Errorf("%s: offset %d is outside the pack (%d bytes)", p.name, off, p.size)
	}
	src := packSource(p, off)
	defer putSource(src)
	// The entry header: type and size, then a delta's base.
	c, err := src.ReadByte()
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, unexpected(err))
	}
	typ := plumbing.ObjectType((c >> 4) & 7)
	size := int64(c & 0x0f)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if c, err = src.ReadByte(); err != nil {
			return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, unexpected(err))
		}
		if shift > 56 {
			return 0, nil, fmt.Errorf("%s at %d: malformed entry header", p.name, off)
		}
		size |= int64(c&0x7f) << shift
	}
	if size > maxObjectSize {
		return 0, nil, fmt.Errorf("%s at %d: object of %d bytes", p.name, off, size)
	}
	var baseOff int64
	var baseID plumbing.Hash
	switch typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	case plumbing.OFSDeltaObject:
		c, err := src.ReadByte()
		if err != nil {
			return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, unexpected(err))
		}
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if c, err = src.ReadByte(); err != nil {
				return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, unexpected(err))
			}
			if rel > 1<<48 {
				return 0, nil, fmt.Errorf("%s at %d: malformed delta base offset", p.name, off)
			}
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		if rel <= 0 || rel > off {
			return 0, nil, fmt.Errorf("%s at %d: delta base offset %d is outside the pack", p.name, off, rel)
		}
		baseOff = off - rel
	case plumbing.REFDeltaObject:
		if _, err := io.ReadFull(src, baseID[:]); err != nil {
			return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, unexpected(err))
		}
	default:
		return 0, nil, fmt.Errorf("%s at %d: unknown object type %d", p.name, off, typ)
	}
	z, err := getZlib(src)
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, unexpected(err))
	}
	data, err := inflateAll(z, size)
	zlibs.Put(z)
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, err)
	}
	if typ != plumbing.OFSDeltaObject && typ != plumbing.REFDeltaObject {
		return typ, data, nil
	}
	var base rawObject
	if typ == plumbing.OFSDeltaObject {
		base, err = r.base(p, baseOff, depth)
	} else {
		base, err = r.refBase(p, baseID, depth)
	}
	if err != nil {
		return 0, nil, err
	}
	out, err := applyDelta(base.data, data)
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.name, off, err)
	}
	return base.typ, out, nil
}

// base is the object at off in p as a delta base, from the cache when
// another delta read it already.
func (r *objReader) base(p *packIndex, off int64, depth int) (rawObject, error) {
	k := baseKey{p, off}
	r.cacheMu.Lock()
	b, ok := r.bases[k]
	r.cacheMu.Unlock()
	if ok {
		return b, nil
	}
	typ, data, err := r.packed(p, off, depth+1)
	if err != nil {
		return rawObject{}, err
	}
	b = rawObject{typ, data}
	r.cacheMu.Lock()
	if r.baseBytes+len(data) > maxBaseBytes {
		clear(r.bases)
		r.baseBytes = 0
	}
	if _, dup := r.bases[k]; !dup {
		r.bases[k] = b
		r.baseBytes += len(data)
	}
	r.cacheMu.Unlock()
	return b, nil
}

// refBase is a reference delta's base, in the same pack.
func (r *objReader) refBase(p *packIndex, id plumbing.Hash, depth int) (rawObject, error) {
	if off, ok := p.find(id); ok && off >= 0 {
		return r.base(p, off, depth)
	}
	// A base outside the pack (a thin pack a fetch completed): go-git's.
	return rawObject{}, errNotHere
}

// inflateAll reads exactly size bytes from z and checks that the stream
// ends there (which also checks its Adler-32).
func inflateAll(z io.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(z, data); err != nil {
		return nil, unexpected(err)
	}
	var one [1]byte
	if n, err := z.Read(one[:]); n != 0 || err == nil {
		return nil, fmt.Errorf("object longer than its stated %d bytes", size)
	} else if err != io.EOF {
		return nil, err
	}
	return data, nil
}

// unexpected turns a premature io.EOF into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// applyDelta applies a git delta (base size, result size, then copy and
// insert instructions) to base.
func applyDelta(base, delta []byte) ([]byte, error) {
	bad := errors.New("malformed delta")
	varint := func() (int64, bool) {
		var v int64
		for shift := 0; shift < 63; shift += 7 {
			if len(delta) == 0 {
				return 0, false
			}
			c := delta[0]
			delta = delta[1:]
			v |= int64(c&0x7f) << shift
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	srcSize, ok1 := varint()
	dstSize, ok2 := varint()
	if !ok1 || !ok2 || srcSize != int64(len(base)) || dstSize > maxObjectSize {
		return nil, bad
	}
	out := make([]byte, 0, dstSize)
	for len(delta) > 0 {
		cmd := delta[0]
		delta = delta[1:]
		switch {
		case cmd&0x80 != 0:
			var off, n uint64
			for i := 0; i < 7; i++ {
				if cmd&(1<<i) == 0 {
					continue
				}
				if len(delta) == 0 {
					return nil, bad
				}
				if i < 4 {
					off |= uint64(delta[0]) << (8 * i)
				} else {
					n |= uint64(delta[0]) << (8 * (i - 4))
				}
				delta = delta[1:]
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || int64(len(out))+int64(n) > dstSize {
				return nil, bad
			}
			out = append(out, base[off:off+n]...)
		case cmd != 0:
			if int(cmd) > len(delta) || int64(len(out))+int64(cmd) > dstSize {
				return nil, bad
			}
			out = append(out, delta[:cmd]...)
			delta = delta[cmd:]
		default:
			return nil, bad
		}
	}
	if int64(len(out)) != dstSize {
		return nil, bad
	}
	return out, nil
}

// source reads a file from an offset, through the chunks of a pack or
// with pread into a buffer of its own: an io.ByteReader, so flate reads
// it without a bufio of its own.
type source struct {
	f        *os.File
	pack     *packIndex // nil: a loose object file
	off, end int64      // next file offset to read; end 0: unknown
	own      []byte
	buf      []byte // what is read: own, or part of a chunk
	pos, n   int
}

var sources = sync.Pool{New: func() any { return &source{own: make([]byte, 4096)} }}

func getSource(f *os.File, off, end int64) *source {
	s := sources.Get().(*source)
	s.f, s.pack, s.off, s.end, s.buf, s.pos, s.n = f, nil, off, end, s.own, 0, 0
	return s
}

// packSource reads the pack p from off.
func packSource(p *packIndex, off int64) *source {
	s := getSource(p.f, off, p.size)
	s.pack = p
	return s
}

func putSource(s *source) {
	s.f, s.pack, s.buf = nil, nil, nil
	sources.Put(s)
}

func (s *source) fill() error {
	if s.pack != nil {
		c, err := s.pack.chunk(s.off / chunkSize)
		at := int(s.off % chunkSize)
		if at >= len(c) {
			if err == nil {
				err = io.EOF
			}
			return err
		}
		s.buf, s.pos, s.n = c[at:], 0, len(c)-at
		s.off += int64(s.n)
		return nil
	}
	want := len(s.buf)
	if s.end > 0 && s.end-s.off < int64(want) {
		want = int(s.end - s.off)
		if want <= 0 {
			return io.EOF
		}
	}
	n, err := s.f.ReadAt(s.buf[:want], s.off)
	s.off += int64(n)
	s.pos, s.n = 0, n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

func (s *source) ReadByte() (byte, error) {
	if s.pos == s.n {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	c := s.buf[s.pos]
	s.pos++
	return c, nil
}

func (s *source) Read(b []byte) (int, error) {
	if s.pos == s.n {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, s.buf[s.pos:s.n])
	s.pos += n
	return n, nil
}

// zlibs are zlib readers kept for reuse (Reset, not a new inflater and
// window per object).
var zlibs sync.Pool

func getZlib(src io.Reader) (io.ReadCloser, error) {
	if z, ok := zlibs.Get().(io.ReadCloser); ok {
		if err := z.(zlib.Resetter).Reset(src, nil); err != nil {
			zlibs.Put(z)
			return nil, err
		}
		return z, nil
	}
	return zlib.NewReader(src)
}

// close releases the pack files.
func (r *objReader) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	var errs []error
	for _, p := range r.packs {
		errs = append(errs, p.f.Close())
	}
	r.packs = nil
	return errors.Join(errs...)
}
