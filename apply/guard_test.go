package apply

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/state"
)

// The last guard refuses structured data holding a resolved secret value
// in any common encoding, names the file and the secret's source (never
// the value), and leaves short and public values alone.
func TestGuardSecrets(t *testing.T) {
	const v = `pa55/word+"long"`
	secrets := map[string]string{v: "env SHOP_DB_PASSWORD", "mint": "env SHORT", "hello.example.com": "env PUBLIC"}
	public := map[string]bool{"hello.example.com": true}
	for name, data := range map[string]string{
		"raw":        "x " + v + " y",
		"json":       `{"a": "pa55/word+\"long\""}`,
		"base64":     `{"a": "` + base64.StdEncoding.EncodeToString([]byte(v)) + `"}`,
		"base64url":  base64.RawURLEncoding.EncodeToString([]byte(v)),
		"urlencoded": "u=" + url.QueryEscape(v),
	} {
		err := guardSecrets([]state.Change{{Path: "targets/shop/prod.json", Data: []byte(data)}}, secrets, public)
		if !errors.Is(err, ErrSecretInState) {
			t.Errorf("%s: got %v, want ErrSecretInState", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "targets/shop/prod.json") || !strings.Contains(msg, "env SHOP_DB_PASSWORD") || strings.Contains(msg, "pa55") {
			t.Errorf("%s: %q", name, msg)
		}
	}
	clean := []state.Change{
		{Path: "targets/hello/prod.json", Data: []byte(`{"image": "mint", "domain": "hello.example.com"}`)},
		{Path: "records/x.json", Delete: true},
	}
	if err := guardSecrets(clean, secrets, public); err != nil {
		t.Errorf("short or public values refused: %v", err)
	}
}
