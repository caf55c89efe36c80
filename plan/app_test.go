package plan

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppRoundTrip: an app's attrs as a plan, a saved plan file (numbers
// as json.Number) and a state file (float64) hold them decode and encode
// to the same canonical JSON, driver extensions included.
func TestAppRoundTrip(t *testing.T) {
	const stateJSON = `{"name":"erp-prod","image":"ghcr.io/acme/erp@sha256:11","port":8069,
		"env":{"LOG":"info","LP_SETTING_KEYS":"[\"a\"]"},
		"secrets":{"PG":{"fromEnv":"PG","fingerprint":"hmac-sha256:ab","keyed_by":"env:12"},"F":{"fromFile":"f.txt"}},
		"odoo":{"database":"erp","modules":["sale"],"settings":{"a":"b","k":{"fromEnv":"K"}}}}`
	for _, number := range []bool{false, true} {
		dec := json.NewDecoder(strings.NewReader(stateJSON))
		if number {
			dec.UseNumber()
		}
		var attrs map[string]any
		if err := dec.Decode(&attrs); err != nil {
			t.Fatal(err)
		}
		a, err := AppOf(attrs)
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "erp-prod" || a.Port != 8069 || a.Env["LOG"] != "info" || a.Secrets["PG"].KeyedBy != "env:12" || a.Secrets["F"].FromFile != "f.txt" {
			t.Errorf("decoded %+v", a)
		}
		if got, want := string(Canonical(a.Attrs())), string(Canonical(attrs)); got != want {
			t.Errorf("round trip:\n got %s\nwant %s", got, want)
		}
		var ext struct {
			Database string         `json:"database"`
			Modules  []string       `json:"modules"`
			Settings map[string]any `json:"settings"`
		}
		if ok, err := a.DecodeExt("odoo", &ext); !ok || err != nil || ext.Database != "erp" {
			t.Errorf("DecodeExt: %v %v %+v", ok, err, ext)
		}
	}
	// absent env and secrets stay absent
	a, err := AppOf(map[string]any{"name": "n", "image": "i", "port": 80})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(Canonical(a.Attrs())); got != `{"image":"i","name":"n","port":80}` {
		t.Errorf("minimal app: %s", got)
	}
}

// TestAppOfWrongTypes: hand-edited attrs of the wrong type are errors that
// name the attribute, never a panic or a silent zero.
func TestAppOfWrongTypes(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string]any
		want  string
	}{
		{map[string]any{"name": 5}, "attrs.name: want a string, got a number"},
		{map[string]any{"image": []any{"x"}}, "attrs.image: want a string, got an array"},
		{map[string]any{"port": "8080"}, "attrs.port: want an integer, got a string"},
		{map[string]any{"port": 80.5}, "attrs.port: want an integer, got a number"},
		{map[string]any{"port": 1e300}, "attrs.port: want an integer, got a number"},
		{map[string]any{"env": []any{}}, "attrs.env: want an object, got an array"},
		{map[string]any{"env": map[string]any{"A": nil}}, "attrs.env.A: want a string, got null"},
		{map[string]any{"secrets": map[string]any{"K": "v"}}, "attrs.secrets.K: want an object, got a string"},
		{map[string]any{"secrets": map[string]any{"K": map[string]any{"fromEnv": true}}}, "attrs.secrets.K.fromEnv: want a string, got a boolean"},
		{map[string]any{"secrets": map[string]any{"K": map[string]any{"value": "s3cret"}}}, "attrs.secrets.K: unknown attribute value"},
	} {
		_, err := AppOf(tc.attrs)
		if err == nil || err.Error() != tc.want {
			t.Errorf("AppOf(%v) = %v, want %q", tc.attrs, err, tc.want)
		}
	}
	a, err := AppOf(map[string]any{"odoo": map[string]any{"database": 5.0}})
	if err != nil {
		t.Fatal(err)
	}
	var ext struct {
		Database string `json:"database"`
	}
	if _, err := a.DecodeExt("odoo", &ext); err == nil || !strings.HasPrefix(err.Error(), "attrs.odoo: ") || !strings.Contains(err.Error(), "database") {
		t.Errorf("DecodeExt of a number database: %v", err)
	}
	if _, err := a.DecodeExt("odoo", &struct{}{}); err == nil || !strings.Contains(err.Error(), `unknown field "database"`) {
		t.Errorf("DecodeExt with an unknown field: %v", err)
	}
	if ok, err := a.DecodeExt("other", &ext); ok || err != nil {
		t.Errorf("DecodeExt of a missing extension: %v %v", ok, err)
	}
}
