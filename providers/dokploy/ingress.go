package dokploy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/providers"
)

// domain is a row of domain.byApplicationId / domain.byComposeId.
type domain struct {
	DomainID        string  `json:"domainId"`
	Host            string  `json:"host"`
	Path            *string `json:"path"`
	Port            *int    `json:"port"`
	HTTPS           bool    `json:"https"`
	CertificateType string  `json:"certificateType"`
	ServiceName     *string `json:"serviceName"`
}

func (p *Provider) domains(ctx context.Context, id string) ([]domain, error) {
	var ds []domain
	err := p.get(ctx, p.kind.domains, url.Values{p.kind.idKey: {id}}, &ds)
	return ds, err
}

// ListRoutes returns the domains of target's service (found by its object
// name), sorted by domain. Dokploy cannot store an idempotency key on a
// domain, so IdempotencyKey is "".
func (p *Provider) ListRoutes(ctx context.Context, target string) ([]providers.Route, error) {
	rs, err := p.listRoutes(ctx, target)
	return rs, p.wrap("list routes", target, err)
}

func (p *Provider) listRoutes(ctx context.Context, target string) ([]providers.Route, error) {
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	svc, err := p.find(ctx, providers.AppRef{Target: target, Name: providers.ObjectName(target)})
	if err != nil || svc == nil {
		return nil, err
	}
	ds, err := p.domains(ctx, svc.id())
	if err != nil {
		return nil, err
	}
	out := make([]providers.Route, 0, len(ds))
	for _, d := range ds {
		r := providers.Route{Target: target, Domain: d.Host, Upstream: svc.Name}
		if d.Port != nil {
			r.Port = *d.Port
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, nil
}

// EnsureRoute creates or updates the domain r.Domain on the upstream's
// service, with r.Port, HTTPS and the configured certificate. A service
// that does not exist yet is created empty (the deploy fills it). A
// compose service only applies domains when it deploys, so a change of a
// compose service that already ran is followed by a deploy.
func (p *Provider) EnsureRoute(ctx context.Context, r providers.Route) (providers.RouteFacts, error) {
	ev := &providers.RouteFacts{}
	err := p.ensureRoute(ctx, r, ev)
	return *ev, p.wrap("route", r.Target, err)
}

func (p *Provider) ensureRoute(ctx context.Context, r providers.Route, ev *providers.RouteFacts) error {
	if err := p.ready(ctx); err != nil {
		return err
	}
	if r.Port <= 0 {
		return fmt.Errorf("route %s has no port", r.Domain)
	}
	name := r.Upstream
	if name == "" {
		name = providers.ObjectName(r.Target)
	}
	svc, err := p.find(ctx, providers.AppRef{Target: r.Target, Name: name})
	if err != nil {
		return err
	}
	if svc == nil {
		if svc, err = p.create(ctx, name, r.Target); err != nil {
			return err
		}
	}
	ev.ServiceID = svc.id()
	if err := p.adoptable(svc); err != nil && svc.SourceType != "raw" {
		return err // its redeploy could not be followed
	}
	ds, err := p.domains(ctx, svc.id())
	if err != nil {
		return err
	}
	var have *domain
	for i := range ds {
		if strings.EqualFold(ds[i].Host, r.Domain) {
			have = &ds[i]
			break
		}
	}
	body := map[string]any{"host": r.Domain, "path": "/", "port": r.Port, "https": p.https,
		"certificateType": p.cert, "domainType": p.kind.name}
	if p.kind.name == "compose" {
		body["serviceName"] = p.c.ComposeService
	}
	switch {
	case have != nil && p.sameDomain(*have, r):
		ev.DomainID, ev.Changed = have.DomainID, providers.Bool(false)
		return nil
	case have != nil:
		body["domainId"] = have.DomainID
		ev.DomainID = have.DomainID
		err = p.post(ctx, "domain.update", body, nil)
	default:
		body[p.kind.idKey] = svc.id()
		var d domain
		err = p.post(ctx, "domain.create", body, &d)
		ev.DomainID = d.DomainID
	}
	if err != nil {
		return err
	}
	ev.Changed = providers.Bool(true)
	return p.applyDomains(ctx, svc, "route "+r.Domain, ev)
}

func (p *Provider) sameDomain(d domain, r providers.Route) bool {
	same := d.Port != nil && *d.Port == r.Port && d.HTTPS == p.https && d.CertificateType == p.cert &&
		(d.Path == nil || *d.Path == "/" || *d.Path == "")
	if p.kind.name == "compose" {
		same = same && deref(d.ServiceName) == p.c.ComposeService
	}
	return same
}

// applyDomains deploys a compose service whose domains changed, if it was
// ever deployed: compose domains take effect on the next deploy only.
// Applications apply domains at once. The redeploy runs what the last
// deploy did, so it keeps that deploy's idempotency key.
func (p *Provider) applyDomains(ctx context.Context, svc *service, why string, ev *providers.RouteFacts) error {
	if p.kind.name != "compose" {
		return nil
	}
	rows, err := p.deployments(ctx, svc.id())
	if err != nil {
		return err
	}
	var last *deployment
	for i := range rows { // newest first
		if deref(rows[i].Status) == "done" {
			last = &rows[i]
			break
		}
	}
	if last == nil {
		return nil // the first deploy applies them
	}
	description := deref(last.Description)
	if !strings.HasPrefix(description, descriptionPrefix) {
		description = "launchplane: domains changed"
	}
	title := fmt.Sprintf("launchplane %s %s", why, nonce())
	row, err := p.run(ctx, svc.id(), title, description)
	ev.Redeployed = true
	if row != nil {
		ev.DeploymentID = row.DeploymentID
	}
	return err
}

// DeleteRoute removes the domain from target's service; a missing
// service or domain is not an error.
func (p *Provider) DeleteRoute(ctx context.Context, target, host string) error {
	return p.wrap("delete route", target, p.deleteRoute(ctx, target, host))
}

func (p *Provider) deleteRoute(ctx context.Context, target, host string) error {
	if err := p.ready(ctx); err != nil {
		return err
	}
	svc, err := p.find(ctx, providers.AppRef{Target: target, Name: providers.ObjectName(target)})
	if err != nil || svc == nil {
		return err
	}
	ds, err := p.domains(ctx, svc.id())
	if err != nil {
		return err
	}
	removed := false
	for _, d := range ds {
		if !strings.EqualFold(d.Host, host) {
			continue
		}
		err := p.post(ctx, "domain.delete", map[string]any{"domainId": d.DomainID}, nil)
		if err != nil && !errors.Is(err, providers.ErrNotFound) {
			return err
		}
		removed = true
	}
	if !removed {
		return nil
	}
	return p.applyDomains(ctx, svc, "unroute "+host, &providers.RouteFacts{})
}
