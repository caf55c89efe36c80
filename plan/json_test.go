package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// encodingJSON is what JSON must write: encoding/json's Encoder with HTML
// escaping off, compact or indented, without its final newline.
func encodingJSON(t testing.TB, v any, indent bool, prefix string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent(prefix, "  ")
	}
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// trickyStrings are strings whose encoding differs between careless
// encoders: every control character, quotes and backslashes, HTML
// characters (left unescaped), invalid and truncated UTF-8, surrogate
// halves, U+2028/U+2029, DEL, non-ASCII and emoji.
func trickyStrings() []string {
	var out []string
	for c := 0; c < 0x20; c++ {
		out = append(out, string(rune(c)), "a"+string(rune(c))+"b")
	}
	out = append(out, "", `"`, `\`, `\"`, "/", "<script>&amp;</script>", "a\u2028b\u2029c", "\x7f", "é", "日本語", "🚀",
		"\xff", "a\xffb", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\ufffd", "\u00a0", "\ufeff",
		`{"a":1}`, "null", "  spaced  ", "line\r\nbreak", "tab\there")
	return out
}

func trickyValues() []any {
	var out []any
	for _, s := range trickyStrings() {
		out = append(out, s)
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e21, 123456789012345678, 3.141592653589793,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-300, 8080, 1e100, 2.5e-10}
	for _, f := range floats {
		out = append(out, f)
	}
	out = append(out, nil, true, false, 0, -42, 8080, int64(math.MaxInt64), int64(math.MinInt64),
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil), []string{}, []string(nil), []string{"a", "<b>"},
		map[string]string{}, map[string]string{"z": "1", "a": "\x00"}, map[string]string(nil),
		// types handed to encoding/json
		int32(7), uint8(3), float32(0.1), json.Number("12.50"), Kind("app"), struct {
			A string `json:"a"`
		}{"<x>"}, []int{1, 2}, map[string]int{"b": 1, "a": 2}, []byte("bytes"))
	return out
}

func randomValue(r *rand.Rand, depth int, leaves []any) any {
	if depth > 4 || r.Intn(3) == 0 {
		return leaves[r.Intn(len(leaves))]
	}
	if r.Intn(2) == 0 {
		n := r.Intn(4)
		m := make(map[string]any, n)
		for i := 0; i < n; i++ {
			keys := trickyStrings()
			m[keys[r.Intn(len(keys))]] = randomValue(r, depth+1, leaves)
		}
		return m
	}
	n := r.Intn(4)
	s := make([]any, n)
	for i := range s {
		s[i] = randomValue(r, depth+1, leaves)
	}
	return s
}

// JSON writes exactly encoding/json's bytes, compact and indented at any
// depth and prefix, for every tricky leaf and for random nestings of
// them, including the values it hands to encoding/json.
func TestJSONSameAsEncodingJSON(t *testing.T) {
	leaves := trickyValues()
	values := append([]any{}, leaves...)
	r := rand.New(rand.NewSource(16))
	for i := 0; i < 3000; i++ {
		values = append(values, randomValue(r, 0, leaves))
	}
	deep := any("leaf")
	for i := 0; i < maxDepth+20; i++ {
		deep = map[string]any{"k": []any{deep}}
	}
	values = append(values, deep)
	for i, v := range values {
		for _, indent := range []bool{false, true} {
			for _, prefix := range []string{"", "    "} {
				if !indent && prefix != "" {
					continue
				}
				e := JSON{Indent: indent, Prefix: prefix}
				e.Value(v, 0)
				if e.Err != nil {
					t.Fatalf("value %d: %v", i, e.Err)
				}
				if got, want := string(e.B), encodingJSON(t, v, indent, prefix); got != want {
					t.Fatalf("value %d (%#v), indent %v prefix %q:\n got %q\nwant %q", i, v, indent, prefix, got, want)
				}
			}
		}
	}
}

// NaN and infinities are refused, as encoding/json refuses them.
func TestJSONRefusesNaN(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		e := JSON{}
		e.Value(map[string]any{"x": []any{f}}, 0)
		if e.Err == nil {
			t.Errorf("%v: no error", f)
		}
	}
}

