package redact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// canary has every character that some encoding rewrites.
const canary = "s3cr3t-\"canary\"<&>/ü\\ value\n+%?"

func TestStringRemovesEveryForm(t *testing.T) {
	r := New(canary)
	html, _ := json.Marshal(map[string]string{"v": canary})
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"v": canary})
	twice, _ := json.Marshal(map[string]string{"body": string(html)})
	u := url.URL{Scheme: "https", Host: "example.com", Path: "/a/" + canary, RawQuery: url.Values{"q": {canary}}.Encode()}
	for name, in := range map[string]string{
		"raw":       "plain " + canary + " text",
		"json":      string(html),
		"json-html": plain.String(),
		"json-json": string(twice),
		"go-quote":  fmt.Sprintf("value %q rejected", canary),
		"query":     "https://example.com/?q=" + url.QueryEscape(canary),
		"path":      "https://example.com/" + url.PathEscape(canary),
		"url":       u.String(),
	} {
		out := r.String(in)
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "canary") {
			t.Errorf("%s: leaked: %q -> %q", name, in, out)
		}
		if !strings.Contains(out, Mask) {
			t.Errorf("%s: no mask in %q", name, out)
		}
		if got := string(r.Bytes([]byte(in))); got != out {
			t.Errorf("%s: Bytes = %q, String = %q", name, got, out)
		}
	}
	if !json.Valid(r.Bytes(html)) || !json.Valid(r.Bytes(twice)) {
		t.Error("redacting JSON made it invalid")
	}
}

func TestStringLongestFirst(t *testing.T) {
	r := New("abc", "abcdef", "")
	if got, want := r.String("x abcdef y abc z"), "x [REDACTED] y [REDACTED] z"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r.Add("cdefgh", "ab-cd", "ab-cd-ef")
	if got, want := r.String("abcdefgh ab-cd-efgh ab-cd-ef"), "abcdefgh [REDACTED]-efgh [REDACTED]"; got != want {
		// on token boundaries only, the longest bounded match first:
		// ab-cd-ef ends inside "efgh", ab-cd ends before "-"
		t.Errorf("got %q, want %q", got, want)
	}
	if got := New("").String("anything"); got != "anything" {
		t.Errorf("empty value matched: %q", got)
	}
}

