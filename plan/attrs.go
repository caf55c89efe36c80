package plan

import (
	"fmt"
	"maps"
	"slices"
)

// Route is the attributes of a route resource: a domain routed to an
// upstream's port. Convert with RouteOf and Attrs, like App.
type Route struct {
	Domain   string
	Upstream string
	Port     int
}

// RouteOf decodes a route's attrs; a wrong type or an unknown attribute
// is an error naming it.
func RouteOf(attrs map[string]any) (Route, error) {
	var r Route
	var err error
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		switch k {
		case "domain":
			r.Domain, err = stringAt("attrs.domain", attrs[k])
		case "upstream":
			r.Upstream, err = stringAt("attrs.upstream", attrs[k])
		case "port":
			r.Port, err = intAt("attrs.port", attrs[k])
		default:
			err = fmt.Errorf("attrs.%s: not an attribute of a route", k)
		}
		if err != nil {
			return Route{}, err
		}
	}
	return r, nil
}

// Attrs is the route's JSON-like form.
func (r Route) Attrs() map[string]any {
	return map[string]any{"domain": r.Domain, "upstream": r.Upstream, "port": r.Port}
}

// Health is the attributes of a health step: the URL polled and for how
// long (a Go duration, "60s").
type Health struct {
	URL     string
	Timeout string
}

// HealthOf decodes a health step's attrs, like RouteOf.
func HealthOf(attrs map[string]any) (Health, error) {
	var h Health
	var err error
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		switch k {
		case "url":
			h.URL, err = stringAt("attrs.url", attrs[k])
		case "timeout":
			h.Timeout, err = stringAt("attrs.timeout", attrs[k])
		default:
			err = fmt.Errorf("attrs.%s: not an attribute of a health check", k)
		}
		if err != nil {
			return Health{}, err
		}
	}
	return h, nil
}

// Attrs is the health step's JSON-like form.
func (h Health) Attrs() map[string]any {
	return map[string]any{"url": h.URL, "timeout": h.Timeout}
}
