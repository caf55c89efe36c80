package layering_test

import (
	"os"
	"strings"
	"testing"
)

// TestInstallableWithGoInstall: `go install
// github.com/launchplane/launchplane/cmd/launchplane@VERSION`, the way the
// README and the example workflows install launchplane, refuses a module
// whose go.mod has replace or exclude directives. A patched dependency is
// copied into internal/ instead (internal/jsonschema).
func TestInstallableWithGoInstall(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		word, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		word, _, _ = strings.Cut(word, "(")
		if word == "replace" || word == "exclude" {
			t.Errorf("go.mod:%d: %s directive: go install …@VERSION would refuse the module", i+1, word)
		}
	}
}
