package planner

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/state"
)

// colOf is the 1-based column, in characters, at which sub starts on
// line (1-based) of text.
func colOf(t *testing.T, text string, line int, sub string) int {
	t.Helper()
	l := strings.Split(text, "\n")[line-1]
	i := strings.Index(l, sub)
	if i < 0 {
		t.Fatalf("line %d %q has no %q", line, l, sub)
	}
	return utf8.RuneCountInString(l[:i]) + 1
}

func TestReplaceScalar(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		line int
		at   string // what the scalar starts with on the line
		want string
	}{
		{
			name: "plain with comment",
			in:   "spec:\n  image: " + testfixture.OldImg + " # promoted by hand\n  port: 8080\n",
			line: 2, at: "ghcr",
			want: "spec:\n  image: " + testfixture.NewImg + " # promoted by hand\n  port: 8080\n",
		},
		{
			name: "plain at end of file without newline",
			in:   "spec:\n  image: " + testfixture.OldImg,
			line: 2, at: "ghcr",
			want: "spec:\n  image: " + testfixture.NewImg,
		},
		{
			name: "plain with CRLF",
			in:   "spec:\r\n  image: " + testfixture.OldImg + "\r\n  port: 8080\r\n",
			line: 2, at: "ghcr",
			want: "spec:\r\n  image: " + testfixture.NewImg + "\r\n  port: 8080\r\n",
		},
		{
			name: "double-quoted with comment",
			in:   "spec:\n  image: \"" + testfixture.OldImg + "\"   # keep\n",
			line: 2, at: `"`,
			want: "spec:\n  image: \"" + testfixture.NewImg + "\"   # keep\n",
		},
		{
			name: "single-quoted with comment",
			in:   "spec:\n  image: '" + testfixture.OldImg + "' #keep\n",
			line: 2, at: `'`,
			want: "spec:\n  image: '" + testfixture.NewImg + "' #keep\n",
		},
		{
			name: "flow mapping end",
			in:   "spec: {lane: prod, image: " + testfixture.OldImg + "}\n",
			line: 1, at: "ghcr",
			want: "spec: {lane: prod, image: " + testfixture.NewImg + "}\n",
		},
		{
			name: "flow mapping with more keys",
			in:   "spec: {image: " + testfixture.OldImg + ", lane: prod}\n",
			line: 1, at: "ghcr",
			want: "spec: {image: " + testfixture.NewImg + ", lane: prod}\n",
		},
		{
			name: "quoted in flow mapping",
			in:   "spec: {image: \"" + testfixture.OldImg + "\"}\n",
			line: 1, at: `"`,
			want: "spec: {image: \"" + testfixture.NewImg + "\"}\n",
		},
		{
			name: "multi-byte characters earlier on the line",
			in:   "spec: {note: \"café ☕ 日本\", image: " + testfixture.OldImg + "}\n",
			line: 1, at: "ghcr",
			want: "spec: {note: \"café ☕ 日本\", image: " + testfixture.NewImg + "}\n",
		},
		{
			name: "other documents and the same image elsewhere untouched",
			in:   "# " + testfixture.OldImg + "\nspec:\n  image: " + testfixture.OldImg + "\n---\nspec:\n  image: " + testfixture.OldImg + "\n",
			line: 3, at: "ghcr",
			want: "# " + testfixture.OldImg + "\nspec:\n  image: " + testfixture.NewImg + "\n---\nspec:\n  image: " + testfixture.OldImg + "\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			orig := bytes.Clone(in)
			col := colOf(t, tc.in, tc.line, tc.at)
			got, err := replaceScalar(in, tc.line, col, testfixture.OldImg, testfixture.NewImg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
			if !bytes.Equal(in, orig) {
				t.Errorf("the input was modified")
			}
		})
	}
}

