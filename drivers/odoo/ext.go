package odoo

import (
	"encoding/json"
	"fmt"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/drivers/web"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

// driver is generic-web with odoo's hooks, and the capabilities only odoo
// has: a final backup before a destroy, and clones.
type driver struct{ *web.Driver }

var (
	_ drivers.FinalBackuper = driver{}
	_ drivers.Cloner        = driver{}
)

// Ext is odoo's extension of an app's attributes (attrs.odoo): changing
// it is a change of the app, which runs the post-deploy step.
type Ext struct {
	Database string   `json:"database"`
	Modules  []string `json:"modules"`
	// Settings are the spec.odoo.settings values: a string, or a secret
	// reference.
	Settings map[string]json.RawMessage `json:"settings"`
}

// extOf decodes the app's odoo extension; an app without one has the
// zero Ext.
func extOf(a plan.App) (Ext, error) {
	var e Ext
	_, err := a.DecodeExt(SettingsKey, &e)
	return e, err
}

// appExt is the extension and image of a target's planned app change;
// no change has neither.
func appExt(app *plan.Change) (Ext, string, error) {
	if app == nil {
		return Ext{}, "", nil
	}
	a, err := plan.AppOf(app.After)
	if err != nil {
		return Ext{}, "", fmt.Errorf("%s: %w", app.Address, err)
	}
	e, err := extOf(a)
	if err != nil {
		return Ext{}, "", fmt.Errorf("%s: %w", app.Address, err)
	}
	return e, a.Image, nil
}

// FinalBackup backs an odoo prod app's database up before the app is
// destroyed (its Target file removed): a gate used by the destroy itself,
// taken before any of the target is deleted.
func (driver) FinalBackup(p *config.Product, destroy plan.Change) (*plan.Change, error) {
	a, err := plan.AppOf(destroy.Before)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", destroy.Address, err)
	}
	e, err := extOf(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", destroy.Address, err)
	}
	_, lane := state.SplitKey(destroy.Target)
	if lane != "prod" || e.Database == "" {
		return nil, nil
	}
	root := ""
	if p != nil {
		var o struct {
			Backup struct {
				Root string `json:"root"`
			} `json:"backup"`
		}
		if json.Unmarshal(p.Spec.Settings[SettingsKey], &o) == nil {
			root = o.Backup.Root
		}
	}
	after := map[string]any{"database": e.Database, "max_age": "0s", "root": root, "final": true}
	return &plan.Change{Address: destroy.Target + "/backup", Target: destroy.Target, Kind: plan.KindBackup, Action: plan.Run,
		Reason: "final backup before the app is destroyed", Provider: destroy.Provider, After: after,
		IdempotencyKey: plan.IdempotencyKey(destroy.Target, plan.Run, after)}, nil
}

// CloneSteps restore another lane's backup into the target's database
// with the app stopped, then neutralize it before the app starts.
func (driver) CloneSteps(req drivers.CloneRequest) ([]plan.Change, error) {
	e, err := extOf(req.App)
	if err != nil {
		return nil, fmt.Errorf("%s/app: %w", req.To, err)
	}
	g := req.Gate
	restore := map[string]any{"source": req.From, "gate": g.Record, "backup_id": g.BackupID, "location": g.Location, "database": e.Database, "app": req.App.Name}
	sanitize := map[string]any{"source": req.From, "database": e.Database, "app": req.App.Name}
	return []plan.Change{
		{Address: req.To + "/restore", Target: req.To, Kind: plan.KindRestore, Action: plan.Run, Provider: req.Provider, After: restore,
			Reason: fmt.Sprintf("clone %s's backup %s (%s) into %s, with the app stopped", req.From, g.BackupID, g.Record, req.To)},
		{Address: req.To + "/sanitize", Target: req.To, Kind: plan.KindSanitize, Action: plan.Run, Provider: req.Provider, After: sanitize,
			Reason: "neutralize the cloned database before the app starts"},
	}, nil
}
