package planner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/secrets"
	"github.com/launchplane/launchplane/state"
)

// RefreshOptions are what plan --refresh needs to reach the providers:
// their credentials are read like at apply.
type RefreshOptions struct {
	Getenv   func(string) string
	Redactor *redact.Redactor
	// Secrets fingerprints secret values (see PlanWith).
	Secrets Secrets
}

// PlanRefresh is Plan with drift detection: each recorded app and route
// is observed at its provider, observed values replace recorded ones
// where they differ, and the changes that follow say "drifted" and what
// differs. A provider that cannot observe is named in the diagnostics;
// nothing is guessed.
func PlanRefresh(ctx context.Context, cfg *config.Config, snap state.Snapshot, only map[string]bool, o RefreshOptions) (*plan.Plan, map[string]*state.TargetState, error) {
	in, err := gather(cfg, snap, only)
	if err != nil {
		return nil, nil, err
	}
	r := &observer{cfg: cfg, getenv: o.Getenv, red: o.Redactor, insts: map[string]any{}, states: in.states}
	drift, notes := r.observe(ctx, in.recorded)
	p, err := in.plan(cfg, snap, only, o.Secrets)
	if err != nil {
		return nil, nil, err
	}
	for i := range p.Changes {
		if why, ok := drift[p.Changes[i].Address]; ok && p.Changes[i].Action != plan.NoOp {
			p.Changes[i].Reason = "drifted: " + why
		}
	}
	p.Diagnostics = append(p.Diagnostics, notes...)
	decorate(cfg, snap, p, in.states)
	return p, in.states, nil
}

// observe replaces recorded attributes by what the providers report and
// returns, by address, what drifted, and notes on what could not be
// observed.
func (r *observer) observe(ctx context.Context, rec plan.Recorded) (map[string]string, []string) {
	drift := map[string]string{}
	var notes []string
	keys := make([]string, 0, len(rec.Targets))
	for k := range rec.Targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		resources := rec.Targets[key]
		var kept []plan.Resource
		routesSeen := map[string]bool{} // ingress providers listed for this target
		var routes map[string]providers.Route
		for _, res := range resources {
			switch res.Kind {
			case plan.KindApp:
				got, why, note := r.observeApp(ctx, key, res)
				if note != "" {
					notes = append(notes, note)
				}
				if why != "" {
					drift[res.Address] = why
				}
				if got == nil {
					continue // missing at the provider: planned as a create
				}
				res = *got
			case plan.KindRoute:
				if !routesSeen[res.Provider] {
					routesSeen[res.Provider] = true
					var note string
					routes, note = r.listRoutes(ctx, key, res.Provider)
					if note != "" {
						notes = append(notes, note)
					}
				}
				if routes == nil {
					break
				}
				recorded, err := plan.RouteOf(res.Attrs)
				if err != nil {
					notes = append(notes, fmt.Sprintf("%s: cannot observe: %s: %v", res.Address, state.TargetPath(key), err))
					break
				}
				rt, ok := routes[recorded.Domain]
				if !ok {
					drift[res.Address] = fmt.Sprintf("the route of %s is missing at %s", recorded.Domain, res.Provider)
					continue
				}
				observed := recorded
				var diffs []string
				if rt.Port != recorded.Port {
					diffs = append(diffs, fmt.Sprintf("port is %d at %s, recorded %d", rt.Port, res.Provider, recorded.Port))
					observed.Port = rt.Port
				}
				if rt.Upstream != "" && rt.Upstream != recorded.Upstream {
					diffs = append(diffs, fmt.Sprintf("upstream is %s at %s, recorded %s", rt.Upstream, res.Provider, recorded.Upstream))
					observed.Upstream = rt.Upstream
				}
				if len(diffs) > 0 {
					drift[res.Address] = strings.Join(diffs, "; ")
					res.Attrs = observed.Attrs()
				}
			}
			kept = append(kept, res)
		}
		if kept == nil {
			kept = []plan.Resource{}
		}
		rec.Targets[key] = kept
	}
	return drift, notes
}

