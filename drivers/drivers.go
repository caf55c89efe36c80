// Package drivers holds the Driver interface, driver descriptors and their
// registry. A descriptor is the one source of truth for a driver: the
// `launchplane drivers` output, the Product schema's driver block and the
// dispatch table are all derived from it.
package drivers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// Safety says how much an action can hurt.
type Safety string

const (
	SafetyRead        Safety = "read"
	SafetySafeWrite   Safety = "safe_write"
	SafetyMutation    Safety = "mutation"
	SafetyDestructive Safety = "destructive"
)

// Action is something a driver can do to a target.
type Action struct {
	Name   string `json:"name"`
	Safety Safety `json:"safety"`
	Doc    string `json:"doc"`
	// Step is the plan step kind that performs the action during apply
	// ("backup", "post-deploy"), when one does; the driver dispatches
	// steps of that kind, and registration fails if it cannot.
	Step plan.Kind `json:"step,omitempty"`
}

// Descriptor describes a driver completely: a driver built on a base lists
// the base's capabilities and actions as well as its own.
type Descriptor struct {
	ID           string   `json:"id"`
	Base         string   `json:"base,omitempty"`
	Doc          string   `json:"doc"`
	Capabilities []string `json:"capabilities"`
	Actions      []Action `json:"actions"`
	// SettingsKey names the Product spec block that holds the driver's
	// settings (spec.odoo); empty when the driver has none.
	SettingsKey string `json:"settings_key,omitempty"`
	// Settings is the JSON Schema of that block. It may use the Product
	// schema's "#/$defs/…" definitions.
	Settings json.RawMessage `json:"settings_schema,omitempty"`
}

