// Package diag holds positioned diagnostics: what is wrong, where, and in
// which field. It is a leaf package: everything may import it, it imports
// nothing of Launchplane's.
package diag

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Pos is a position in a config file. File is slash-separated and relative
// to the config directory; Line and Col are 1-based. A zero Line means the
// problem concerns the file (or the directory) as a whole.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	default:
		return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	}
}

// Severity orders diagnostics by how much they matter.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem. Field is the dotted path of the offending
// field inside its document (spec.ingress.domains[0]), empty when the
// problem is not about one field.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Field    string
	Message  string
}

// String renders "path:line:col: field: message"; a warning says so.
func (d Diagnostic) String() string {
	var b strings.Builder
	if p := d.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Diagnostics accumulates problems; the zero value is ready to use.
type Diagnostics []Diagnostic

// Add appends an error.
func (ds *Diagnostics) Add(pos Pos, field, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Warn appends a warning.
func (ds *Diagnostics) Warn(pos Pos, field, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, Severity: Warning, Field: field, Message: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders by file, line, column, field, message and removes exact
// duplicates, so output is deterministic whatever order checks ran in.
func (ds *Diagnostics) Sort() {
	s := *ds
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
	out := s[:0]
	for i, d := range s {
		if i > 0 && d == s[i-1] {
			continue
		}
		out = append(out, d)
	}
	*ds = out
}

func less(a, b Diagnostic) bool {
	if a.Pos.File != b.Pos.File {
		return a.Pos.File < b.Pos.File
	}
	if a.Pos.Line != b.Pos.Line {
		return a.Pos.Line < b.Pos.Line
	}
	if a.Pos.Col != b.Pos.Col {
		return a.Pos.Col < b.Pos.Col
	}
	if a.Field != b.Field {
		return a.Field < b.Field
	}
	if a.Severity != b.Severity {
		return a.Severity < b.Severity
	}
	return a.Message < b.Message
}

// Print writes one diagnostic a line. With annotate it also writes each as
// a GitHub Actions workflow command (::error file=…,line=…,col=…::…); base
// is prefixed to file names there so annotations point into the repository.
func (ds Diagnostics) Print(w io.Writer, annotate bool, base string) {
	for _, d := range ds {
		fmt.Fprintln(w, d.String())
	}
	if !annotate {
		return
	}
	for _, d := range ds {
		fmt.Fprintln(w, Annotation(d, base))
	}
}

// Annotation renders d as a GitHub Actions workflow command.
func Annotation(d Diagnostic, base string) string {
	var props []string
	if d.Pos.File != "" {
		f := d.Pos.File
		if base != "" && base != "." {
			f = strings.TrimSuffix(base, "/") + "/" + f
		}
		props = append(props, "file="+escapeProperty(f))
		if d.Pos.Line > 0 {
			props = append(props, "line="+strconv.Itoa(d.Pos.Line), "col="+strconv.Itoa(d.Pos.Col))
		}
	}
	msg := d.Message
	if d.Field != "" {
		msg = d.Field + ": " + msg
	}
	cmd := "::" + d.Severity.String()
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	return cmd + "::" + escapeData(msg)
}

// escapeData and escapeProperty follow the actions/toolkit command encoding.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
