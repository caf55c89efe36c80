// Package schema loads a config directory: it reads every YAML document,
// validates it against the embedded JSON Schemas (composed with the
// registered drivers and providers), decodes it into typed structs and
// checks the semantic rules of SPEC §2. Every problem is a diagnostic that
// names path:line:col and the field.
package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
)

// MaxFileSize is the largest config file read (1 MiB).
const MaxFileSize = 1 << 20

// source is one config file: its path, and its bytes once read.
type source struct {
	rel  string // relative to the config dir, slash-separated
	path string // to open; "" when data is given (tests, the fuzzer)
	data []byte
}

// Load reads, validates and decodes the config directory dir. The Config
// is nil when dir cannot be read at all; otherwise it holds every document
// that validated, and the diagnostics say what did not.
func Load(dir string) (*config.Config, diag.Diagnostics) {
	return LoadWith(dir, LoadOptions{})
}

// LoadOptions tune what Load keeps for the stages after it. The Config
// and the diagnostics are the same whatever the options.
type LoadOptions struct {
	// NoPosIndex keeps no position index of the documents: a position
	// asked for later (a plan's causes) parses the file again. For a
	// command that only loads (validate), the index is work for nothing.
	NoPosIndex bool
}

// LoadWith is Load with options.
func LoadWith(dir string, opts LoadOptions) (*config.Config, diag.Diagnostics) {
	var ds diag.Diagnostics
	root, ok := configRoot(dir, &ds)
	if !ok {
		ds.Sort()
		return nil, ds
	}
	// Files are read and parsed while the directory is still walked.
	q := startFiles(opts)
	walkConfig(root, dir, &ds, q.add)
	srcs, results := q.finish()
	// Files refused unread (too large, a symlink leaving the directory)
	// might define anything the others refer to.
	refused := ds.HasErrors()
	if len(srcs) == 0 && !refused {
		ds.Add(diag.Pos{}, "", "no config files (*.yaml, *.yml) in %s", dir)
	}
	cfg := assemble(dir, srcs, results, refused, &ds)
	if len(srcs) > 0 && !ds.HasErrors() && len(cfg.Products)+len(cfg.Targets)+len(cfg.Providers) == 0 {
		ds.Add(diag.Pos{}, "", "no config documents in %s: every file is empty", dir)
	}
	ds.Sort()
	return cfg, ds
}

// IsConfigFile reports whether rel, a slash path relative to the config
// directory, names a config file: *.yaml or *.yml with no element hidden
// (starting with "."). Load reads exactly these files, and watch reacts
// to exactly these.
func IsConfigFile(rel string) bool {
	if strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.") {
		return false // an element is hidden
	}
	return strings.HasSuffix(rel, ".yaml") || strings.HasSuffix(rel, ".yml")
}

// walkConfig gives found the config files under root, the real path of
// dir (configRoot), in lexical order. Hidden files and directories (.git,
// .github) are skipped; symlinks may point anywhere inside root, never
// out of it; only regular files are given, so a named pipe or a device is
// refused, never opened.
func walkConfig(root, dir string, ds *diag.Diagnostics, found func(source)) {
	w := &dirWalker{root: root, ds: ds, found: found}
	if err := filepath.WalkDir(root, w.visit); err != nil {
		ds.Add(diag.Pos{}, "", "reading config directory %s: %v", dir, err)
	}
}

// configRoot checks that dir is a directory and returns its real,
// absolute path: symlinks are judged against it, whatever form --config
// was given in.
func configRoot(dir string, ds *diag.Diagnostics) (string, bool) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ds.Add(diag.Pos{}, "", "config directory %s does not exist (set --config)", dir)
		return "", false
	case err != nil:
		ds.Add(diag.Pos{}, "", "config directory %s: %v", dir, err)
		return "", false
	case !info.IsDir():
		ds.Add(diag.Pos{}, "", "config directory %s is not a directory", dir)
		return "", false
	}
	root, err := filepath.EvalSymlinks(dir)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err != nil {
		ds.Add(diag.Pos{}, "", "config directory %s: %v", dir, err)
		return "", false
	}
	return root, true
}

