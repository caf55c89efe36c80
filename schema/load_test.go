package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/drivers"
	_ "github.com/launchplane/launchplane/drivers/all"
	"github.com/launchplane/launchplane/providers"
	_ "github.com/launchplane/launchplane/providers/all"
)

func TestExamplesLoadCleanly(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*")
	if len(dirs) < 3 {
		t.Fatalf("examples missing: %v", dirs)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		if filepath.Base(dir) == "workflows" {
			continue // GitHub Actions workflows using Launchplane, not a config dir
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, ds := Load(dir)
			if len(ds) > 0 {
				t.Fatalf("diagnostics:\n%v", ds)
			}
			if len(cfg.Products) == 0 || len(cfg.Targets) == 0 || len(cfg.Providers) == 0 {
				t.Fatalf("empty config: %+v", cfg)
			}
			for _, tg := range cfg.Targets {
				if cfg.Product(tg.Spec.Product) == nil {
					t.Errorf("%s: product lookup failed", tg.Key())
				}
				if cfg.Target(tg.Spec.Product, tg.Spec.Lane) != tg {
					t.Errorf("%s: target lookup failed", tg.Key())
				}
				if cfg.Provider(tg.Spec.Deploy.Provider) == nil {
					t.Errorf("%s: provider lookup failed", tg.Key())
				}
			}
			if !strings.HasPrefix(cfg.Digest, "sha256:") || len(cfg.Digest) != 71 {
				t.Errorf("digest %q", cfg.Digest)
			}
		})
	}
}

func TestOdooSettingsDecoded(t *testing.T) {
	cfg, ds := Load("../examples/odoo")
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	p := cfg.Product("acme-erp")
	var s struct {
		Database string         `json:"database"`
		Modules  []string       `json:"modules"`
		Settings map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(p.Spec.Settings["odoo"], &s); err != nil {
		t.Fatal(err)
	}
	if s.Database != "acme" || len(s.Modules) != 4 || s.Settings["acme.payment_api_key"] == nil {
		t.Errorf("decoded %+v", s)
	}
	if got := p.Spec.Secrets["PGPASSWORD"]; got.FromEnv != "ACME_PGPASSWORD" {
		t.Errorf("secret ref %+v", got)
	}
	if p.Spec.Health.Timeout.Seconds() != 120 {
		t.Errorf("timeout %v", p.Spec.Health.Timeout)
	}
	if pos := p.Source.Pos("/spec/odoo/database"); pos.File != "products/acme-erp.yaml" || pos.Line != 16 || pos.Col != 15 {
		t.Errorf("position of spec.odoo.database: %v", pos)
	}
}

// TestDescriptorParity: the Product schema's driver enum and blocks and the
// Provider schema's types and blocks are exactly the registered ones.
func TestDescriptorParity(t *testing.T) {
	docs, err := documents()
	if err != nil {
		t.Fatal(err)
	}
	props := specProps(docs["Product"])
	var ids []any
	for _, d := range drivers.All() {
		desc := d.Descriptor()
		ids = append(ids, desc.ID)
		if desc.SettingsKey == "" {
			continue
		}
		var want map[string]any
		if err := json.Unmarshal(desc.Settings, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(props[desc.SettingsKey], want) {
			t.Errorf("spec.%s in the Product schema differs from driver %s's descriptor", desc.SettingsKey, desc.ID)
		}
	}
	if got := props["driver"].(map[string]any)["enum"]; !reflect.DeepEqual(got, ids) {
		t.Errorf("driver enum %v, registered %v", got, ids)
	}
	pprops := specProps(docs["Provider"])
	var types []any
	for _, info := range providers.All() {
		types = append(types, info.Type)
		var want map[string]any
		if err := json.Unmarshal(info.ConfigSchema, &want); err != nil {
			t.Fatal(err)
		}
		if _, ok := want["description"]; !ok {
			want["description"] = info.Doc
		}
		if !reflect.DeepEqual(pprops[info.Type], want) {
			t.Errorf("spec.%s in the Provider schema differs from its registration", info.Type)
		}
	}
	if got := pprops["type"].(map[string]any)["enum"]; !reflect.DeepEqual(got, types) {
		t.Errorf("type enum %v, registered %v", got, types)
	}
	for _, k := range Kinds {
		if _, err := Document(k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if _, err := compiledSchemas(); err != nil {
		t.Fatal(err)
	}
}

func load(files map[string]string) (*config.Config, diag.Diagnostics) {
	var srcs []source
	for _, name := range slices.Sorted(maps.Keys(files)) {
		srcs = append(srcs, source{rel: name, data: []byte(files[name])})
	}
	var ds diag.Diagnostics
	cfg := loadSources("cfg", srcs, false, LoadOptions{}, &ds)
	ds.Sort()
	return cfg, ds
}

func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: x}\nspec:\n  a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	return b.String()
}

func TestAliasBombFailsFastWithBoundedMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, ds := load(map[string]string{"bomb.yaml": aliasBomb(9)}) // 9^9 = 387M strings if expanded
	runtime.ReadMemStats(&after)
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "alias bomb") {
		t.Fatalf("diagnostics: %v", ds)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("allocated %d MiB for an alias bomb", grew>>20)
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	_, ds := load(map[string]string{"p.yaml": `
apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: shop}
spec: &base
  driver: generic-web
  image: ghcr.io/acme/shop
  port: 8080
  env: &env {A: "1"}
---
apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: shop2}
spec:
  <<: *base
  image: ghcr.io/acme/shop2
  env: *env
`})
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
}

func TestFieldPath(t *testing.T) {
	for ptr, want := range map[string]string{
		"":                        "",
		"/spec":                   "spec",
		"/spec/ingress/domains/0": "spec.ingress.domains[0]",
		"/spec/odoo/settings/a.b": `spec.odoo.settings["a.b"]`,
		"/spec/env/A~1B":          `spec.env["A/B"]`,
		"/spec/env/DATABASE_URL":  "spec.env.DATABASE_URL",
	} {
		if got := fieldPath(ptr); got != want {
			t.Errorf("fieldPath(%q) = %q, want %q", ptr, got, want)
		}
	}
}

// FuzzLoad: whatever the bytes, loading never panics, never hangs, and
// every diagnostic points into the file it came from.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"../examples/odoo", "../examples/generic-web"} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && IsConfigFile(d.Name()) {
				b, _ := os.ReadFile(path)
				f.Add(b)
			}
			return nil
		})
	}
	f.Add([]byte(aliasBomb(4)))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("? [a]\n: b\n"))
	f.Add([]byte("{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ds diag.Diagnostics
		loadSources("cfg", []source{{rel: "f.yaml", data: data}}, false, LoadOptions{}, &ds)
		for _, d := range ds {
			if d.Pos.File != "" && d.Pos.File != "f.yaml" {
				t.Fatalf("diagnostic outside the file: %v", d)
			}
			if d.Message == "" {
				t.Fatalf("empty message: %#v", d)
			}
		}
	})
}
