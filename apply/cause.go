package apply

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
	appCause := map[string]*plan.Cause{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.NoOp || plan.IsStep(c.Kind) {
			continue
		}
		c.Cause = resourceCause(cfg, c, states[c.Target])
		if c.Kind == plan.KindApp && c.Cause != nil {
			appCause[c.Target] = c.Cause
		}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.NoOp || !plan.IsStep(c.Kind) {
			continue
		}
		c.Cause = stepCause(cfg, c, appCause[c.Target])
	}
}

func targetOf(cfg *config.Config, key string) *config.Target {
	for _, t := range cfg.Targets {
		if t.Key() == key {
			return t
		}
	}
	return nil
}

func at(src config.Source, ptr string) *plan.Cause {
	pos := src.Pos(ptr)
	if pos.File == "" {
		return nil
	}
	return &plan.Cause{Path: pos.File, Line: pos.Line, Col: pos.Col}
}

func resourceCause(cfg *config.Config, c *plan.Change, ts *state.TargetState) *plan.Cause {
	t := targetOf(cfg, c.Target)
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
		d, _ := c.After["domain"].(string)
		for i, dom := range t.Spec.Ingress.Domains {
			if dom == d {
				return at(t.Source, "/spec/ingress/domains/"+strconv.Itoa(i))
			}
		}
	}
	return at(t.Source, "/spec/ingress")
}

func stepCause(cfg *config.Config, c *plan.Change, app *plan.Cause) *plan.Cause {
	t := targetOf(cfg, c.Target)
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

// configFileOf is the config file of target key in cfg, else was.
func configFileOf(cfg *config.Config, key, was string) string {
	if cfg != nil {
		if t := targetOf(cfg, key); t != nil && t.Source.File != "" {
			return t.Source.File
		}
	}
	return was
}
