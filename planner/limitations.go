package planner

import (
	"context"
	"fmt"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
)

// Limitations are the notes of providers working in a reduced mode (a
// compose host without a docker engine renders files only, and health is
// then skipped), for the deploy providers of targets the plan changes.
// The probe is local (is an engine answering?); no provider API is called
// and no secret is read.
func Limitations(ctx context.Context, cfg *config.Config, p *plan.Plan) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Changes {
		if c.Kind != plan.KindApp || c.Action == plan.NoOp || c.Action == plan.Delete || seen[c.Provider] {
			continue
		}
		seen[c.Provider] = true
		pr := cfg.Provider(c.Provider)
		if pr == nil {
			continue
		}
		inst, err := providers.Open(pr.Type, providers.Config{Name: pr.Name, Raw: pr.Config, ConfigDir: cfg.Dir})
		if err != nil {
			continue // apply's preflight reports it
		}
		if l, ok := inst.(providers.Limited); ok {
			if why := l.Limitation(ctx); why != "" {
				out = append(out, fmt.Sprintf("provider %s: %s", c.Provider, why))
			}
		}
	}
	return out
}
