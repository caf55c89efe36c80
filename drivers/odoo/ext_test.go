package odoo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
)

func recordedApp(odoo any) map[string]any {
	return map[string]any{"name": "erp-prod", "image": "img", "port": 8069, "env": map[string]any{}, "secrets": map[string]any{}, "odoo": odoo}
}

// TestOdooIsTheOwnerOfItsApps: a recorded app with an odoo extension is
// odoo's (its destroy is backed up first); one without is no driver's.
func TestOdooIsTheOwnerOfItsApps(t *testing.T) {
	a, err := plan.AppOf(recordedApp(map[string]any{"database": "erp"}))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := drivers.OwnerOf(a)
	if !ok || d.Descriptor().ID != ID {
		t.Fatalf("owner of an odoo app: %v %v", d, ok)
	}
	if _, ok := d.(drivers.FinalBackuper); !ok {
		t.Error("odoo is no FinalBackuper")
	}
	if _, ok := d.(drivers.Cloner); !ok {
		t.Error("odoo is no Cloner")
	}
	delete(a.Ext, SettingsKey)
	if d, ok := drivers.OwnerOf(a); ok {
		t.Errorf("an app without extension is owned by %s", d.Descriptor().ID)
	}
	web, _ := drivers.Lookup("generic-web")
	if _, ok := web.(drivers.Cloner); ok {
		t.Error("generic-web can clone")
	}
}

// TestFinalBackup: the destroy of an odoo prod app is backed up first,
// to the product's backup root when the config still has it; other lanes
// are not; a hand-edited extension of the wrong type is an error naming
// the attribute.
func TestFinalBackup(t *testing.T) {
	destroy := func(key string, before map[string]any) plan.Change {
		return plan.Change{Address: key + "/app", Target: key, Kind: plan.KindApp, Action: plan.Delete, Provider: "local", Before: before}
	}
	p := &config.Product{Name: "erp"}
	p.Spec.Settings = map[string]json.RawMessage{SettingsKey: json.RawMessage(`{"database":"erp","backup":{"root":"/backups"}}`)}
	c, err := driver{}.FinalBackup(p, destroy("erp/prod", recordedApp(map[string]any{"database": "erp", "modules": []any{}, "settings": map[string]any{}})))
	if err != nil || c == nil {
		t.Fatalf("final backup: %v %v", c, err)
	}
	want := `{"database":"erp","final":true,"max_age":"0s","root":"/backups"}`
	if c.Address != "erp/prod/backup" || c.Kind != plan.KindBackup || c.Action != plan.Run || string(plan.Canonical(c.After)) != want ||
		c.IdempotencyKey != plan.IdempotencyKey("erp/prod", plan.Run, c.After) {
		t.Errorf("final backup change %+v", c)
	}
	if c, err := (driver{}).FinalBackup(nil, destroy("erp/prod", recordedApp(map[string]any{"database": "erp"}))); err != nil || c == nil || c.After["root"] != "" {
		t.Errorf("final backup without the product: %+v %v", c, err)
	}
	if c, err := (driver{}).FinalBackup(p, destroy("erp/testing", recordedApp(map[string]any{"database": "erp"}))); c != nil || err != nil {
		t.Errorf("final backup of a testing lane: %+v %v", c, err)
	}
	_, err = driver{}.FinalBackup(p, destroy("erp/prod", recordedApp(map[string]any{"database": 5})))
	if err == nil || !strings.HasPrefix(err.Error(), "erp/prod/app: attrs.odoo: ") {
		t.Errorf("a number database: %v", err)
	}
	_, err = driver{}.FinalBackup(p, destroy("erp/prod", map[string]any{"port": "x"}))
	if err == nil || err.Error() != "erp/prod/app: attrs.port: want an integer, got a string" {
		t.Errorf("a string port: %v", err)
	}
}

// TestCloneSteps: a clone restores the gate into the recorded database
// with the app stopped, then sanitizes it; a wrong extension is an error.
func TestCloneSteps(t *testing.T) {
	a, err := plan.AppOf(recordedApp(map[string]any{"database": "erp_test", "modules": []any{}, "settings": map[string]any{}}))
	if err != nil {
		t.Fatal(err)
	}
	a.Name = "erp-testing"
	g := state.Gate{Record: "backup-gate-1", BackupID: "b1", Location: "/backups/b1"}
	cs, err := driver{}.CloneSteps(drivers.CloneRequest{From: "erp/prod", To: "erp/testing", Provider: "local", App: a, Gate: g})
	if err != nil || len(cs) != 2 {
		t.Fatalf("clone steps: %v %v", cs, err)
	}
	if cs[0].Kind != plan.KindRestore || string(plan.Canonical(cs[0].After)) != `{"app":"erp-testing","backup_id":"b1","database":"erp_test","gate":"backup-gate-1","location":"/backups/b1","source":"erp/prod"}` {
		t.Errorf("restore: %+v", cs[0])
	}
	if cs[1].Kind != plan.KindSanitize || string(plan.Canonical(cs[1].After)) != `{"app":"erp-testing","database":"erp_test","source":"erp/prod"}` {
		t.Errorf("sanitize: %+v", cs[1])
	}
	a.Ext[SettingsKey] = map[string]any{"database": []any{"erp"}}
	if _, err := (driver{}).CloneSteps(drivers.CloneRequest{From: "erp/prod", To: "erp/testing", App: a, Gate: g}); err == nil || !strings.HasPrefix(err.Error(), "erp/testing/app: attrs.odoo: ") {
		t.Errorf("an array database: %v", err)
	}
}
