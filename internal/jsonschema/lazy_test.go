package jsonschema

import (
	"strings"
	"testing"
)

// launchplane's change: the drafts' meta-schemas are compiled at the
// first compilation, not in init, and they still check every schema
// compiled: an invalid schema is refused with the meta-schema's error.
func TestMetaSchemasLazy(t *testing.T) {
	for _, d := range []*Draft{Draft4, Draft6, Draft7, Draft2019, Draft2020} {
		if d.meta != nil {
			t.Fatalf("%s: meta-schema compiled before any compilation", d)
		}
	}
	_, err := CompileString("bad.json", `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": 5}`)
	if err == nil || !strings.Contains(err.Error(), "does not validate with https://json-schema.org/draft/2020-12/schema#") {
		t.Fatalf("invalid schema: %v", err)
	}
	for _, d := range []*Draft{Draft4, Draft6, Draft7, Draft2019, Draft2020} {
		if d.meta == nil || d.meta.meta != d.meta {
			t.Fatalf("%s: meta-schema not compiled after a compilation", d)
		}
	}
	_, err = CompileString("bad4.json", `{"$schema": "http://json-schema.org/draft-04/schema#", "minLength": -1}`)
	if err == nil || !strings.Contains(err.Error(), "does not validate with http://json-schema.org/draft-04/schema#") {
		t.Fatalf("invalid draft-04 schema: %v", err)
	}
	s, err := CompileString("ok.json", `{"type": "string", "format": "uri", "minLength": 2}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate("x"); err == nil {
		t.Fatal(`"x" validates against minLength 2`)
	}
}
