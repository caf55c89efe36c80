package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/schema"
)

// TestDescriptorParity: `launchplane drivers --output json`, the Product
// schema's driver blocks and each driver's dispatch table all come from
// the one descriptor; this fails when any of them drifts from it.
func TestDescriptorParity(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(&env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, []string{"drivers", "--output", "json"}); code != 0 {
		t.Fatalf("drivers --output json: exit %d: %s", code, errb.String())
	}
	var listed struct {
		Drivers []json.RawMessage `json:"drivers"`
	}
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil {
		t.Fatal(err)
	}
	all := drivers.All()
	if len(listed.Drivers) != len(all) {
		t.Fatalf("the CLI lists %d drivers, the registry has %d", len(listed.Drivers), len(all))
	}

	out.Reset()
	if code := run(&env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, []string{"schema", "product"}); code != 0 {
		t.Fatalf("schema product: exit %d: %s", code, errb.String())
	}
	var product struct {
		Properties struct {
			Spec struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"spec"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(out.Bytes(), &product); err != nil {
		t.Fatal(err)
	}

	for i, d := range all {
		desc := d.Descriptor()
		t.Run(desc.ID, func(t *testing.T) {
			want, err := json.Marshal(desc)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, listed.Drivers[i], want) {
				t.Errorf("drivers --output json shows\n%s\nthe descriptor is\n%s", listed.Drivers[i], want)
			}
			if desc.SettingsKey != "" {
				block, ok := product.Properties.Spec.Properties[desc.SettingsKey]
				if !ok {
					t.Fatalf("the Product schema has no spec.%s block", desc.SettingsKey)
				}
				if !sameJSON(t, block, desc.Settings) {
					t.Errorf("the Product schema's spec.%s differs from the descriptor's settings schema", desc.SettingsKey)
				}
			}
			steps := d.Steps()
			declared := map[plan.Kind]bool{}
			for _, a := range desc.Actions {
				if a.Step == "" {
					continue
				}
				declared[a.Step] = true
				if a.Step != plan.KindHealth && steps[a.Step] == nil {
					t.Errorf("action %s runs as step %s, which the driver does not dispatch", a.Name, a.Step)
				}
			}
			for kind := range steps {
				if !declared[kind] {
					t.Errorf("the driver dispatches step %s, which no action of the descriptor declares", kind)
				}
			}
		})
	}

	// Every step the drivers put in plans of the examples is dispatched.
	for _, dir := range []string{"../../examples/odoo", "../../examples/generic-web", "../../examples/quickstart", "../../examples/compose-caddy"} {
		cfg, ds := schema.Load(dir)
		if ds.HasErrors() {
			t.Fatalf("%s: %v", dir, ds)
		}
		for _, tg := range cfg.Targets {
			d, _ := drivers.Lookup(cfg.Product(tg.Spec.Product).Spec.Driver)
			dt, err := d.Expand(cfg, tg)
			if err != nil {
				t.Fatalf("%s: %v", tg.Key(), err)
			}
			for _, s := range dt.Steps {
				if s.Kind != plan.KindHealth && d.Steps()[s.Kind] == nil {
					t.Errorf("%s: driver %s plans step %s but does not dispatch it", tg.Key(), d.Descriptor().ID, s.Kind)
				}
			}
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
