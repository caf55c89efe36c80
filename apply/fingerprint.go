package apply

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

// FingerprintKeyEnv names the environment variable holding the key of
// secret fingerprints (SPEC §9).
const FingerprintKeyEnv = "LAUNCHPLANE_FINGERPRINT_KEY"

// SaltFile is the state repository file holding the per-repository salt
// that keys fingerprints when no LAUNCHPLANE_FINGERPRINT_KEY is given.
const SaltFile = "fingerprint-salt"

// Fingerprint attribute names of a secret entry of an app.
const (
	attrFingerprint = "fingerprint"
	attrKeyedBy     = "keyed_by"
)

// FingerprintKey keys the fingerprints of secret values: HMAC-SHA256,
// truncated. It never leaves the process; what is recorded is its id.
type FingerprintKey struct {
	key []byte
	// KeyedBy names the key without revealing it: "env:<8 hex>" for
	// LAUNCHPLANE_FINGERPRINT_KEY, "salt:<8 hex>" for the state salt.
	KeyedBy string
	// NewSalt is a salt made now because the state repository has none;
	// the apply that uses it writes it to SaltFile.
	NewSalt string
}

func newFingerprintKey(source string, key []byte) *FingerprintKey {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("launchplane fingerprint key id"))
	return &FingerprintKey{key: key, KeyedBy: source + ":" + hex.EncodeToString(m.Sum(nil))[:8]}
}

// LoadFingerprintKey finds the fingerprint key: LAUNCHPLANE_FINGERPRINT_KEY,
// else the state repository's salt. With neither, create makes a new salt
// (for an apply, which writes it); without create it returns nil: secrets
// cannot be fingerprinted and rotation is not checked.
func LoadFingerprintKey(getenv func(string) string, snap state.Snapshot, create bool) (*FingerprintKey, error) {
	if k := getenv(FingerprintKeyEnv); k != "" {
		return newFingerprintKey("env", []byte(k)), nil
	}
	b, err := snap.ReadFile(SaltFile)
	switch {
	case err == nil:
		salt := strings.TrimSpace(string(b))
		if len(salt) < 32 {
			return nil, fmt.Errorf("state %s: the salt is shorter than 32 characters", SaltFile)
		}
		return newFingerprintKey("salt", []byte(salt)), nil
	case !errors.Is(err, state.ErrNotFound):
		return nil, fmt.Errorf("state %s: %w", SaltFile, err)
	}
	if !create {
		return nil, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	salt := hex.EncodeToString(raw)
	k := newFingerprintKey("salt", []byte(salt))
	k.NewSalt = salt
	return k, nil
}

// Of is the fingerprint of a secret value: "hmac-sha256:<32 hex>".
func (k *FingerprintKey) Of(value string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(value))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))[:32]
}

// Secrets says how a plan treats secret values.
type Secrets struct {
	// Getenv reads fromEnv references; nil: secrets are not read, and
	// rotation is not checked.
	Getenv func(string) string
	// Key keys the fingerprints; nil: rotation is not checked.
	Key *FingerprintKey
}

// ReadSecret reads a secret reference as apply does: an environment
// variable, or a file relative to the config dir, trailing newlines cut.
func ReadSecret(ref providers.SecretRef, getenv func(string) string, dir string) (string, error) {
	switch {
	case ref.FromEnv != "":
		v := getenv(ref.FromEnv)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", ref.FromEnv)
		}
		return v, nil
	case ref.FromFile != "":
		p := ref.FromFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("file %s could not be read (%v)", ref.FromFile, unwrapPath(err))
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("file %s is empty", ref.FromFile)
		}
		return v, nil
	}
	return "", fmt.Errorf("empty secret reference")
}

// fingerprint adds to each desired app's secret entries the fingerprint
// of its value, when every secret is readable and a key is known, and
// makes the recorded entries comparable: a fingerprint made with another
// key, or none recorded, is never a rotation. It returns whether rotation
// was checked, and notes for the plan.
func fingerprint(cfg *config.Config, desired plan.Desired, recorded plan.Recorded, s Secrets) (bool, []string) {
	var notes []string
	checked := s.Getenv != nil && s.Key != nil
	type entry struct {
		res  *plan.Resource
		key  string
		ref  map[string]any
		desc string
	}
	var entries []entry
	for _, tk := range sortedKeys(desired.Targets) {
		dt := desired.Targets[tk]
		for i := range dt.Resources {
			r := &dt.Resources[i]
			refs, _ := r.Attrs["secrets"].(map[string]any)
			if r.Kind != plan.KindApp || len(refs) == 0 {
				continue
			}
			// Copy what is changed: the attrs may be shared with config.
			attrs := make(map[string]any, len(r.Attrs))
			for k, v := range r.Attrs {
				attrs[k] = v
			}
			secrets := make(map[string]any, len(refs))
			for _, k := range sortedKeys(refs) {
				m, _ := refs[k].(map[string]any)
				cp := map[string]any{}
				for a, v := range m {
					if a != attrFingerprint && a != attrKeyedBy {
						cp[a] = v
					}
				}
				secrets[k] = cp
				entries = append(entries, entry{res: r, key: k, ref: cp, desc: tk + " secret " + k})
			}
			attrs["secrets"] = secrets
			r.Attrs = attrs
		}
	}
	quiet := s.Getenv == nil && s.Key == nil // a plan that never checks rotation
	if s.Key == nil && len(entries) > 0 && !quiet {
		notes = append(notes, "secret rotation was not checked: no fingerprint key (set "+FingerprintKeyEnv+", or apply once to create the state repository's salt)")
	}
	values := make([]string, len(entries))
	if checked {
		var unreadable []string
		for i, e := range entries {
			v, err := ReadSecret(providers.SecretRef{FromEnv: str(e.ref, "fromEnv"), FromFile: str(e.ref, "fromFile")}, s.Getenv, cfg.Dir)
			if err != nil {
				unreadable = append(unreadable, fmt.Sprintf("%s cannot be read (%v)", e.desc, err))
				continue
			}
			values[i] = v
		}
		if len(unreadable) > 0 {
			checked = false
			notes = append(notes, "secret rotation was not checked: "+strings.Join(unreadable, "; "))
		}
	} else if s.Key != nil && len(entries) > 0 && !quiet {
		notes = append(notes, "secret rotation was not checked: secret values were not read")
	}
	if checked {
		for i, e := range entries {
			e.ref[attrFingerprint] = s.Key.Of(values[i])
			e.ref[attrKeyedBy] = s.Key.KeyedBy
		}
	}
	notes = append(notes, comparable(desired, recorded, checked)...)
	return checked, notes
}

