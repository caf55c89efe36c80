// Package providers holds the provider roles, the registry of provider
// types and the sentinel errors adapters share. Each adapter package
// (providers/<type>) registers itself in init; providers/all imports them
// all for the binary.
package providers

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/launchplane/launchplane/redact"
)

// Role is what a provider can do for a target.
type Role string

const (
	RoleDeployer Role = "deployer" // observe, deploy and destroy an app
	RoleIngress  Role = "ingress"  // list, ensure and delete routes
	RoleJobs     Role = "jobs"     // run a one-off command in a target's runtime
	RoleBackups  Role = "backups"  // take and restore backups
	RoleFeedback Role = "feedback" // PR comments and commit statuses
)

// Roles lists every role in a fixed order.
var Roles = []Role{RoleDeployer, RoleIngress, RoleJobs, RoleBackups, RoleFeedback}

var (
	// ErrNotImplemented is returned by Open for a type registered without
	// an implementation in this build.
	ErrNotImplemented = errors.New("not implemented in this build")
	// ErrNotFound is returned when a provider object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnknownType is returned for a type nobody registered.
	ErrUnknownType = errors.New("unknown provider type")
)

// Factory builds a provider instance from its decoded config block.
type Factory func(cfg Config) (any, error)

// Config is what a factory receives: the Provider's name, the raw JSON of
// its spec.<type> block (already schema-validated) and the config dir,
// against which relative paths in the block resolve. A factory does no
// I/O and reads no secret: it keeps the references and resolves them
// with Resolve on first use, which happens only when the run needs the
// provider (apply, or plan --refresh).
type Config struct {
	Name      string
	Raw       json.RawMessage
	ConfigDir string
	// Resolve reads a secret reference and registers its value with
	// Redactor before returning it. Nil means secrets cannot be read in
	// this run (plan without --refresh): an adapter then fails the call
	// that needs one.
	Resolve func(SecretRef) (string, error)
	// Redactor removes secrets from what an adapter returns: wrap API
	// bodies with it before they reach an error. Never nil when built by
	// Open's callers; adapters treat nil as redact.New().
	Redactor *redact.Redactor
}

// SecretRef is a secret reference of a provider block:
// {fromEnv: NAME} or {fromFile: PATH}.
type SecretRef struct {
	FromEnv  string `json:"fromEnv,omitempty"`
	FromFile string `json:"fromFile,omitempty"`
}

// String names the reference, never its value.
func (r SecretRef) String() string {
	if r.FromEnv != "" {
		return "env " + r.FromEnv
	}
	return "file " + r.FromFile
}

// Secret resolves ref through c.Resolve.
func (c Config) Secret(ref SecretRef) (string, error) {
	if c.Resolve == nil {
		return "", fmt.Errorf("provider %s: secret from %s is only read at apply", c.Name, ref)
	}
	return c.Resolve(ref)
}

// Redact returns c.Redactor, or a shape-only redactor when it is nil.
func (c Config) Redact() *redact.Redactor {
	if c.Redactor == nil {
		return redact.New()
	}
	return c.Redactor
}

// Info describes one provider type.
type Info struct {
	Type  string // the spec.type value and the name of the spec.<type> block
	Roles []Role
	Doc   string // one line for `launchplane schema provider` and docs
	// ConfigSchema is the JSON Schema (draft 2020-12) of the spec.<type>
	// block. It may use "#/$defs/secretRef", "#/$defs/duration",
	// "#/$defs/hostname" and "#/$defs/httpURL" from the Provider schema.
	ConfigSchema json.RawMessage
	// New builds an instance; nil means the type is known but not
	// implemented in this build, and Open says so.
	New Factory
	// CI, for a Feedback provider, recognises the CI system the job runs
	// in from its environment and builds the Feedback that posts on the
	// job's pull or merge request (see DetectCI). Nil: the provider is
	// configured in Provider documents only.
	CI func(CIEnv) (CIJob, CIMatch)
}

// Has reports whether the type plays role r.
func (i Info) Has(r Role) bool {
	for _, x := range i.Roles {
		if x == r {
			return true
		}
	}
	return false
}

var (
	mu       sync.RWMutex
	registry = map[string]Info{}
)

// Register adds a provider type. It panics on an empty or duplicate type,
// a missing role or a config schema that is not a JSON object, so mistakes
// fail when the binary starts.
func Register(info Info) {
	if info.Type == "" || len(info.Roles) == 0 {
		panic(fmt.Sprintf("providers: invalid registration %+v", info))
	}
	var probe map[string]any
	if err := json.Unmarshal(info.ConfigSchema, &probe); err != nil {
		panic(fmt.Sprintf("providers: %s: config schema: %v", info.Type, err))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[info.Type]; dup {
		panic("providers: duplicate registration of " + info.Type)
	}
	registry[info.Type] = info
}

// Lookup finds a registered type.
func Lookup(typ string) (Info, bool) {
	mu.RLock()
	defer mu.RUnlock()
	i, ok := registry[typ]
	return i, ok
}

// All returns every registered type, sorted by Type.
func All() []Info {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Info, 0, len(registry))
	for _, i := range registry {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Type < out[b].Type })
	return out
}

// Open builds an instance of the named provider. An unknown type or a type
// without an implementation is an error that names the provider, never a
// silent stand-in.
func Open(typ string, cfg Config) (any, error) {
	info, ok := Lookup(typ)
	if !ok {
		return nil, fmt.Errorf("provider %s: %w %q", cfg.Name, ErrUnknownType, typ)
	}
	if info.New == nil {
		return nil, fmt.Errorf("provider %s: type %s is %w", cfg.Name, typ, ErrNotImplemented)
	}
	p, err := info.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("provider %s (%s): %w", cfg.Name, typ, err)
	}
	return p, nil
}

// ObjectName is the provider object name of a target key (SPEC §3):
// "<product>/<lane>" is "<product>-<lane>", "<product>/preview/pr-<N>" is
// "<product>-pr-<N>". Adapters that get only a target key derive the
// name of its objects with it.
func ObjectName(target string) string {
	if product, pr, ok := strings.Cut(target, "/preview/"); ok {
		return product + "-" + pr
	}
	return strings.ReplaceAll(target, "/", "-")
}
