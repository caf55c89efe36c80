package caddy

import (
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
)

// idPrefix starts the @id of every route Launchplane manages.
const idPrefix = "launchplane-"

// routeID is the @id of route n of the target whose object name is obj.
func routeID(obj string, n int) string {
	return idPrefix + obj + "-" + strconv.Itoa(n)
}

// parseID splits an @id made by routeID. The number is everything after
// the last '-', written canonically, so the object name is unambiguous:
// "launchplane-shop-prod-testing-1" is route 1 of shop-prod-testing, never
// a route of shop-prod.
func parseID(id string) (obj string, n int, ok bool) {
	rest, ok := strings.CutPrefix(id, idPrefix)
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 1 || strconv.Itoa(n) != rest[i+1:] {
		return "", 0, false
	}
	return rest[:i], n, true
}

// route is the JSON of a route Launchplane writes.
type route struct {
	ID       string                `json:"@id"`
	Match    []map[string][]string `json:"match"`
	Handle   []handler             `json:"handle"`
	Terminal bool                  `json:"terminal"`
}

type handler struct {
	Handler   string     `json:"handler"`
	Upstreams []upstream `json:"upstreams"`
}

type upstream struct {
	Dial string `json:"dial"`
}

func newRoute(id, domain, dial string) route {
	return route{
		ID:       id,
		Match:    []map[string][]string{{"host": {domain}}},
		Handle:   []handler{{Handler: "reverse_proxy", Upstreams: []upstream{{Dial: dial}}}},
		Terminal: true,
	}
}

// existing is a route read from Caddy, any route: only the fields
// Launchplane looks at are decoded, and Raw keeps the rest.
type existing struct {
	Index int
	Raw   json.RawMessage
	ID    string
	Hosts []string // every host of every matcher set
	// CatchAll is a route without matchers: it answers every request
	// that reaches it.
	CatchAll bool
	Dial     string // first upstream of the first reverse_proxy handler
}

func parseRoutes(raws []json.RawMessage) ([]existing, error) {
	out := make([]existing, 0, len(raws))
	for i, raw := range raws {
		var v struct {
			ID     string                       `json:"@id"`
			Match  []map[string]json.RawMessage `json:"match"`
			Handle []json.RawMessage            `json:"handle"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("route %d: %w", i, err)
		}
		e := existing{Index: i, Raw: raw, ID: v.ID, CatchAll: len(v.Match) == 0}
		for _, set := range v.Match {
			if len(set) == 0 {
				e.CatchAll = true // an empty matcher set matches everything
			}
			if h, ok := set["host"]; ok {
				var hosts []string
				if err := json.Unmarshal(h, &hosts); err != nil {
					return nil, fmt.Errorf("route %d: host matcher: %w", i, err)
				}
				e.Hosts = append(e.Hosts, hosts...)
			}
		}
		for _, h := range v.Handle {
			var rp handler
			if json.Unmarshal(h, &rp) == nil && rp.Handler == "reverse_proxy" && len(rp.Upstreams) > 0 {
				e.Dial = rp.Upstreams[0].Dial
				break
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// routes returns whether e matches domain by its host matcher.
func (e existing) routes(domain string) bool {
	for _, h := range e.Hosts {
		if strings.EqualFold(h, domain) {
			return true
		}
	}
	return false
}

// owner is the object name of the target e belongs to, "" when e is not
// Launchplane's.
func (e existing) owner() string {
	obj, _, ok := parseID(e.ID)
	if !ok {
		return ""
	}
	return obj
}

// same reports whether e already is r, so writing r changes nothing.
func (e existing) same(r route) bool {
	want, err := json.Marshal(r)
	if err != nil {
		return false
	}
	var a, b any
	if json.Unmarshal(e.Raw, &a) != nil || json.Unmarshal(want, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// splitDial splits host:port; a dial that is not one gives port 0.
func splitDial(dial string) (string, int) {
	host, p, err := net.SplitHostPort(dial)
	if err != nil {
		return dial, 0
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return dial, 0
	}
	return host, port
}
