package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/plan"
)

// fastCorpus are target files of every shape the codec writes, and some
// it never writes but a person might.
func fastCorpus(t testing.TB) [][]byte {
	t.Helper()
	now := time.Date(2026, 12, 3, 13, 20, 40, 618564595, time.UTC)
	img := "registry.example.org/fleet/app@sha256:" + strings.Repeat("a", 64)
	full := &TargetState{
		FormatVersion: FormatVersion, Target: "shop/prod", Status: StatusHealthy, Image: img, HealthyImage: img, PreviousHealthyImage: img + "x",
		Resources: []Resource{
			{Address: "shop/prod/app", Kind: plan.KindApp, Provider: "local", IdempotencyKey: strings.Repeat("c", 64),
				Attrs: map[string]any{"env": map[string]any{"LOG_LEVEL": "info", "EMPTY": ""}, "image": img, "name": "shop-prod", "port": float64(8080),
					"secrets": map[string]any{}, "ratio": 0.25, "big": 1e300, "neg": -3.5e-7, "on": true, "off": false, "none": nil,
					"list": []any{"a", float64(1), []any{}, map[string]any{"k": "v"}}, "ünï": "çødé ☃"}},
			{Address: "shop/prod/route/shop.example.org", Kind: plan.KindRoute, Provider: "local", IdempotencyKey: "e",
				Attrs: map[string]any{"domain": "shop.example.org", "port": float64(8080), "upstream": "shop-prod"}},
			{Address: "shop/prod/x", Kind: "custom"},
		},
		ProviderIDs: map[string]string{"shop/prod/app": "app-1"}, LastRecord: "r1", ImageRecord: "r0",
		Facts: map[string]string{"odoo.migrated_image": img}, NeedsOperator: "restore the database", Sequence: 9007199254740993,
		UpdatedAt: now, ConfigFile: "targets/shop-prod.yaml",
	}
	rare := *full
	rare.RolledBack = &RolledBack{Record: "r", From: "a", To: "b", Reason: "bad"}
	rare.Gate = &Gate{Record: "g", Provider: "p", Database: "d", BackupID: "b", Location: "l", Taken: now, Duration: time.Second}
	rare.InFlight = &InFlight{Record: "r", Plan: "p", Actor: "a", Started: now, Expires: now}
	rare.Interrupted = []InFlight{{Record: "r2", Started: now, Expires: now}}
	escaped := &TargetState{FormatVersion: FormatVersion, Target: "shop/prod", Status: StatusHealthy, Resources: []Resource{{Attrs: map[string]any{"html": "a<b>&c"}}}}
	empty := &TargetState{FormatVersion: FormatVersion, Target: "shop/prod", Status: StatusFailed, Resources: []Resource{}}
	zoned := &TargetState{FormatVersion: FormatVersion, Target: "shop/prod", Status: StatusUnknown, UpdatedAt: now.In(time.FixedZone("X", 5400))}
	var out [][]byte
	for _, ts := range []*TargetState{full, &rare, escaped, empty, zoned} {
		b, err := EncodeTarget(ts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
		compact := &bytes.Buffer{}
		json.Compact(compact, b)
		out = append(out, compact.Bytes())
	}
	out = append(out,
		[]byte(`{"format_version":"1","target":"shop/prod","status":"healthy","resources":[{"attrs":{"a":{"b":{"c":[1,2,{"d":null}]}}}}],"sequence":0,"updated_at":"2026-12-03T13:20:40Z"}`),
		[]byte("\t\r\n {\"format_version\": \"1\", \"target\": \"shop/prod\", \"status\": \"rendered\", \"resources\": null} \n\n"),
		[]byte(`{"format_version":"1","target":"shop/prod","status":"healthy","resources":[],"updated_at":"2026-12-03T13:20:40+01:00"}`),
	)
	return out
}

// mutations of b: bytes deleted, doubled or replaced by tokens that
// stress a JSON decoder.
func mutations(b []byte, rng *rand.Rand, n int) [][]byte {
	tokens := []string{`"`, `\`, `\"`, `\u0041`, `\n`, ",", ":", "{", "}", "[", "]", "null", "true", "1e400", "-", "0", "01", "1.", ".5", "-0", "1E+2", " ",
		`"X"`, "{}", "[]", "\xff", "\xc3\xa9", "\x00", "\x7f", `"format_version"`, `"Format_Version"`, `"bogus"`, `"sequence"`, `"2"`, "9223372036854775808", "1.5",
		`"resources"`, `"attrs"`, `"updated_at"`, `"2026-02-30T00:00:00Z"`, `"2026-12-03T13:20:40.5Z"`}
	out := make([][]byte, 0, n)
	for len(out) < n {
		m := bytes.Clone(b)
		for k := 0; k <= rng.IntN(2); k++ {
			if len(m) == 0 {
				break
			}
			i := rng.IntN(len(m))
			switch rng.IntN(5) {
			case 0:
				m = append(m[:i:i], m[i+1:]...)
			case 1:
				m = append(m[:i+1:i+1], m[i:]...)
			case 2:
				j := min(len(m), i+1+rng.IntN(8))
				m = append(append(m[:i:i], tokens[rng.IntN(len(tokens))]...), m[j:]...)
			case 3:
				m = append(append(m[:i:i], tokens[rng.IntN(len(tokens))]...), m[i:]...)
			case 4: // a field again, or an unknown one
				if j := bytes.IndexByte(m, ','); j > 0 {
					f := []string{`"status": "failed",`, `"bogus": 1,`, `"target": "x/y",`, `"sequence": 2,`, `"resources": [],`, `"facts": {},`, `"STATUS": "failed",`}[rng.IntN(7)]
					m = append(append(m[:j+1:j+1], f...), m[j+1:]...)
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// checkFast is the property: what fastTarget accepts, encoding/json's
// strict decoding accepts with an equal result.
func checkFast(t testing.TB, b []byte) bool {
	var fast TargetState
	if !fastTarget(b, &fast) {
		return false
	}
	var strict TargetState
	if err := strictDecode(b, &strict); err != nil {
		t.Fatalf("fast accepted what encoding/json refuses (%v):\n%s", err, b)
	}
	if !reflect.DeepEqual(fast, strict) {
		t.Fatalf("fast decoded\n%#v\nencoding/json\n%#v\nfrom:\n%s", fast, strict, b)
	}
	return true
}

// decodeTargetStrict is DecodeTarget as it was before fastTarget: the
// reference for its errors.
func decodeTargetStrict(p string, b []byte) (*TargetState, error) {
	var ts TargetState
	if err := strictDecode(b, &ts); err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	if err := checkVersion(ts.FormatVersion); err != nil {
		return nil, fmt.Errorf("state %s: %w", p, err)
	}
	if TargetPath(ts.Target) != p {
		return nil, fmt.Errorf("state %s: holds target %q, which belongs in %s", p, ts.Target, TargetPath(ts.Target))
	}
	if !validStatus(ts.Status) {
		return nil, fmt.Errorf("state %s: status: unknown status %q", p, ts.Status)
	}
	return &ts, nil
}

// The fast decoder agrees with encoding/json on every corpus file and
// ~60,000 mutations of them, and DecodeTarget's results and error texts
// are those of the strict decoding alone.
func TestFastTargetSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 3))
	accepted, declined, sameErr := 0, 0, 0
	for _, seed := range fastCorpus(t) {
		for _, b := range append([][]byte{seed}, mutations(seed, rng, 6000)...) {
			if checkFast(t, b) {
				accepted++
			} else {
				declined++
			}
			const p = "targets/shop/prod.json"
			got, gerr := DecodeTarget(p, b)
			want, werr := decodeTargetStrict(p, b)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeTarget: %v\nstrict: %v\nof:\n%s", gerr, werr, b)
			}
			if werr != nil {
				sameErr++
			}
		}
	}
	t.Logf("fast accepted %d, declined %d; %d errors the same", accepted, declined, sameErr)
	if accepted < 5000 || declined < 5000 || sameErr < 5000 {
		t.Fatal("the mutations do not exercise both sides")
	}
}

// What it must decline, each for encoding/json to decide.
func TestFastTargetDeclines(t *testing.T) {
	base := `{"format_version": "1", "target": "shop/prod", "status": "healthy", "resources": [{"address": "a", "attrs": {"k": 1}}]`
	for _, s := range []string{
		base + `, "target": "shop/prod"}`,                          // duplicate field (encoding/json: last wins)
		base + `, "Status": "healthy"}`,                            // another case (encoding/json matches it)
		base + `, "bogus": 1}`,                                     // unknown field
		base + `, "image": "a\u0062"}`,                             // escape
		base + `, "sequence": 1.0}`,                                // not an integer
		base + `, "sequence": 9223372036854775808}`,                // overflow
		base + `, "rolled_back": {"record": "r"}}`,                 // a rare field
		base + `, "updated_at": "2026-12-03"}`,                     // not RFC 3339
		base + `} {}`,                                              // trailing data
		base + `}x`,                                                // trailing data
		strings.Replace(base, `"k": 1`, `"k": 1, "k": 2`, 1) + "}", // duplicate key in attrs
		strings.Replace(base, `"k": 1`, `"k": 1e400`, 1) + "}",     // out of float64's range
		strings.Replace(base, `"k": 1`, `"k": "\xff"`, 1) + "}",    // invalid UTF-8
		strings.Replace(base, `"k": 1`, `"k": `+strings.Repeat("[", 100)+strings.Repeat("]", 100), 1) + "}",
		"\ufeff" + base + "}", // byte order mark
		"",
	} {
		var ts TargetState
		if fastTarget([]byte(s), &ts) {
			t.Errorf("accepted %q", s)
		}
	}
}

func FuzzFastTarget(f *testing.F) {
	for _, b := range fastCorpus(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFast(t, b)
		const p = "targets/shop/prod.json"
		got, gerr := DecodeTarget(p, b)
		want, werr := decodeTargetStrict(p, b)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeTarget: %v\nstrict: %v", gerr, werr)
		}
	})
}

func BenchmarkDecodeTarget(b *testing.B) {
	doc := fastCorpus(b)[0]
	for _, c := range []struct {
		name   string
		decode func(string, []byte) (*TargetState, error)
	}{{"fast", DecodeTarget}, {"encoding-json", decodeTargetStrict}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.decode("targets/shop/prod.json", doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
