package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/launchplane/launchplane/providers"
)

// File names inside a project directory <dir>/<name>/.
const (
	composeFile = "compose.yaml"
	envFile     = ".env"
)

// Labels the rendered service carries; docker inspect reads them back
// from the container.
const (
	labelTarget         = "launchplane.target"
	labelIdempotencyKey = "launchplane.idempotency-key"
	labelSecretKeys     = "launchplane.secret-keys"
	labelJob            = "launchplane.job"
)

// service is the one service of every rendered project.
const service = "app"

var (
	// projectNameRE is docker compose's rule for project names: lowercase
	// letters, digits, '-' and '_', starting with a letter or digit.
	projectNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	// envKeyRE is what an env key may be: it lands on a .env line and, for
	// jobs, on the command line as "-e KEY", so it must never carry '='.
	envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// networkRE is docker's rule for network names.
	networkRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// validateProjectName refuses what docker compose would not accept as a
// project name; it also keeps the project directory inside dir.
func validateProjectName(name string) error {
	if !projectNameRE.MatchString(name) {
		return fmt.Errorf("invalid compose project name %q: want lowercase letters, digits, '-' and '_', starting with a letter or digit", name)
	}
	return nil
}

// validateEnvKey refuses keys that cannot be written to a .env file or
// passed as "-e KEY", and COMPOSE_* keys, which docker compose would read
// from the project's .env as its own settings.
func validateEnvKey(k string) error {
	if !envKeyRE.MatchString(k) {
		return fmt.Errorf("invalid env key %q: want letters, digits and '_', not starting with a digit", k)
	}
	if strings.HasPrefix(k, "COMPOSE_") {
		return fmt.Errorf("env key %s: docker compose reads COMPOSE_* keys of the project's .env as its own settings", k)
	}
	return nil
}

// spec is what one project renders from.
type spec struct {
	Name           string
	Target         string
	Image          string
	Port           int
	Network        string
	IdempotencyKey string
	SecretKeys     []string // sorted
}

// yamlString quotes s as a YAML double-quoted scalar (JSON's string
// syntax is a subset of it), with '$' doubled so docker compose does not
// interpolate it.
func yamlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "$", "$$")
}

// renderCompose renders compose.yaml. The output depends on s only.
func renderCompose(s spec) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Rendered by Launchplane: the next deploy overwrites this file.")
	w("# The env, secret values included, is in %s (mode 0600).", envFile)
	w("name: %s", yamlString(s.Name))
	w("services:")
	w("  %s:", service)
	w("    image: %s", yamlString(s.Image))
	w("    env_file:")
	w("      - %s", envFile)
	w("    labels:")
	// Sorted by label name.
	w("      %s: %s", labelIdempotencyKey, yamlString(s.IdempotencyKey))
	w("      %s: %s", labelSecretKeys, yamlString(strings.Join(s.SecretKeys, ",")))
	w("      %s: %s", labelTarget, yamlString(s.Target))
	if s.Port > 0 {
		w("    expose:")
		w("      - %s", yamlString(strconv.Itoa(s.Port)))
	}
	w("    restart: unless-stopped")
	if s.Network != "" {
		// The app joins the ingress network under its provider object
		// name, so a route's upstream <name>:<port> resolves there.
		w("    networks:")
		w("      ingress:")
		w("        aliases:")
		w("          - %s", yamlString(s.Name))
		w("networks:")
		w("  ingress:")
		w("    name: %s", yamlString(s.Network))
		w("    external: true")
	}
	return []byte(b.String())
}

// renderEnv renders .env: one KEY=value line per entry, sorted by key,
// quoted so docker compose reads each value back literally.
func renderEnv(env map[string]string) []byte {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Rendered by Launchplane: the app's env, secret values included. Keep it mode 0600.\n")
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteEnv(env[k]))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// quoteEnv quotes a .env value for docker compose's dotenv parser. Single
// quotes keep a value literal (no escapes, no interpolation) when it
// holds no quote, backslash or line break; otherwise double quotes with
// \\, \", \$, \n and \r escaped.
func quoteEnv(v string) string {
	if !strings.ContainsAny(v, "'\\\n\r") {
		return "'" + v + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '$':
			b.WriteString(`\$`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parseEnv reads a .env file that renderEnv wrote.
func parseEnv(data []byte) (map[string]string, error) {
	env := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !envKeyRE.MatchString(k) {
			return nil, fmt.Errorf("%s line %d: not a KEY=value line", envFile, i+1)
		}
		val, err := unquoteEnv(v)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %s: %w", envFile, i+1, k, err)
		}
		env[k] = val
	}
	return env, nil
}

func unquoteEnv(v string) (string, error) {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1], nil
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New("value is not quoted")
	}
	var b strings.Builder
	in := v[1 : len(v)-1]
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(in) {
			return "", errors.New("trailing backslash")
		}
		switch in[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(in[i])
		}
	}
	return b.String(), nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory renamed over path, so a reader sees the old or the new file,
