package schema

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// fastParse reads the plain subset of YAML that config files are almost
// always written in, and builds the very node tree yaml.v3 would (kinds,
// styles, tags, values, lines and columns), much faster than yaml.v3's
// scanner. It reports false for anything outside that subset, and the
// file is then parsed by yaml.v3 as before, so every syntax error, alias,
// tag, multi-line or unusual scalar, and every diagnostic, is yaml.v3's.
//
// The subset: one document, no "---", "..." or "%" lines; ASCII only, no
// tabs, carriage returns or control characters; block mappings whose keys
// are plain words; block sequences of scalars or flow collections; flow
// mappings and sequences on one line; plain scalars on one line, and
// quoted scalars on one line without escapes; comments. Plain scalars
// are tagged by yaml.v3's own resolver (Node.ShortTag).
// TestFastParseSame and FuzzFastParse check the trees are identical.
func fastParse(data []byte) (n *yaml.Node, ok bool) {
	return fastParseIn(data, nil)
}

// parseArena is the memory of one loader worker for the trees of the
// files it parses one after the other. processFile lets a file's tree go
// before it parses the next file, so the next tree reuses the nodes and
// the line table: a tree parsed in an arena lives only until the next
// parse in that arena.
type parseArena struct {
	nodes []yaml.Node
	lines []fastLine
}

// arenaNodes is the nodes an arena holds; a larger tree takes the rest
// from the heap.
const arenaNodes = 512

// fastParseIn is fastParse with the nodes and lines taken from arena
// (nil: the heap).
func fastParseIn(data []byte, arena *parseArena) (n *yaml.Node, ok bool) {
	defer func() {
		// A bug here must cost speed, never a wrong verdict: yaml.v3
		// reads the file instead.
		if recover() != nil {
			n, ok = nil, false
		}
	}()
	if len(data) == 0 {
		return nil, false
	}
	for _, c := range data {
		if c >= 0x80 || c == 0x7f || (c < 0x20 && c != '\n') {
			return nil, false
		}
	}
	p := &fastParser{data: data}
	if arena != nil {
		if arena.nodes == nil {
			arena.nodes = make([]yaml.Node, 0, arenaNodes)
		}
		p.slab, p.lines = arena.nodes[:0], arena.lines[:0]
	}
	p.splitLines()
	if arena != nil {
		arena.lines = p.lines
	}
	for _, l := range p.lines {
		if l.text != nil && l.indent == 0 && (hasPrefix(l.text, "---") || hasPrefix(l.text, "...") || l.text[0] == '%') {
			return nil, false
		}
	}
	p.skipBlank()
	if p.i >= len(p.lines) || p.lines[p.i].indent != 0 {
		return nil, false
	}
	first := p.lines[p.i]
	root, ok := p.block(0)
	if !ok {
		return nil, false
	}
	p.skipBlank()
	if p.i != len(p.lines) {
		return nil, false
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Line: first.no, Column: 1, Content: []*yaml.Node{root}}
	return doc, true
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

type fastLine struct {
	no     int    // 1-based line number
	indent int    // leading spaces
	text   []byte // after the indent; nil for a blank or comment-only line
}

type fastParser struct {
	data  []byte
	lines []fastLine
	i     int // next line
	slab  []yaml.Node
}

// node allocates nodes a slab at a time: a file's nodes live and die
// together.
func (p *fastParser) node(n yaml.Node) *yaml.Node {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]yaml.Node, 0, 32)
	}
	p.slab = append(p.slab, n)
	return &p.slab[len(p.slab)-1]
}

func (p *fastParser) splitLines() {
	if n := bytes.Count(p.data, []byte{'\n'}) + 1; cap(p.lines) < n {
		p.lines = make([]fastLine, 0, n)
	}
	no := 1
	for start := 0; start <= len(p.data); no++ {
		end := start
		for end < len(p.data) && p.data[end] != '\n' {
			end++
		}
		line := p.data[start:end]
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		text := line[ind:]
		if len(text) == 0 || text[0] == '#' {
			text = nil
		}
		p.lines = append(p.lines, fastLine{no: no, indent: ind, text: text})
		if end == len(p.data) {
			break
		}
		start = end + 1
	}
}

func (p *fastParser) skipBlank() {
	for p.i < len(p.lines) && p.lines[p.i].text == nil {
		p.i++
	}
}

// block reads the block node starting at the current line, which has
// indent ind.
func (p *fastParser) block(ind int) (*yaml.Node, bool) {
	l := p.lines[p.i]
	if l.text[0] == '-' && (len(l.text) == 1 || l.text[1] == ' ') {
		return p.sequence(ind)
	}
	return p.mapping(ind)
}

