package dotenv

import (
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	values := []string{
		"", "plain", "postgres://app:pw@db/app", "with space", " lead", "trail ", "a#b", "#x",
		"'q", "\"q", "`q", "it's", `say "hi"`, "multi\nline", "cr\rhere", `back\slash`, `ends\`,
		`lit\n`, "both ' and \"", "x=y", "${{project.X}}",
	}
	for _, v := range values {
		text, err := Encode(map[string]string{"K": v, "A": "1", "Z": "2"})
		if err != nil {
			t.Errorf("encode %q: %v", v, err)
			continue
		}
		got := Parse(text)
		if got["K"] != v || got["A"] != "1" || got["Z"] != "2" || len(got) != 3 {
			t.Errorf("round trip of %q through %q: %q", v, text, got)
		}
	}
}

func TestEncodeRefusesNamingKeyOnly(t *testing.T) {
	secret := "x'\"`\r\\"
	_, err := Encode(map[string]string{"DB_PASSWORD": secret})
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "DB_PASSWORD") || strings.Contains(err.Error(), secret) {
		t.Fatalf("error %q", err)
	}
	if _, err := Encode(map[string]string{"BAD KEY": "x"}); err == nil {
		t.Fatal("a key with a space was accepted")
	}
}

func TestParseDotenvForms(t *testing.T) {
	got := Parse("# comment\nexport A=1\nB = two # trailing\nC='x # y'\nD=\"l1\\nl2\"\r\nE:  colon\nF=\n")
	want := map[string]string{"A": "1", "B": "two", "C": "x # y", "D": "l1\nl2", "E": "colon", "F": ""}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
