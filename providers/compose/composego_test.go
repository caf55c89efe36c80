package compose

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/launchplane/launchplane/providers"
)

// loadReference loads the project in dir as docker compose does: the
// reference loader (compose-go, the library docker compose is built on)
// with the project's .env read for interpolation, and the runner's
// environment given as env. A file docker compose would refuse fails the
// test.
func loadReference(t *testing.T, dir, name string, env []string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, composeFile)},
		cli.WithName(name), cli.WithWorkingDirectory(dir), cli.WithEnv(env), cli.WithDotEnv, cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("the reference loader refuses the rendered project: %v\n%s", err, readFile(t, filepath.Join(dir, composeFile)))
	}
	return p
}

// hardValues are env values and labels that break naive quoting: the
// loader must read each back byte for byte.
var hardValues = []string{
	"plain", "", "with space # and hash", "$HOME ${X:-y} $$", `say "hi"`, "it's", `back\slash`,
	"two\nlines\r", `it's $HOME "x" \n`, `ends with \`, "tab\there", "#not a comment", "  padded  ",
	"=starts with equals", "unicode ünïcode ✓", `'single quoted'`, `"double quoted"`, "${UNSET:?must be set}",
}

// TestRenderedProjectReadsBackInCompose renders projects with hard env
// values, labels and names and loads each with compose-go: the service's
// image, labels, env (through env_file), exposed port and networks must
// be exactly what was rendered, whatever the runner's environment holds.
func TestRenderedProjectReadsBackInCompose(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"", "edge"} {
		env := map[string]string{}
		for i, v := range hardValues {
			env["K"+string(rune('A'+i))] = v
		}
		env["DATABASE_URL"] = "postgres://app:pa$$w'o\"rd@db/shop"
		app := providers.App{AppRef: providers.AppRef{Target: "shop/pr-7", Name: "shop-pr-7"},
			Image: "ghcr.io/acme/shop@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Port: 8080,
			Env: env, SecretKeys: []string{"DATABASE_URL"}, IdempotencyKey: "k$1 ${X}"}
		s, err := specOf(app.Name, network, app)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := writeProject(dir, projectFiles{compose: renderCompose(s), env: renderEnv(env)}); err != nil {
			t.Fatal(err)
		}
		// The runner's environment names keys of the app's env and
		// variables the files mention: neither may change what loads.
		runner := []string{"KA=runner", "HOME=/runner", "X=runner", "DATABASE_URL=runner"}
		p := loadReference(t, dir, app.Name, runner)
		if p.Name != app.Name {
			t.Errorf("project name %q, want %q", p.Name, app.Name)
		}
		if len(p.Services) != 1 {
			t.Fatalf("services %v, want only %q", p.ServiceNames(), service)
		}
		svc, ok := p.Services[service]
		if !ok {
			t.Fatalf("no service %q: %v", service, p.ServiceNames())
		}
		if svc.Image != app.Image {
			t.Errorf("image %q, want %q", svc.Image, app.Image)
		}
		got := map[string]string{}
		for k, v := range svc.Environment {
			if v == nil {
				t.Errorf("env %s has no value", k)
				continue
			}
			got[k] = *v
		}
		if !reflect.DeepEqual(got, env) {
			for k := range env {
				if got[k] != env[k] {
					t.Errorf("env %s = %q, want %q", k, got[k], env[k])
				}
			}
			for k := range got {
				if _, ok := env[k]; !ok {
					t.Errorf("env %s = %q was not rendered", k, got[k])
				}
			}
		}
		wantLabels := map[string]string{labelTarget: app.Target, labelIdempotencyKey: app.IdempotencyKey, labelSecretKeys: "DATABASE_URL"}
		for k, v := range wantLabels {
			if svc.Labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, svc.Labels[k], v)
			}
		}
		if !reflect.DeepEqual(svc.Expose, types.StringOrNumberList{"8080"}) {
			t.Errorf("expose %v, want [8080]", svc.Expose)
		}
		if svc.Restart != "unless-stopped" {
			t.Errorf("restart %q", svc.Restart)
		}
		if network == "" {
			if _, ok := svc.Networks["default"]; len(svc.Networks) != 1 || !ok {
				t.Errorf("networks %v without a network", svc.Networks)
			}
			continue
		}
		n, ok := p.Networks["ingress"]
		if !ok || n.Name != network || !bool(n.External) {
			t.Errorf("network ingress %+v, want external %q", n, network)
		}
		sn, ok := svc.Networks["ingress"]
		if !ok || sn == nil || !reflect.DeepEqual(sn.Aliases, []string{app.Name}) {
			t.Errorf("service networks %+v, want ingress with alias %s", svc.Networks, app.Name)
		}
	}
}

// TestProjectNamesCompose: every name validateProjectName accepts is a
// name compose accepts, and the ones it refuses compose refuses too (or
// would change them).
func TestProjectNamesCompose(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"shop-prod", "a", "0app", "shop_pr-12", "x-" + strings.Repeat("a", 60)} {
		if err := validateProjectName(name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		app := providers.App{AppRef: providers.AppRef{Target: "x/y", Name: name}, Image: "r@sha256:" + strings.Repeat("b", 64)}
		s, _ := specOf(name, "", app)
		dir := t.TempDir()
		if err := writeProject(dir, projectFiles{compose: renderCompose(s), env: renderEnv(nil)}); err != nil {
			t.Fatal(err)
		}
		if p := loadReference(t, dir, name, nil); p.Name != name {
			t.Errorf("project %q loads as %q", name, p.Name)
		}
	}
	for _, name := range []string{"Shop", "-x", "_x", "a.b", "a b", ""} {
		if validateProjectName(name) == nil {
			t.Errorf("%q accepted", name)
		}
		if _, err := cli.NewProjectOptions(nil, cli.WithName(name)); err == nil && name != "" {
			t.Errorf("compose accepts project name %q that the provider refuses", name)
		}
	}
}

// TestGoldenFilesLoadInCompose loads every golden compose file of this
// package's testdata with its .env.
func TestGoldenFilesLoadInCompose(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.compose.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden compose files: %v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		dir := t.TempDir()
		base := strings.TrimSuffix(f, ".compose.yaml")
		c, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := os.ReadFile(base + ".env")
		if err != nil {
			e = []byte{}
		}
		if err := writeProject(dir, projectFiles{compose: c, env: e}); err != nil {
			t.Fatal(err)
		}
		loadReference(t, dir, "golden", nil)
	}
}