func TestPatterns(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		// Bearer and Basic.
		{"Authorization: Bearer abc.def.ghi", "Authorization: Bearer [REDACTED]"},
		{"curl -H 'authorization: bearer abc' x", "curl -H 'authorization: bearer [REDACTED]' x"},
		{"got BEARER x9 from", "got BEARER [REDACTED] from"},
		{`{"Authorization": "Bearer abc"}`, `{"Authorization": "Bearer [REDACTED]"}`},
		{`{"Authorization":"Basic dXNlcjpwYXNz"}`, `{"Authorization":"Basic [REDACTED]"}`},
		{"Authorization: token ghp_abc", "Authorization: token [REDACTED]"},
		{"Proxy-Authorization: opaque", "Proxy-Authorization: [REDACTED]"},
		{"auth basic dXNlcjpwYXNz end", "auth basic [REDACTED] end"},
		{"basic auth is disabled", "basic auth is disabled"},
		{"a basic setup", "a basic setup"},
		{"debearer abc", "debearer abc"},
		// URL userinfo, any scheme.
		{"clone https://bot:hunter2@git.example/x.git", "clone https://bot:[REDACTED]@git.example/x.git"},
		{"postgres://app:pw@db/shop?sslmode=off", "postgres://app:[REDACTED]@db/shop?sslmode=off"},
		{"https://user:p@ss@host/x", "https://user:[REDACTED]@host/x"},
		{`"url": "redis://:pw@cache:6379"`, `"url": "redis://:[REDACTED]@cache:6379"`},
		{"ssh://git@github.com/acme/x", "ssh://git@github.com/acme/x"},
		{"https://host:8080/x@y", "https://host:8080/x@y"},
		{"https://example.com/a:b@c", "https://example.com/a:b@c"},
		// Secret-shaped keys.
		{"DB_PASSWORD=hunter2 LOG_LEVEL=debug", "DB_PASSWORD=[REDACTED] LOG_LEVEL=debug"},
		{"DB_PASSWORD = hunter2", "DB_PASSWORD = [REDACTED]"},
		{"export API_KEY=a,b;c", "export API_KEY=[REDACTED]"},
		{"--password=hunter2 --user=bob", "--password=[REDACTED] --user=bob"},
		{"GET /x?access_token=abc&page=2", "GET /x?access_token=[REDACTED]&page=2"},
		{"password: hunter2\nuser: bob", "password: [REDACTED]\nuser: bob"},
		{`{"api_key": "abc", "name": "x"}`, `{"api_key": "[REDACTED]", "name": "x"}`},
		{`{"token":"a\"b\\","n":1}`, `{"token":"[REDACTED]","n":1}`},
		{`{"token": 12345, "n": 1}`, `{"token": [REDACTED], "n": 1}`},
		{`{'secret': 'x y'}`, `{'secret': '[REDACTED]'}`},
		{`"body": "{\"apiKey\": \"abc\", \"n\": 1}"`, `"body": "{\"apiKey\": \"[REDACTED]\", \"n\": 1}"`},
		{`"body": "{\"apiKey\":\"a\\\"b\"}"`, `"body": "{\"apiKey\":\"[REDACTED]\"}"`},
		{"{Token:abc Name:x}", "{Token:[REDACTED] Name:x}"},
		{"map[API_KEY:abc LOG:x]", "map[API_KEY:[REDACTED] LOG:x]"},
		{"token: Bearer abc", "token: Bearer [REDACTED]"},
		{`password: "unterminated`, `password: "[REDACTED]`},
		{`{"API_KEY": {"fromEnv": "SHOP_API_KEY"}}`, `{"API_KEY": {"fromEnv": "SHOP_API_KEY"}}`},
		{`"secret_keys": ["DATABASE_URL"]`, `"secret_keys": ["DATABASE_URL"]`},
		{`"idempotency_key": "0123abcd"`, `"idempotency_key": "0123abcd"`},
		{`"settings_key": "odoo"`, `"settings_key": "odoo"`},
		{`"password": ""`, `"password": ""`},
		{"password:", "password:"},
		{"KEYBOARD_LAYOUT=us MONKEY=banana", "KEYBOARD_LAYOUT=us MONKEY=banana"},
		{"at 12:30:45 x=1 a == b", "at 12:30:45 x=1 a == b"},
		{"deploy shop/prod: image ghcr.io/acme/shop@sha256:abc ok", "deploy shop/prod: image ghcr.io/acme/shop@sha256:abc ok"},
		{"nothing to see", "nothing to see"},
		{"", ""},
		// Already redacted text is left as it is.
		{"DB_PASSWORD=[REDACTED] Bearer [REDACTED] https://u:[REDACTED]@h", "DB_PASSWORD=[REDACTED] Bearer [REDACTED] https://u:[REDACTED]@h"},
	} {
		if got := New().String(tt.in); got != tt.want {
			t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestJSONStaysValid: masking by shape never breaks a JSON document.
func TestJSONStaysValid(t *testing.T) {
	doc := map[string]any{
		"DB_PASSWORD": "a\"b\\c\nd",
		"nested":      map[string]any{"apiKey": "x, y}", "url": "https://u:p%22w@h/x", "auth": "Bearer t\"k"},
		"body":        `{"token": "in\"ner", "list": [1, 2]}`,
		"list":        []any{"password=a\"b", 1.5, true, nil},
	}
	for _, indent := range []string{"", "  "} {
		b, _ := json.MarshalIndent(doc, "", indent)
		out := New().Bytes(b)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON after redaction:\n%s", out)
		}
		for _, leak := range []string{`a\"b`, "x, y", "in\\\\\\\"ner", "p%22w", `t\"k`} {
			if strings.Contains(string(out), leak) {
				t.Errorf("leaked %q in %s", leak, out)
			}
		}
	}
}

func TestNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	text := benchText()
	empty := New()
	if n := testing.AllocsPerRun(100, func() { _ = empty.String(text) }); n != 0 {
		t.Errorf("String with no values: %v allocations, want 0", n)
	}
	full := New(benchSecrets()...)
	if n := testing.AllocsPerRun(100, func() { _ = full.String(text) }); n != 0 {
		t.Errorf("String with no match: %v allocations, want 0", n)
	}
	b := []byte(text)
	if n := testing.AllocsPerRun(100, func() { _ = full.Bytes(b) }); n != 0 {
		t.Errorf("Bytes with no match: %v allocations, want 0", n)
	}
	var nilR *Redactor
	if n := testing.AllocsPerRun(100, func() { _ = nilR.String(text) }); n != 0 {
		t.Errorf("nil Redactor: %v allocations, want 0", n)
	}
}

