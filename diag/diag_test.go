package diag

import (
	"bytes"
	"testing"
)

func TestSortDedupesAndOrders(t *testing.T) {
	var ds Diagnostics
	ds.Add(Pos{"b.yaml", 1, 1}, "spec", "x")
	ds.Add(Pos{"a.yaml", 10, 2}, "spec.port", "y")
	ds.Add(Pos{"a.yaml", 2, 5}, "", "z")
	ds.Add(Pos{"a.yaml", 10, 2}, "spec.port", "y")
	ds.Add(Pos{"a.yaml", 2, 3}, "", "w")
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.String())
	}
	want := []string{"a.yaml:2:3: w", "a.yaml:2:5: z", "a.yaml:10:2: spec.port: y", "b.yaml:1:1: spec: x"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestAnnotationEscapes(t *testing.T) {
	d := Diagnostic{Pos: Pos{"p,q:r.yaml", 3, 4}, Field: "spec.env", Message: "100% bad\nreally"}
	got := Annotation(d, "config/")
	want := "::error file=config/p%2Cq%3Ar.yaml,line=3,col=4::spec.env: 100%25 bad%0Areally"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := Annotation(Diagnostic{Message: "no files"}, ""); got != "::error::no files" {
		t.Errorf("got %s", got)
	}
}

func TestPrintAndHasErrors(t *testing.T) {
	var ds Diagnostics
	ds.Warn(Pos{File: "x.yaml"}, "", "unused")
	if ds.HasErrors() {
		t.Fatal("warning counted as error")
	}
	ds.Add(Pos{}, "", "no config files")
	if !ds.HasErrors() {
		t.Fatal("error not counted")
	}
	var b bytes.Buffer
	ds.Print(&b, false, "")
	if b.String() != "x.yaml: warning: unused\nno config files\n" {
		t.Errorf("got %q", b.String())
	}
}