// dirWalker finds the config files under root.
type dirWalker struct {
	root  string
	ds    *diag.Diagnostics
	found func(source)
}

// inside reports whether the real path is root or below it.
func (w *dirWalker) inside(real string) bool {
	r, err := filepath.Rel(w.root, real)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// visit is walkConfig's filepath.WalkDirFunc.
func (w *dirWalker) visit(path string, d fs.DirEntry, err error) error {
	// WalkDir's paths are filepath.Join(root, …), root clean and absolute
	rel := "."
	if path != w.root {
		rel = filepath.ToSlash(strings.TrimPrefix(path[len(w.root):], string(filepath.Separator)))
	}
	pos := diag.Pos{File: rel}
	if err != nil {
		w.ds.Add(pos, "", "%v", unwrapPathError(err))
		return nil
	}
	if path != w.root && strings.HasPrefix(d.Name(), ".") {
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	}
	if d.IsDir() {
		return nil
	}
	mode := d.Type()
	if mode&fs.ModeSymlink != 0 {
		var ok bool
		if mode, ok = w.symlink(path, rel, pos); !ok {
			return nil
		}
	} else if !IsConfigFile(rel) {
		return nil
	}
	if !mode.IsRegular() {
		w.ds.Add(pos, "", "%s; config files must be regular files", notRegular(mode))
		return nil
	}
	w.found(source{rel: rel, path: path})
	return nil
}

// symlink judges the symlink at path and returns the type of what it
// points to; false means it is not to be read (said so in w.ds when
// that is an error).
func (w *dirWalker) symlink(path, rel string, pos diag.Pos) (fs.FileMode, bool) {
	target, _ := os.Readlink(path)
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		if IsConfigFile(rel) {
			w.ds.Add(pos, "", "broken symlink to %s: %v", target, unwrapPathError(err))
		}
		return 0, false
	}
	st, err := os.Stat(real)
	if err != nil {
		w.ds.Add(pos, "", "%v", unwrapPathError(err))
		return 0, false
	}
	if st.IsDir() {
		// A directory inside the config dir is walked where it
		// really is; one outside it is refused, not skipped.
		if !w.inside(real) {
			w.ds.Add(pos, "", "symlink to a directory outside the config directory (points to %s)", target)
		}
		return 0, false
	}
	if !IsConfigFile(rel) {
		return 0, false // never read, wherever it points
	}
	if !w.inside(real) {
		w.ds.Add(pos, "", "symlink leaves the config directory (points to %s)", target)
		return 0, false
	}
	return st.Mode().Type(), true
}

// notRegular names what a non-regular file is.
func notRegular(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO), not a file"
	case mode&fs.ModeSocket != 0:
		return "a socket, not a file"
	case mode&fs.ModeDevice != 0:
		return "a device, not a file"
	}
	return "not a regular file"
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readLimited reads at most MaxFileSize bytes and refuses larger files
// without reading them whole. It opens without blocking and checks the
// opened file is regular, so a file swapped for a named pipe after the
// directory was listed cannot hang the load. It uses the system calls
// directly: open, fstat, read to the end, close (os.File adds a second
// fstat and poller bookkeeping per file, a sixth of loading 4,500 files).
func readLimited(path string) ([]byte, error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if _, err := retryEINTR(func() (int, error) { return 0, syscall.Fstat(fd, &st) }); err != nil {
		return nil, err
	}
	if uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG {
		return nil, fmt.Errorf("%s; config files must be regular files", notRegular(statMode(uint32(st.Mode))))
	}
	data := make([]byte, 0, min(st.Size+1, MaxFileSize+1))
	for len(data) <= MaxFileSize {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		end := min(cap(data), MaxFileSize+1)
		n, err := retryEINTR(func() (int, error) { return syscall.Read(fd, data[len(data):end]) })
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		data = data[:len(data)+n]
		if int64(len(data)) == st.Size && len(data) < end {
			// the size fstat gave, read in one go with room to spare:
			// the read to end of file would only say so
			break
		}
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file is larger than 1 MiB; config files must be smaller")
	}
	return data, nil
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// statMode is the fs.FileMode type bits of a stat mode.
func statMode(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFDIR:
		return fs.ModeDir
	}
	return fs.ModeIrregular
}

