// Package dotenv writes and reads environments the way Dokploy stores
// them: a text of KEY=value lines that Dokploy parses with the dotenv
// library. Parse follows dotenv's parser (v16: quotes, comments, \n and
// \r expanded in double quotes only); Encode picks for each value a form
// that Parse gives back unchanged, or refuses the value.
package dotenv

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// line is dotenv's LINE expression.
var line = regexp.MustCompile(`(?m)(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*` +
	"`(?:\\\\`|[^`])*`" + `|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)`)

var validKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads an environment text as dotenv does. A later line of the same
// key wins.
func Parse(src string) map[string]string {
	out := map[string]string{}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	for _, m := range line.FindAllStringSubmatch(src, -1) {
		v := strings.TrimSpace(m[2])
		var quote byte
		if v != "" {
			quote = v[0]
		}
		if len(v) >= 2 && strings.IndexByte("'\"`", quote) >= 0 && v[len(v)-1] == quote {
			v = v[1 : len(v)-1]
		}
		if quote == '"' {
			v = strings.ReplaceAll(v, `\n`, "\n")
			v = strings.ReplaceAll(v, `\r`, "\r")
		}
		out[m[1]] = v
	}
	return out
}

// Encode renders env as one KEY=value line per key, sorted by key. An
// error names the key whose value has no dotenv form, never the value.
func Encode(env map[string]string) (string, error) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if !validKey.MatchString(k) {
			return "", fmt.Errorf("env key %q is not a variable name", k)
		}
		v, err := quote(env[k])
		if err != nil {
			return "", fmt.Errorf("env %s: %w", k, err)
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// quote returns v in a form Parse reads back as v.
func quote(v string) (string, error) {
	plain := !strings.ContainsAny(v, "#\r\n") && strings.TrimSpace(v) == v &&
		(v == "" || strings.IndexByte("'\"`", v[0]) < 0)
	if plain {
		return v, nil
	}
	endsEscape := strings.HasSuffix(v, `\`)
	if !endsEscape && !strings.ContainsAny(v, "'\r") {
		return "'" + v + "'", nil
	}
	if !endsEscape && !strings.Contains(v, `"`) && !strings.Contains(v, `\n`) && !strings.Contains(v, `\r`) {
		r := strings.NewReplacer("\n", `\n`, "\r", `\r`)
		return `"` + r.Replace(v) + `"`, nil
	}
	if !endsEscape && !strings.ContainsAny(v, "`\r") {
		return "`" + v + "`", nil
	}
	return "", fmt.Errorf("value cannot be written as a dotenv line (it mixes every quote character with newlines or ends in a backslash)")
}
