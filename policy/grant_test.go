package policy

import (
	"errors"
	"testing"

	_ "github.com/launchplane/launchplane/drivers/all"   // the schemas name the drivers
	_ "github.com/launchplane/launchplane/providers/all" // and the providers
	"github.com/launchplane/launchplane/state"
)

// files is a state repository snapshot's files, as Load reads them.
type files map[string]string

func (f files) ReadFile(path string) ([]byte, error) {
	if b, ok := f[path]; ok {
		return []byte(b), nil
	}
	return nil, state.ErrNotFound
}

const testPolicy = `apiVersion: launchplane.dev/v1
kind: Policy
metadata: {name: default}
spec:
  rules:
    - match: {repository: acme/platform, ref: refs/heads/main, event: push}
      allow: {products: [shop], lanes: [testing], actions: [apply, backup]}
`

func load(t *testing.T, src Source) *Loaded {
	t.Helper()
	l, ds, err := Load(src)
	if err != nil || ds.HasErrors() {
		t.Fatalf("load: %v %v", err, ds)
	}
	return l
}

// A grant covers exactly the action and targets the policy allowed, and
// only on the policy it was decided with.
func TestGrantCoversOnlyWhatWasAllowed(t *testing.T) {
	src := files{File: testPolicy}
	l := load(t, src)
	if !l.Present() || l.Blob() != BlobID([]byte(testPolicy)) {
		t.Fatalf("loaded %v %q", l.Present(), l.Blob())
	}
	id := mainPush
	g, ds, err := l.Authorize(&id, Ask{Action: ActionApply, Targets: []string{"shop/testing"}})
	if err != nil || len(ds) != 1 || !ds[0].Allowed {
		t.Fatalf("authorize: %v %+v", err, ds)
	}
	if err := g.Require(src, ActionApply, []string{"shop/testing"}); err != nil {
		t.Fatalf("the grant does not cover what it granted: %v", err)
	}
	for _, tc := range []struct {
		name    string
		action  string
		targets []string
		src     Source
	}{
		{"another target", ActionApply, []string{"shop/prod"}, src},
		{"one target more", ActionApply, []string{"shop/testing", "shop/prod"}, src},
		{"destroy is not apply", ActionDestroy, []string{"shop/testing"}, src},
		{"backup is not apply", ActionBackup, []string{"shop/testing"}, src},
		{"the policy was removed", ActionApply, []string{"shop/testing"}, files{}},
		{"the policy changed", ActionApply, []string{"shop/testing"}, files{File: testPolicy + "\n"}},
	} {
		if err := g.Require(tc.src, tc.action, tc.targets); !errors.Is(err, ErrNotAuthorized) {
			t.Errorf("%s: %v, want ErrNotAuthorized", tc.name, err)
		}
	}
	var none *Grant
	if err := none.Require(src, ActionApply, nil); !errors.Is(err, ErrNotAuthorized) {
		t.Errorf("nil grant: %v", err)
	}
	if err := (&Grant{}).Require(src, ActionApply, nil); !errors.Is(err, ErrNotAuthorized) {
		t.Errorf("zero grant: %v", err)
	}
}

// A denial makes no grant; the decisions stop at the first denied target.
func TestAuthorizeDeniesWithoutGrant(t *testing.T) {
	l := load(t, files{File: testPolicy})
	id := mainPush
	g, ds, err := l.Authorize(&id, Ask{Action: ActionApply, Targets: []string{"shop/testing", "shop/prod", "blog/testing"}})
	if g != nil || !errors.Is(err, ErrDenied) {
		t.Fatalf("grant %v err %v", g, err)
	}
	if len(ds) != 2 || !ds[0].Allowed || ds[1].Allowed || ds[1].Target != "shop/prod" {
		t.Fatalf("decisions %+v", ds)
	}
	// with a policy, an unknown caller is denied
	if g, _, err := l.Authorize(nil, Ask{Action: ActionApply, Targets: []string{"shop/testing"}}); g != nil || !errors.Is(err, ErrDenied) {
		t.Fatalf("no identity: grant %v err %v", g, err)
	}
	// a preview key is asked as lane preview
	if g, _, err := l.Authorize(&id, Ask{Action: ActionApply, Targets: []string{"shop/preview/pr-7"}}); g != nil || !errors.Is(err, ErrDenied) {
		t.Fatalf("preview key: grant %v err %v", g, err)
	}
}

// Without a policy everything is allowed but destroy, which needs the
// caller's explicit consent (apply --allow-destroy).
func TestNoPolicyDestroyNeedsConsent(t *testing.T) {
	l := load(t, files{})
	if l.Present() || l.Blob() != "" {
		t.Fatal("an absent policy loaded as present")
	}
	keys := []string{"shop/prod"}
	_, _, err := l.Authorize(nil, Ask{Action: ActionDestroy, Targets: keys})
	var nd *NoPolicyDestroyError
	if !errors.As(err, &nd) || !errors.Is(err, ErrDenied) {
		t.Fatalf("destroy without consent: %v", err)
	}
	g, _, err := l.Authorize(nil, Ask{Action: ActionDestroy, Targets: keys, DestroyWithoutPolicy: true})
	if err != nil || g.Require(files{}, ActionDestroy, keys) != nil {
		t.Fatalf("destroy with consent: %v", err)
	}
	a, _, _ := l.Authorize(nil, Ask{Action: ActionApply, Targets: []string{"shop/testing"}})
	j := a.Join(g)
	if j.Require(files{}, ActionApply, []string{"shop/testing"}) != nil || j.Require(files{}, ActionDestroy, keys) != nil {
		t.Fatal("the joined grant lost a part")
	}
	if j.Require(files{}, ActionDestroy, []string{"shop/testing"}) == nil {
		t.Fatal("the joined grant mixes actions and targets")
	}
	withPolicy := load(t, files{File: testPolicy})
	id := mainPush
	b, _, _ := withPolicy.Authorize(&id, Ask{Action: ActionApply, Targets: []string{"shop/testing"}})
	if a.Join(b) != nil {
		t.Fatal("grants of two policies joined")
	}
}

// An invalid policy is an error, never no policy.
func TestLoadInvalidPolicy(t *testing.T) {
	l, _, err := Load(files{File: "kind: Policy\nspec: {rules: 7}\n"})
	if l != nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("loaded %v err %v", l, err)
	}
}
