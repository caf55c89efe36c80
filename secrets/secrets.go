// Package secrets reads secret references and keys the fingerprints of
// their values. It is a leaf below both the planner (which fingerprints
// secrets to see rotation) and apply (which resolves them at run time).
package secrets

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

// FingerprintKeyEnv names the environment variable holding the key of
// secret fingerprints (SPEC §9).
const FingerprintKeyEnv = "LAUNCHPLANE_FINGERPRINT_KEY"

// SaltFile is the state repository file holding the per-repository salt
// that keys fingerprints when no LAUNCHPLANE_FINGERPRINT_KEY is given.
const SaltFile = "fingerprint-salt"

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

// Read reads a secret reference as apply does: an environment
// variable, or a file relative to the config dir, trailing newlines cut.
func Read(ref providers.SecretRef, getenv func(string) string, dir string) (string, error) {
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

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
