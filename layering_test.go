// Package layering_test holds the one test that keeps the project's
// imports pointing one way (STYLE.md "Package tree"). It asks the go
// command, as a reader of the tree would, rather than trusting comments.
package layering_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/launchplane/launchplane/"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// packages lists every non-test package of the module with its direct
// imports and its transitive dependencies.
func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 10 {
		t.Fatalf("go list found only %d packages: run from the module root", len(ps))
	}
	return ps
}

func rel(path string) string { return strings.TrimPrefix(path, module) }

func under(path, dir string) bool {
	r := rel(path)
	return strings.HasPrefix(path, module) && (r == dir || strings.HasPrefix(r, dir+"/"))
}

// rule is one forbidden edge: a package matching from must not reach a
// package matching to, directly (direct) or through any chain.
type rule struct {
	why    string
	from   func(string) bool
	to     func(string) bool
	direct bool
}

func TestLayering(t *testing.T) {
	isProvider := func(p string) bool { return under(p, "providers") }
	isConcreteProvider := func(p string) bool {
		r := rel(p)
		return under(p, "providers") && r != "providers" && r != "providers/all"
	}
	rules := []rule{
		{"providers never import plan, planner, apply, schema or cmd", isProvider, func(p string) bool {
			return under(p, "plan") || under(p, "planner") || under(p, "apply") || under(p, "schema") || under(p, "cmd")
		}, false},
		{"plan imports no other project package", func(p string) bool { return rel(p) == "plan" },
			func(p string) bool { return strings.HasPrefix(p, module) }, true},
		{"cmd imports no concrete provider (only the registry list providers/all)", func(p string) bool { return under(p, "cmd") },
			isConcreteProvider, true},
		{"cmd opens no git repository itself", func(p string) bool { return under(p, "cmd") },
			func(p string) bool { return strings.HasPrefix(p, "github.com/go-git/go-git") }, true},
		{"apply executes a plan and never builds one", func(p string) bool { return under(p, "apply") },
			func(p string) bool { return under(p, "planner") }, false},
		{"drivers do not reach the planner or the executor", func(p string) bool { return under(p, "drivers") },
			func(p string) bool { return under(p, "planner") || under(p, "apply") || under(p, "cmd") }, false},
		{"only tests import internal/testfixture", func(p string) bool { return !under(p, "internal/testfixture") },
			func(p string) bool { return under(p, "internal/testfixture") }, false},
		{"internal/testfixture imports neither apply nor planner (their internal tests import it)",
			func(p string) bool { return under(p, "internal/testfixture") },
			func(p string) bool { return under(p, "apply") || under(p, "planner") }, false},
	}
	for _, p := range packages(t) {
		for _, r := range rules {
			if !r.from(p.ImportPath) {
				continue
			}
			edges := p.Deps
			if r.direct {
				edges = p.Imports
			}
			for _, d := range edges {
				if r.to(d) {
					t.Errorf("%s imports %s: %s", rel(p.ImportPath), d, r.why)
				}
			}
		}
	}
}