// loader carries the state of one Load.
type loader struct {
	ds  *diag.Diagnostics
	cfg *config.Config
	// incomplete: some config could not be read (a refused file, a syntax
	// error, a document of unknown kind), so it might define what others
	// refer to: checks that a name or lane exists are skipped, the rest run.
	incomplete bool
	names      map[string]map[string]*doc // kind -> name -> first definition (valid or not)
	targets    []*config.Target           // in load order, for "first defined at" messages
	docs       map[any]*doc               // typed object -> its document, for positions
}

type pos = diag.Pos

// fileResult is everything one file yields, computed independently of
// every other file so files are processed concurrently.
type fileResult struct {
	ds       diag.Diagnostics
	unread   bool // refused or failed to read: counts as refused
	parseErr bool
	docs     []docResult
}

// docResult is one document: its kind and name, and the typed object when
// it passed its schema (nil otherwise).
type docResult struct {
	d        *doc
	kind     string
	name     string
	product  *config.Product
	target   *config.Target
	provider *config.Provider
}

// loadSources is Load over sources already found: tests and the fuzzer
// call it with their data. incomplete says config files were refused
// unread.
func loadSources(dir string, srcs []source, incomplete bool, opts LoadOptions, ds *diag.Diagnostics) *config.Config {
	q := startFiles(opts)
	for _, s := range srcs {
		q.add(s)
	}
	read, results := q.finish()
	return assemble(dir, read, results, incomplete, ds)
}

// fileQueue reads and parses files on GOMAXPROCS workers as they are
// added, each worker parsing into its own reused arena.
type fileQueue struct {
	jobs []*fileJob // in the order added
	ch   chan *fileJob
	wg   sync.WaitGroup
}

type fileJob struct {
	src source
	res fileResult
}

func startFiles(opts LoadOptions) *fileQueue {
	q := &fileQueue{ch: make(chan *fileJob, 256)}
	for range runtime.GOMAXPROCS(0) {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			var arena parseArena
			for j := range q.ch {
				j.res = processFileIn(&j.src, opts, &arena)
			}
		}()
	}
	return q
}

func (q *fileQueue) add(s source) {
	j := &fileJob{src: s}
	q.jobs = append(q.jobs, j)
	q.ch <- j
}

// finish waits for every file and returns them, read, with their
// results, in the order added.
func (q *fileQueue) finish() ([]source, []fileResult) {
	close(q.ch)
	q.wg.Wait()
	srcs := make([]source, len(q.jobs))
	results := make([]fileResult, len(q.jobs))
	for i, j := range q.jobs {
		srcs[i], results[i] = j.src, j.res
	}
	return srcs, results
}

// assemble makes the Config of the processed files: every document in
// file order, the digest of the files, then the checks across files.
func assemble(dir string, srcs []source, results []fileResult, incomplete bool, ds *diag.Diagnostics) *config.Config {
	l := &loader{
		ds:         ds,
		incomplete: incomplete,
		cfg:        &config.Config{Dir: dir},
		names:      map[string]map[string]*doc{},
		docs:       map[any]*doc{},
	}
	h := sha256.New()
	var head []byte
	for i, s := range srcs {
		r := &results[i]
		if r.unread {
			*l.ds = append(*l.ds, r.ds...)
			l.incomplete = true
			continue
		}
		l.cfg.Files = append(l.cfg.Files, s.rel)
		// "<rel>\x00<len>\x00<data>" per file
		head = append(append(head[:0], s.rel...), 0)
		head = append(strconv.AppendInt(head, int64(len(s.data)), 10), 0)
		h.Write(head)
		h.Write(s.data)
		*l.ds = append(*l.ds, r.ds...)
		l.incomplete = l.incomplete || r.parseErr
		for _, dr := range r.docs {
			l.collect(dr)
		}
	}
	l.cfg.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	sort.Slice(l.cfg.Products, func(i, j int) bool { return l.cfg.Products[i].Name < l.cfg.Products[j].Name })
	sort.Slice(l.cfg.Providers, func(i, j int) bool { return l.cfg.Providers[i].Name < l.cfg.Providers[j].Name })
	sortTargets(l.cfg.Targets)
	l.semantic()
	// What later stages ask of a document is only where its fields are,
	// and that rarely: let the values go; positions are found again from
	// the file's bytes when asked for.
	for _, d := range l.docs {
		d.value = nil
	}
	return l.cfg
}

