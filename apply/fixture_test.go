package apply

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
)

// fixture is the shared test fixture (internal/testfixture) with the
// events of its runs.
type fixture struct {
	*testfixture.Fixture
	events testfixture.Events[Event]
}

func newFixture(t *testing.T) *fixture {
	return &fixture{Fixture: testfixture.New(t)}
}

func (fx *fixture) plan(cfg *config.Config, only map[string]bool) *plan.Plan {
	fx.T.Helper()
	p, _, err := planner.Plan(cfg, fx.Snap(), only)
	if err != nil {
		fx.T.Fatal(err)
	}
	return p
}

// options are Run's options for cfg and p at the current tip.
func (fx *fixture) options(cfg *config.Config, p *plan.Plan) Options {
	snap := fx.Snap()
	return Options{Config: cfg, Store: fx.Store, Snapshot: snap, Plan: p, Grant: testfixture.GrantAll(fx.T, snap, p), Actor: "tester",
		Now: fx.Now, Getenv: fx.Getenv, Redactor: redact.New(), Events: fx.events.Add}
}

// apply plans cfg and runs the plan; mod edits its options.
func (fx *fixture) apply(cfg *config.Config, mod func(*Options)) (*Result, error) {
	fx.T.Helper()
	o := fx.options(cfg, fx.plan(cfg, nil))
	if mod != nil {
		mod(&o)
	}
	return Run(context.Background(), o)
}

// mustApply is apply that expects every target to succeed.
func (fx *fixture) mustApply(cfg *config.Config, mod func(*Options)) *Result {
	fx.T.Helper()
	res, err := fx.apply(cfg, mod)
	if err != nil {
		fx.T.Fatal(err)
	}
	if len(res.Failed) > 0 {
		fx.T.Fatalf("failed targets %v (records %v)", res.Failed, res.Records)
	}
	return res
}

func (fx *fixture) takeEvents() []Event { return fx.events.Take() }

// repo opens the state repository with go-git, to look at what the
// Store API does not show (history, every object).
func (fx *fixture) repo() *git.Repository {
	fx.T.Helper()
	r, err := git.PlainOpen(fx.StateDir)
	if err != nil {
		fx.T.Fatal(err)
	}
	return r
}

// parent is the first parent of commit.
func (fx *fixture) parent(commit string) string {
	fx.T.Helper()
	c, err := fx.repo().CommitObject(plumbing.NewHash(commit))
	if err != nil {
		fx.T.Fatal(err)
	}
	if len(c.ParentHashes) == 0 {
		return ""
	}
	return c.ParentHashes[0].String()
}

// commitCount is the number of commits reachable from the tip.
func (fx *fixture) commitCount() int {
	fx.T.Helper()
	tip := fx.Tip()
	if tip == "" {
		return 0
	}
	iter, err := fx.repo().Log(&git.LogOptions{From: plumbing.NewHash(tip)})
	if err != nil {
		fx.T.Fatal(err)
	}
	n := 0
	if err := iter.ForEach(func(*object.Commit) error { n++; return nil }); err != nil {
		fx.T.Fatal(err)
	}
	return n
}

// eachObject calls fn with the contents of every object in the state
// repository (reachable or not) and every file of every commit.
func (fx *fixture) eachObject(fn func(what string, data []byte)) {
	fx.T.Helper()
	r := fx.repo()
	iter, err := r.Storer.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		fx.T.Fatal(err)
	}
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		rd, err := o.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		b, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		fn(o.Type().String()+" "+o.Hash().String(), b)
		return nil
	})
	if err != nil {
		fx.T.Fatal(err)
	}
	commits, err := r.CommitObjects()
	if err != nil {
		fx.T.Fatal(err)
	}
	err = commits.ForEach(func(c *object.Commit) error {
		fn("message of "+c.Hash.String(), []byte(c.Message))
		files, err := c.Files()
		if err != nil {
			return err
		}
		return files.ForEach(func(f *object.File) error {
			s, err := f.Contents()
			if err != nil {
				return err
			}
			fn(c.Hash.String()[:12]+":"+f.Name, []byte(f.Name+"\n"+s))
			return nil
		})
	})
	if err != nil {
		fx.T.Fatal(err)
	}
}

func containsAny(b []byte, subs ...string) string {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return s
		}
	}
	return ""
}

// encode is a target state as the codec writes it.
func encode(ts *state.TargetState) []byte {
	b, err := state.EncodeTarget(ts)
	if err != nil {
		panic(err)
	}
	return b
}