func (r *observer) observeApp(ctx context.Context, key string, res plan.Resource) (*plan.Resource, string, string) {
	app, err := plan.AppOf(res.Attrs)
	if err != nil {
		return &res, "", fmt.Sprintf("%s: cannot observe: %s: %v", res.Address, state.TargetPath(key), err)
	}
	inst, err := r.provider(res.Provider)
	if err != nil {
		return &res, "", fmt.Sprintf("%s: cannot observe: %v", res.Address, r.red.Error(err))
	}
	dep, ok := inst.(providers.Deployer)
	if !ok {
		return &res, "", fmt.Sprintf("%s: provider %s cannot observe apps: drift not checked", res.Address, res.Provider)
	}
	if l, ok := inst.(providers.Limited); ok {
		if why := l.Limitation(ctx); why != "" {
			return &res, "", fmt.Sprintf("%s: drift not checked: %s", res.Address, why)
		}
	}
	st, err := dep.Observe(ctx, providers.AppRef{Target: key, Name: app.Name, ID: r.providerID(key, res.Address)})
	if errors.Is(err, providers.ErrCannotObserve) {
		return &res, "", fmt.Sprintf("%s: provider %s cannot observe: drift not checked", res.Address, res.Provider)
	}
	if err != nil {
		return &res, "", fmt.Sprintf("%s: observing failed, drift not checked: %v", res.Address, r.red.Error(err))
	}
	if !st.Exists {
		return nil, fmt.Sprintf("the app is missing at %s", res.Provider), ""
	}
	observed := app
	var diffs []string
	if st.Image != "" && st.Image != app.Image {
		diffs = append(diffs, fmt.Sprintf("image is %s at %s, recorded %s", state.ShortImage(st.Image), res.Provider, state.ShortImage(app.Image)))
		observed.Image = st.Image
	}
	if app.Env != nil && st.Env != nil {
		observed.Env = maps.Clone(app.Env)
		for _, k := range slices.Sorted(maps.Keys(app.Env)) {
			got, present := st.Env[k]
			switch {
			case !present:
				diffs = append(diffs, fmt.Sprintf("env %s is missing at %s", k, res.Provider))
				delete(observed.Env, k)
			case got != app.Env[k]:
				diffs = append(diffs, fmt.Sprintf("env %s differs at %s", k, res.Provider))
				observed.Env[k] = got
			}
		}
	}
	if len(diffs) == 0 {
		return &res, "", ""
	}
	res.Attrs = observed.Attrs()
	return &res, strings.Join(diffs, "; "), ""
}

func (r *observer) listRoutes(ctx context.Context, key, provider string) (map[string]providers.Route, string) {
	inst, err := r.provider(provider)
	if err != nil {
		return nil, fmt.Sprintf("%s: routes via %s: cannot observe: %v", key, provider, r.red.Error(err))
	}
	ing, ok := inst.(providers.Ingress)
	if !ok {
		return nil, fmt.Sprintf("%s: provider %s cannot list routes: drift not checked", key, provider)
	}
	rs, err := ing.ListRoutes(ctx, key)
	if errors.Is(err, providers.ErrCannotObserve) {
		return nil, fmt.Sprintf("%s: provider %s cannot observe routes: drift not checked", key, provider)
	}
	if err != nil {
		return nil, fmt.Sprintf("%s: listing routes failed, drift not checked: %v", key, r.red.Error(err))
	}
	out := map[string]providers.Route{}
	for _, rt := range rs {
		out[rt.Domain] = rt
	}
	return out, ""
}

// observer opens the providers a refresh observes, once each, with the
// secrets they reference read as at apply (and registered with the
// redactor before anything can print them).
type observer struct {
	cfg    *config.Config
	getenv func(string) string
	red    *redact.Redactor
	states map[string]*state.TargetState
	insts  map[string]any // provider name -> instance
}

func (r *observer) provider(name string) (any, error) {
	if inst, ok := r.insts[name]; ok {
		return inst, nil
	}
	p := r.cfg.Provider(name)
	if p == nil {
		return nil, fmt.Errorf("provider %s is not in the config", name)
	}
	inst, err := providers.Open(p.Type, providers.Config{Name: name, Raw: p.Config, ConfigDir: r.cfg.Dir, Resolve: r.resolve, Redactor: r.red})
	if err != nil {
		return nil, err
	}
	r.insts[name] = inst
	return inst, nil
}

// resolve reads a secret reference as apply does and registers the value
// with the redactor before anyone can print it.
func (r *observer) resolve(ref providers.SecretRef) (string, error) {
	v, err := secrets.Read(ref, r.getenv, r.cfg.Dir)
	if err != nil {
		return "", err
	}
	r.red.Add(v)
	return v, nil
}

// providerID is the provider object id recorded for address, or "".
func (r *observer) providerID(target, address string) string {
	if ts := r.states[target]; ts != nil {
		return ts.ProviderIDs[address]
	}
	return ""
}

// str is the string at k of evidence, "" when there is none.
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
