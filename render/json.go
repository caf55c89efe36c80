// Package render shows plans: the versioned JSON wire form, terraform-like
// human output and markdown for PR comments. In-memory plan types and their
// JSON form are separate: renaming a Go constant never changes the JSON.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

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
	if err := duplicateKey(data); err != nil {
		return nil, err
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

// WriteJSON writes the plan's wire form, indented, with a final newline:
// exactly the bytes of encoding ToJSON(p) with an Encoder set to two-space
// indentation and no HTML escaping (TestWriteJSONStreamsTheSameBytes and
// TestWriteJSONWritesEveryMember compare them). It streams: each change
// is written from the plan as it is and flushed, so a plan of thousands
// of changes is never copied into ChangeJSONs; only what is written while
// the hash that heads it is computed, beside, waits in memory.
func WriteJSON(w io.Writer, p *plan.Plan) error {
	// The hash heads the document but covers every change: it is computed
	// beside the writing of the rest, which is held until it is known.
	hashed := make(chan string, 1)
	go func() { hashed <- p.Hash() }()
	e := &plan.JSON{Indent: true, B: make([]byte, 0, 64<<10)}
	var err error
	var held [][]byte // written while the hash was computed
	headed := false
	write := func(b []byte) {
		if err == nil {
			_, err = w.Write(b)
		}
	}
	flush := func(last bool) {
		if !headed {
			var hash string
			if last {
				hash = <-hashed
			} else {
				select {
				case hash = <-hashed:
				default:
					held = append(held, e.B)
					e.B = make([]byte, 0, 64<<10)
					return
				}
			}
			write(jsonHead(hash))
			for _, b := range held {
				write(b)
			}
			headed, held = true, nil
		}
		write(e.B)
		e.B = e.B[:0]
	}
	member(e, "base")
	e.B = append(e.B, '{')
	e.Newline(2)
	e.Key("state_commit")
	e.String(p.Base.StateCommit)
	member2(e, "config_digest")
	e.String(p.Base.ConfigDigest)
	if p.Base.ConfigCommit != "" {
		member2(e, "config_commit")
		e.String(p.Base.ConfigCommit)
	}
	e.Newline(1)
	e.B = append(e.B, '}')
	if len(p.Only) > 0 {
		member(e, "only")
		e.Strings(p.Only, 1)
	}
	member(e, "secrets_checked")
	e.Bool(p.SecretsChecked)
	if p.Refreshed {
		member(e, "refreshed")
		e.Bool(true)
	}
	member(e, "changes")
	if len(p.Changes) == 0 {
		e.B = append(e.B, "[]"...)
	} else {
		e.B = append(e.B, '[')
		for i := range p.Changes {
			if i > 0 {
				e.B = append(e.B, ',')
			}
			e.Newline(2)
			writeChange(e, &p.Changes[i])
			if len(e.B) >= 48<<10 {
				flush(false)
			}
		}
		e.Newline(1)
		e.B = append(e.B, ']')
	}
	member(e, "summary")
	s := p.Summary()
	e.B = append(e.B, '{')
	for i, a := range []plan.Action{plan.Create, plan.Update, plan.Replace, plan.Delete, plan.Run, plan.NoOp} {
		if i > 0 {
			e.B = append(e.B, ',')
		}
		e.Newline(2)
		e.Key(a.String())
		e.Int(s[a])
	}
	if d := p.Destructive(); len(d) > 0 {
		member2(e, "destroy")
		e.Strings(d, 2)
	}
	e.Newline(1)
	e.B = append(e.B, '}')
	member(e, "diagnostics")
	if p.Diagnostics == nil {
		e.B = append(e.B, "[]"...)
	} else {
		e.Strings(p.Diagnostics, 1)
	}
	e.Newline(0)
	e.B = append(e.B, '}', '\n')
	if e.Err != nil {
		return e.Err
	}
	flush(true)
	return err
}

// jsonHead is the plan document up to its hash.
func jsonHead(hash string) []byte {
	e := &plan.JSON{Indent: true}
	e.B = append(e.B, '{')
	e.Newline(1)
	e.Key("format_version")
	e.String(plan.FormatVersion)
	member(e, "plan_hash")
	e.String(hash)
	return e.B
}

// member starts a member of the plan object after the first.
func member(e *plan.JSON, name string) {
	e.B = append(e.B, ',')
	e.Newline(1)
	e.Key(name)
}

// member2 starts a member of an object inside the plan object.
func member2(e *plan.JSON, name string) {
	e.B = append(e.B, ',')
	e.Newline(2)
	e.Key(name)
}

// writeChange writes ChangeJSON of c at depth 2, in its member order.
func writeChange(e *plan.JSON, c *plan.Change) {
	const d = 3
	field := func(name string) {
		e.B = append(e.B, ',')
		e.Newline(d)
		e.Key(name)
	}
	e.B = append(e.B, '{')
	e.Newline(d)
	e.Key("address")
	e.String(c.Address)
	field("target")
	e.String(c.Target)
	field("kind")
	e.String(string(c.Kind))
	field("action")
	e.String(c.Action.String())
	field("reason")
	e.String(c.Reason)
	field("provider")
	e.String(c.Provider)
	field("before")
	e.Value(c.Before, d)
	field("after")
	e.Value(c.After, d)
	field("diff")
	if len(c.Diff) == 0 {
		e.B = append(e.B, "[]"...)
	} else {
		e.B = append(e.B, '[')
		for i, f := range c.Diff {
			if i > 0 {
				e.B = append(e.B, ',')
			}
			e.Newline(d + 1)
			e.B = append(e.B, '{')
			e.Newline(d + 2)
			e.Key("path")
			e.String(f.Path)
			e.B = append(e.B, ',')
			e.Newline(d + 2)
			e.Key("before")
			e.Value(f.Before, d+2)
			e.B = append(e.B, ',')
			e.Newline(d + 2)
			e.Key("after")
			e.Value(f.After, d+2)
			e.Newline(d + 1)
			e.B = append(e.B, '}')
		}
		e.Newline(d)
		e.B = append(e.B, ']')
	}
	field("depends_on")
	if c.DependsOn == nil {
		e.B = append(e.B, "[]"...)
	} else {
		e.Strings(c.DependsOn, d)
	}
	field("idempotency_key")
	e.String(c.IdempotencyKey)
	if c.Cause != nil {
		field("cause")
		e.B = append(e.B, '{')
		e.Newline(d + 1)
		e.Key("path")
		e.String(c.Cause.Path)
		e.B = append(e.B, ',')
		e.Newline(d + 1)
		e.Key("line")
		e.Int(c.Cause.Line)
		e.B = append(e.B, ',')
		e.Newline(d + 1)
		e.Key("col")
		e.Int(c.Cause.Col)
		if c.Cause.Note != "" {
			e.B = append(e.B, ',')
			e.Newline(d + 1)
			e.Key("note")
			e.String(c.Cause.Note)
		}
		e.Newline(d)
		e.B = append(e.B, '}')
	}
	if c.Destroys() {
		field("destructive")
		e.Bool(true)
	}
	e.Newline(d - 1)
	e.B = append(e.B, '}')
}