// sortTargets sorts targets by key, stably; each key is made once.
func sortTargets(ts []*config.Target) {
	type keyed struct {
		key string
		t   *config.Target
	}
	ks := make([]keyed, len(ts))
	for i, t := range ts {
		ks[i] = keyed{t.Key(), t}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	for i := range ks {
		ts[i] = ks[i].t
	}
}

// collect registers a document's name, in file order, and keeps its typed
// object unless the name is a duplicate.
func (l *loader) collect(dr docResult) {
	if dr.name != "" {
		if first, dup := l.names[dr.kind][dr.name]; dup {
			l.ds.Add(dr.d.pos("/metadata/name"), "metadata.name", "duplicate %s %q (first defined at %s)", dr.kind, dr.name, first.pos("/metadata/name"))
			return
		}
		if l.names[dr.kind] == nil {
			l.names[dr.kind] = map[string]*doc{}
		}
		l.names[dr.kind][dr.name] = dr.d
	}
	switch {
	case dr.product != nil:
		l.cfg.Products = append(l.cfg.Products, dr.product)
		l.docs[dr.product] = dr.d
	case dr.target != nil:
		l.cfg.Targets = append(l.cfg.Targets, dr.target)
		l.targets = append(l.targets, dr.target)
		l.docs[dr.target] = dr.d
	case dr.provider != nil:
		l.cfg.Providers = append(l.cfg.Providers, dr.provider)
		l.docs[dr.provider] = dr.d
	}
}

// processFile reads (when not read yet), parses, validates and decodes
// one file.
func processFile(s *source, opts LoadOptions) fileResult {
	return processFileIn(s, opts, nil)
}

// processFileIn is processFile parsing in arena (nil: the heap). Nothing
// it returns points into the file's tree, so the next file parsed in
// arena may reuse it.
func processFileIn(s *source, opts LoadOptions, arena *parseArena) fileResult {
	var r fileResult
	if s.data == nil && s.path != "" {
		data, err := readLimited(s.path)
		if err != nil {
			r.ds.Add(diag.Pos{File: s.rel}, "", "%v", err)
			r.unread = true
			return r
		}
		s.data = data
	}
	docs, ok := parseIn(*s, &r.ds, arena)
	r.parseErr = !ok
	for _, d := range docs {
		dr, ok := document(d, &r.ds)
		if !ok {
			r.parseErr = true
		}
		// The tree is let go as soon as the document is read, so memory
		// holds one file's tree per worker, not every file's; a position
		// asked for later parses the file again (doc.lookup).
		if d.fast && !opts.NoPosIndex {
			d.idx = newPosIndex(d.node)
		}
		d.data, d.node, d.locs, d.walk = s.data, nil, nil, false
		if dr.kind != "Provider" {
			d.value = nil
		}
		if dr.kind != "" {
			r.docs = append(r.docs, dr)
		}
	}
	return r
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse splits a file into documents. A syntax error ends the file: the
// documents after it cannot be trusted. It reports false on such an error.
func parse(s source, ds *diag.Diagnostics) (docs []*doc, ok bool) {
	return parseIn(s, ds, nil)
}

// parseIn is parse with the fast parser's tree in arena (nil: the heap).
func parseIn(s source, ds *diag.Diagnostics, arena *parseArena) (docs []*doc, ok bool) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a config file
		// must never take the process down.
		if r := recover(); r != nil {
			ok = false
			ds.Add(diag.Pos{File: s.rel, Line: 1, Col: 1}, "", "invalid YAML: parser failed: %v", r)
			docs = nil
		}
	}()
	if p, bad, ok := invalidUTF8(s); !ok {
		ds.Add(p, "", "invalid UTF-8 (byte 0x%02x); config files must be UTF-8", bad)
		return nil, false
	}
	if n, ok := fastParseIn(s.data, arena); ok {
		if isEmptyDoc(n) {
			return nil, true
		}
		return []*doc{{file: s.rel, index: 0, node: n, fast: true}}, true
	}
	dec := yaml.NewDecoder(bytes.NewReader(s.data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return docs, true
		}
		if err != nil {
			p := diag.Pos{File: s.rel, Line: 1, Col: 1}
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				p.Line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			ds.Add(p, "", "%s", syntaxMessage(msg))
			return docs, false
		}
		if isEmptyDoc(&n) {
			continue
		}
		docs = append(docs, &doc{file: s.rel, index: i, node: &n})
	}
}