func TestBytesDoesNotModify(t *testing.T) {
	in := []byte("token=abc " + canary)
	orig := string(in)
	out := New(canary).Bytes(in)
	if string(in) != orig {
		t.Fatal("input modified")
	}
	if string(out) != "token=[REDACTED] [REDACTED]" {
		t.Fatalf("got %q", out)
	}
}

type evidence struct {
	Name  string `json:"name"`
	Token string `json:"token"`
}

type label string

func TestValue(t *testing.T) {
	r := New(canary)
	in := map[string]any{
		"env":             map[string]any{"A": "x=" + canary, "DB_PASSWORD": "plain", "N": 1.0, "OK": true, "Z": nil},
		"secrets":         map[string]any{"API_KEY": map[string]any{"fromEnv": "SHOP_API_KEY"}, "keys": []any{"API_KEY"}, "count": 1},
		"list":            []any{canary, true, []any{canary}},
		"ss":              map[string]string{"TOKEN": "t", "B": canary},
		"strs":            []string{"a", canary},
		"apiKey":          []any{"x"},
		"private":         nil,
		"idempotency_key": "0123abcd",
		"struct":          evidence{Name: canary, Token: "tok"},
		"label":           label(canary),
		"n":               42,
		canary:            "secret as a key",
	}
	got := r.Value(in).(map[string]any)

	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, leak := range []string{"s3cr3t", "plain", `"t"`, "SHOP_API_KEY", `"tok"`, `["x"]`} {
		if strings.Contains(s, leak) {
			t.Errorf("leaked %q in %s", leak, s)
		}
	}
	env := got["env"].(map[string]any)
	if env["DB_PASSWORD"] != Mask || env["N"] != 1.0 || env["OK"] != true || env["Z"] != nil {
		t.Errorf("env = %v", env)
	}
	sec := got["secrets"].(map[string]any)
	if sec["API_KEY"] != Mask || sec["count"] != 1 || sec["keys"].([]any)[0] != "API_KEY" {
		t.Errorf("secrets = %v", sec)
	}
	if got["apiKey"] != Mask || got["private"] != Mask {
		t.Errorf("values under secret-shaped keys not masked whole: %v, %v", got["apiKey"], got["private"])
	}
	if got["idempotency_key"] != "0123abcd" || got["n"] != 42 {
		t.Errorf("own fields changed: %v", got)
	}
	if ss, ok := got["ss"].(map[string]string); !ok || ss["TOKEN"] != Mask || ss["B"] != Mask {
		t.Errorf("ss = %#v", got["ss"])
	}
	if strs, ok := got["strs"].([]string); !ok || strs[1] != Mask {
		t.Errorf("strs = %#v", got["strs"])
	}
	if l, ok := got["label"].(label); !ok || l != Mask {
		t.Errorf("label = %#v", got["label"])
	}
	if st, ok := got["struct"].(map[string]any); !ok || st["name"] != Mask || st["token"] != Mask {
		t.Errorf("struct = %#v", got["struct"])
	}
	if got[Mask] != "secret as a key" {
		t.Errorf("secret map key kept: %v", got)
	}
	// The input is untouched.
	if in["list"].([]any)[0] != canary || in["ss"].(map[string]string)["TOKEN"] != "t" ||
		in["env"].(map[string]any)["DB_PASSWORD"] != "plain" {
		t.Error("input modified")
	}
	if r.Value(nil) != nil || r.Value(3.5) != 3.5 {
		t.Error("scalars changed")
	}
	if r.Value(func() {}) != Mask {
		t.Error("a value JSON cannot encode must be masked")
	}
}