// referenceHash is the plan hash as first defined: sha256 over
// encoding/json's canonical encoding of the meaning of the plan.
func referenceHash(t testing.TB, p *Plan) string {
	only := append([]string{}, p.Only...)
	sort.Strings(only)
	changes := make([]hashedChange, 0, len(p.Changes))
	for _, c := range p.Changes {
		changes = append(changes, meaning(c))
	}
	v := struct {
		Version        string         `json:"v"`
		Only           []string       `json:"only"`
		SecretsChecked bool           `json:"secrets_checked"`
		Changes        []hashedChange `json:"changes"`
	}{"1", only, p.SecretsChecked, changes}
	sum := sha256.Sum256([]byte(encodingJSON(t, v, false, "")))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func referenceIdempotencyKey(t testing.TB, target string, a Action, after map[string]any) string {
	h := sha256.New()
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write([]byte(a.String()))
	h.Write([]byte{0})
	h.Write([]byte(encodingJSON(t, after, false, "")))
	return hex.EncodeToString(h.Sum(nil))
}

// The streamed plan hash and the idempotency keys are the ones
// encoding/json's canonical form gives, for plans of tricky values, nil
// and empty lists and maps, and thousands of changes (several flushes).
func TestHashSameAsReference(t *testing.T) {
	leaves := trickyValues()
	r := rand.New(rand.NewSource(7))
	strs := trickyStrings()
	pick := func() string { return strs[r.Intn(len(strs))] }
	for n := 0; n < 40; n++ {
		p := &Plan{SecretsChecked: n%2 == 0}
		switch n % 3 {
		case 1:
			p.Only = []string{pick(), "b/x", "a/y"}
		case 2:
			p.Only = []string{}
		}
		size := r.Intn(20)
		if n == 39 {
			size = 3000
		}
		for i := 0; i < size; i++ {
			c := Change{Address: pick(), Target: pick(), Kind: Kind(pick()), Action: Action(r.Intn(6)), Provider: pick(), Reason: pick()}
			switch r.Intn(4) {
			case 0:
			case 1:
				c.After = map[string]any{}
			default:
				if m, ok := randomValue(r, 1, leaves).(map[string]any); ok {
					c.After = m
				} else {
					c.After = map[string]any{"v": randomValue(r, 1, leaves)}
				}
			}
			switch r.Intn(3) {
			case 1:
				c.DependsOn = []string{}
			case 2:
				c.DependsOn = []string{pick(), pick()}
			}
			p.Changes = append(p.Changes, c)
			if got, want := IdempotencyKey(c.Target, c.Action, c.After), referenceIdempotencyKey(t, c.Target, c.Action, c.After); got != want {
				t.Fatalf("idempotency key of %#v: %s, want %s", c, got, want)
			}
		}
		if got, want := p.Hash(), referenceHash(t, p); got != want {
			t.Fatalf("plan %d: hash %s, want %s", n, got, want)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	p := benchPlan(3000)
	b.ReportAllocs()
	for b.Loop() {
		p.Hash()
	}
}

func BenchmarkIdempotencyKey(b *testing.B) {
	p := benchPlan(1)
	c := p.Changes[0]
	b.ReportAllocs()
	for b.Loop() {
		IdempotencyKey(c.Target, c.Action, c.After)
	}
}

// benchPlan is a plan like the 3,000-target fleet's empty-state plan.
func benchPlan(targets int) *Plan {
	p := &Plan{}
	for i := 0; i < targets; i++ {
		t := "app" + strings.Repeat("0", 5) + "/prod"
		p.Changes = append(p.Changes,
			Change{Address: t + "/app", Target: t, Kind: KindApp, Action: Create, Provider: "local",
				After: map[string]any{"env": map[string]any{"LOG_LEVEL": "info", "REGION": "eu-0"}, "image": "registry.example.org/fleet/app00000@sha256:14831ad2e43e335e60d93806c8e59e744e0a3cebfb962aa21a40a0e954c72056",
					"name": "app00000-prod", "port": 8080, "secrets": map[string]any{}}},
			Change{Address: t + "/health", Target: t, Kind: KindHealth, Action: Run, Provider: "local", DependsOn: []string{t + "/app"},
				After: map[string]any{"timeout": "1m0s", "url": "https://app00000-prod.fleet.example.org/healthz"}},
			Change{Address: t + "/route/app00000-prod.fleet.example.org", Target: t, Kind: KindRoute, Action: Create, Provider: "local", DependsOn: []string{t + "/health"},
				After: map[string]any{"domain": "app00000-prod.fleet.example.org", "port": 8080, "upstream": "app00000-prod"}})
	}
	return p
}
