package planner

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/state"
)

// Preview is a pull request's preview of a product (SPEC §3).
type Preview struct {
	Key     string // <product>/preview/pr-<N>
	Product string
	PR      int
	Slug    string
	Host    string
	From    string // lane whose target supplies providers and env
	TTL     time.Duration
}

var digestRef = regexp.MustCompile(`^(.+)@sha256:[0-9a-f]{64}$`)

// PreviewOf derives a product's preview of pr from its preview policy.
func PreviewOf(cfg *config.Config, product string, pr int) (*Preview, error) {
	p := cfg.Product(product)
	if p == nil {
		return nil, fmt.Errorf("no product %s in the config", product)
	}
	if pr <= 0 {
		return nil, fmt.Errorf("--pr %d: want a pull request number", pr)
	}
	pol := p.Spec.Preview
	if pol == nil || !pol.Enabled {
		return nil, fmt.Errorf("product %s has no preview policy (spec.preview.enabled)", product)
	}
	n := strconv.Itoa(pr)
	slugTmpl, from := pol.Slug, pol.From
	if slugTmpl == "" {
		slugTmpl = "pr-{number}"
	}
	if from == "" {
		from = "testing" // as validate assumes
	}
	slug := strings.NewReplacer("{number}", n, "{product}", product).Replace(slugTmpl)
	host := strings.NewReplacer("{slug}", slug, "{number}", n, "{product}", product).Replace(pol.Host)
	pv := &Preview{Key: state.PreviewKey(product, pr), Product: product, PR: pr, Slug: slug, Host: host, From: from}
	if pol.TTL != nil {
		pv.TTL = pol.TTL.Duration
	}
	return pv, nil
}

// WithPreview returns a copy of cfg with the preview's target added: the
// target of its from lane, on image, at the preview host, without gates
// or promotion. The driver then expands it like any target.
func WithPreview(cfg *config.Config, pv *Preview, image string) (*config.Config, error) {
	p := cfg.Product(pv.Product)
	m := digestRef.FindStringSubmatch(image)
	if m == nil {
		return nil, fmt.Errorf("--image %q: want a digest-pinned image %s@sha256:<64 hex>", image, p.Spec.Image)
	}
	if m[1] != p.Spec.Image {
		return nil, fmt.Errorf("--image %q: repository %s is not product %s's image %s", image, m[1], pv.Product, p.Spec.Image)
	}
	from := cfg.Target(pv.Product, pv.From)
	if from == nil {
		return nil, fmt.Errorf("product %s previews from lane %s, which has no target", pv.Product, pv.From)
	}
	t := *from
	t.Name = fmt.Sprintf("%s-pr-%d", pv.Product, pv.PR)
	t.Spec.Lane = strings.TrimPrefix(pv.Key, pv.Product+"/")
	t.Spec.Image = image
	t.Spec.Health = nil
	t.Spec.Promote = nil
	t.Spec.Gates = nil
	t.Spec.Source = nil
	if from.Spec.Ingress != nil {
		t.Spec.Ingress = &config.Ingress{Provider: from.Spec.Ingress.Provider, Domains: []string{pv.Host}}
	}
	out := *cfg
	out.Targets = append(append([]*config.Target(nil), cfg.Targets...), &t)
	sort.Slice(out.Targets, func(i, j int) bool { return out.Targets[i].Key() < out.Targets[j].Key() })
	return &out, nil
}

// RecordedPreviews lists the previews in the state repository, by key.
func RecordedPreviews(snap state.Snapshot) (map[string]*state.TargetState, error) {
	out := map[string]*state.TargetState{}
	products, err := snap.ListDir("previews")
	if err != nil {
		return nil, err
	}
	for _, pdir := range products {
		product, ok := strings.CutSuffix(pdir, "/")
		if !ok {
			continue
		}
		files, err := snap.ListDir("previews/" + product)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			pr, ok := strings.CutSuffix(f, ".json")
			if !ok || !strings.HasPrefix(pr, "pr-") {
				continue
			}
			key := product + "/preview/" + pr
			ts, err := state.ReadTarget(snap, key)
			if err != nil {
				return nil, err
			}
			if ts != nil {
				out[key] = ts
			}
		}
	}
	return out, nil
}

// PRNumber is N of a preview key <product>/preview/pr-<N>; 0 otherwise.
func PRNumber(key string) int {
	_, pr, ok := strings.Cut(key, "/preview/pr-")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(pr)
	return n
}