func TestError(t *testing.T) {
	base := fmt.Errorf("deploy shop/prod: %s: %w", canary, fs.ErrNotExist)
	err := New(canary).Error(base)
	if strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "deploy shop/prod: [REDACTED]") {
		t.Fatalf("Error() = %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is lost the chain")
	}
	pe := &fs.PathError{Op: "open", Path: "/run/secrets/x", Err: fs.ErrPermission}
	err = New().Error(fmt.Errorf("read token=abc: %w", pe))
	var got *fs.PathError
	if !errors.As(err, &got) || got != pe || !errors.Is(err, fs.ErrPermission) {
		t.Error("errors.As lost the chain")
	}
	if err.Error() != "read token=[REDACTED]: open /run/secrets/x: permission denied" {
		t.Errorf("Error() = %q", err)
	}
	if New().Error(nil) != nil {
		t.Error("nil error became non-nil")
	}
	if clean := errors.New("nothing secret"); New(canary).Error(clean) != clean {
		t.Error("an error that needs no redaction should be returned as is")
	}
}

func TestNilRedactor(t *testing.T) {
	var r *Redactor
	if got := r.String("token=abc"); got != "token=[REDACTED]" {
		t.Errorf("String = %q", got)
	}
	if r.Error(nil) != nil || r.Value(map[string]any{"token": 1}).(map[string]any)["token"] != Mask {
		t.Error("nil Redactor")
	}
}

func TestConcurrent(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	var out syncBuffer
	w := r.Writer(&out)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v := fmt.Sprintf("secret-value-%d", i)
			r.Add(v)
			for j := 0; j < 50; j++ {
				if got := r.String("x " + v + " y"); strings.Contains(got, v) {
					t.Errorf("leaked %s in %q", v, got)
				}
				_ = r.Value(map[string]any{"k": v, "l": []any{v}})
				_ = r.Error(errors.New(v))
				fmt.Fprintf(w, "line %d %s\n", j, v)
			}
		}(i)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "secret-value") {
		t.Errorf("writer leaked: %q", out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func benchSecrets() []string {
	var secrets []string
	for i := 0; i < 50; i++ {
		// Shared prefixes, like real tokens (ghp_…, sk-…).
		secrets = append(secrets, fmt.Sprintf("ghp_%02dX%08x", i, uint32(i)*2654435761))
	}
	return secrets
}

// benchText is about 4 KiB of ordinary log text.
func benchText() string {
	return strings.Repeat("deploy shop/prod: image ghcr.io/acme/shop@sha256:abc ok; gh=1 ", 64)
}

func BenchmarkString(b *testing.B) {
	secrets := benchSecrets()
	text := benchText()
	withSecrets := strings.Replace(text, "gh=1", "gh="+secrets[7], 8)
	withShapes := strings.Replace(text, "gh=1", "Authorization: Bearer abc token=xyz https://u:p@h/", 8)
	for _, bb := range []struct {
		name string
		r    *Redactor
		text string
	}{
		{"NoValues", New(), text},
		{"50Secrets/NoMatch", New(secrets...), text},
		{"50Secrets/8Matches", New(secrets...), withSecrets},
		{"50Secrets/8Shapes", New(secrets...), withShapes},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.text)))
			b.ReportAllocs()
			for b.Loop() {
				_ = bb.r.String(bb.text)
			}
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	secrets := benchSecrets()
	b.ReportAllocs()
	for b.Loop() {
		r := New()
		for _, s := range secrets {
			r.Add(s)
		}
	}
}

