package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/launchplane/launchplane/drivers"
	"github.com/launchplane/launchplane/providers"
)

// APIVersion is the only apiVersion this build reads.
const APIVersion = "launchplane.dev/v1"

// Kinds in the order they are documented. Request is not a config file:
// it is what a product repository sends (launchplane request).
var Kinds = []string{"Product", "Target", "Provider", "Policy", "Request"}

//go:embed *.schema.json defs.json
var files embed.FS

// composed holds every kind's final schema document, built once from the
// embedded files plus the registered drivers and providers.
var composed struct {
	once      sync.Once
	docs      map[string]map[string]any // kind -> schema document
	blockKeys map[string]string         // Product spec key -> driver id
	err       error
}

// Document returns the complete JSON Schema of kind (case-insensitive),
// pretty-printed: the embedded base with the shared $defs, the registered
// driver ids and settings blocks (Product) and the registered provider
// types and config blocks (Provider).
func Document(kind string) ([]byte, error) {
	docs, err := documents()
	if err != nil {
		return nil, err
	}
	k := canonicalKind(kind)
	doc, ok := docs[k]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q (known: %s)", kind, strings.Join(Kinds, ", "))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func canonicalKind(kind string) string {
	for _, k := range Kinds {
		if strings.EqualFold(k, kind) {
			return k
		}
	}
	return kind
}

func documents() (map[string]map[string]any, error) {
	composed.once.Do(func() {
		composed.docs, composed.err = compose()
		composed.blockKeys = map[string]string{}
		for _, d := range drivers.All() {
			if k := d.Descriptor().SettingsKey; k != "" {
				composed.blockKeys[k] = d.Descriptor().ID
			}
		}
	})
	return composed.docs, composed.err
}

func readJSON(name string) (map[string]any, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("embedded %s: %w", name, err)
	}
	return v, nil
}

func compose() (map[string]map[string]any, error) {
	docs := map[string]map[string]any{}
	for _, k := range Kinds {
		defs, err := readJSON("defs.json") // a fresh copy per document
		if err != nil {
			return nil, err
		}
		doc, err := readJSON(strings.ToLower(k) + ".schema.json")
		if err != nil {
			return nil, err
		}
		doc["$defs"] = defs
		docs[k] = doc
	}
	if err := composeProduct(docs["Product"]); err != nil {
		return nil, err
	}
	if err := composeProvider(docs["Provider"]); err != nil {
		return nil, err
	}
	return docs, nil
}

func specProps(doc map[string]any) map[string]any {
	spec := doc["properties"].(map[string]any)["spec"].(map[string]any)
	return spec["properties"].(map[string]any)
}

// composeProduct fills spec.driver's enum and adds each driver's settings
// block as an optional spec property.
func composeProduct(doc map[string]any) error {
	props := specProps(doc)
	var ids []any
	for _, d := range drivers.All() {
		desc := d.Descriptor()
		ids = append(ids, desc.ID)
		if desc.SettingsKey == "" {
			continue
		}
		if _, taken := props[desc.SettingsKey]; taken {
			return fmt.Errorf("driver %s: settings key %q collides with a Product spec field", desc.ID, desc.SettingsKey)
		}
		var block map[string]any
		if err := json.Unmarshal(desc.Settings, &block); err != nil {
			return fmt.Errorf("driver %s: settings schema: %w", desc.ID, err)
		}
		if _, ok := block["description"]; !ok {
			block["description"] = "settings of the " + desc.ID + " driver"
		}
		props[desc.SettingsKey] = block
	}
	driver := props["driver"].(map[string]any)
	driver["enum"] = ids
	return nil
}

// composeProvider fills spec.type's enum, adds each type's config block
// and requires the block of the chosen type when its schema has required
// fields.
func composeProvider(doc map[string]any) error {
	spec := doc["properties"].(map[string]any)["spec"].(map[string]any)
	props := spec["properties"].(map[string]any)
	var types []any
	var conds []any
	for _, info := range providers.All() {
		types = append(types, info.Type)
		if _, taken := props[info.Type]; taken {
			return fmt.Errorf("provider %s: config key collides with a Provider spec field", info.Type)
		}
		var block map[string]any
		if err := json.Unmarshal(info.ConfigSchema, &block); err != nil {
			return fmt.Errorf("provider %s: config schema: %w", info.Type, err)
		}
		if _, ok := block["description"]; !ok {
			block["description"] = info.Doc
		}
		props[info.Type] = block
		if req, _ := block["required"].([]any); len(req) > 0 {
			conds = append(conds, map[string]any{
				"if": map[string]any{"properties": map[string]any{"type": map[string]any{"const": info.Type}}, "required": []any{"type"}},
				"then": map[string]any{"required": []any{info.Type}, "x-messages": map[string]any{
					"required": fmt.Sprintf("a provider of type %s needs its settings in spec.%s (see launchplane schema provider)", info.Type, info.Type)}},
			})
		}
	}
	props["type"].(map[string]any)["enum"] = types
	if len(conds) > 0 {
		spec["allOf"] = conds
	}
	return nil
}

// driverBlockKeys maps the Product spec keys that hold driver settings to
// their driver ids. Callers must not modify it.
func driverBlockKeys() map[string]string {
	documents()
	return composed.blockKeys
}

// sortedKeys is kept only for validate.go, which is being restructured
// elsewhere; new code calls slices.Sorted(maps.Keys(m)) directly.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
