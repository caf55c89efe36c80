package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyDir copies the config dir src into a temporary dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// A Target's image is pinned by digest: a tag, a short or upper-case
// digest, or a second reference after the digest is refused, naming the
// file, line and field; the pinned image loads.
func TestTargetImageMustBePinned(t *testing.T) {
	const good = "ghcr.io/acme/shop@sha256:79326c2c826c3b015f06620651347b9b937294e0d9abb820bc090089a53776f3"
	for name, image := range map[string]string{
		"pinned":           "",
		"tag":              "ghcr.io/acme/shop:latest",
		"no reference":     "ghcr.io/acme/shop",
		"short digest":     "ghcr.io/acme/shop@sha256:79326c2c",
		"upper-case hex":   "ghcr.io/acme/shop@sha256:" + strings.ToUpper(good[len(good)-64:]),
		"65 hex digits":    good + "0",
		"other algorithm":  "ghcr.io/acme/shop@md5:" + good[len(good)-64:],
		"digest then more": good + " ",
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, "../examples/generic-web")
			file := filepath.Join(dir, "targets", "shop.yaml")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if image != "" {
				src := strings.Replace(string(b), "image: "+good, "image: "+quote(image), 1)
				if src == string(b) {
					t.Fatal("the example's prod image moved: update the test")
				}
				b = []byte(src)
			}
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, ds := Load(dir)
			out := text(ds)
			if image == "" {
				if ds.HasErrors() {
					t.Fatalf("pinned image refused:\n%s", out)
				}
				return
			}
			if !ds.HasErrors() || !strings.Contains(out, "targets/shop.yaml:20:10: spec.image") || !strings.Contains(out, "image: must be pinned by digest") {
				t.Fatalf("image %q: want a pinning error at targets/shop.yaml:20:10, got:\n%s", image, out)
			}
		})
	}
}

func quote(s string) string { return `"` + s + `"` }