// mapping reads a block mapping whose keys stand at indent ind.
func (p *fastParser) mapping(ind int) (*yaml.Node, bool) {
	first := p.lines[p.i]
	n := p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: first.no, Column: ind + 1})
	for {
		p.skipBlank()
		if p.i >= len(p.lines) || p.lines[p.i].indent < ind {
			return n, true
		}
		l := p.lines[p.i]
		if l.indent != ind {
			return nil, false
		}
		// key: a plain word, then ':' and a space or the line's end.
		k := 0
		for k < len(l.text) && isKeyChar(l.text[k]) {
			k++
		}
		if k == 0 || k > maxFastKey || k >= len(l.text) || l.text[k] != ':' || (k+1 < len(l.text) && l.text[k+1] != ' ') {
			return nil, false
		}
		key := p.node(yaml.Node{Kind: yaml.ScalarNode, Value: string(l.text[:k]), Line: l.no, Column: ind + 1})
		key.Tag = key.ShortTag()
		if key.Tag == "!!merge" || key.Value == "<<" {
			return nil, false
		}
		rest := k + 1
		for rest < len(l.text) && l.text[rest] == ' ' {
			rest++
		}
		p.i++
		var val *yaml.Node
		if rest >= len(l.text) || l.text[rest] == '#' {
			if rest < len(l.text) && rest == k+1 {
				return nil, false // "key:#" is not a comment
			}
			// The value is the block below: deeper, or a sequence at the
			// key's own indent.
			p.skipBlank()
			if p.i >= len(p.lines) {
				return nil, false
			}
			nl := p.lines[p.i]
			isSeq := nl.text[0] == '-' && (len(nl.text) == 1 || nl.text[1] == ' ')
			if nl.indent > ind || (nl.indent == ind && isSeq) {
				var ok bool
				if val, ok = p.block(nl.indent); !ok {
					return nil, false
				}
			} else {
				return nil, false // an empty value: left to yaml.v3
			}
		} else {
			var ok bool
			if val, ok = p.inline(l, rest); !ok {
				return nil, false
			}
			if !p.nothingDeeper(ind) {
				return nil, false
			}
		}
		n.Content = append(n.Content, key, val)
	}
}

// nothingDeeper: after a value that ends on its line, the next content
// line must not be indented deeper than ind (that would continue a plain
// scalar, or be an error).
func (p *fastParser) nothingDeeper(ind int) bool {
	for j := p.i; j < len(p.lines); j++ {
		if p.lines[j].text != nil {
			return p.lines[j].indent <= ind
		}
	}
	return true
}

// sequence reads a block sequence whose dashes stand at indent ind.
func (p *fastParser) sequence(ind int) (*yaml.Node, bool) {
	first := p.lines[p.i]
	n := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: first.no, Column: ind + 1})
	for {
		p.skipBlank()
		if p.i >= len(p.lines) || p.lines[p.i].indent < ind {
			return n, true
		}
		l := p.lines[p.i]
		if l.indent != ind || l.text[0] != '-' {
			if l.indent == ind {
				return n, true // the mapping that holds this sequence goes on
			}
			return nil, false
		}
		if len(l.text) < 3 || l.text[1] != ' ' {
			return nil, false
		}
		rest := 2
		for rest < len(l.text) && l.text[rest] == ' ' {
			rest++
		}
		if rest >= len(l.text) || l.text[rest] == '#' || l.text[rest] == '-' && (rest+1 == len(l.text) || l.text[rest+1] == ' ') {
			return nil, false
		}
		// "- key: value" starts a mapping inside the item: left to yaml.v3.
		for j := rest; j < len(l.text); j++ {
			if l.text[j] == ':' && (j+1 == len(l.text) || l.text[j+1] == ' ') {
				if l.text[rest] != '{' && l.text[rest] != '[' && l.text[rest] != '"' && l.text[rest] != '\'' {
					return nil, false
				}
			}
		}
		p.i++
		val, ok := p.inline(l, rest)
		if !ok || !p.nothingDeeper(ind) {
			return nil, false
		}
		n.Content = append(n.Content, val)
	}
}

// inline reads the value that starts at l.text[at] and ends on the line
// (optionally followed by a comment).
func (p *fastParser) inline(l fastLine, at int) (*yaml.Node, bool) {
	s := &flowScanner{p: p, text: l.text, pos: at, line: l.no, col0: l.indent + 1}
	var n *yaml.Node
	var ok bool
	switch l.text[at] {
	case '{', '[':
		n, ok = s.flow(0)
	case '"', '\'':
		n, ok = s.quoted()
	default:
		n, ok = s.plainBlock()
	}
	if !ok {
		return nil, false
	}
	return n, s.endOfLine()
}

type flowScanner struct {
	p    *fastParser
	text []byte
	pos  int
	line int
	col0 int // column of text[0]
}

func (s *flowScanner) endOfLine() bool {
	start := s.pos
	for s.pos < len(s.text) && s.text[s.pos] == ' ' {
		s.pos++
	}
	if s.pos == len(s.text) {
		return true
	}
	// A comment needs a space before it.
	return s.text[s.pos] == '#' && s.pos > start
}

func (s *flowScanner) spaces() {
	for s.pos < len(s.text) && s.text[s.pos] == ' ' {
		s.pos++
	}
}