// The column counts characters: with multi-byte characters before it, a
// byte column lands elsewhere and is refused rather than corrupting the
// line.
func TestReplaceScalarByteColumnRefused(t *testing.T) {
	in := "spec: {note: \"日本語\", image: " + testfixture.OldImg + "}\n"
	byteCol := strings.Index(in, "ghcr") + 1
	if byteCol == colOf(t, in, 1, "ghcr") {
		t.Fatal("test line has no multi-byte character")
	}
	if out, err := replaceScalar([]byte(in), 1, byteCol, testfixture.OldImg, testfixture.NewImg); err == nil {
		t.Fatalf("a byte column was accepted: %q", out)
	}
}

func TestReplaceScalarErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		line int
		col  int // 0: the column of at
		at   string
		want string
	}{
		{name: "another value", in: "spec:\n  image: " + testfixture.NewImg + "\n", line: 2, at: "ghcr", want: "does not hold"},
		{name: "wrong column", in: "spec:\n  image: " + testfixture.OldImg + "\n", line: 2, at: "image", want: "does not hold"},
		{name: "line past end", in: "spec:\n  image: " + testfixture.OldImg + "\n", line: 9, col: 10, want: "not in the file"},
		{name: "line zero", in: "spec:\n  image: " + testfixture.OldImg + "\n", line: 0, col: 10, want: "not in the file"},
		{name: "longer plain value", in: "spec:\n  image: " + testfixture.OldImg + "ff\n", line: 2, at: "ghcr", want: "not a plain one-line scalar"},
		{name: "plain value continued on the next line", in: "spec:\n  image: " + testfixture.OldImg + "\n    -more\n", line: 2, at: "ghcr", want: "does not hold"},
		{name: "double-quoted value continued on the next line", in: "spec:\n  image: \"" + testfixture.OldImg + "\n    more\"\n", line: 2, at: `"`, want: "does not hold"},
		{name: "mismatched quotes", in: "spec:\n  image: \"" + testfixture.OldImg + "'\n", line: 2, at: `"`, want: "does not hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			orig := bytes.Clone(in)
			col := tc.col
			if col == 0 {
				col = colOf(t, tc.in, tc.line, tc.at)
			}
			old := testfixture.OldImg
			if strings.Contains(tc.name, "continued") {
				// what YAML parses: the folded multi-line value
				old = testfixture.OldImg + " -more"
				if strings.Contains(tc.name, "quoted") {
					old = testfixture.OldImg + " more"
				}
			}
			out, err := replaceScalar(in, tc.line, col, old, testfixture.NewImg)
			if err == nil {
				t.Fatalf("no error; got %q", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if out != nil {
				t.Errorf("output %q with an error", out)
			}
			if !bytes.Equal(in, orig) {
				t.Errorf("the input was modified")
			}
		})
	}
}

// seedHealthy records key as healthy on image.
func seedHealthy(t *testing.T, st state.Store, key, image, record string) {
	t.Helper()
	ts := state.TargetState{FormatVersion: state.FormatVersion, Target: key, Status: state.StatusHealthy, Image: image, HealthyImage: image,
		ImageRecord: record, Resources: []state.Resource{}}
	snap, err := st.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(context.Background(), state.Write{Base: snap.Commit(), Changes: []state.Change{{Path: state.TargetPath(key), Data: encode(ts)}},
		Message: "seed " + key, Author: state.Signature{Name: "test", Email: "test@localhost", When: testfixture.FixedNow}}); err != nil {
		t.Fatal(err)
	}
}

