package planner

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/secrets"
)

// Secrets says how a plan treats secret values.
type Secrets struct {
	// Getenv reads fromEnv references; nil: secrets are not read, and
	// rotation is not checked.
	Getenv func(string) string
	// Key keys the fingerprints; nil: rotation is not checked.
	Key *secrets.FingerprintKey
}

// fingerprint adds to each desired app's secret entries the fingerprint
// of its value, when every secret is readable and a key is known, and
// makes the recorded entries comparable: a fingerprint made with another
// key, or none recorded, is never a rotation. It returns whether rotation
// was checked, and notes for the plan.
func fingerprint(cfg *config.Config, desired plan.Desired, recorded plan.Recorded, s Secrets) (bool, []string) {
	var notes []string
	checked := s.Getenv != nil && s.Key != nil
	type entry struct {
		app  *plan.App
		key  string
		desc string
	}
	var entries []entry
	type appOf struct {
		res *plan.Resource
		app *plan.App
	}
	var apps []appOf
	for _, tk := range slices.Sorted(maps.Keys(desired.Targets)) {
		dt := desired.Targets[tk]
		for i := range dt.Resources {
			r := &dt.Resources[i]
			if r.Kind != plan.KindApp {
				continue
			}
			if !mayHaveSecrets(r.Attrs) {
				continue // as AppOf would find none
			}
			// desired attrs are built from a plan.App by the driver
			app, err := plan.AppOf(r.Attrs)
			if err != nil || len(app.Secrets) == 0 {
				continue
			}
			// A copy is changed: the attrs may be shared with config.
			refs := make(map[string]plan.SecretRef, len(app.Secrets))
			for _, k := range slices.Sorted(maps.Keys(app.Secrets)) {
				refs[k] = app.Secrets[k].Ref()
				entries = append(entries, entry{app: &app, key: k, desc: tk + " secret " + k})
			}
			app.Secrets = refs
			apps = append(apps, appOf{res: r, app: &app})
		}
	}
	quiet := s.Getenv == nil && s.Key == nil // a plan that never checks rotation
	if s.Key == nil && len(entries) > 0 && !quiet {
		notes = append(notes, "secret rotation was not checked: no fingerprint key (set "+secrets.FingerprintKeyEnv+", or apply once to create the state repository's salt)")
	}
	values := make([]string, len(entries))
	if checked {
		var unreadable []string
		for i, e := range entries {
			ref := e.app.Secrets[e.key]
			v, err := secrets.Read(providers.SecretRef{FromEnv: ref.FromEnv, FromFile: ref.FromFile}, s.Getenv, cfg.Dir)
			if err != nil {
				unreadable = append(unreadable, fmt.Sprintf("%s cannot be read (%v)", e.desc, err))
				continue
			}
			values[i] = v
		}
		if len(unreadable) > 0 {
			checked = false
			notes = append(notes, "secret rotation was not checked: "+strings.Join(unreadable, "; "))
		}
	} else if s.Key != nil && len(entries) > 0 && !quiet {
		notes = append(notes, "secret rotation was not checked: secret values were not read")
	}
	if checked {
		for i, e := range entries {
			ref := e.app.Secrets[e.key]
			ref.Fingerprint, ref.KeyedBy = s.Key.Of(values[i]), s.Key.KeyedBy
			e.app.Secrets[e.key] = ref
		}
	}
	for _, a := range apps {
		a.res.Attrs = a.app.Attrs()
	}
	notes = append(notes, comparable(desired, recorded, checked)...)
	return checked, notes
}