// never a part. The temporary file is created with mode 0600 and only
// then opened up to perm.
func writeAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// projectFiles are a project directory's files as written.
type projectFiles struct {
	compose, env []byte // nil: absent
	// Read back from the files, for a restore.
	image  string
	envMap map[string]string
}

func (f projectFiles) exists() bool { return f.compose != nil }

// readProject reads the files of the project in dir, as they are; a
// missing compose.yaml is no project.
func readProject(dir string) (projectFiles, error) {
	r, err := readRendered(dir)
	if err != nil || !r.Exists {
		return projectFiles{}, err
	}
	var f projectFiles
	if f.compose, err = os.ReadFile(filepath.Join(dir, composeFile)); err != nil {
		return projectFiles{}, err
	}
	f.env, err = os.ReadFile(filepath.Join(dir, envFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return projectFiles{}, err
	}
	if f.env == nil {
		f.env = []byte{}
	}
	f.image, f.envMap = r.Image, r.Env
	return f, nil
}

// writeProject writes f's files into dir: .env first, so a compose.yaml
// with the new idempotency key implies the new env is in place.
func writeProject(dir string, f projectFiles) error {
	if err := writeAtomic(filepath.Join(dir, envFile), f.env, 0o600); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, composeFile), f.compose, 0o644)
}

// rendered is what Observe reads back from a project directory.
type rendered struct {
	Exists         bool // compose.yaml is there
	Image          string
	Labels         map[string]string
	Env            map[string]string // every value, secret ones included
	SecretKeys     []string
	IdempotencyKey string
}

// composeDoc is the part of a compose file rendered projects are read
// back through.
type composeDoc struct {
	Services map[string]struct {
		Image  string            `yaml:"image"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"services"`
}

// readRendered reads the project in dir; a missing compose.yaml is
// Exists false.
func readRendered(dir string) (rendered, error) {
	raw, err := os.ReadFile(filepath.Join(dir, composeFile))
	if errors.Is(err, fs.ErrNotExist) {
		return rendered{}, nil
	}
	if err != nil {
		return rendered{}, err
	}
	var doc composeDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return rendered{}, fmt.Errorf("%s: %w", composeFile, err)
	}
	svc, ok := doc.Services[service]
	if !ok {
		return rendered{}, fmt.Errorf("%s: no service %q", composeFile, service)
	}
	unescape := func(s string) string { return strings.ReplaceAll(s, "$$", "$") }
	r := rendered{Exists: true, Image: unescape(svc.Image), Labels: map[string]string{}}
	for k, v := range svc.Labels {
		r.Labels[k] = unescape(v)
	}
	r.IdempotencyKey = r.Labels[labelIdempotencyKey]
	r.SecretKeys = splitKeys(r.Labels[labelSecretKeys])
	envRaw, err := os.ReadFile(filepath.Join(dir, envFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Env = map[string]string{}
	case err != nil:
		return rendered{}, err
	default:
		if r.Env, err = parseEnv(envRaw); err != nil {
			return rendered{}, err
		}
	}
	return r, nil
}

// publicEnv is env without the secret keys' entries.
func publicEnv(env map[string]string, secretKeys []string) map[string]string {
	secret := map[string]bool{}
	for _, k := range secretKeys {
		secret[k] = true
	}
	out := map[string]string{}
	for k, v := range env {
		if !secret[k] {
			out[k] = v
		}
	}
	return out
}

// splitKeys splits the launchplane.secret-keys label.
func splitKeys(s string) []string {
	if s == "" {
		return nil
	}
	keys := strings.Split(s, ",")
	sort.Strings(keys)
	return keys
}

// specOf checks app and builds the spec of its project.
func specOf(name, network string, app providers.App) (spec, error) {
	if app.Image == "" {
		return spec{}, errors.New("no image")
	}
	keys := make([]string, 0, len(app.Env))
	for k := range app.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := validateEnvKey(k); err != nil {
			return spec{}, err
		}
	}
	secret := append([]string(nil), app.SecretKeys...)
	sort.Strings(secret)
	for _, k := range secret {
		if _, ok := app.Env[k]; !ok {
			return spec{}, fmt.Errorf("secret key %s has no value", k)
		}
	}
	return spec{Name: name, Target: app.Target, Image: app.Image, Port: app.Port, Network: network,
		IdempotencyKey: app.IdempotencyKey, SecretKeys: secret}, nil
}