// invalidUTF8 finds the first byte that is not UTF-8 and reports its
// line and column, counted in characters as the parser counts them
// (yaml.v3 reports such a byte at no position). A file with a UTF-16 byte
// order mark is left to the parser, which reads UTF-16.
func invalidUTF8(s source) (p diag.Pos, bad byte, ok bool) {
	b := s.data
	if utf8.Valid(b) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) || bytes.HasPrefix(b, []byte{0xff, 0xfe}) {
		return diag.Pos{}, 0, true
	}
	line, col := 1, 1
	for off := 0; off < len(b); {
		r, n := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && n <= 1 {
			return diag.Pos{File: s.rel, Line: line, Col: col}, b[off], false
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		off += n
	}
	return diag.Pos{}, 0, true
}

// syntaxMessage words a yaml.v3 syntax error. For parser errors ("did not
// find expected …") yaml.v3 gives only the line before the block that
// holds the problem, not the problem's own line, so the message says so.
func syntaxMessage(msg string) string {
	switch {
	case strings.HasPrefix(msg, "did not find expected"):
		return "invalid YAML in the block that starts below this line: " + msg + " (check the indentation)"
	case strings.Contains(msg, "not allowed in this context"), strings.Contains(msg, "could not find expected ':'"):
		return "invalid YAML: " + msg + " (check the indentation)"
	}
	return "invalid YAML: " + msg
}

func isEmptyDoc(n *yaml.Node) bool {
	if n.Kind == 0 {
		return true
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return true
		}
		c := n.Content[0]
		return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null"
	}
	return false
}

// document converts, validates and decodes one document. It reports false
// when the document could not be read as config at all (its kind and name
// are unknown, so it might define anything).
func document(d *doc, ds *diag.Diagnostics) (docResult, bool) {
	root := d.node.Content[0]
	if root.Kind != yaml.MappingNode {
		ds.Add(nodePos(d.file, root), "", "a document must be a mapping with apiVersion, kind, metadata and spec; got %s", gotNode(root))
		return docResult{}, false
	}
	v, ok := convertDoc(d, root, ds)
	if !ok {
		return docResult{}, false
	}
	d.value = v
	kind, ok, readable := docKind(d, v.(map[string]any), ds)
	if !ok {
		return docResult{}, readable
	}

	// The name is kept even when the document is invalid, so references
	// to it are not reported again as unknown.
	name, _ := lookup(v, "/metadata/name").(string)
	dr := docResult{d: d, kind: kind, name: name}
	if kind != "Provider" {
		checkEnvKeys(d, ds)
	}
	valid, err := validateDoc(kind, d, ds)
	if err != nil {
		ds.Add(nodePos(d.file, root), "", "internal error: %v", err)
		return dr, true
	}
	if valid {
		if err := decode(&dr); err != nil {
			ds.Add(nodePos(d.file, root), "", "%v", err)
		}
	}
	return dr, true
}

