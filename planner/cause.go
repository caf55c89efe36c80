package planner

import (
	"slices"
	"strconv"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// attachCauses points every change at the config node that caused it, so
// a reviewer reads the plan next to the diff that made it: the field whose
// value changed, the document that is new, or the file a target was
// removed from. Steps cite what triggered them (their target's app change)
// or their own settings.
func attachCauses(cfg *config.Config, p *plan.Plan, states map[string]*state.TargetState) {
	targets := make(map[string]*config.Target, len(cfg.Targets))
	for _, t := range cfg.Targets {
		targets[t.Key()] = t
	}
	appCause := map[string]*plan.Cause{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.NoOp || plan.IsStep(c.Kind) {
			continue
		}
		c.Cause = resourceCause(cfg, targets[c.Target], c, states[c.Target])
		if c.Kind == plan.KindApp && c.Cause != nil {
			appCause[c.Target] = c.Cause
		}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.NoOp || !plan.IsStep(c.Kind) {
			continue
		}
		c.Cause = stepCause(cfg, targets[c.Target], c, appCause[c.Target])
	}
}

func at(src config.Source, ptr string) *plan.Cause {
	pos := src.Pos(ptr)
	if pos.File == "" {
		return nil
	}
	return &plan.Cause{Path: pos.File, Line: pos.Line, Col: pos.Col}
}

// resourceCause is the cause of an app or route change; t is its Target
// (nil when the Target is gone).
func resourceCause(cfg *config.Config, t *config.Target, c *plan.Change, ts *state.TargetState) *plan.Cause {
	if c.Action == plan.Delete {
		if t != nil { // the resource went, its target stays
			if c.Kind == plan.KindRoute {
				return at(t.Source, "/spec/ingress/domains")
			}
			return at(t.Source, "/spec")
		}
		file := ""
		if ts != nil {
			file = ts.ConfigFile
		}
		if file != "" && slices.Contains(cfg.Files, file) {
			return &plan.Cause{Path: file}
		}
		return &plan.Cause{Path: file, Note: "Target file removed"}
	}
	if t == nil {
		return nil
	}
	prod := cfg.Product(t.Spec.Product)
	if c.Action == plan.Create {
		if c.Kind == plan.KindRoute {
			return domainCause(t, c)
		}
		return at(t.Source, "/metadata/name")
	}
	if c.Action == plan.Replace && c.Before != nil && c.Reason != "" && strings.HasPrefix(c.Reason, "provider changed") {
		if c.Kind == plan.KindRoute {
			return at(t.Source, "/spec/ingress/provider")
		}
		return at(t.Source, "/spec/deploy/provider")
	}
	field := ""
	for _, d := range c.Diff { // the image, when it changed, is what a reviewer looks for
		if field == "" || d.Path == "image" {
			field = d.Path
		}
	}
	top, rest, _ := strings.Cut(field, ".")
	key, _, _ := strings.Cut(rest, ".")
	switch {
	case c.Kind == plan.KindRoute && top == "domain":
		return domainCause(t, c)
	case top == "image", top == "" && c.Kind == plan.KindApp:
		return at(t.Source, "/spec/image")
	case top == "name", top == "upstream":
		return at(t.Source, "/metadata/name")
	case top == "env":
		if _, ok := t.Spec.Env[key]; ok {
			return at(t.Source, "/spec/env/"+key)
		}
		if prod != nil {
			if _, ok := prod.Spec.Env[key]; ok {
				return at(prod.Source, "/spec/env/"+key)
			}
		}
		if len(t.Spec.Env) > 0 || prod == nil {
			return at(t.Source, "/spec/env")
		}
		return at(prod.Source, "/spec/env")
	case prod == nil:
		return at(t.Source, "/spec")
	case top == "secrets":
		return at(prod.Source, "/spec/secrets/"+key)
	case top == "port":
		return at(prod.Source, "/spec/port")
	}
	return at(prod.Source, "/spec/"+top)
}

// domainCause is the domain's entry in the target's ingress.domains.
func domainCause(t *config.Target, c *plan.Change) *plan.Cause {
	if t.Spec.Ingress != nil {
		// a delete has no after: no domain, the ingress is the cause
		r, _ := plan.RouteOf(c.After)
		for i, dom := range t.Spec.Ingress.Domains {
			if dom == r.Domain {
				return at(t.Source, "/spec/ingress/domains/"+strconv.Itoa(i))
			}
		}
	}
	return at(t.Source, "/spec/ingress")
}

// stepCause is the cause of a step: what triggered it (app is its target's
// app change's cause) or its own settings in t.
func stepCause(cfg *config.Config, t *config.Target, c *plan.Change, app *plan.Cause) *plan.Cause {
	switch {
	case c.Kind == plan.KindBackup && t != nil:
		return at(t.Source, "/spec/gates/backup")
	case app != nil:
		return app
	case t == nil:
		return nil
	case c.Kind == plan.KindHealth:
		if t.Spec.Health != nil {
			return at(t.Source, "/spec/health")
		}
		if prod := cfg.Product(t.Spec.Product); prod != nil {
			return at(prod.Source, "/spec/health")
		}
	}
	return at(t.Source, "/spec")
}
