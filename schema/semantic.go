package schema

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// semantic checks the rules of SPEC §2 that a schema cannot express: they
// span documents or depend on registered drivers and providers.
func (l *loader) semantic() {
	for _, p := range l.cfg.Products {
		l.checkProduct(p)
	}
	for _, p := range l.cfg.Providers {
		l.checkProvider(p)
	}
	byKey := map[string]*config.Target{}
	domains := map[string]fieldAt{}
	for _, t := range l.targets {
		l.checkTarget(t, byKey, domains)
	}
	for _, p := range l.cfg.Products {
		l.checkPreview(p, byKey)
	}
	for _, t := range l.targets {
		l.checkPromotion(t, byKey)
	}
}

func (l *loader) add(obj any, ptr, format string, args ...any) {
	l.ds.Add(l.docs[obj].pos(ptr), fieldPath(ptr), format, args...)
}

func (l *loader) addAtKey(obj any, ptr, format string, args ...any) {
	l.ds.Add(l.docs[obj].keyPos(ptr), fieldPath(ptr), format, args...)
}

// known reports whether a document of kind was defined, valid or not: a
// reference to an invalid document is not reported a second time, nor a
// reference that config we could not read might satisfy.
func (l *loader) known(kind, name string) bool {
	_, ok := l.names[kind][name]
	return ok || l.incomplete
}

// checkEnvKeys reports secret-shaped plain env keys. It reads the raw
// document, so it runs whether or not the document passed its schema.
func checkEnvKeys(d *doc, ds *diag.Diagnostics) {
	env, _ := lookup(d.value, "/spec/env").(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if seg, ok := redact.SecretSegment(k); ok {
			ptr := "/spec/env/" + escapePtr(k)
			ds.Add(d.keyPos(ptr), fieldPath(ptr), "key looks secret-shaped (segment %q): move it to the product's spec.secrets as a secret reference", seg)
		}
	}
}

func (l *loader) checkProduct(p *config.Product) {
	for _, k := range slices.Sorted(maps.Keys(p.Spec.Secrets)) {
		if _, dup := p.Spec.Env[k]; dup {
			l.addAtKey(p, "/spec/secrets/"+escapePtr(k), "%s is also set in spec.env; a key is either plain or secret", k)
		}
	}
	blocks := driverBlockKeys()
	for _, key := range slices.Sorted(maps.Keys(blocks)) {
		if _, ok := p.Spec.Settings[key]; ok && blocks[key] != p.Spec.Driver {
			l.addAtKey(p, "/spec/"+escapePtr(key), "block %s belongs to driver %s; this product uses driver %s", key, blocks[key], p.Spec.Driver)
		}
	}
}

func (l *loader) checkProvider(p *config.Provider) {
	spec, _ := lookup(l.docs[p].value, "/spec").(map[string]any)
	for _, info := range providers.All() {
		if _, ok := spec[info.Type]; ok && info.Type != p.Type {
			l.addAtKey(p, "/spec/"+info.Type, "block %s does not apply to a provider of type %s", info.Type, p.Type)
		}
	}
}

// fieldAt names a field of a document; its position is looked up only
// when a message needs it (finding positions parses the file again).
type fieldAt struct {
	src config.Source
	ptr string
}

func (f fieldAt) String() string { return f.src.Pos(f.ptr).String() }

