package schema

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/launchplane/launchplane/diag"
)

const (
	testProvider = "apiVersion: launchplane.dev/v1\nkind: Provider\nmetadata: {name: local}\nspec:\n  type: fake\n  fake: {path: w.json}\n"
	testProduct  = "apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: shop}\nspec:\n  driver: generic-web\n  image: ghcr.io/acme/shop\n  port: 8080\n  health: {path: /healthz}\n"
	testTarget   = "apiVersion: launchplane.dev/v1\nkind: Target\nmetadata: {name: shop-prod}\nspec:\n  product: shop\n  lane: prod\n  image: ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111\n  deploy: {provider: local}\n  ingress: {provider: local, domains: [shop.example.com]}\n"
)

// writeDir writes files (slash paths) under dir.
func writeDir(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func wantDiags(t *testing.T, ds diag.Diagnostics, want ...string) {
	t.Helper()
	var got []string
	for _, d := range ds {
		got = append(got, d.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A named pipe in the config dir is refused without being opened (opening
// it waited for a writer forever: validate hung).
func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, map[string]string{"providers.yaml": testProvider})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := os.Symlink("pipe.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	_, ds := Load(dir)
	wantDiags(t, ds,
		"link.yaml: a named pipe (FIFO), not a file; config files must be regular files",
		"pipe.yaml: a named pipe (FIFO), not a file; config files must be regular files")
}

// A symlink to a file inside the config dir is accepted however --config
// is spelled, even when the link is absolute and --config relative.
func TestSymlinkInsideWithRelativeConfig(t *testing.T) {
	work := t.TempDir()
	writeDir(t, work, map[string]string{"cfg/providers.yaml": testProvider, "cfg/products/shop.yaml": testProduct, "cfg/data/prod.target": testTarget})
	if err := os.Symlink(filepath.Join(work, "cfg", "data", "prod.target"), filepath.Join(work, "cfg", "prod.yaml")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	for _, dir := range []string{"cfg", "./cfg/", filepath.Join(work, "cfg")} {
		cfg, ds := Load(dir)
		wantDiags(t, ds)
		if cfg == nil || len(cfg.Targets) != 1 {
			t.Errorf("--config %s: the target behind the symlink was not loaded", dir)
		}
	}
	t.Chdir(filepath.Join(work, "cfg", "products"))
	cfg, ds := Load("..")
	wantDiags(t, ds)
	if cfg == nil || len(cfg.Targets) != 1 {
		t.Errorf("--config ..: the target behind the symlink was not loaded")
	}
}

// A directory symlink leaving the config dir is an error (SPEC §2), not
// skipped; one inside it is walked once, where it really is.
func TestDirSymlinks(t *testing.T) {
	work := t.TempDir()
	writeDir(t, work, map[string]string{"cfg/providers.yaml": testProvider, "cfg/products/shop.yaml": testProduct, "elsewhere/x.yaml": testTarget})
	os.Symlink(filepath.Join(work, "elsewhere"), filepath.Join(work, "cfg", "shared"))
	os.Symlink("products", filepath.Join(work, "cfg", "alias"))
	_, ds := Load(filepath.Join(work, "cfg"))
	wantDiags(t, ds, "shared: symlink to a directory outside the config directory (points to "+filepath.Join(work, "elsewhere")+")")
}

// --config may itself be a symlink to the directory.
func TestConfigDirIsASymlink(t *testing.T) {
	work := t.TempDir()
	writeDir(t, work, map[string]string{"cfg/providers.yaml": testProvider, "cfg/products/shop.yaml": testProduct, "cfg/targets/prod.yaml": testTarget})
	link := filepath.Join(work, "link")
	if err := os.Symlink("cfg", link); err != nil {
		t.Fatal(err)
	}
	cfg, ds := Load(link)
	wantDiags(t, ds)
	if cfg == nil || len(cfg.Targets) != 1 || len(cfg.Products) != 1 {
		t.Fatalf("through the symlink: %+v", cfg)
	}
	if want := []string{"products/shop.yaml", "providers.yaml", "targets/prod.yaml"}; strings.Join(cfg.Files, ",") != strings.Join(want, ",") {
		t.Errorf("files %q, want %q", cfg.Files, want)
	}
}

// A byte that is not UTF-8 is reported where it is, not at 1:1.
func TestNonUTF8Position(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, map[string]string{
		"providers.yaml": testProvider,
		"bad.yaml":       "apiVersion: launchplane.dev/v1\nkind: Product\nmetadata: {name: shöp\xff}\n",
	})
	_, ds := Load(dir)
	wantDiags(t, ds, "bad.yaml:3:22: invalid UTF-8 (byte 0xff); config files must be UTF-8")
}

// Watch reacts to exactly the files the loader reads.
func TestIsConfigFile(t *testing.T) {
	for rel, want := range map[string]bool{
		"a.yaml": true, "a.yml": true, "products/a.yaml": true, "a.yaml~": false, ".a.yaml": false,
		".git/a.yaml": false, "x/.hidden/a.yaml": false, "a.json": false, "#a.yaml#": false, "4913": false,
		"a/b/.c/d.yaml": false, "x/..yaml": false, "a.b/c.yaml": true, "a..yaml": true, "a/b.yaml/c.yml": true,
	} {
		if got := IsConfigFile(rel); got != want {
			t.Errorf("IsConfigFile(%q) = %v, want %v", rel, got, want)
		}
	}
}

// readLimited, on what a listed file may have become by the time it is
// read: a named pipe (opened without blocking, refused), a device, a
// directory, a missing file, a file at and just over the size limit.
func TestReadLimited(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	os.WriteFile(filepath.Join(dir, "max"), []byte(strings.Repeat("a", MaxFileSize)), 0o644)
	os.WriteFile(filepath.Join(dir, "over"), []byte(strings.Repeat("a", MaxFileSize+1)), 0o644)
	os.WriteFile(filepath.Join(dir, "small"), []byte("a: 1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "dir"), 0o755)
	for name, want := range map[string]string{
		"pipe":      "a named pipe (FIFO), not a file; config files must be regular files",
		"/dev/null": "a device, not a file; config files must be regular files",
		"dir":       "not a regular file; config files must be regular files",
		"missing":   "no such file or directory",
		"over":      "file is larger than 1 MiB; config files must be smaller",
		"max":       "",
		"small":     "",
		"empty":     "",
	} {
		path := name
		if !filepath.IsAbs(name) {
			path = filepath.Join(dir, name)
		}
		data, err := readLimited(path)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case want == "":
			if b, _ := os.ReadFile(path); string(b) != string(data) {
				t.Errorf("%s: read %d bytes, the file has %d", name, len(data), len(b))
			}
		case err == nil || err.Error() != want:
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
}
