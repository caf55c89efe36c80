package state

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/launchplane/launchplane/internal/jsonschema"
)

// The state codec: the one place that decodes and encodes target,
// preview and record files. Decoding is strict (an unknown field is an
// error, so a record read as a target, or a target as a record, is
// refused), checks format_version and that the document is the one its
// path names; encoding a record validates it against RecordSchema first.

var (
	targetFile  = regexp.MustCompile(`^targets/[^/]+/[^/]+\.json$`)
	previewFile = regexp.MustCompile(`^previews/[^/]+/pr-[0-9]+\.json$`)
	recordFile  = regexp.MustCompile(`^records/[^/]+/[^/]+/[^/]+\.json$`)
)

// DecodeTarget decodes the target or preview file at p.
func DecodeTarget(p string, b []byte) (*TargetState, error) {
	if !targetFile.MatchString(p) && !previewFile.MatchString(p) {
		return nil, fmt.Errorf("state %s: not a target or preview file", p)
	}
	var ts TargetState
	if !fastTarget(b, &ts) {
		ts = TargetState{}
		if err := strictDecode(b, &ts); err != nil {
			return nil, fmt.Errorf("state %s: %w", p, err)
		}
	}
	if err := checkVersion(ts.FormatVersion); err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	if TargetPath(ts.Target) != p {
		return nil, fmt.Errorf("state %s: holds target %q, which belongs in %s", p, ts.Target, TargetPath(ts.Target))
	}
	if !validStatus(ts.Status) {
		return nil, fmt.Errorf("state %s: status: unknown status %q", p, ts.Status)
	}
	return &ts, nil
}

// DecodeRecord decodes the record file at p. The record must validate
// against RecordSchema, its id and target must be the ones its path
// names, and its evidence and each change's must decode strictly into the
// type their kind calls for (evidenceFor): an unknown or mistyped field
// is refused, naming the file and the field. A record of an older form
// of its format_version is upgraded first, here and nowhere else
// (upgradeRecord).
func DecodeRecord(p string, b []byte) (*Record, error) {
	if !recordFile.MatchString(p) {
		return nil, fmt.Errorf("state %s: not a record file", p)
	}
	var w wireRecord
	if err := strictDecode(b, &w); err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	if err := checkVersion(w.FormatVersion); err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	upgraded, err := upgradeRecord(&w)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	if upgraded {
		if b, err = encode(&w); err != nil {
			return nil, fmt.Errorf("state %s: %w", p, err)
		}
	}
	if err := validateRecord(b); err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	if want := RecordPath(w.Target, w.ID); want != p {
		return nil, fmt.Errorf("state %s: holds record %s of %s, which belongs in %s", p, w.ID, w.Target, want)
	}
	rec, err := w.typed()
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	return rec, nil
}

// EncodeTarget encodes a target or preview file.
func EncodeTarget(ts *TargetState) ([]byte, error) {
	if err := checkVersion(ts.FormatVersion); err != nil {
		return nil, fmt.Errorf("state of %s: %w", ts.Target, err)
	}
	if !validStatus(ts.Status) {
		return nil, fmt.Errorf("state of %s: status: unknown status %q", ts.Target, ts.Status)
	}
	return encode(ts)
}

// EncodeRecord encodes a record after checking each evidence (Check)
// and validating it against RecordSchema: a record of an unknown kind or
// outcome, or missing the evidence its kind and changes require, is never
// written.
func EncodeRecord(rec *Record) ([]byte, error) {
	n, err := normalized(rec)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.ID, err)
	}
	b, err := encode(n)
	if err != nil {
		return nil, err
	}
	if err := validateRecord(b); err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.ID, err)
	}
	// what is written reads back: each evidence is the type its step
	// or record kind calls for
	var w wireRecord
	if err := strictDecode(b, &w); err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.ID, err)
	}
	if _, err := w.typed(); err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.ID, err)
	}
	return b, nil
}

// ReadRecord reads one record of a target.
func ReadRecord(snap Snapshot, key, id string) (*Record, error) {
	p := RecordPath(key, id)
	b, err := snap.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("record %s of %s: %w", id, key, err)
	}
	return DecodeRecord(p, b)
}

func encode(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("data after the JSON document")
	}
	return nil
}

func checkVersion(v string) error {
	if v != FormatVersion {
		return fmt.Errorf("format_version: unsupported format_version %q (this launchplane reads %q)", v, FormatVersion)
	}
	return nil
}

func validStatus(s Status) bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

//go:embed record.schema.json
var recordSchema []byte

// RecordSchema is the JSON Schema (draft 2020-12) every record is
// validated against before it is written.
func RecordSchema() []byte { return bytes.Clone(recordSchema) }

var compiledRecord = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema %s: loading external schemas is disabled", u)
	}
	const url = "https://launchplane.dev/schema/v1/record.schema.json"
	if err := c.AddResource(url, bytes.NewReader(recordSchema)); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// validateRecord validates an encoded record against RecordSchema; the
// error names each failing field by its JSON pointer.
func validateRecord(b []byte) error {
	s, err := compiledRecord()
	if err != nil {
		return fmt.Errorf("record schema: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	err = s.Validate(v)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			msgs = append(msgs, strings.TrimPrefix(path.Clean("/"+e.InstanceLocation), "/")+": "+e.Message)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return fmt.Errorf("does not match the record schema: %s", strings.Join(msgs, "; "))
}