func TestPromoteRewritesOnlyTheImage(t *testing.T) {
	fx := newFixture(t)
	prod := "# prod of the shop\napiVersion: launchplane.dev/v1\nkind: Target\nmetadata: {name: shop-prod, labels: {owner: \"Zoë\"}}\nspec:\n  product: shop\n  lane: prod\n  image: \"" + testfixture.OldImg + "\" # release 1\n  deploy: {provider: local}\n  promotion: {from: testing}\n  ingress: {provider: local, domains: [shop.example.com]}\n"
	fx.Write("prod.yaml", prod)
	cfg := fx.Load()
	seedHealthy(t, fx.Store, "shop/testing", testfixture.NewImg, "deployment-x")
	p, err := Promote(cfg, fx.Snap(), "shop", "testing", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if p.Image != testfixture.NewImg || p.Previous != testfixture.OldImg || p.Record != "deployment-x" || p.Target != "shop/prod" || p.From != "shop/testing" {
		t.Errorf("promotion %+v", p)
	}
	if p.File != "prod.yaml" || p.Line != 8 {
		t.Errorf("position %s:%d, want prod.yaml:8", p.File, p.Line)
	}
	got := fx.Read("prod.yaml")
	if want := strings.Replace(prod, testfixture.OldImg, testfixture.NewImg, 1); got != want {
		t.Errorf("file after promote:\n%s\nwant:\n%s", got, want)
	}
}

// The file changed since the config was loaded: the promotion refuses and
// leaves the file as it found it.
func TestPromoteMismatchLeavesFile(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	seedHealthy(t, fx.Store, "shop/testing", testfixture.NewImg, "deployment-x")
	edited := strings.Replace(fx.Read("prod.yaml"), testfixture.OldImg, "ghcr.io/acme/shop@sha256:"+strings.Repeat("3", 64), 1)
	fx.Write("prod.yaml", edited)
	if _, err := Promote(cfg, fx.Snap(), "shop", "testing", "prod"); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("error %v, want a mismatch", err)
	}
	if got := fx.Read("prod.yaml"); got != edited {
		t.Errorf("file changed:\n%s", got)
	}
}

func TestPromoteRefusesUnhealthySource(t *testing.T) {
	fx := newFixture(t)
	cfg := fx.Load()
	before := fx.Read("prod.yaml")
	if _, err := Promote(cfg, fx.Snap(), "shop", "testing", "prod"); err == nil || !strings.Contains(err.Error(), "no image recorded healthy") {
		t.Fatalf("error %v, want no image recorded healthy", err)
	}
	if got := fx.Read("prod.yaml"); got != before {
		t.Errorf("file changed:\n%s", got)
	}
}

// The position comes from the YAML parser: with multi-byte characters
// before the image on its line, the column must still land on it.
func TestPromoteFlowStyleMultiByte(t *testing.T) {
	fx := newFixture(t)
	prod := "apiVersion: launchplane.dev/v1\nkind: Target\nmetadata: {name: shop-prod}\nspec: {product: shop, lane: prod, env: {GREETING: \"¡hola, 日本! ☕\"}, image: '" + testfixture.OldImg + "', deploy: {provider: local}, ingress: {provider: local, domains: [shop.example.com]}}\n"
	fx.Write("prod.yaml", prod)
	cfg := fx.Load()
	seedHealthy(t, fx.Store, "shop/testing", testfixture.NewImg, "deployment-x")
	p, err := Promote(cfg, fx.Snap(), "shop", "testing", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if p.Line != 4 {
		t.Errorf("line %d, want 4", p.Line)
	}
	if got, want := fx.Read("prod.yaml"), strings.Replace(prod, testfixture.OldImg, testfixture.NewImg, 1); got != want {
		t.Errorf("file after promote:\n%s\nwant:\n%s", got, want)
	}
	// promoted: the config now asks for the from lane's healthy image
	if img := fx.Load().Target("shop", "prod").Spec.Image; img != testfixture.NewImg {
		t.Errorf("reloaded image %s", img)
	}
}

// Nothing to do when the target already names the healthy image: the
// file is not rewritten.
func TestPromoteAlreadyPromoted(t *testing.T) {
	fx := newFixture(t)
	fx.SetImage("prod", testfixture.NewImg)
	cfg := fx.Load()
	seedHealthy(t, fx.Store, "shop/testing", testfixture.NewImg, "deployment-x")
	before := fx.Read("prod.yaml")
	p, err := Promote(cfg, fx.Snap(), "shop", "testing", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if p.Previous != testfixture.NewImg || p.Image != testfixture.NewImg {
		t.Errorf("promotion %+v", p)
	}
	if fx.Read("prod.yaml") != before {
		t.Errorf("file rewritten")
	}
}
