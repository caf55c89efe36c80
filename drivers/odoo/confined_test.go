package odoo

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOdooKnowledgeStaysInTheDriver: the planner and apply reach odoo only
// through driver hooks and capabilities (drivers.Cloner,
// drivers.FinalBackuper, drivers.OwnerOf): their non-test sources import
// no drivers/odoo, and no string literal or identifier of theirs names
// odoo (an attrs["odoo"] lookup, a Lookup("odoo"), a "sanitize"
// capability check by name).
func TestOdooKnowledgeStaysInTheDriver(t *testing.T) {
	for _, dir := range []string{"../../planner", "../../apply"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			n++
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fs := token.NewFileSet()
			file, err := parser.ParseFile(fs, f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "drivers/odoo") {
					t.Errorf("%s: imports %s", fs.Position(imp.Pos()), p)
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.BasicLit:
					if x.Kind == token.STRING {
						s, _ := strconv.Unquote(x.Value)
						if strings.Contains(strings.ToLower(s), "odoo") || s == "sanitize" {
							t.Errorf("%s: string literal %s", fs.Position(x.Pos()), x.Value)
						}
					}
				case *ast.Ident:
					if strings.Contains(strings.ToLower(x.Name), "odoo") {
						t.Errorf("%s: identifier %s", fs.Position(x.Pos()), x.Name)
					}
				}
				return true
			})
		}
		if n == 0 {
			t.Fatalf("no sources in %s", dir)
		}
	}
}