func BenchmarkStringProse(b *testing.B) {
	text := strings.Repeat("Deploying the product to the production lane went fine, health is green. ", 56)
	r := New(benchSecrets()...)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.String(text)
	}
}

// TestIdempotent: redacting a redacted text changes nothing, so layers
// that each redact (adapter, apply, the final write) compose.
func TestIdempotent(t *testing.T) {
	r := New("s3cr3t-value")
	for _, in := range []string{
		"Authorization: Bearer abc.def",
		"x Bearer abc and Basic dXNlcjpwYXNz",
		"token=abc PASSWORD: hunter2",
		"postgres://u:pw@h/db",
		`{"api_key": "k1", "Authorization": "Bearer t0k"}`,
		"value s3cr3t-value here",
	} {
		once := r.String(in)
		if twice := r.String(once); twice != once {
			t.Errorf("%q: once %q, twice %q", in, once, twice)
		}
	}
}

// A registered value is masked only as a whole token: a secret equal to a
// product name, a domain label or a common word leaves the words that
// contain it alone, and is still masked where it stands alone, in its
// encoded forms too.
func TestTokenBoundaries(t *testing.T) {
	for _, tc := range []struct {
		secrets  []string
		in, want string
	}{
		{[]string{"hello"}, "ghcr.io/acme/helloworld othello hellos hello_x", "ghcr.io/acme/helloworld othello hellos hello_x"},
		{[]string{"hello"}, "hello/prod", "[REDACTED]/prod"},
		{[]string{"hello"}, "db rejected hello.", "db rejected [REDACTED]."},
		{[]string{"u"}, "authentication required for u", "authentication required for [REDACTED]"},
		{[]string{"odoo"}, "PGUSER=odoo odoo_prod odoo2", "PGUSER=[REDACTED] odoo_prod odoo2"},
		{[]string{"exa"}, "preview.example.com exa", "preview.example.com [REDACTED]"},
		{[]string{"hunter22x"}, `{"log": "line\nhunter22x"}`, `{"log": "line\n[REDACTED]"}`},
		{[]string{"pa ss:w0rd"}, "auth cGEgc3M6dzByZA== sent, and cGEgc3M6dzByZA sent, and pa+ss%3Aw0rd", "auth [REDACTED] sent, and [REDACTED] sent, and [REDACTED]"},
	} {
		if got := New(tc.secrets...).String(tc.in); got != tc.want {
			t.Errorf("%v in %q: got %q, want %q", tc.secrets, tc.in, got, tc.want)
		}
	}
}

// A secret-shaped word and a colon followed by a sentence is message text,
// not a value; a value after it is still masked.
func TestShapeProse(t *testing.T) {
	r := New()
	for in, want := range map[string]string{
		"prod: secret SMTP_PASSWORD: cannot be read (no such file)": "prod: secret SMTP_PASSWORD: cannot be read (no such file)",
		"x-access-token: authentication required":                   "x-access-token: authentication required",
		"PASSWORD: hunter2 was refused":                             "PASSWORD: [REDACTED] was refused",
		"password: hunter":                                          "password: [REDACTED]",
		"api_key: Zx9 more":                                         "api_key: [REDACTED] more",
		`"token": "read more"`:                                      `"token": "[REDACTED]"`,
		"TOKEN=abc def":                                             "TOKEN=[REDACTED] def",
	} {
		if got := r.String(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// A value of anywhereLen bytes or more is masked even glued inside a word
// (an API that prints "xxxx<secret>"); a shorter one only as a whole token.
func TestLongValueMaskedInsideWords(t *testing.T) {
	long := "canary-secret-value-4242"
	r := New(long, "odoo")
	got := r.String("id=xxxx" + long + "yyyy odoo_prod odoo")
	if strings.Contains(got, "canary-s") || strings.Contains(got, "4242") {
		t.Errorf("long value inside a word not masked: %q", got)
	}
	if !strings.Contains(got, "odoo_prod") {
		t.Errorf("short value masked inside a word: %q", got)
	}
	if strings.HasSuffix(got, " odoo") {
		t.Errorf("short value as a whole token not masked: %q", got)
	}
}
