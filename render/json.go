// Package render shows plans: the versioned JSON wire form, terraform-like
// human output and markdown for PR comments. In-memory plan types and their
// JSON form are separate: renaming a Go constant never changes the JSON.
package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/launchplane/launchplane/plan"
)

// PlanJSON is the wire form of a plan (SPEC §4).
type PlanJSON struct {
	FormatVersion string `json:"format_version"`
	// PlanHash is plan.Plan.Hash: what apply PLANFILE and
	// --expect-plan-hash bind to.
	PlanHash string   `json:"plan_hash"`
	Base     BaseJSON `json:"base"`
	// Only are the targets the plan was restricted to (--target).
	Only []string `json:"only,omitempty"`
	// SecretsChecked says whether every secret was read and fingerprinted,
	// so that a rotation shows as a change.
	SecretsChecked bool `json:"secrets_checked"`
	// Refreshed says the plan observed the providers (plan --refresh).
	Refreshed   bool         `json:"refreshed,omitempty"`
	Changes     []ChangeJSON `json:"changes"`
	Summary     SummaryJSON  `json:"summary"`
	Diagnostics []string     `json:"diagnostics"`
}

// BaseJSON is what the plan was computed against.
type BaseJSON struct {
	StateCommit  string `json:"state_commit"`
	ConfigDigest string `json:"config_digest"`
	ConfigCommit string `json:"config_commit,omitempty"`
}

// ChangeJSON is one change.
type ChangeJSON struct {
	Address        string           `json:"address"`
	Target         string           `json:"target"`
	Kind           string           `json:"kind"`
	Action         string           `json:"action"`
	Reason         string           `json:"reason"`
	Provider       string           `json:"provider"`
	Before         map[string]any   `json:"before"`
	After          map[string]any   `json:"after"`
	Diff           []plan.FieldDiff `json:"diff"`
	DependsOn      []string         `json:"depends_on"`
	IdempotencyKey string           `json:"idempotency_key"`
	Cause          *CauseJSON       `json:"cause,omitempty"`
	// Destructive marks a change that destroys an app (delete or
	// replace); informational, recomputed from kind and action on read.
	Destructive bool `json:"destructive,omitempty"`
}

// SummaryJSON counts changes by action, in a fixed key order.
type SummaryJSON struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
	Run     int `json:"run"`
	Noop    int `json:"noop"`
	// Destroy lists the addresses of the apps the plan destroys.
	Destroy []string `json:"destroy,omitempty"`
}

// ToJSON converts a plan to its wire form.
func ToJSON(p *plan.Plan) PlanJSON {
	s := p.Summary()
	out := PlanJSON{
		FormatVersion:  plan.FormatVersion,
		PlanHash:       p.Hash(),
		Base:           BaseJSON{StateCommit: p.Base.StateCommit, ConfigDigest: p.Base.ConfigDigest, ConfigCommit: p.Base.ConfigCommit},
		Only:           append([]string(nil), p.Only...),
		SecretsChecked: p.SecretsChecked,
		Refreshed:      p.Refreshed,
		Changes:        []ChangeJSON{},
		Summary:        SummaryJSON{Create: s[plan.Create], Update: s[plan.Update], Replace: s[plan.Replace], Delete: s[plan.Delete], Run: s[plan.Run], Noop: s[plan.NoOp], Destroy: p.Destructive()},
		Diagnostics:    append([]string{}, p.Diagnostics...),
	}
	for _, c := range p.Changes {
		diff := c.Diff
		if diff == nil {
			diff = []plan.FieldDiff{}
		}
		deps := c.DependsOn
		if deps == nil {
			deps = []string{}
		}
		out.Changes = append(out.Changes, ChangeJSON{
			Address: c.Address, Target: c.Target, Kind: string(c.Kind), Action: c.Action.String(), Reason: c.Reason,
			Provider: c.Provider, Before: c.Before, After: c.After, Diff: diff, DependsOn: deps, IdempotencyKey: c.IdempotencyKey,
			Cause:       causeJSON(c.Cause),
			Destructive: c.Destroys(),
		})
	}
	return out
}

