package state

import "time"

// Evidence is typed per step and record kind; Fields converts a value to
// the JSON object a record keeps (the wire form), and RecordSchema says
// which fields each kind must have. A record is validated against it
// before it is written, so evidence a step failed to give fails the
// apply instead of leaving a record that proves nothing.
type Evidence interface {
	Fields() map[string]any
}

// KeyNames are the names of env or secret keys given to an app, never
// their values.
type KeyNames struct {
	Keys []string
	// SHA256 is the hex sha256 over the sorted names, one a line; kept
	// for secrets only.
	SHA256 string
}

func (k KeyNames) fields() map[string]any {
	m := map[string]any{"keys": k.Keys, "count": len(k.Keys)}
	if k.SHA256 != "" {
		m["keys_sha256"] = k.SHA256
	}
	return m
}

// DeployEvidence is what an app change deployed (or rolled back to).
type DeployEvidence struct {
	Image   string
	AppID   string // the provider's id of the app, when it gave one
	Env     KeyNames
	Secrets KeyNames
}

// Fields implements Evidence.
func (e DeployEvidence) Fields() map[string]any {
	m := map[string]any{"image": e.Image, "env": e.Env.fields(), "secrets": e.Secrets.fields()}
	if e.AppID != "" {
		m["app_id"] = e.AppID
	}
	return m
}

// AlreadyDeployed is the evidence of an app an interrupted apply
// already deployed: the provider's id of it.
type AlreadyDeployed struct{ AppID string }

// Fields implements Evidence.
func (e AlreadyDeployed) Fields() map[string]any { return map[string]any{"app_id": e.AppID} }

// HealthEvidence is a health check's result, or why it was skipped.
type HealthEvidence struct {
	URL        string
	Skipped    string // why the check did not run (a render-only provider)
	Attempts   int
	LastStatus int
	Latency    time.Duration
	Detail     string
	Body       string // an excerpt of an unhealthy answer, redacted
}

// Fields implements Evidence.
func (e HealthEvidence) Fields() map[string]any {
	if e.Skipped != "" {
		return map[string]any{"url": e.URL, "skipped": e.Skipped}
	}
	m := map[string]any{"url": e.URL, "attempts": e.Attempts, "last_status": e.LastStatus, "latency_ms": e.Latency.Milliseconds(), "detail": e.Detail}
	if e.Body != "" {
		m["body"] = e.Body
	}
	return m
}

// RouteEvidence is the domain a route serves.
type RouteEvidence struct{ Domain string }

// Fields implements Evidence.
func (e RouteEvidence) Fields() map[string]any { return map[string]any{"domain": e.Domain} }

// PromotionEvidence is a promoted target's check: the lane the image
// came from and the record that proved it healthy there.
type PromotionEvidence struct {
	From, Image, Record string
}

// Fields implements Evidence.
func (e PromotionEvidence) Fields() map[string]any {
	return map[string]any{"from": e.From, "image": e.Image, "record": e.Record}
}

// CutOffEvidence is the apply an unlock cut off.
type CutOffEvidence struct {
	Mark InFlight
	Live bool // the mark had not expired when it was cleared
}

// Fields implements Evidence.
func (e CutOffEvidence) Fields() map[string]any {
	f := e.Mark
	return map[string]any{"record": f.Record, "actor": f.Actor, "plan": f.Plan,
		"started": f.Started.UTC().Format(time.RFC3339), "expires": f.Expires.UTC().Format(time.RFC3339), "live": e.Live}
}

// InterruptedEvidence is the evidence of the record of an apply that
// never finished: which apply reconciled it, and the unlock that cut it
// off, when one did.
type InterruptedEvidence struct {
	ReconciledBy string
	Expires      time.Time
	UnlockedBy   string
}

// Fields implements Evidence.
func (e InterruptedEvidence) Fields() map[string]any {
	m := map[string]any{"reconciled_by": e.ReconciledBy, "expires": e.Expires.UTC().Format(time.RFC3339)}
	if e.UnlockedBy != "" {
		m["unlocked_by"] = e.UnlockedBy
	}
	return m
}
