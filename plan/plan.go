// Package plan is the typed plan: what must change to turn recorded state
// into desired state. It is inert data and pure functions; it does no I/O.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
)

// FormatVersion is the version of the plan's JSON wire form.
const FormatVersion = "1"

// Action is what apply does to one resource or step.
type Action int

const (
	NoOp Action = iota
	Create
	Update
	Replace
	Delete
	Run
)

var actionNames = [...]string{NoOp: "noop", Create: "create", Update: "update", Replace: "replace", Delete: "delete", Run: "run"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// ParseAction is the inverse of String.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q", s)
}

// IsDestructive reports whether the action removes something that exists.
func (a Action) IsDestructive() bool { return a == Delete || a == Replace }

// Mutates reports whether apply must call a provider for the action.
func (a Action) Mutates() bool { return a != NoOp }

// Kind of a resource or step: "app", "route", "health" and the steps
// drivers add. Its wire form is the string.
type Kind string

// Kinds of resources and steps.
const (
	KindApp        Kind = "app"
	KindRoute      Kind = "route"
	KindHealth     Kind = "health"
	KindBackup     Kind = "backup"
	KindPostDeploy Kind = "post-deploy"
	KindRestore    Kind = "restore"  // restore a backup before the app goes back (rollback)
	KindSanitize   Kind = "sanitize" // neutralize a database cloned from prod
)

// IsStep reports whether kind is a step (run around resources, never
// recorded as a resource).
func IsStep(kind Kind) bool {
	switch kind {
	case KindHealth, KindBackup, KindPostDeploy, KindRestore, KindSanitize:
		return true
	}
	return false
}

// Resource is one desired or recorded resource or step of a target.
// Attrs is JSON-like data (map[string]any, []any, string, float64, bool,
// nil) and never holds a secret value, only secret references.
type Resource struct {
	Address  string         `json:"address"` // <product>/<lane>/<kind>[/<name>]
	Target   string         `json:"target"`  // <product>/<lane>
	Kind     Kind           `json:"kind"`
	Provider string         `json:"provider"`
	Attrs    map[string]any `json:"attrs"`
	// ReplaceOn lists attrs whose change forces replace instead of update.
	ReplaceOn []string `json:"-"`
}

// FieldDiff is one changed attribute, at a dotted path.
type FieldDiff struct {
	Path   string `json:"path"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Change is one planned action.
type Change struct {
	Address        string
	Target         string
	Kind           Kind
	Action         Action
	Reason         string // explains; apply never branches on it
	Provider       string
	Before         map[string]any
	After          map[string]any
	Diff           []FieldDiff
	DependsOn      []string
	IdempotencyKey string
	// Cause is the config node that caused the change, for reviewers; it
	// explains, like Reason, and is not part of what apply does.
	Cause *Cause
}

// Cause points at the config that caused a change: a file relative to
// the config dir and the 1-based line and column of the node (0 when the
// file as a whole). Note says what no node can show ("target file
// removed").
type Cause struct {
	Path string
	Line int
	Col  int
	Note string
}

// String is "path:line" (or the path, or the note), for human output.
func (c *Cause) String() string {
	if c == nil {
		return ""
	}
	s := c.Path
	if c.Line > 0 {
		s = fmt.Sprintf("%s:%d", c.Path, c.Line)
	}
	if c.Note != "" {
		if s != "" {
			return s + ": " + c.Note
		}
		return c.Note
	}
	return s
}

// Base is what a plan was computed against.
type Base struct {
	StateCommit  string
	ConfigDigest string
	// ConfigCommit is the config repository's commit the plan was made
	// at, when known (shown in PR comments; not part of the plan hash).
	ConfigCommit string
}

// Plan is an ordered list of changes.
type Plan struct {
	Base        Base
	Changes     []Change
	Diagnostics []string
	// Only are the target keys the plan was restricted to (--target);
	// empty: all targets.
	Only []string
	// SecretsChecked is set when every secret of the planned apps was
	// readable and fingerprinted: rotation was checked.
	SecretsChecked bool
	// Refreshed is set when providers were observed for drift (plan
	// --refresh): binding a saved plan observes them again.
	Refreshed bool
	// FileHash is the plan_hash a saved plan file carried; "" for a plan
	// made in this process.
	FileHash string
}

// Summary counts changes by action.
type Summary map[Action]int

// Summary counts the plan's changes by action.
func (p *Plan) Summary() Summary {
	s := Summary{}
	for _, c := range p.Changes {
		s[c.Action]++
	}
	return s
}

// Destroys reports whether the change destroys a target's app: a delete
// or a replace of it (SPEC §4: marked loudly in every output).
func (c Change) Destroys() bool { return c.Kind == KindApp && c.Action.IsDestructive() }

// Destructive lists the addresses of the changes that destroy an app.
func (p *Plan) Destructive() []string {
	var out []string
	for _, c := range p.Changes {
		if c.Destroys() {
			out = append(out, c.Address)
		}
	}
	return out
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// Targets returns the keys of targets with at least one change, sorted.
func (p *Plan) Targets() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Changes {
		if c.Action != NoOp && !seen[c.Target] {
			seen[c.Target] = true
			out = append(out, c.Target)
		}
	}
	sort.Strings(out)
	return out
}

// IdempotencyKey is sha256 over the target key, the action and the
// canonical JSON of after (SPEC §3).
func IdempotencyKey(target string, a Action, after map[string]any) string {
	e := keyBufs.Get().(*JSON)
	defer keyBufs.Put(e)
	e.B, e.Err = e.B[:0], nil
	e.B = append(e.B, target...)
	e.B = append(e.B, 0)
	e.B = append(e.B, a.String()...)
	e.B = append(e.B, 0)
	e.Value(after, 0)
	if e.Err != nil {
		panic(fmt.Sprintf("plan: canonical JSON: %v", e.Err)) // attrs are JSON-like by construction
	}
	sum := sha256.Sum256(e.B)
	return hex.EncodeToString(sum[:])
}

var keyBufs = sync.Pool{New: func() any { return &JSON{B: make([]byte, 0, 1024)} }}

// Canonical is JSON with sorted keys and no HTML escaping, as
// encoding/json writes it: equal values always give equal bytes.
func Canonical(v any) []byte {
	e := JSON{}
	e.Value(v, 0)
	if e.Err != nil {
		panic(fmt.Sprintf("plan: canonical JSON: %v", e.Err)) // attrs are JSON-like by construction
	}
	return e.B
}

// Restrict is a copy of p holding only the changes of the targets in
// keys, and planned for only them: a shard of a saved plan. Its Hash is
// the hash of a plan made for those targets alone.
func (p *Plan) Restrict(keys map[string]bool) *Plan {
	q := *p
	q.Changes = nil
	q.Only = slices.Sorted(maps.Keys(keys))
	for _, c := range p.Changes {
		if keys[c.Target] {
			q.Changes = append(q.Changes, c)
		}
	}
	return &q
}
