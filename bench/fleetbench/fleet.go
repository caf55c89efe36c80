package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Fleet is the shape of a generated config directory: Targets targets, two
// lanes (testing, prod) per product, generic-web, one fake provider.
type Fleet struct {
	Targets int
	// World is the fake provider's file, relative to the config dir.
	World string
}

// Products is how many products hold the targets (two lanes each; an odd
// count leaves the last product with testing only).
func (f Fleet) Products() int { return (f.Targets + 1) / 2 }

// Write writes the fleet into dir: providers.yaml, products/<p>.yaml and
// targets/<p>-<lane>.yaml, one document per file, as a config repository
// of that size would be laid out. The shape matches the OpenTofu
// comparison fleet (terraform_data resources with the same fields).
func (f Fleet) Write(dir string) error {
	world := f.World
	if world == "" {
		world = "../world.json"
	}
	for _, d := range []string{"products", "targets"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	prov := fmt.Sprintf(`apiVersion: launchplane.dev/v1
kind: Provider
metadata: {name: local}
spec:
  type: fake
  fake: {path: %s}
`, world)
	if err := os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(prov), 0o644); err != nil {
		return err
	}
	for i := 0; i < f.Targets; i++ {
		p, lane := product(i), [2]string{"testing", "prod"}[i%2]
		if i%2 == 0 {
			body := fmt.Sprintf(`apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: %s}
spec:
  driver: generic-web
  image: registry.example.org/fleet/%s
  port: 8080
  health: {path: /healthz, timeout: 60s}
  env: {LOG_LEVEL: info, REGION: eu-%d}
`, p, p, (i/2)%3)
			if err := os.WriteFile(filepath.Join(dir, "products", p+".yaml"), []byte(body), 0o644); err != nil {
				return err
			}
		}
		body := fmt.Sprintf(`apiVersion: launchplane.dev/v1
kind: Target
metadata: {name: %s-%s}
spec:
  product: %s
  lane: %s
  image: registry.example.org/fleet/%s@sha256:%s
  deploy: {provider: local}
  ingress: {provider: local, domains: [%s-%s.fleet.example.org]}
`, p, lane, p, lane, p, digest("a", p, lane), p, lane)
		if err := os.WriteFile(filepath.Join(dir, "targets", p+"-"+lane+".yaml"), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func product(i int) string { return fmt.Sprintf("app%05d", i/2) }

func digest(salt, p, lane string) string {
	h := sha256.Sum256([]byte(salt + p + lane))
	return hex.EncodeToString(h[:])
}