// HasCapability reports whether the driver has capability c.
func (d Descriptor) HasCapability(c string) bool {
	for _, x := range d.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

func (d Descriptor) declaresStep(kind plan.Kind) bool {
	for _, a := range d.Actions {
		if a.Step == kind {
			return true
		}
	}
	return false
}

// Capabilities drivers may declare; configuration checks key off these.
const (
	CapApp      = "app"
	CapRoutes   = "routes"
	CapHealth   = "health"
	CapPreviews = "previews"
	CapBackup   = "backup-gate"
)

// Driver is a product behaviour: its descriptor, the expansion of a
// Product and one of its Targets into desired resources and steps, and
// the hooks apply calls.
type Driver interface {
	Descriptor() Descriptor
	// Expand is called for many targets at once, on several goroutines:
	// it reads cfg and t and changes neither, nor anything shared.
	Expand(cfg *config.Config, t *config.Target) (*plan.DesiredTarget, error)
	// Steps is the dispatch table: the executors of the step kinds the
	// driver adds to plans. Health, app and route changes are apply's own.
	Steps() map[plan.Kind]StepFunc
	// Preflight checks a target's planned changes before any mutation
	// (a backup gate that can be honoured).
	Preflight(rt Runtime, changes []plan.Change) error
	// RollbackSteps returns the steps of a rollback of the target to the
	// image in app (health, and the driver's own such as a restore),
	// given its recorded state, or why it cannot be rolled back safely.
	RollbackSteps(desired *plan.DesiredTarget, app plan.Resource, recorded *state.TargetState) ([]plan.Step, error)
	// OnRollback runs when a step after the app change failed, before
	// apply redeploys the previous healthy image: it may restore data
	// first, or stop the rollback and hand the target to an operator.
	OnRollback(ctx context.Context, rt Runtime) Verdict
}

var (
	mu       sync.RWMutex
	registry = map[string]Driver{}
)

// Register adds a driver. It panics on an empty or duplicate id, an
// unknown base, a clone action without Cloner (or the other way round), or a settings schema without a settings key (or the other
// way round).
func Register(d Driver) {
	desc := d.Descriptor()
	if desc.ID == "" {
		panic("drivers: empty id")
	}
	if (desc.SettingsKey == "") != (len(desc.Settings) == 0) {
		panic("drivers: " + desc.ID + ": settings key and schema go together")
	}
	if len(desc.Settings) > 0 {
		var probe map[string]any
		if err := json.Unmarshal(desc.Settings, &probe); err != nil {
			panic(fmt.Sprintf("drivers: %s: settings schema: %v", desc.ID, err))
		}
	}
	steps := d.Steps()
	for _, a := range desc.Actions {
		if a.Step != "" && a.Step != plan.KindHealth && steps[a.Step] == nil {
			panic("drivers: " + desc.ID + ": action " + a.Name + " runs as step " + string(a.Step) + ", which the driver does not dispatch")
		}
	}
	if err := checkOptional(d, desc); err != nil {
		panic(err.Error())
	}
	for kind := range steps {
		if !desc.declaresStep(kind) {
			panic("drivers: " + desc.ID + ": step " + string(kind) + " is dispatched but no action of the descriptor declares it")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[desc.ID]; dup {
		panic("drivers: duplicate registration of " + desc.ID)
	}
	if desc.Base != "" {
		if _, ok := registry[desc.Base]; !ok {
			panic("drivers: " + desc.ID + ": base " + desc.Base + " is not registered (import it first)")
		}
	}
	registry[desc.ID] = d
}

// ActionClone is the action a driver implementing Cloner declares.
const ActionClone = "clone"

// checkOptional checks that the descriptor and the optional capabilities
// agree: a driver that lists the clone action implements Cloner, and a
// Cloner lists it (policy and `launchplane drivers` read the action, the
// planner the interface; if they disagree, clone is refused with a
// misleading reason or allowed without a policy action).
func checkOptional(d Driver, desc Descriptor) error {
	declared := false
	for _, a := range desc.Actions {
		declared = declared || a.Name == ActionClone
	}
	_, cloner := d.(Cloner)
	switch {
	case declared && !cloner:
		return fmt.Errorf("drivers: %s: declares the %s action but does not implement drivers.Cloner", desc.ID, ActionClone)
	case cloner && !declared:
		return fmt.Errorf("drivers: %s: implements drivers.Cloner but declares no %s action", desc.ID, ActionClone)
	}
	return nil
}

// Lookup finds a driver by id.
func Lookup(id string) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := registry[id]
	return d, ok
}

// All returns every registered driver sorted by id.
func All() []Driver {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Driver, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Descriptor().ID < out[b].Descriptor().ID })
	return out
}

// OwnerOf is the driver whose extension a recorded app carries (a driver
// with settings extends its apps under its settings key): the driver that
// tears down an app whose target left the config.
func OwnerOf(app plan.App) (Driver, bool) {
	for _, d := range All() {
		if k := d.Descriptor().SettingsKey; k != "" {
			if _, ok := app.Ext[k]; ok {
				return d, true
			}
		}
	}
	return nil, false
}

// FinalBackuper is an optional capability: a driver whose apps are backed
// up once more before a plan destroys them (their Target file removed).
type FinalBackuper interface {
	// FinalBackup is the step that must run before destroy, the delete of
	// a recorded app, or nil. p is the app's product, nil when the config
	// no longer has it.
	FinalBackup(p *config.Product, destroy plan.Change) (*plan.Change, error)
}

// CloneRequest is a clone of one lane's database into another's.
type CloneRequest struct {
	From, To string // target keys: the lane cloned, the lane cloned into
	// Provider is the deploy provider of To.
	Provider string
	// App is To's recorded app.
	App plan.App
	// Gate is the backup of From that is restored.
	Gate state.Gate
}

// Cloner is an optional capability: a driver that can replace a lane's
// data by a backup of another lane (launchplane clone). Drivers without
// it cannot clone.
type Cloner interface {
	// CloneSteps are the steps that restore the gate into To and make the
	// data safe to serve there, in order; health follows them.
	CloneSteps(req CloneRequest) ([]plan.Change, error)
}
