package schema

import (
	"errors"

	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/diag"
)

// MaxRequestSize bounds a request (the client_payload of a
// repository_dispatch) in bytes; GitHub's own limit is smaller.
const MaxRequestSize = 64 << 10

// ValidateRequest checks the JSON of a request against the Request
// schema (launchplane schema request): unknown fields, such as a host, a
// provider or env, are errors. name is the path diagnostics show.
// Callers decode the JSON only when no error is reported.
func ValidateRequest(name string, data []byte) diag.Diagnostics {
	var ds diag.Diagnostics
	validateRequest(name, data, &ds)
	ds.Sort()
	return ds
}

func validateRequest(name string, data []byte, ds *diag.Diagnostics) {
	if len(data) > MaxRequestSize {
		ds.Add(diag.Pos{File: name}, "", "the request is larger than %d bytes", MaxRequestSize)
		return
	}
	docs, ok := parse(source{rel: name, data: data}, ds)
	if !ok {
		return
	}
	if len(docs) != 1 {
		ds.Add(diag.Pos{File: name}, "", "want exactly one request object")
		return
	}
	d := docs[0]
	root := d.node.Content[0]
	if root.Kind != yaml.MappingNode {
		ds.Add(nodePos(name, root), "", "a request must be an object; got %s", gotNode(root))
		return
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
		return
	}
	if len(keyErrs) > 0 {
		return
	}
	d.value = v
	if _, err := validateDoc("Request", d, ds); err != nil {
		ds.Add(nodePos(name, root), "", "internal error: %v", err)
	}
}
