package odoo

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
)

// Settings is the decoded spec.odoo block.
type Settings struct {
	Database string                     `json:"database"`
	Modules  []string                   `json:"modules"`
	Settings map[string]json.RawMessage `json:"settings"`
	Backup   *struct {
		Root string `json:"root"`
	} `json:"backup"`
}

// settingsOf decodes a product's spec.odoo block.
func settingsOf(p *config.Product) (*Settings, error) {
	raw, ok := p.Spec.Settings[SettingsKey]
	if !ok {
		return nil, fmt.Errorf("product %s: driver odoo needs spec.odoo", p.Name)
	}
	var s Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("product %s: spec.odoo: %w", p.Name, err)
	}
	sort.Strings(s.Modules)
	return &s, nil
}

// appAttrs puts the database and module list on the app, so a module list
// change is a change of the app that triggers the post-deploy job.
func appAttrs(p *config.Product, _ *config.Target, attrs map[string]any) error {
	s, err := settingsOf(p)
	if err != nil {
		return err
	}
	mods := make([]any, len(s.Modules))
	for i, m := range s.Modules {
		mods[i] = m
	}
	attrs["odoo"] = map[string]any{"database": s.Database, "modules": mods}
	return nil
}

// extraSteps adds the backup gate before any app change on prod targets
// that require it, and the module update after an image or module change.
func extraSteps(p *config.Product, t *config.Target, app plan.Resource) ([]plan.Step, error) {
	s, err := settingsOf(p)
	if err != nil {
		return nil, err
	}
	key := t.Key()
	var steps []plan.Step
	gate := t.Spec.Gates != nil && t.Spec.Gates.Backup != nil && t.Spec.Gates.Backup.Required
	if t.Spec.Lane == "prod" && gate {
		maxAge := "24h"
		if t.Spec.Gates.Backup.MaxAge != nil {
			maxAge = t.Spec.Gates.Backup.MaxAge.String()
		}
		steps = append(steps, plan.Step{
			Resource: plan.Resource{Address: key + "/backup", Target: key, Kind: plan.KindBackup, Provider: t.Spec.Deploy.Provider,
				Attrs: map[string]any{"database": s.Database, "max_age": maxAge}},
			Triggers: []plan.Trigger{{Address: app.Address, Reason: "gate required before an app change"}},
		})
	}
	if len(s.Modules) > 0 {
		cmd := fmt.Sprintf("odoo -d %s -u %s --stop-after-init", s.Database, strings.Join(s.Modules, ","))
		steps = append(steps, plan.Step{
			Resource: plan.Resource{Address: key + "/post-deploy", Target: key, Kind: plan.KindPostDeploy, Provider: t.Spec.Deploy.Provider,
				Attrs: map[string]any{"command": cmd, "database": s.Database}},
			Triggers: []plan.Trigger{
				{Address: app.Address, Fields: []string{"image"}, Reason: "image changed"},
				{Address: app.Address, Fields: []string{"odoo"}, Reason: "module list changed"},
			},
		})
	}
	return steps, nil
}