// FromJSON reads a saved plan back.
func FromJSON(data []byte) (*plan.Plan, error) {
	var pj PlanJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&pj); err != nil {
		return nil, fmt.Errorf("not a launchplane plan: %w", err)
	}
	if pj.FormatVersion != plan.FormatVersion {
		return nil, fmt.Errorf("plan format_version %q is not supported (this launchplane reads %q)", pj.FormatVersion, plan.FormatVersion)
	}
	p := &plan.Plan{Base: plan.Base{StateCommit: pj.Base.StateCommit, ConfigDigest: pj.Base.ConfigDigest, ConfigCommit: pj.Base.ConfigCommit},
		Diagnostics: pj.Diagnostics, Only: pj.Only, SecretsChecked: pj.SecretsChecked, Refreshed: pj.Refreshed, FileHash: pj.PlanHash}
	for _, c := range pj.Changes {
		a, err := plan.ParseAction(c.Action)
		if err != nil {
			return nil, fmt.Errorf("change %s: %w", c.Address, err)
		}
		p.Changes = append(p.Changes, plan.Change{
			Address: c.Address, Target: c.Target, Kind: plan.Kind(c.Kind), Action: a, Reason: c.Reason, Provider: c.Provider,
			Before: numbers(c.Before), After: numbers(c.After), Diff: c.Diff, DependsOn: c.DependsOn, IdempotencyKey: c.IdempotencyKey,
			Cause: causeOf(c.Cause),
		})
	}
	return p, nil
}

// numbers turns json.Number back into float64 (or int when whole), so a
// loaded plan compares equal to the one that was saved.
func numbers(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return fix(m).(map[string]any)
}

func fix(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fix(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fix(e)
		}
		return x
	}
	return v
}

// WriteJSON writes the plan's wire form, indented, with a final newline.
// It streams: each change is encoded and written on its own, so a plan of
// thousands of changes is never held as one document in memory. The bytes
// are exactly those of encoding ToJSON(p) whole (a test compares them).
func WriteJSON(w io.Writer, p *plan.Plan) error {
	pj := ToJSON(p)
	bw := bufio.NewWriterSize(w, 64<<10)
	e := &streamEncoder{w: bw}
	// The members are PlanJSON's own, in its order, with its tags: a field
	// added to the wire form is written without touching this function.
	type member struct {
		name string
		val  reflect.Value
	}
	var ms []member
	v := reflect.ValueOf(pj)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmptyJSON(v.Field(i)) {
			continue
		}
		ms = append(ms, member{name, v.Field(i)})
	}
	e.raw("{\n")
	for i, m := range ms {
		last := i == len(ms)-1
		if m.name != "changes" || len(pj.Changes) == 0 {
			e.field(m.name, m.val.Interface(), last)
			continue
		}
		// the changes, one at a time: the plan's bulk
		e.raw(`  "changes": [` + "\n")
		for i := range pj.Changes {
			e.raw("    ")
			e.value(&pj.Changes[i], "    ")
			if i < len(pj.Changes)-1 {
				e.raw(",")
			}
			e.raw("\n")
		}
		e.raw("  ]")
		if !last {
			e.raw(",")
		}
		e.raw("\n")
	}
	e.raw("}\n")
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

// isEmptyJSON is encoding/json's omitempty test.
func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// streamEncoder writes JSON in the layout of an Encoder with two-space
// indentation and HTML left unescaped, one value at a time.
type streamEncoder struct {
	w   *bufio.Writer
	buf bytes.Buffer
	err error
}

func (e *streamEncoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// field writes a top-level member: "  \"name\": value" and a comma
// unless it is the last.
func (e *streamEncoder) field(name string, v any, last bool) {
	e.raw(`  "` + name + `": `)
	e.value(v, "  ")
	if !last {
		e.raw(",")
	}
	e.raw("\n")
}

// value encodes v as it appears at the indentation prefix, without the
// newline the Encoder adds.
func (e *streamEncoder) value(v any, prefix string) {
	if e.err != nil {
		return
	}
	e.buf.Reset()
	enc := json.NewEncoder(&e.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if e.err = enc.Encode(v); e.err != nil {
		return
	}
	_, e.err = e.w.Write(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
}