// convertDoc converts the document whose root mapping is root to JSON
// values; false means it could not be (said so in ds).
func convertDoc(d *doc, root *yaml.Node, ds *diag.Diagnostics) (any, bool) {
	// Most documents convert cleanly: that pass keeps no pointer map.
	// Otherwise convert again, keeping it, for the diagnostics.
	v, ok := convertValue(d.node)
	var keyErrs []*convError
	var err error
	if !ok {
		v, d.locs, keyErrs, err = convert(d.node)
	}
	for _, ke := range keyErrs {
		ds.Add(nodePos(d.file, ke.node), fieldPath(ke.ptr), "%s", ke.msg)
	}
	if err == nil && len(keyErrs) > 0 {
		return nil, false
	}
	if err != nil {
		var ce *convError
		if errors.As(err, &ce) {
			ds.Add(nodePos(d.file, ce.node), fieldPath(ce.ptr), "%s", ce.msg)
		} else {
			ds.Add(nodePos(d.file, root), "", "%v", err)
		}
		return nil, false
	}
	return v, true
}

// docKind reads apiVersion and kind. ok is false unless the document is
// a Product, a Target or a Provider; readable then says whether it was
// still read as config (a Policy, which defines nothing here).
func docKind(d *doc, obj map[string]any, ds *diag.Diagnostics) (kind string, ok, readable bool) {
	apiVersion, hasAPI := obj["apiVersion"].(string)
	kind, hasKind := obj["kind"].(string)
	_, apiGiven := obj["apiVersion"]
	_, kindGiven := obj["kind"]
	switch {
	case apiGiven && !hasAPI:
		ds.Add(d.pos("/apiVersion"), "apiVersion", "must be the string %s; got %s", APIVersion, got(d, "/apiVersion"))
	case kindGiven && !hasKind:
		ds.Add(d.pos("/kind"), "kind", "must be one of the strings Product, Target, Provider; got %s", got(d, "/kind"))
	case !hasAPI:
		ds.Add(d.keyPos("/apiVersion"), "apiVersion", "required field is missing (want %s)", APIVersion)
	case apiVersion != APIVersion:
		ds.Add(d.pos("/apiVersion"), "apiVersion", "unsupported apiVersion %q (this launchplane reads %s)", apiVersion, APIVersion)
	case !hasKind:
		ds.Add(d.keyPos("/kind"), "kind", "required field is missing (want one of Product, Target, Provider)")
	case kind == "Policy":
		ds.Add(d.pos("/kind"), "kind", "a Policy lives in the state repository as policy.yaml, not in the config directory")
		return kind, false, true
	case kind != "Product" && kind != "Target" && kind != "Provider":
		hint := ""
		if near := closest(kind, []string{"Product", "Target", "Provider"}); near != "" {
			hint = fmt.Sprintf("; did you mean %s?", near)
		}
		ds.Add(d.pos("/kind"), "kind", "unknown kind %q (want one of Product, Target, Provider)%s", kind, hint)
	default:
		return kind, true, true
	}
	return kind, false, false
}

// decode fills the typed model from a document that passed its schema.
func decode(dr *docResult) error {
	kind, name, d := dr.kind, dr.name, dr.d
	specNode := d.specNode()
	spec := lookup(d.value, "/spec").(map[string]any)
	switch kind {
	case "Product":
		p := &config.Product{Name: name, Source: config.NewSource(d.file, d.pos)}
		var ok bool
		if p.Spec, ok = fastProductSpec(d, spec, driverBlockKeys()); !ok {
			p.Spec = config.ProductSpec{}
			if err := specNode.Decode(&p.Spec); err != nil {
				return err
			}
		}
		for key := range driverBlockKeys() {
			if block, ok := spec[key]; ok {
				raw, err := json.Marshal(block)
				if err != nil {
					return err
				}
				if p.Spec.Settings == nil {
					p.Spec.Settings = map[string]json.RawMessage{}
				}
				p.Spec.Settings[key] = raw
			}
		}
		dr.product = p
	case "Target":
		t := &config.Target{Name: name, Source: config.NewSource(d.file, d.pos)}
		var ok bool
		if t.Spec, ok = fastTargetSpec(d, spec); !ok {
			t.Spec = config.TargetSpec{}
			if err := specNode.Decode(&t.Spec); err != nil {
				return err
			}
		}
		dr.target = t
	case "Provider":
		p := &config.Provider{Name: name, Source: config.NewSource(d.file, d.pos), Type: spec["type"].(string)}
		if block, ok := spec[p.Type]; ok {
			raw, err := json.Marshal(block)
			if err != nil {
				return err
			}
			p.Config = raw
		} else {
			p.Config = json.RawMessage("{}")
		}
		dr.provider = p
	}
	return nil
}