func (l *loader) checkTarget(t *config.Target, byKey map[string]*config.Target, domains map[string]fieldAt) {
	product := l.cfg.Product(t.Spec.Product)
	if !l.known("Product", t.Spec.Product) {
		l.add(t, "/spec/product", "unknown product %q%s", t.Spec.Product, l.knownList("Product"))
	}

	if first, dup := byKey[t.Key()]; dup {
		l.add(t, "/spec/lane", "product %s already has a %s target: %s at %s", t.Spec.Product, t.Spec.Lane, first.Name, first.Source.Pos("/metadata/name"))
	} else {
		byKey[t.Key()] = t
	}

	if product != nil {
		repo := t.Spec.Image[:strings.LastIndexByte(t.Spec.Image, '@')]
		if repo != product.Spec.Image {
			l.add(t, "/spec/image", "image repository %s is not product %s's image %s", repo, product.Name, product.Spec.Image)
		}
	}

	l.checkRole(t, "/spec/deploy/provider", t.Spec.Deploy.Provider, providers.RoleDeployer)
	if t.Spec.Ingress != nil {
		l.checkRole(t, "/spec/ingress/provider", t.Spec.Ingress.Provider, providers.RoleIngress)
		for i, d := range t.Spec.Ingress.Domains {
			ptr := fmt.Sprintf("/spec/ingress/domains/%d", i)
			if first, dup := domains[d]; dup {
				l.add(t, ptr, "domain %s is already routed by another target (%s)", d, first)
				continue
			}
			domains[d] = fieldAt{t.Source, ptr}
		}
	}

	if product != nil {
		for _, k := range slices.Sorted(maps.Keys(t.Spec.Env)) {
			if _, secret := product.Spec.Secrets[k]; secret {
				l.addAtKey(t, "/spec/env/"+escapePtr(k), "%s is a secret of product %s; it cannot be set as plain env", k, product.Name)
			}
		}
	}

	if product == nil {
		return
	}
	driver, _ := drivers.Lookup(product.Spec.Driver)
	if t.Spec.Gates != nil && t.Spec.Gates.Backup != nil && driver != nil && !driver.Descriptor().HasCapability(drivers.CapBackup) {
		l.addAtKey(t, "/spec/gates/backup", "driver %s of product %s has no backup gate (drivers with one: %s)", product.Spec.Driver, product.Name, strings.Join(driversWith(drivers.CapBackup), ", "))
	}
	hasURL := t.Spec.Health != nil && t.Spec.Health.URL != ""
	hasDomain := t.Spec.Ingress != nil && len(t.Spec.Ingress.Domains) > 0
	switch {
	case product.Spec.Health != nil && !hasURL && !hasDomain:
		l.addAtKey(t, "/spec", "product %s has a health check but this target has no URL for it: add spec.ingress.domains or spec.health.url", product.Name)
	case product.Spec.Health == nil && hasURL:
		l.addAtKey(t, "/spec/health", "product %s has no health check (its spec.health) for this URL to serve", product.Name)
	}
}

func (l *loader) checkRole(t *config.Target, ptr, name string, role providers.Role) {
	if !l.known("Provider", name) {
		l.add(t, ptr, "unknown provider %q%s", name, l.knownList("Provider"))
		return
	}
	p := l.cfg.Provider(name)
	if p == nil {
		return // invalid, reported where it is defined
	}
	info, _ := providers.Lookup(p.Type)
	if !info.Has(role) {
		var roles []string
		for _, r := range info.Roles {
			roles = append(roles, string(r))
		}
		l.add(t, ptr, "provider %s (type %s) cannot act as %s; its roles: %s", name, p.Type, role, strings.Join(roles, ", "))
	}
}

func (l *loader) checkPreview(p *config.Product, byKey map[string]*config.Target) {
	pv := p.Spec.Preview
	if pv == nil || !pv.Enabled {
		return
	}
	from := pv.From
	if from == "" {
		from = "testing"
	}
	if _, ok := byKey[p.Name+"/"+from]; !ok && !l.incomplete {
		ptr := "/spec/preview/from"
		if pv.From == "" {
			ptr = "/spec/preview"
		}
		l.add(p, ptr, "previews take providers and env from the %s target, but product %s has no %s target", from, p.Name, from)
	}
}

func (l *loader) checkPromotion(t *config.Target, byKey map[string]*config.Target) {
	pr := t.Spec.Promote
	if pr == nil {
		return
	}
	switch {
	case t.Spec.Lane != "prod":
		l.addAtKey(t, "/spec/promotion", "only prod targets are promoted to; this target's lane is %s", t.Spec.Lane)
	case pr.From == t.Spec.Lane:
		l.add(t, "/spec/promotion/from", "a lane cannot promote from itself")
	case byKey[t.Spec.Product+"/"+pr.From] == nil && l.known("Product", t.Spec.Product) && !l.incomplete:
		l.add(t, "/spec/promotion/from", "product %s has no %s target to promote from", t.Spec.Product, pr.From)
	}
}

// knownList is a hint listing the defined names of kind, when few.
func (l *loader) knownList(kind string) string {
	names := slices.Sorted(maps.Keys(l.names[kind]))
	switch {
	case len(names) == 0:
		return fmt.Sprintf(" (no %s is defined)", kind)
	case len(names) > 8:
		return ""
	}
	return " (defined: " + strings.Join(names, ", ") + ")"
}

func driversWith(capability string) []string {
	var out []string
	for _, d := range drivers.All() {
		if d.Descriptor().HasCapability(capability) {
			out = append(out, d.Descriptor().ID)
		}
	}
	sort.Strings(out)
	return out
}