// comparable rewrites the recorded secret entries of apps so that only a
// fingerprint made with the same key as the desired one can differ.
func comparable(desired plan.Desired, recorded plan.Recorded, checked bool) []string {
	var notes []string
	for _, tk := range sortedKeys(recorded.Targets) {
		dt := desired.Targets[tk]
		if dt == nil {
			continue
		}
		want := map[string]map[string]any{}
		for _, r := range dt.Resources {
			if r.Kind == plan.KindApp {
				want[r.Address], _ = r.Attrs["secrets"].(map[string]any)
			}
		}
		res := recorded.Targets[tk]
		for i := range res {
			r := &res[i]
			w, ok := want[r.Address]
			had, _ := r.Attrs["secrets"].(map[string]any)
			if !ok || r.Kind != plan.KindApp || len(had) == 0 {
				continue
			}
			attrs := make(map[string]any, len(r.Attrs))
			for k, v := range r.Attrs {
				attrs[k] = v
			}
			secrets := make(map[string]any, len(had))
			var rekeyed, unrecorded []string
			for _, k := range sortedKeys(had) {
				old, _ := had[k].(map[string]any)
				cp := map[string]any{}
				for a, v := range old {
					cp[a] = v
				}
				secrets[k] = cp
				nw, _ := w[k].(map[string]any)
				if nw == nil {
					continue // removed from config: a change of its own
				}
				sameKey := str(old, attrKeyedBy) != "" && str(old, attrKeyedBy) == str(nw, attrKeyedBy)
				if checked && sameKey {
					continue // a different fingerprint is a rotation
				}
				if checked {
					if str(old, attrFingerprint) == "" {
						unrecorded = append(unrecorded, k)
					} else {
						rekeyed = append(rekeyed, k)
					}
				}
				delete(cp, attrFingerprint)
				delete(cp, attrKeyedBy)
				if v, ok := nw[attrFingerprint]; ok {
					cp[attrFingerprint] = v
					cp[attrKeyedBy] = nw[attrKeyedBy]
				}
			}
			attrs["secrets"] = secrets
			r.Attrs = attrs
			if len(rekeyed) > 0 {
				notes = append(notes, fmt.Sprintf("%s: the fingerprint key changed since %s was fingerprinted: not a rotation; the new fingerprints are recorded at the next deploy of %s, and a rotation made meanwhile is not detected until then",
					tk, strings.Join(rekeyed, ", "), r.Address))
			}
			if len(unrecorded) > 0 {
				notes = append(notes, fmt.Sprintf("%s: no fingerprint is recorded for %s: rotation is checked from the next deploy of %s", tk, strings.Join(unrecorded, ", "), r.Address))
			}
		}
	}
	return notes
}

// rotationReasons names rotated secrets in the reason of app updates:
// "secret rotated: KEY", after any other changed field.
func rotationReasons(p *plan.Plan) {
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Kind != plan.KindApp || c.Action != plan.Update {
			continue
		}
		var rotated []string
		var other []plan.FieldDiff
		for _, d := range c.Diff {
			if k, ok := rotatedKey(d); ok {
				rotated = append(rotated, k)
			} else {
				other = append(other, d)
			}
		}
		if len(rotated) == 0 {
			continue
		}
		sort.Strings(rotated)
		reason := "secret rotated: " + strings.Join(rotated, ", ")
		if len(other) > 0 {
			reason = plan.Reason(other) + "; " + reason
		}
		c.Reason = reason
	}
}

// rotatedKey reports the secret key whose fingerprint a diff changes.
func rotatedKey(d plan.FieldDiff) (string, bool) {
	rest, ok := strings.CutPrefix(d.Path, "secrets.")
	if !ok {
		return "", false
	}
	k, ok := strings.CutSuffix(rest, "."+attrFingerprint)
	if !ok || strings.Contains(k, ".") || d.Before == nil || d.After == nil {
		return "", false
	}
	return k, true
}
