// Package web is the generic-web driver: an app, its routes and a health
// check, with previews per pull request. Other drivers are built from it
// by supplying Hooks.
package web

import (
	"context"
	"fmt"
	"sort"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

// ID is the driver id products name in spec.driver.
const ID = "generic-web"

// Hooks are the points where a driver built on generic-web adds its own
// behaviour. Every hook is optional; generic-web itself has none.
type Hooks struct {
	// AppAttrs adds driver attributes to the app (e.g. odoo's module list,
	// as an extension under its settings key), so changing them is a
	// change of the app.
	AppAttrs func(p *config.Product, t *config.Target, app *plan.App) error
	// ExtraSteps returns steps that run around the app (backup gates,
	// post-deploy jobs), given the app's address.
	ExtraSteps func(p *config.Product, t *config.Target, app plan.Resource) ([]plan.Step, error)
	// Preflight checks a target's planned changes before any mutation.
	Preflight func(rt drivers.Runtime, changes []plan.Change) error
	// BeforeDeploy runs the driver's steps ordered before the app change,
	// by step kind (odoo: "backup").
	BeforeDeploy map[plan.Kind]drivers.StepFunc
	// AfterDeploy runs the driver's steps ordered after the app change and
	// before health, by step kind (odoo: "post-deploy").
	AfterDeploy map[plan.Kind]drivers.StepFunc
	// RollbackSteps adds the driver's steps to a rollback (odoo: restore
	// the backup taken before the current image migrated the database).
	RollbackSteps func(desired *plan.DesiredTarget, app plan.Resource, recorded *state.TargetState) ([]plan.Step, error)
	// OnRollback decides whether the image may be rolled back after a
	// failure, and may restore data first. Without it, it may.
	OnRollback func(ctx context.Context, rt drivers.Runtime) drivers.Verdict
}

// Driver is generic-web, or a driver built on it with hooks.
type Driver struct {
	desc  drivers.Descriptor
	hooks Hooks
}

// New builds a driver on generic-web's expansion with desc and hooks.
func New(desc drivers.Descriptor, hooks Hooks) *Driver {
	return &Driver{desc: desc, hooks: hooks}
}

// Descriptor is generic-web's descriptor; drivers built on generic-web
// start from it.
func Descriptor() drivers.Descriptor {
	return drivers.Descriptor{
		ID:           ID,
		Doc:          "a stateless web app: image, env, routes and an HTTP health check",
		Capabilities: []string{drivers.CapApp, drivers.CapRoutes, drivers.CapHealth, drivers.CapPreviews},
		Actions: []drivers.Action{
			{Name: "status", Safety: drivers.SafetyRead, Doc: "read the recorded and observed state of a target"},
			{Name: "health", Safety: drivers.SafetyRead, Doc: "poll the target's health URL", Step: plan.KindHealth},
			{Name: "deploy", Safety: drivers.SafetyMutation, Doc: "deploy the target's image and env, then check health"},
			{Name: "route", Safety: drivers.SafetyMutation, Doc: "ensure the target's domains route to the app"},
			{Name: "rollback", Safety: drivers.SafetyMutation, Doc: "redeploy the previous healthy image"},
			{Name: "preview", Safety: drivers.SafetyMutation, Doc: "deploy a pull request's image as a preview"},
			{Name: "destroy", Safety: drivers.SafetyDestructive, Doc: "remove the app and its routes"},
		},
	}
}

func (d *Driver) Descriptor() drivers.Descriptor { return d.desc }

// Steps is the dispatch table built from the before- and after-deploy
// hooks.
func (d *Driver) Steps() map[plan.Kind]drivers.StepFunc {
	out := map[plan.Kind]drivers.StepFunc{}
	for k, f := range d.hooks.BeforeDeploy {
		out[k] = f
	}
	for k, f := range d.hooks.AfterDeploy {
		out[k] = f
	}
	return out
}

// RollbackSteps keeps the health check of the expansion, triggered by
// the app change, and adds the hook's steps.
func (d *Driver) RollbackSteps(desired *plan.DesiredTarget, app plan.Resource, recorded *state.TargetState) ([]plan.Step, error) {
	var out []plan.Step
	for _, s := range desired.Steps {
		if s.Kind == plan.KindHealth {
			out = append(out, s)
		}
	}
	if d.hooks.RollbackSteps == nil {
		return out, nil
	}
	extra, err := d.hooks.RollbackSteps(desired, app, recorded)
	if err != nil {
		return nil, err
	}
	return append(extra, out...), nil
}

// Preflight runs the Preflight hook.
func (d *Driver) Preflight(rt drivers.Runtime, changes []plan.Change) error {
	if d.hooks.Preflight == nil {
		return nil
	}
	return d.hooks.Preflight(rt, changes)
}

// OnRollback runs the OnRollback hook; without one, rolling the image
// back is safe.
func (d *Driver) OnRollback(ctx context.Context, rt drivers.Runtime) drivers.Verdict {
	if d.hooks.OnRollback == nil {
		return drivers.Verdict{Proceed: true}
	}
	return d.hooks.OnRollback(ctx, rt)
}

// ObjectName is the provider object name of a target (SPEC §3):
// <product>-<lane>, or <product>-pr-<N> for the lane preview/pr-<N>.
func ObjectName(product, lane string) string {
	return providers.ObjectName(product + "/" + lane)
}

// HealthURL derives a target's health URL (SPEC §3): the target's
// health.url, else https://<first domain><health.path>. It returns "" when
// the product has no health check.
func HealthURL(p *config.Product, t *config.Target) (string, error) {
	if p.Spec.Health == nil {
		return "", nil
	}
	if t.Spec.Health != nil && t.Spec.Health.URL != "" {
		return t.Spec.Health.URL, nil
	}
	if t.Spec.Ingress == nil || len(t.Spec.Ingress.Domains) == 0 {
		return "", fmt.Errorf("%s: product %s has a health check but no URL can be derived: add spec.ingress.domains or spec.health.url", t.Key(), p.Name)
	}
	return "https://" + t.Spec.Ingress.Domains[0] + p.Spec.Health.Path, nil
}

// Expand turns a Product and one of its Targets into an app, a route per
// domain and a health step, plus whatever the hooks add.
func (d *Driver) Expand(cfg *config.Config, t *config.Target) (*plan.DesiredTarget, error) {
	p := cfg.Product(t.Spec.Product)
	if p == nil {
		return nil, fmt.Errorf("%s: unknown product %s", t.Key(), t.Spec.Product)
	}
	key := t.Key()
	// sized: Expand runs for every target of a plan
	env := make(map[string]string, len(p.Spec.Env)+len(t.Spec.Env))
	for k, v := range p.Spec.Env {
		env[k] = v
	}
	for k, v := range t.Spec.Env {
		env[k] = v
	}
	secrets := make(map[string]plan.SecretRef, len(p.Spec.Secrets))
	for k, ref := range p.Spec.Secrets {
		if ref.FromEnv != "" {
			secrets[k] = plan.SecretRef{FromEnv: ref.FromEnv}
		} else {
			secrets[k] = plan.SecretRef{FromFile: ref.FromFile}
		}
	}
	a := plan.App{Name: ObjectName(p.Name, t.Spec.Lane), Image: t.Spec.Image, Port: p.Spec.Port, Env: env, Secrets: secrets}
	if d.hooks.AppAttrs != nil {
		if err := d.hooks.AppAttrs(p, t, &a); err != nil {
			return nil, err
		}
	}
	app := plan.Resource{Address: key + "/app", Target: key, Kind: plan.KindApp, Provider: t.Spec.Deploy.Provider, Attrs: a.Attrs()}
	nres := 1
	if t.Spec.Ingress != nil {
		nres += len(t.Spec.Ingress.Domains)
	}
	out := &plan.DesiredTarget{Key: key, Resources: append(make([]plan.Resource, 0, nres), app)}

	if t.Spec.Ingress != nil {
		domains := append([]string(nil), t.Spec.Ingress.Domains...)
		sort.Strings(domains)
		for _, dom := range domains {
			out.Resources = append(out.Resources, plan.Resource{
				Address:  key + "/route/" + dom,
				Target:   key,
				Kind:     plan.KindRoute,
				Provider: t.Spec.Ingress.Provider,
				Attrs:    plan.Route{Domain: dom, Upstream: ObjectName(p.Name, t.Spec.Lane), Port: p.Spec.Port}.Attrs(),
			})
		}
	}

	url, err := HealthURL(p, t)
	if err != nil {
		return nil, err
	}
	if url != "" {
		timeout := "60s"
		if p.Spec.Health.Timeout != nil {
			timeout = p.Spec.Health.Timeout.String()
		}
		out.Steps = append(out.Steps, plan.Step{
			Resource: plan.Resource{Address: key + "/health", Target: key, Kind: plan.KindHealth, Provider: t.Spec.Deploy.Provider,
				Attrs: plan.Health{URL: url, Timeout: timeout}.Attrs()},
			Triggers: []plan.Trigger{{Address: app.Address, Reason: "app changed"}},
		})
	}
	if d.hooks.ExtraSteps != nil {
		extra, err := d.hooks.ExtraSteps(p, t, app)
		if err != nil {
			return nil, err
		}
		out.Steps = append(out.Steps, extra...)
	}
	return out, nil
}

func init() { drivers.Register(New(Descriptor(), Hooks{})) }
