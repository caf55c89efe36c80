package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Feedback reaches cmd only through the Feedback role and the provider
// registry: the feedback files import no concrete provider nor go-git,
// and no file of the binary's cmd names gitlab, which the registry
// brings in (providers/all) with nothing else to change.
func TestFeedbackThroughRegistry(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(string(src)), "gitlab") {
			t.Errorf("%s names gitlab: the binary must reach it through the registry", name)
		}
		if !strings.HasPrefix(name, "feedback") {
			continue
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/launchplane/launchplane/providers/") || strings.Contains(p, "go-git") {
				t.Errorf("%s imports %s: feedback goes through providers.DetectCI and the Feedback role", name, p)
			}
		}
	}
}
