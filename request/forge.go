package request

import (
	"encoding/json"
	"fmt"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

// Forge is the provider type requests travel through: it sends the
// repository_dispatch, opens the publish's pull request in the config
// repository and reports on the tenant's pull request. Requests carry
// GitHub Actions OIDC tokens, so it is github, opened through the
// registry (providers/all) like every provider.
const Forge = "github"

// Repo is one repository at the forge and the environment variable
// whose token acts on it.
type Repo struct {
	Type       string // provider type; "" is Forge
	Repository string // owner/name
	APIURL     string // REST API base; "" is the provider's default
	TokenEnv   string // the environment variable holding the token
	Getenv     func(string) string
	// Redactor gets the token when the provider is opened, before
	// anything is sent; the provider redacts its errors with it.
	Redactor *redact.Redactor
}

// Feedback opens the forge's provider on r as the Feedback role.
func (r Repo) Feedback() (providers.Feedback, error) {
	return openAs[providers.Feedback](r, "Feedback", "comment on pull requests")
}

// Proposer opens the forge's provider on r as the optional Proposer role.
func (r Repo) Proposer() (providers.Proposer, error) {
	return openAs[providers.Proposer](r, "Proposer", "open a pull request")
}

// Dispatcher opens the forge's provider on r as the optional Dispatcher
// role.
func (r Repo) Dispatcher() (providers.Dispatcher, error) {
	return openAs[providers.Dispatcher](r, "Dispatcher", "send a request")
}

// openAs opens r's provider through the registry with the settings of
// its spec.<type> block and finds role T on it; a provider without it is
// an error naming the provider and the capability.
func openAs[T any](r Repo, role, capability string) (T, error) {
	var none T
	typ := r.Type
	if typ == "" {
		typ = Forge
	}
	red := r.Redactor
	if red == nil {
		red = redact.New()
	}
	resolve := func(ref providers.SecretRef) (string, error) {
		if ref.FromEnv == "" {
			return "", fmt.Errorf("provider %s: a request's token is read from the environment, not from %s", typ, ref)
		}
		v := r.Getenv(ref.FromEnv)
		red.Add(v)
		return v, nil
	}
	if _, err := resolve(providers.SecretRef{FromEnv: r.TokenEnv}); err != nil {
		return none, err
	}
	settings := map[string]any{"repository": r.Repository, "token": providers.SecretRef{FromEnv: r.TokenEnv}}
	if r.APIURL != "" {
		settings["apiUrl"] = r.APIURL
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return none, err
	}
	p, err := providers.Open(typ, providers.Config{Name: typ, Raw: raw, Resolve: resolve, Redactor: red})
	if err != nil {
		return none, red.Error(err)
	}
	as, ok := p.(T)
	if !ok {
		return none, fmt.Errorf("provider %s cannot %s: it has no %s role", typ, capability, role)
	}
	return as, nil
}
