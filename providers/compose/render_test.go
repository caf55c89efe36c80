package compose

import (
	"reflect"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/redact"
)

func TestEnvQuoting(t *testing.T) {
	t.Parallel()
	cases := []struct{ value, line string }{
		{"plain", `'plain'`},
		{"", `''`},
		{"with space # and hash", `'with space # and hash'`},
		{"$HOME ${X:-y}", `'$HOME ${X:-y}'`},
		{`say "hi"`, `'say "hi"'`},
		{"it's", `"it's"`},
		{`back\slash`, `"back\\slash"`},
		{"two\nlines\r", `"two\nlines\r"`},
		{`it's $HOME "x" \n`, `"it's \$HOME \"x\" \\n"`},
		{`ends with \`, `"ends with \\"`},
		{"tab\there", "'tab\there'"},
	}
	env := map[string]string{}
	for i, c := range cases {
		if got := quoteEnv(c.value); got != c.line {
			t.Errorf("quoteEnv(%q) = %s, want %s", c.value, got, c.line)
		}
		env["K"+strings.Repeat("X", i)] = c.value
	}
	back, err := parseEnv(renderEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, env) {
		t.Errorf("round trip:\n got %q\nwant %q", back, env)
	}
}

func TestRenderDeterministic(t *testing.T) {
	t.Parallel()
	s := spec{Name: "shop-testing", Target: "shop/testing", Image: "ghcr.io/acme/shop@sha256:ab", Port: 8080,
		IdempotencyKey: "k$1", SecretKeys: []string{"A", "B"}}
	a, b := renderCompose(s), renderCompose(s)
	if string(a) != string(b) {
		t.Fatal("renderCompose is not deterministic")
	}
	// '$' is doubled so compose does not interpolate it; no network, no
	// networks block.
	if !strings.Contains(string(a), `launchplane.idempotency-key: "k$$1"`) || strings.Contains(string(a), "networks:") {
		t.Errorf("compose.yaml:\n%s", a)
	}
	env := map[string]string{"B": "2", "A": "1", "C": "3"}
	if got := string(renderEnv(env)); !strings.HasSuffix(got, "A='1'\nB='2'\nC='3'\n") {
		t.Errorf(".env not sorted:\n%s", got)
	}
}

func TestParsePS(t *testing.T) {
	t.Parallel()
	ndjson := `{"ID":"a1","Service":"app","State":"running","Labels":"com.docker.compose.oneoff=False"}
{"ID":"b2","Service":"app","State":"running","Labels":"com.docker.compose.oneoff=True,launchplane.job=post-deploy"}
`
	array := `[{"ID":"a1","Service":"app","State":"running"},{"ID":"b2","Service":"app"}]`
	for name, in := range map[string]string{"ndjson": ndjson, "array": array} {
		got, err := parsePS([]byte(in))
		if err != nil || len(got) != 2 || got[0].ID != "a1" || got[1].ID != "b2" {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
	if got, err := parsePS([]byte("\n")); err != nil || got != nil {
		t.Errorf("empty: %+v, %v", got, err)
	}
	if _, err := parsePS([]byte("{not json")); err == nil {
		t.Error("garbage parsed")
	}
	if l := labelsOf("a=1,b=x=y"); l["a"] != "1" || l["b"] != "x=y" {
		t.Errorf("labels %v", l)
	}
}

func TestTailRedactsBeforeCutting(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-value-that-is-long"
	p := &Provider{red: redact.New(secret)}
	tb := &tailBuffer{max: 21}
	tb.Write([]byte("line one " + secret + "\nlast line\n"))
	if !tb.cut || !strings.HasPrefix(string(tb.buf), secret[len(secret)-10:]) {
		t.Fatalf("the buffer does not start inside the secret: %q", tb.buf)
	}
	got := tb.tail(p, 1000)
	if strings.Contains(got, secret[len(secret)-10:]) {
		t.Errorf("tail %q holds a fragment of the secret", got)
	}
	if got != "last line" {
		t.Errorf("tail %q, want the last line", got)
	}
	tb = &tailBuffer{max: 1000}
	tb.Write([]byte("first " + secret + "\n" + strings.Repeat("x", 50) + "\nend " + secret + "\n"))
	if got := tb.tail(p, 30); got != "…end "+redact.Mask {
		t.Errorf("short tail %q", got)
	}
}
