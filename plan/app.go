package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
)

// App is the attributes of an app resource, typed: what every driver
// built on generic-web deploys, and the extensions drivers add. Its JSON
// form (Attrs) is what a plan, a saved plan file and a state file hold:
// convert with AppOf and Attrs at that boundary, never look keys up.
type App struct {
	Name  string
	Image string
	Port  int
	// Env is the plain environment; nil when the attrs have no env.
	Env map[string]string
	// Secrets are the secret references by env name, never values; nil
	// when the attrs have none.
	Secrets map[string]SecretRef
	// Ext are driver extensions by attribute key (a driver with settings
	// uses its settings key): JSON-like values only the driver that owns
	// the key decodes (DecodeExt).
	Ext map[string]any
}

// SecretRef is a secret reference of an app and, once a plan read the
// value, its keyed fingerprint.
type SecretRef struct {
	FromEnv     string `json:"fromEnv,omitempty"`
	FromFile    string `json:"fromFile,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	KeyedBy     string `json:"keyed_by,omitempty"`
}

// Secret reference attribute names.
const (
	attrFromEnv     = "fromEnv"
	attrFromFile    = "fromFile"
	attrFingerprint = "fingerprint"
	attrKeyedBy     = "keyed_by"
)

// AppOf decodes an app's attrs. An attribute of the wrong type is an
// error naming it (attrs.port, attrs.secrets.KEY.fromEnv): attrs come
// from files people can edit.
func AppOf(attrs map[string]any) (App, error) {
	var a App
	var err error
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[k]
		switch k {
		case "name":
			a.Name, err = stringAt("attrs.name", v)
		case "image":
			a.Image, err = stringAt("attrs.image", v)
		case "port":
			a.Port, err = intAt("attrs.port", v)
		case "env":
			a.Env, err = envAt(v)
		case "secrets":
			a.Secrets, err = secretsAt(v)
		default:
			if a.Ext == nil {
				a.Ext = map[string]any{}
			}
			a.Ext[k] = v
		}
		if err != nil {
			return App{}, err
		}
	}
	return a, nil
}

// Attrs is the app's JSON-like form: name, image and port always, env
// and secrets when set, and the extensions.
func (a App) Attrs() map[string]any {
	m := make(map[string]any, 5+len(a.Ext))
	for k, v := range a.Ext {
		m[k] = v
	}
	m["name"] = a.Name
	m["image"] = a.Image
	m["port"] = a.Port
	if a.Env != nil {
		env := make(map[string]any, len(a.Env))
		for k, v := range a.Env {
			env[k] = v
		}
		m["env"] = env
	}
	if a.Secrets != nil {
		s := make(map[string]any, len(a.Secrets))
		for k, r := range a.Secrets {
			s[k] = r.attrs()
		}
		m["secrets"] = s
	}
	return m
}

func (r SecretRef) attrs() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{attrFromEnv: r.FromEnv, attrFromFile: r.FromFile, attrFingerprint: r.Fingerprint, attrKeyedBy: r.KeyedBy} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// Ref is the reference without its fingerprint.
func (r SecretRef) Ref() SecretRef { return SecretRef{FromEnv: r.FromEnv, FromFile: r.FromFile} }

// DecodeExt decodes the extension under key into v (a pointer to the
// driver's type); it reports false when the app has none. Unknown fields
// and wrong types are errors naming attrs.<key>.
func (a App) DecodeExt(key string, v any) (bool, error) {
	raw, ok := a.Ext[key]
	if !ok {
		return false, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return true, fmt.Errorf("attrs.%s: %w", key, err)
	}
	if err := strictJSON(b, v); err != nil {
		return true, fmt.Errorf("attrs.%s: %w", key, err)
	}
	return true, nil
}

// SetExt puts v, JSON-encodable, as the extension under key, in its
// JSON-like form.
func (a *App) SetExt(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("attrs.%s: %w", key, err)
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("attrs.%s: %w", key, err)
	}
	if a.Ext == nil {
		a.Ext = map[string]any{}
	}
	a.Ext[key] = m
	return nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func stringAt(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string, got %s", path, jsonType(v))
	}
	return s, nil
}

func intAt(path string, v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<31 {
			return int(x), nil
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i), nil
		}
	}
	return 0, fmt.Errorf("%s: want an integer, got %s", path, jsonType(v))
}

func envAt(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("attrs.env: want an object, got %s", jsonType(v))
	}
	env := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s, err := stringAt("attrs.env."+k, m[k])
		if err != nil {
			return nil, err
		}
		env[k] = s
	}
	return env, nil
}

func secretsAt(v any) (map[string]SecretRef, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("attrs.secrets: want an object, got %s", jsonType(v))
	}
	out := make(map[string]SecretRef, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		path := "attrs.secrets." + k
		e, ok := m[k].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object, got %s", path, jsonType(m[k]))
		}
		var r SecretRef
		for _, a := range slices.Sorted(maps.Keys(e)) {
			s, err := stringAt(path+"."+a, e[a])
			if err != nil {
				return nil, err
			}
			switch a {
			case attrFromEnv:
				r.FromEnv = s
			case attrFromFile:
				r.FromFile = s
			case attrFingerprint:
				r.Fingerprint = s
			case attrKeyedBy:
				r.KeyedBy = s
			default:
				return nil, fmt.Errorf("%s: unknown attribute %s", path, a)
			}
		}
		out[k] = r
	}
	return out, nil
}

// jsonType names the JSON type of a JSON-like value, for errors.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
