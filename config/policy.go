package config

// Policy is the state repository's policy.yaml (SPEC §2): who may apply
// what. Once a policy exists everything it does not allow is denied.
type Policy struct {
	Name   string
	Source Source
	Spec   PolicySpec
}

// PolicySpec is a Policy's spec.
type PolicySpec struct {
	// AllowLocal accepts identities from outside GitHub Actions, which
	// nothing verifies; they still need a rule that matches them.
	AllowLocal bool         `json:"allowLocal"`
	OIDC       *PolicyOIDC  `json:"oidc,omitempty"`
	Rules      []PolicyRule `json:"rules"`
}

// PolicyOIDC is spec.oidc: the issuer and audience whose tokens the
// policy trusts. Empty fields take the defaults (GitHub Actions' issuer,
// audience launchplane).
type PolicyOIDC struct {
	Issuer   string `json:"issuer,omitempty"`
	Audience string `json:"audience,omitempty"`
}

// PolicyRule allows what Allow lists to callers that Match describes.
type PolicyRule struct {
	Match PolicyMatch `json:"match"`
	Allow PolicyAllow `json:"allow"`
}

// PolicyMatch describes callers. A nil field is not named and matches
// anything; a named field must equal the caller's value, and a named but
// empty field matches nothing. There are no wildcards: "*" is literal.
type PolicyMatch struct {
	Repository  *string `json:"repository,omitempty"`
	Ref         *string `json:"ref,omitempty"`
	Event       *string `json:"event,omitempty"`
	Environment *string `json:"environment,omitempty"`
	Workflow    *string `json:"workflow,omitempty"`
	Actor       *string `json:"actor,omitempty"`
}

// PolicyAllow lists what a rule allows. An empty list allows nothing;
// "*" in a list allows every value.
type PolicyAllow struct {
	Products []string `json:"products"`
	Lanes    []string `json:"lanes"`
	Actions  []string `json:"actions"`
}
