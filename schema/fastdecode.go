package schema

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/launchplane/launchplane/config"
)

// The typed spec of a valid Product or Target is decoded from its JSON
// value (already converted and validated) when the fast parser read the
// document (no tags, anchors, aliases or merge keys, on which yaml.v3's
// decoder has its own opinions) and the spec holds only the fields
// fleets write, each with the JSON type the schema gives it; any
// other field, a null or an unexpected type goes to yaml.v3's decoder
// (reflection, an eighth of loading). TestFastDecodeSame compares the
// two on every corpus document and variant.

func str(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

func obj(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok && m != nil
}

func strMap(v any) (map[string]string, bool) {
	m, ok := obj(v)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out[k] = s
	}
	return out, true
}

// fields calls f for each member of m; false when f refuses one.
func fields(m map[string]any, f func(k string, v any) bool) bool {
	for k, v := range m {
		if !f(k, v) {
			return false
		}
	}
	return true
}

// fastTargetSpec is the TargetSpec of a valid Target's spec; false: let
// yaml.v3 decode it.
func fastTargetSpec(d *doc, spec map[string]any) (config.TargetSpec, bool) {
	var t config.TargetSpec
	if !d.fast {
		return t, false
	}
	ok := fields(spec, func(k string, v any) bool {
		var ok bool
		switch k {
		case "product":
			t.Product, ok = str(v)
		case "lane":
			t.Lane, ok = str(v)
		case "image":
			t.Image, ok = str(v)
		case "source":
			var m map[string]any
			if m, ok = obj(v); ok {
				t.Source = &config.SourceRef{}
				ok = fields(m, func(k string, v any) (ok bool) {
					if k == "commit" {
						t.Source.Commit, ok = str(v)
					}
					return ok
				})
			}
		case "deploy":
			var m map[string]any
			if m, ok = obj(v); ok {
				ok = fields(m, func(k string, v any) (ok bool) {
					if k == "provider" {
						t.Deploy.Provider, ok = str(v)
					}
					return ok
				})
			}
		case "ingress":
			var m map[string]any
			if m, ok = obj(v); ok {
				t.Ingress = &config.Ingress{}
				ok = fields(m, func(k string, v any) (ok bool) {
					switch k {
					case "provider":
						t.Ingress.Provider, ok = str(v)
					case "domains":
						var l []any
						if l, ok = v.([]any); ok && l != nil {
							t.Ingress.Domains = make([]string, len(l))
							for i, e := range l {
								if t.Ingress.Domains[i], ok = str(e); !ok {
									return false
								}
							}
						}
					}
					return ok
				})
			}
		case "env":
			t.Env, ok = strMap(v)
		}
		return ok
	})
	return t, ok
}

// fastProductSpec is the ProductSpec of a valid Product's spec (without
// its driver settings blocks, which decode sets); false: let yaml.v3
// decode it.
func fastProductSpec(d *doc, spec map[string]any, blockKeys map[string]string) (config.ProductSpec, bool) {
	var p config.ProductSpec
	if !d.fast {
		return p, false
	}
	ok := fields(spec, func(k string, v any) bool {
		var ok bool
		switch k {
		case "driver":
			p.Driver, ok = str(v)
		case "image":
			p.Image, ok = str(v)
		case "port":
			var n json.Number
			if n, ok = v.(json.Number); ok {
				i, err := strconv.ParseInt(string(n), 10, strconv.IntSize)
				p.Port, ok = int(i), err == nil
			}
		case "source":
			var m map[string]any
			if m, ok = obj(v); ok {
				p.Source = &config.ProductSource{}
				ok = fields(m, func(k string, v any) (ok bool) {
					if k == "repository" {
						p.Source.Repository, ok = str(v)
					}
					return ok
				})
			}
		case "health":
			var m map[string]any
			if m, ok = obj(v); ok {
				p.Health = &config.Health{}
				ok = fields(m, func(k string, v any) (ok bool) {
					switch k {
					case "path":
						p.Health.Path, ok = str(v)
					case "timeout":
						var s string
						if s, ok = str(v); ok {
							d, err := time.ParseDuration(s)
							p.Health.Timeout, ok = &config.Duration{Duration: d}, err == nil
						}
					}
					return ok
				})
			}
		case "env":
			p.Env, ok = strMap(v)
		case "secrets":
			var m map[string]any
			if m, ok = obj(v); ok {
				p.Secrets = make(map[string]config.SecretRef, len(m))
				ok = fields(m, func(k string, v any) bool {
					ref, ok := obj(v)
					if !ok {
						return false
					}
					var r config.SecretRef
					ok = fields(ref, func(k string, v any) (ok bool) {
						switch k {
						case "fromEnv":
							r.FromEnv, ok = str(v)
						case "fromFile":
							r.FromFile, ok = str(v)
						}
						return ok
					})
					p.Secrets[k] = r
					return ok
				})
			}
		default:
			_, ok = blockKeys[k] // a driver's settings: not a yaml field
		}
		return ok
	})
	return p, ok
}
