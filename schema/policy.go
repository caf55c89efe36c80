package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/diag"
)

// PolicyFile is where the policy lives in the state repository.
const PolicyFile = "policy.yaml"

// LoadPolicy parses, validates and decodes the bytes of a policy file
// (SPEC §2, §7). name is the path diagnostics show ("policy.yaml").
//
// The file must hold exactly one Policy document. On any error the Policy
// is nil and the diagnostics say why: callers must refuse to go on, never
// treat that nil as "no policy". Fields given but empty, which match or
// allow nothing, are reported as warnings beside a usable Policy.
func LoadPolicy(name string, data []byte) (*config.Policy, diag.Diagnostics) {
	var ds diag.Diagnostics
	p := loadPolicy(name, data, &ds)
	ds.Sort()
	if ds.HasErrors() {
		return nil, ds
	}
	return p, ds
}

func loadPolicy(name string, data []byte, ds *diag.Diagnostics) *config.Policy {
	if len(data) > MaxFileSize {
		ds.Add(diag.Pos{File: name}, "", "file is larger than 1 MiB; a policy must be smaller")
		return nil
	}
	docs, ok := parse(source{rel: name, data: data}, ds)
	if !ok {
		return nil
	}
	switch {
	case len(docs) == 0:
		ds.Add(diag.Pos{File: name}, "", "the policy file is empty: it must hold one Policy document (remove the file to have no policy)")
		return nil
	case len(docs) > 1:
		for _, d := range docs[1:] {
			ds.Add(nodePos(name, d.node.Content[0]), "", "a second document: the policy file must hold exactly one Policy document")
		}
		return nil
	}
	d := docs[0]
	root := d.node.Content[0]
	if root.Kind != yaml.MappingNode {
		ds.Add(nodePos(name, root), "", "a document must be a mapping with apiVersion, kind, metadata and spec; got %s", gotNode(root))
		return nil
	}
	v, locs, keyErrs, err := convert(d.node)
	d.locs = locs
	for _, ke := range keyErrs {
		ds.Add(nodePos(name, ke.node), fieldPath(ke.ptr), "%s", ke.msg)
	}
	if err != nil {
		var ce *convError
		if errors.As(err, &ce) {
			ds.Add(nodePos(name, ce.node), fieldPath(ce.ptr), "%s", ce.msg)
		} else {
			ds.Add(nodePos(name, root), "", "%v", err)
		}
		return nil
	}
	if len(keyErrs) > 0 {
		return nil
	}
	d.value = v
	obj := v.(map[string]any)
	if kind, ok := obj["kind"].(string); ok && kind != "Policy" {
		// One clear message instead of every field the Policy schema
		// does not know.
		ds.Add(d.pos("/kind"), "kind", "must be Policy in the policy file; got %q", kind)
		return nil
	}
	valid, err := validateDoc("Policy", d, ds)
	if err != nil {
		ds.Add(nodePos(name, root), "", "internal error: %v", err)
		return nil
	}
	if !valid {
		return nil
	}
	p, err := decodePolicy(d)
	if err != nil {
		ds.Add(nodePos(name, root), "", "internal error: decode policy: %v", err)
		return nil
	}
	warnEmpty(d, p, ds)
	return p
}

// decodePolicy fills the typed policy from a document that passed its
// schema. It decodes the converted JSON value, not the YAML node, so
// aliases are expanded exactly once, within the converter's budget.
func decodePolicy(d *doc) (*config.Policy, error) {
	raw, err := json.Marshal(lookup(d.value, "/spec"))
	if err != nil {
		return nil, err
	}
	p := &config.Policy{Source: config.NewSource(d.file, d.pos)}
	p.Name, _ = lookup(d.value, "/metadata/name").(string)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p.Spec); err != nil {
		return nil, err
	}
	return p, nil
}

// warnEmpty reports fields given but empty: valid, and meant to match or
// allow nothing, but more often a mistake worth seeing.
func warnEmpty(d *doc, p *config.Policy, ds *diag.Diagnostics) {
	for i, r := range p.Spec.Rules {
		base := fmt.Sprintf("/spec/rules/%d", i)
		m := r.Match
		for _, f := range []struct {
			key string
			val *string
		}{
			{"repository", m.Repository}, {"ref", m.Ref}, {"event", m.Event},
			{"environment", m.Environment}, {"workflow", m.Workflow}, {"actor", m.Actor},
		} {
			if f.val != nil && *f.val == "" {
				ptr := base + "/match/" + f.key
				ds.Warn(d.pos(ptr), fieldPath(ptr), "is empty and matches nothing: this rule never applies")
			}
		}
		for _, f := range []struct {
			key  string
			vals []string
		}{
			{"products", r.Allow.Products}, {"lanes", r.Allow.Lanes}, {"actions", r.Allow.Actions},
		} {
			if len(f.vals) == 0 {
				ptr := base + "/allow/" + f.key
				ds.Warn(d.pos(ptr), fieldPath(ptr), "is empty and allows nothing: this rule never applies")
			}
		}
	}
}