// plainBlock reads a plain scalar in block context: the rest of the line
// up to a comment. It refuses what yaml.v3 would read otherwise: a
// leading indicator, ": " (a mapping) or a trailing ':'.
func (s *flowScanner) plainBlock() (*yaml.Node, bool) {
	start := s.pos
	if !plainStart(s.text, start, false) {
		return nil, false
	}
	end := start
	for i := start; i < len(s.text); i++ {
		c := s.text[i]
		if c == '#' && s.text[i-1] == ' ' {
			break
		}
		if c == ':' && (i+1 == len(s.text) || s.text[i+1] == ' ') {
			return nil, false
		}
		if c != ' ' {
			end = i + 1
		}
	}
	s.pos = end
	return s.scalar(start, string(s.text[start:end])), true
}

// plainStart: the character at i may start a plain scalar (YAML's
// indicators may not, except '-' before a non-space).
func plainStart(t []byte, i int, flow bool) bool {
	switch c := t[i]; c {
	case '-':
		return i+1 < len(t) && t[i+1] != ' ' && !(flow && isFlowIndicator(t[i+1]))
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	}
	return true
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}

func (s *flowScanner) scalar(start int, v string) *yaml.Node {
	n := s.p.node(yaml.Node{Kind: yaml.ScalarNode, Value: v, Line: s.line, Column: s.col0 + start})
	n.Tag = n.ShortTag()
	return n
}

// quoted reads a quoted scalar on one line without escapes (a doubled
// single quote is the one escape read).
func (s *flowScanner) quoted() (*yaml.Node, bool) {
	start := s.pos
	q := s.text[start]
	var v []byte
	i := start + 1
	for ; ; i++ {
		if i >= len(s.text) {
			return nil, false
		}
		c := s.text[i]
		if q == '"' && c == '\\' {
			return nil, false
		}
		if c == q {
			if q == '\'' && i+1 < len(s.text) && s.text[i+1] == '\'' {
				v = append(v, '\'')
				i++
				continue
			}
			break
		}
		v = append(v, c)
	}
	s.pos = i + 1
	style := yaml.DoubleQuotedStyle
	if q == '\'' {
		style = yaml.SingleQuotedStyle
	}
	return s.p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: string(v), Line: s.line, Column: s.col0 + start}), true
}

// flow reads a flow mapping or sequence that closes on the same line.
func (s *flowScanner) flow(depth int) (*yaml.Node, bool) {
	if depth > maxDepth {
		return nil, false
	}
	open := s.text[s.pos]
	n := s.p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Line: s.line, Column: s.col0 + s.pos})
	closer := byte('}')
	if open == '[' {
		n.Kind, n.Tag, closer = yaml.SequenceNode, "!!seq", ']'
	}
	s.pos++
	s.spaces()
	if s.pos < len(s.text) && s.text[s.pos] == closer {
		s.pos++
		return n, true
	}
	for {
		if s.pos >= len(s.text) {
			return nil, false
		}
		if open == '{' {
			key, ok := s.flowKey()
			if !ok {
				return nil, false
			}
			val, ok := s.flowValue(depth)
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, key, val)
		} else {
			val, ok := s.flowValue(depth)
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, val)
		}
		s.spaces()
		if s.pos >= len(s.text) {
			return nil, false
		}
		switch s.text[s.pos] {
		case closer:
			s.pos++
			return n, true
		case ',':
			s.pos++
			s.spaces()
			if s.pos >= len(s.text) || s.text[s.pos] == closer || s.text[s.pos] == ',' {
				return nil, false // a trailing or empty entry: left to yaml.v3
			}
		default:
			return nil, false
		}
	}
}

// flowKey reads "word: " inside a flow mapping.
func (s *flowScanner) flowKey() (*yaml.Node, bool) {
	start := s.pos
	for s.pos < len(s.text) && isKeyChar(s.text[s.pos]) {
		s.pos++
	}
	if s.pos == start || s.pos-start > maxFastKey || s.pos+1 >= len(s.text) || s.text[s.pos] != ':' || s.text[s.pos+1] != ' ' {
		return nil, false
	}
	key := s.scalar(start, string(s.text[start:s.pos]))
	if key.Tag == "!!merge" || key.Value == "<<" {
		return nil, false
	}
	s.pos += 2
	s.spaces()
	return key, true
}

// flowValue reads a value inside a flow collection.
func (s *flowScanner) flowValue(depth int) (*yaml.Node, bool) {
	if s.pos >= len(s.text) {
		return nil, false
	}
	switch s.text[s.pos] {
	case '{', '[':
		return s.flow(depth + 1)
	case '"', '\'':
		return s.quoted()
	}
	start := s.pos
	if !plainStart(s.text, start, true) {
		return nil, false
	}
	end := start
	for i := start; i < len(s.text); i++ {
		c := s.text[i]
		if c == ',' || c == ']' || c == '}' {
			break
		}
		if c == '#' && s.text[i-1] == ' ' || c == '[' || c == '{' || c == ':' {
			return nil, false
		}
		if c != ' ' {
			end = i + 1
		}
	}
	s.pos = end
	return s.scalar(start, string(s.text[start:end])), true
}

// maxFastKey: yaml.v3 reads a key of 1,024 characters or more as no key.
const maxFastKey = 1000

// isKeyChar: the characters of a key read on the fast path.
func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/'
}
