package composetest

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain installs the stub as testscript's "docker" command, the way
// the CLI's script tests do.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"docker": Main})
}

// TestScripts drives the stub through its files, as a script test does.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv(DirEnv, filepath.Join(e.WorkDir, "docker"))
			e.Setenv("GORACE", "atexit_sleep_ms=0")
			return nil
		},
	})
}
