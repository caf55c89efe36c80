package apply

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/state"
)

// minGuarded is the length from which a resolved secret value found in
// structured data fails the write: a shorter value is too likely to be
// an ordinary word or number of the data itself.
const minGuarded = 8

// ErrSecretInState is wrapped when structured data about to be written
// holds a resolved secret value.
var ErrSecretInState = fmt.Errorf("a secret value is in structured data")

// guardSecrets is the last guard of structured writes (state files,
// records): they are built from typed values that never hold a secret,
// so a resolved secret value found in one is a bug, and the write fails
// loudly, naming the file and the secret's source, never rewriting the
// data. Values shorter than minGuarded and values also written in plain
// in the config (public anyway) are not looked for.
func guardSecrets(changes []state.Change, secrets map[string]string, public map[string]bool) error {
	var names []string
	for v := range secrets {
		if len(v) >= minGuarded && !public[v] {
			names = append(names, v)
		}
	}
	sort.Slice(names, func(i, j int) bool { return secrets[names[i]] < secrets[names[j]] })
	for _, c := range changes {
		if c.Delete {
			continue
		}
		for _, v := range names {
			for _, f := range encodings(v) {
				if bytes.Contains(c.Data, []byte(f)) {
					return fmt.Errorf("refusing to write %s: it holds the value of secret %s: %w", c.Path, secrets[v], ErrSecretInState)
				}
			}
		}
	}
	return nil
}

// encodings are the forms a value is looked for in: as is, as JSON
// escapes it, base64 (standard and URL alphabets) and URL-encoded.
func encodings(v string) []string {
	b, _ := json.Marshal(v)
	out := []string{v, string(b[1 : len(b)-1]),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
		url.QueryEscape(v), url.PathEscape(v)}
	return out
}

// publicValues are the string values written in plain in the config: a
// secret that equals one of them is public anyway.
func publicValues(cfg *config.Config) map[string]bool {
	out := map[string]bool{}
	if cfg == nil {
		return out
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out[x] = true
		case map[string]any:
			for k, e := range x {
				out[k] = true
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, part := range []any{cfg.Products, cfg.Targets, cfg.Providers} {
		b, err := json.Marshal(part)
		if err != nil {
			continue
		}
		var v any
		if json.Unmarshal(b, &v) == nil {
			walk(v)
		}
	}
	return out
}
