package policy

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
)

// File is the policy's path in the state repository (SPEC §7).
const File = "policy.yaml"

// Source is where a policy is read from: a snapshot of the state
// repository.
type Source interface {
	ReadFile(path string) ([]byte, error)
}

// ErrInvalid is Load's error when the state repository's policy.yaml does
// not load: nothing is allowed until it is fixed (it never counts as no
// policy).
var ErrInvalid = errors.New(File + " in the state repository is invalid: nothing is allowed until it is fixed")

// ErrNotAuthorized is wrapped when an executor is handed no grant, or a
// grant that does not cover what it is asked to do.
var ErrNotAuthorized = errors.New("not authorized")

// Loaded is the policy of one state repository as Load read it. Its
// fields are unexported: a Loaded comes only from Load, so a grant is
// always decided with the bytes the state repository holds.
type Loaded struct {
	pol  *Policy // nil: the state repository has no policy
	blob string  // git blob id of the policy's bytes; "" without one
}

// Load reads policy.yaml from src. Without one, the Loaded allows
// everything but destroy; an invalid one is ErrInvalid, returned with its
// diagnostics for the caller to print.
func Load(src Source) (*Loaded, diag.Diagnostics, error) {
	raw, err := src.ReadFile(File)
	if errors.Is(err, state.ErrNotFound) {
		return &Loaded{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s from the state repository: %w", File, err)
	}
	pol, ds := schema.LoadPolicy(File, raw)
	if pol == nil || ds.HasErrors() {
		return nil, ds, ErrInvalid
	}
	return &Loaded{pol: pol, blob: BlobID(raw)}, ds, nil
}

// Policy is the loaded policy, nil when the state repository has none.
func (l *Loaded) Policy() *Policy { return l.pol }

// Present reports whether the state repository has a policy.
func (l *Loaded) Present() bool { return l.pol != nil }

// Blob is the git blob id of the policy's bytes ("" without a policy):
// which policy.yaml a decision was made with, as `git log` shows it.
func (l *Loaded) Blob() string { return l.blob }

// BlobID is the git blob id of raw (sha1 of "blob <len>\0" and raw).
func BlobID(raw []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(raw)) + "\x00"))
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))
}

// Scope is the product and lane the policy is asked about for a target
// key: <product>/<lane>, and lane preview for <product>/preview/pr-<N>.
func Scope(key string) (product, lane string) {
	product, lane = state.SplitKey(key)
	if strings.HasPrefix(lane, "preview/") {
		lane = LanePreview
	}
	return product, lane
}

// TargetDecision is the policy's decision for one target key.
type TargetDecision struct {
	Target string
	Decision
}

// NoPolicyDestroyError is the refusal of a destroy when the state
// repository has no policy and the caller did not allow it (apply
// --allow-destroy).
type NoPolicyDestroyError struct{ Targets []string }

func (e *NoPolicyDestroyError) Error() string {
	return fmt.Sprintf("denied: the plan destroys the app of %s, and there is no policy in the state repository: run apply --allow-destroy to destroy it", strings.Join(e.Targets, ", "))
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *NoPolicyDestroyError) Is(target error) bool { return target == ErrDenied }

// Ask is one question to the policy: may the caller do Action on every
// one of Targets (target keys).
type Ask struct {
	Action  string
	Targets []string
	// DestroyWithoutPolicy allows the action destroy when the state
	// repository has no policy (apply --allow-destroy); without it such a
	// destroy is refused.
	DestroyWithoutPolicy bool
}

// Authorize is the policy check, the only maker of a Grant: it evaluates
// the request of id for action on each target in order and grants them
// all, or returns the decisions so far and the first denial (an error
// wrapping ErrDenied). No targets is a grant of nothing. id may be nil only when there is no policy: with
// one, a caller whose identity is unknown is denied.
func (l *Loaded) Authorize(id *Identity, a Ask) (*Grant, []TargetDecision, error) {
	if l.pol == nil && a.Action == ActionDestroy && !a.DestroyWithoutPolicy {
		return nil, nil, &NoPolicyDestroyError{Targets: slices.Clone(a.Targets)}
	}
	if len(a.Targets) == 0 {
		return &Grant{blob: l.blob, allow: map[string]map[string]bool{}}, nil, nil
	}
	if l.pol != nil && id == nil {
		return nil, nil, &DeniedError{Decision: Decision{Rule: -1, Reason: "denied: the caller's identity is unknown"}}
	}
	var ds []TargetDecision
	for _, key := range a.Targets {
		product, lane := Scope(key)
		var d Decision
		if l.pol == nil {
			d = Evaluate(nil, Identity{}, Request{Action: a.Action, Product: product, Lane: lane})
		} else {
			d = Evaluate(l.pol, *id, Request{Action: a.Action, Product: product, Lane: lane})
		}
		ds = append(ds, TargetDecision{Target: key, Decision: d})
		if !d.Allowed {
			return nil, ds, d.Err()
		}
	}
	g := &Grant{blob: l.blob, allow: map[string]map[string]bool{a.Action: {}}}
	for _, key := range a.Targets {
		g.allow[a.Action][key] = true
	}
	return g, ds, nil
}

// Grant is the proof that the policy of a state repository allowed
// actions on targets. Only Loaded.Authorize makes one (its fields are
// unexported); the executor refuses to run without a grant that covers
// the action and every target it executes, decided with the policy of
// the snapshot it runs on.
type Grant struct {
	blob  string                     // the policy it was decided with; "" none
	allow map[string]map[string]bool // action -> target key
}

// Join is a grant of what g and o grant, both decided with the same
// policy; nil when either is nil or they were not.
func (g *Grant) Join(o *Grant) *Grant {
	if g == nil || o == nil || g.blob != o.blob {
		return nil
	}
	j := &Grant{blob: g.blob, allow: map[string]map[string]bool{}}
	for _, src := range []*Grant{g, o} {
		for action, keys := range src.allow {
			if j.allow[action] == nil {
				j.allow[action] = map[string]bool{}
			}
			for k := range keys {
				j.allow[action][k] = true
			}
		}
	}
	return j
}

// Require is the executor's check: g grants action on every one of
// targets, and was decided with the policy src holds now. Its error
// wraps ErrNotAuthorized.
func (g *Grant) Require(src Source, action string, targets []string) error {
	if g == nil || g.allow == nil {
		return fmt.Errorf("%s of %s without a policy decision: refusing: %w", action, strings.Join(targets, ", "), ErrNotAuthorized)
	}
	for _, t := range targets {
		if !g.allow[action][t] {
			return fmt.Errorf("%s of %s was not granted by the policy: refusing: %w", action, t, ErrNotAuthorized)
		}
	}
	raw, err := src.ReadFile(File)
	now := ""
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		return fmt.Errorf("read %s from the state repository: %w", File, err)
	default:
		now = BlobID(raw)
	}
	if now != g.blob {
		return fmt.Errorf("%s of %s: the grant was decided with another %s than the state repository holds now (%s, not %s): refusing: %w",
			action, strings.Join(targets, ", "), File, orNone(now), orNone(g.blob), ErrNotAuthorized)
	}
	return nil
}