func nodePos(file string, n *yaml.Node) diag.Pos {
	return diag.Pos{File: file, Line: n.Line, Col: n.Column}
}

// pos is the position of the value at ptr, or of the nearest enclosing
// value that exists.
func (d *doc) pos(ptr string) diag.Pos {
	if d.idx != nil {
		return d.idx.pos(d.file, ptr)
	}
	for {
		if l, ok := d.lookup(ptr); ok && l.val != nil {
			return nodePos(d.file, l.val)
		}
		if ptr == "" {
			return diag.Pos{File: d.file, Line: 1, Col: 1}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// keyPos is the position of the key naming ptr (the "foo" of "foo: 1"),
// falling back to the value.
func (d *doc) keyPos(ptr string) diag.Pos {
	if d.idx != nil {
		return d.idx.keyPos(d.file, ptr)
	}
	if l, ok := d.lookup(ptr); ok && l.key != nil {
		return nodePos(d.file, l.key)
	}
	return d.pos(ptr)
}

// lookup is what the pointer map holds at ptr. While the file is being
// read, the map is built from the document's tree. Once the tree is let
// go, the file is parsed again: a file the fast parser reads has no
// aliases, merge keys or duplicate keys, so walking its tree finds what
// the map would hold, and the tree is kept for the next question (a
// plan asks a few of every target); any other file gets its map again.
func (d *doc) lookup(ptr string) (loc, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.locs == nil && d.node == nil && d.data != nil && d.index == 0 {
		if n, ok := fastParse(d.data); ok {
			d.node, d.walk = n, true
		}
	}
	if d.locs == nil && d.walk {
		return walkPtr(d.node, ptr)
	}
	d.buildLocs()
	l, ok := d.locs[ptr]
	return l, ok
}

// walkPtr finds ptr in a tree with no aliases or merge keys, as convert's
// pointer map would: the first key of that name (a string key), or the
// item at that index.
func walkPtr(doc *yaml.Node, ptr string) (loc, bool) {
	if len(doc.Content) == 0 {
		return loc{}, false
	}
	l := loc{val: doc.Content[0]}
	if ptr == "" {
		return l, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescapePtr(tok)
		n := l.val
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == tok && k.ShortTag() == "!!str" {
					l, found = loc{key: k, val: n.Content[i+1]}, true
					break
				}
			}
			if !found {
				return loc{}, false
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) || strconv.Itoa(i) != tok {
				return loc{}, false
			}
			l = loc{val: n.Content[i]}
		default:
			return loc{}, false
		}
	}
	return l, true
}

// buildLocs builds the pointer map of the document when it is not there:
// from its tree while the file is being read, from the file's bytes
// (parsed again, exactly as the first time) after. d.mu is held.
func (d *doc) buildLocs() {
	if d.locs != nil {
		return
	}
	n := d.node
	if n == nil && d.data != nil {
		var ds diag.Diagnostics
		docs, _ := parse(source{rel: d.file, data: d.data}, &ds)
		for _, x := range docs {
			if x.index == d.index {
				n = x.node
			}
		}
	}
	if n == nil || len(n.Content) == 0 {
		d.locs = map[string]loc{}
		return
	}
	_, d.locs, _, _ = convert(n)
}

// specNode is the node of the document's spec: the value of its explicit
// spec key, as the pointer map would hold it (explicit keys come before
// merged ones), or else the pointer map's.
func (d *doc) specNode() *yaml.Node {
	if d.node != nil && len(d.node.Content) > 0 {
		root := d.node.Content[0]
		for i := 0; root.Kind == yaml.MappingNode && i+1 < len(root.Content); i += 2 {
			if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "spec" && k.ShortTag() == "!!str" {
				return root.Content[i+1]
			}
		}
	}
	l, _ := d.lookup("/spec")
	return l.val
}
