package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cmd parses flags and renders: it opens no git repository itself (the
// state repository and the config checkout are read by state/gitstore),
// and it reaches the executor only through the operation runner, which
// authorizes first (STYLE: one operation path).
func TestCmdOpensNoRepoAndRunsOnlyThroughTheRunner(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	executor := map[string]bool{"Run": true, "Release": true, "Unlock": true, "RecordDenial": true}
	fs := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fs, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		applyName := ""
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/go-git/") {
				t.Errorf("%s imports %s: cmd reads git repositories through state/gitstore", fs.Position(imp.Pos()), path)
			}
			if path == "github.com/launchplane/launchplane/apply" {
				applyName = "apply"
				if imp.Name != nil {
					applyName = imp.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || applyName == "" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == applyName && executor[sel.Sel.Name] {
				t.Errorf("%s: cmd calls apply.%s: run it as an operation (operation.Runner) so that it is authorized", fs.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
