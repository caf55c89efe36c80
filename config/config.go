// Package config is the typed config model: Products, Targets and
// Providers as loaded and validated by package schema. It is a leaf: drivers,
// plan and apply read it without depending on how it was loaded.
package config

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/launchplane/launchplane/diag"
)

// Config is a loaded, validated config directory.
type Config struct {
	Dir       string      // as given to Load
	Files     []string    // config files read, relative, sorted
	Digest    string      // "sha256:<hex>" over every file's path and bytes
	Products  []*Product  // sorted by name
	Targets   []*Target   // sorted by key (product/lane)
	Providers []*Provider // sorted by name
}

// Product returns the named product, or nil.
func (c *Config) Product(name string) *Product {
	i := sort.Search(len(c.Products), func(i int) bool { return c.Products[i].Name >= name })
	if i < len(c.Products) && c.Products[i].Name == name {
		return c.Products[i]
	}
	return nil
}

// Provider returns the named provider, or nil.
func (c *Config) Provider(name string) *Provider {
	i := sort.Search(len(c.Providers), func(i int) bool { return c.Providers[i].Name >= name })
	if i < len(c.Providers) && c.Providers[i].Name == name {
		return c.Providers[i]
	}
	return nil
}

// Target returns the target of product on lane, or nil.
func (c *Config) Target(product, lane string) *Target {
	key := product + "/" + lane
	i := sort.Search(len(c.Targets), func(i int) bool { return c.Targets[i].Key() >= key })
	if i < len(c.Targets) && c.Targets[i].Key() == key {
		return c.Targets[i]
	}
	return nil
}

// Source says where a document came from, so later stages (plan, apply)
// can point diagnostics at the exact field.
type Source struct {
	File   string
	locate func(ptr string) diag.Pos
}

// NewSource is a Source for file whose field positions locate finds.
func NewSource(file string, locate func(ptr string) diag.Pos) Source {
	return Source{File: file, locate: locate}
}

// Pos returns the position of the field at the JSON pointer ptr
// ("/spec/image"), or of its nearest enclosing field when absent.
func (s Source) Pos(ptr string) diag.Pos {
	if s.locate == nil {
		return diag.Pos{File: s.File}
	}
	return s.locate(ptr)
}

// Duration is a Go duration written as a string ("90s", "24h").
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// SecretRef says where a secret value comes from at apply time. Exactly
// one field is set.
type SecretRef struct {
	FromEnv  string `yaml:"fromEnv,omitempty" json:"fromEnv,omitempty"`
	FromFile string `yaml:"fromFile,omitempty" json:"fromFile,omitempty"`
}

func (r SecretRef) String() string {
	if r.FromEnv != "" {
		return "env:" + r.FromEnv
	}
	return "file:" + r.FromFile
}

// Health is a product's HTTP health check.
type Health struct {
	Path    string    `yaml:"path"`
	Timeout *Duration `yaml:"timeout"`
}

// Preview is a product's per-pull-request preview policy.
type Preview struct {
	Enabled bool      `yaml:"enabled"`
	Slug    string    `yaml:"slug"`
	Host    string    `yaml:"host"`
	From    string    `yaml:"from"`
	TTL     *Duration `yaml:"ttl"`
}

// Product is what a product is, whatever lane it runs on.
type Product struct {
	Name   string
	Source Source
	Spec   ProductSpec
}

// ProductSpec is a Product's spec.
type ProductSpec struct {
	Driver string `yaml:"driver"`
	Image  string `yaml:"image"`
	// Source is spec.source: the tenant repository whose requests may
	// name this product (launchplane serve-request).
	Source  *ProductSource       `yaml:"source"`
	Port    int                  `yaml:"port"`
	Health  *Health              `yaml:"health"`
	Env     map[string]string    `yaml:"env"`
	Secrets map[string]SecretRef `yaml:"secrets"`
	Preview *Preview             `yaml:"preview"`
	// Settings holds driver settings blocks by key (spec.odoo), as JSON
	// already validated against the driver's settings schema.
	Settings map[string]json.RawMessage `yaml:"-"`
}

// ProductSource is a Product's spec.source.
type ProductSource struct {
	Repository string `yaml:"repository"` // owner/name
}

// Target is one lane of a product.
type Target struct {
	Name   string
	Source Source
	Spec   TargetSpec
}

// Key is the target key of SPEC §3: <product>/<lane>.
func (t *Target) Key() string { return t.Spec.Product + "/" + t.Spec.Lane }

// TargetSpec is a Target's spec.
type TargetSpec struct {
	Product string            `yaml:"product"`
	Lane    string            `yaml:"lane"`
	Image   string            `yaml:"image"`
	Source  *SourceRef        `yaml:"source"`
	Deploy  ProviderRef       `yaml:"deploy"`
	Ingress *Ingress          `yaml:"ingress"`
	Env     map[string]string `yaml:"env"`
	Health  *TargetHealth     `yaml:"health"`
	Promote *Promotion        `yaml:"promotion"`
	Gates   *Gates            `yaml:"gates"`
}

// SourceRef is a target image's provenance.
type SourceRef struct {
	Commit string `yaml:"commit"`
}

// ProviderRef names a Provider.
type ProviderRef struct {
	Provider string `yaml:"provider"`
}

// Ingress routes domains to the target through an ingress provider.
type Ingress struct {
	Provider string   `yaml:"provider"`
	Domains  []string `yaml:"domains"`
}

// TargetHealth overrides the derived health URL.
type TargetHealth struct {
	URL string `yaml:"url"`
}

// Promotion links a prod target to the lane whose healthy image it takes.
type Promotion struct {
	From string `yaml:"from"`
}

// Gates are preconditions of a deploy.
type Gates struct {
	Backup *BackupGate `yaml:"backup"`
}

// BackupGate requires a fresh, unused backup before an app change.
type BackupGate struct {
	Required bool      `yaml:"required"`
	MaxAge   *Duration `yaml:"maxAge"`
}

// Provider is how to reach an external system.
type Provider struct {
	Name   string
	Source Source
	Type   string
	// Config is the spec.<type> block as JSON, validated against the
	// type's config schema.
	Config json.RawMessage
}

// TargetFiles are the config files of c's Targets by key (relative to the
// config dir): plans cite them and records keep them. A nil Config has
// none.
func (c *Config) TargetFiles() map[string]string {
	m := map[string]string{}
	if c == nil {
		return m
	}
	for _, t := range c.Targets {
		if t.Source.File != "" {
			m[t.Key()] = t.Source.File
		}
	}
	return m
}