// comparable rewrites the recorded secret entries of apps so that only a
// fingerprint made with the same key as the desired one can differ.
func comparable(desired plan.Desired, recorded plan.Recorded, checked bool) []string {
	var notes []string
	for _, tk := range slices.Sorted(maps.Keys(recorded.Targets)) {
		dt := desired.Targets[tk]
		if dt == nil {
			continue
		}
		var want map[string]map[string]plan.SecretRef // made when needed
		res := recorded.Targets[tk]
		for i := range res {
			r := &res[i]
			if r.Kind != plan.KindApp || !mayHaveSecrets(r.Attrs) {
				continue // as AppOf would find no secrets
			}
			if want == nil {
				want = wantedSecrets(dt)
			}
			w, ok := want[r.Address]
			if !ok {
				continue
			}
			app, err := plan.AppOf(r.Attrs)
			if err != nil || len(app.Secrets) == 0 {
				// a recorded app that does not decode is compared as it
				// is: the diff shows what the config asks for instead
				continue
			}
			had := app.Secrets
			app.Secrets = make(map[string]plan.SecretRef, len(had))
			var rekeyed, unrecorded []string
			for _, k := range slices.Sorted(maps.Keys(had)) {
				old := had[k]
				app.Secrets[k] = old
				nw, ok := w[k]
				if !ok {
					continue // removed from config: a change of its own
				}
				sameKey := old.KeyedBy != "" && old.KeyedBy == nw.KeyedBy
				if checked && sameKey {
					continue // a different fingerprint is a rotation
				}
				if checked {
					if old.Fingerprint == "" {
						unrecorded = append(unrecorded, k)
					} else {
						rekeyed = append(rekeyed, k)
					}
				}
				cp := old
				cp.Fingerprint, cp.KeyedBy = "", ""
				if nw.Fingerprint != "" {
					cp.Fingerprint, cp.KeyedBy = nw.Fingerprint, nw.KeyedBy
				}
				app.Secrets[k] = cp
			}
			r.Attrs = app.Attrs()
			if len(rekeyed) > 0 {
				notes = append(notes, fmt.Sprintf("%s: the fingerprint key changed since %s was fingerprinted: not a rotation; the new fingerprints are recorded at the next deploy of %s, and a rotation made meanwhile is not detected until then",
					tk, strings.Join(rekeyed, ", "), r.Address))
			}
			if len(unrecorded) > 0 {
				notes = append(notes, fmt.Sprintf("%s: no fingerprint is recorded for %s: rotation is checked from the next deploy of %s", tk, strings.Join(unrecorded, ", "), r.Address))
			}
		}
	}
	return notes
}

// wantedSecrets are the secret entries of dt's apps, by address.
func wantedSecrets(dt *plan.DesiredTarget) map[string]map[string]plan.SecretRef {
	want := map[string]map[string]plan.SecretRef{}
	for _, r := range dt.Resources {
		if r.Kind == plan.KindApp {
			if app, err := plan.AppOf(r.Attrs); err == nil {
				want[r.Address] = app.Secrets
			}
		}
	}
	return want
}

// mayHaveSecrets is false when app attrs have no secret entry for AppOf
// to decode: no "secrets", or an empty object. Anything else, even a
// malformed value, is left for AppOf to judge.
func mayHaveSecrets(attrs map[string]any) bool {
	v, ok := attrs["secrets"]
	if !ok {
		return false
	}
	m, ok := v.(map[string]any)
	return !ok || len(m) > 0
}

// rotationReasons names rotated secrets in the reason of app updates:
// "secret rotated: KEY", after any other changed field.
func rotationReasons(p *plan.Plan) {
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Kind != plan.KindApp || c.Action != plan.Update {
			continue
		}
		var rotated []string
		var other []plan.FieldDiff
		for _, d := range c.Diff {
			if k, ok := rotatedKey(d); ok {
				rotated = append(rotated, k)
			} else {
				other = append(other, d)
			}
		}
		if len(rotated) == 0 {
			continue
		}
		sort.Strings(rotated)
		reason := "secret rotated: " + strings.Join(rotated, ", ")
		if len(other) > 0 {
			reason = plan.Reason(other) + "; " + reason
		}
		c.Reason = reason
	}
}

// rotatedKey reports the secret key whose fingerprint a diff changes.
func rotatedKey(d plan.FieldDiff) (string, bool) {
	rest, ok := strings.CutPrefix(d.Path, "secrets.")
	if !ok {
		return "", false
	}
	k, ok := strings.CutSuffix(rest, ".fingerprint")
	if !ok || strings.Contains(k, ".") || d.Before == nil || d.After == nil {
		return "", false
	}
	return k, true
}
