package operation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/launchplane/launchplane/drivers/all"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	_ "github.com/launchplane/launchplane/providers/all"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// withPolicy is a snapshot of the state repository holding policy.yaml
// (the store refuses to write one: it is the operators').
type withPolicy struct {
	state.Snapshot
	policy string
}

func (s withPolicy) ReadFile(path string) ([]byte, error) {
	if path == policy.File {
		return []byte(s.policy), nil
	}
	return s.Snapshot.ReadFile(path)
}

// onlyBlogPolicy allows a local caller nothing on shop.
const onlyBlogPolicy = `apiVersion: launchplane.dev/v1
kind: Policy
metadata: {name: default}
spec:
  allowLocal: true
  rules:
    - match: {repository: acme/blog, local: true}
      allow: {products: [blog], lanes: ["*"], actions: ["*"]}
`

type harness struct {
	t      *testing.T
	store  *gitstore.Store
	stderr bytes.Buffer
	env    map[string]string
}

func newHarness(t *testing.T) *harness {
	st, err := gitstore.Open(context.Background(), filepath.Join(t.TempDir(), "state"), gitstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &harness{t: t, store: st, env: map[string]string{"USER": "alice", "LAUNCHPLANE_HOSTNAME": "laptop"}}
}

func (h *harness) snap() state.Snapshot {
	s, err := h.store.Snapshot(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// runner is a runner on the tip, with pol as its policy ("" none).
func (h *harness) runner(pol string) *Runner {
	var snap state.Snapshot = h.snap()
	if pol != "" {
		snap = withPolicy{Snapshot: snap, policy: pol}
	}
	return &Runner{Store: h.store, Snapshot: snap, ConfigDir: h.t.TempDir(), Getenv: func(k string) string { return h.env[k] },
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }, Actor: "env-actor", Stderr: &h.stderr}
}

// records are the records of key in the state repository, by kind.
func (h *harness) records(key string) map[string][]state.Record {
	snap := h.snap()
	names, err := snap.ListDir(state.RecordsDir(key))
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string][]state.Record{}
	for _, n := range names {
		b, err := snap.ReadFile(state.RecordsDir(key) + n)
		if err != nil {
			h.t.Fatal(err)
		}
		r, err := state.DecodeRecord(state.RecordsDir(key)+n, b)
		if err != nil {
			h.t.Fatal(err)
		}
		out[string(r.Kind)] = append(out[string(r.Kind)], *r)
	}
	return out
}

// planOf is a plan changing the app of each key (delete: deleting it).
func planOf(del bool, keys ...string) *plan.Plan {
	p := &plan.Plan{}
	for _, k := range keys {
		c := plan.Change{Target: k, Address: k + "/app", Kind: plan.KindApp, Action: plan.Update}
		if del {
			c.Action = plan.Delete
		}
		p.Changes = append(p.Changes, c)
	}
	return p
}

// every operation a command can build, on shop/prod
func everyOperation() []Operation {
	return []Operation{
		{Action: policy.ActionApply, Plan: planOf(false, "shop/prod")},
		{Action: policy.ActionApply, Plan: planOf(true, "shop/prod"), AllowDestroy: true},
		{Action: policy.ActionRollback, Plan: planOf(false, "shop/prod"), Reason: "r"},
		{Action: policy.ActionPreview, Plan: planOf(false, "shop/preview/pr-7")},
		{Action: policy.ActionBackup, Plan: planOf(false, "shop/prod")},
		{Action: policy.ActionClone, Plan: planOf(false, "shop/prod"), Reason: "r"},
		{Action: policy.ActionRelease, Target: "shop/prod", Reason: "r"},
		{Action: policy.ActionUnlock, Target: "shop/prod", Reason: "r"},
	}
}

func targetsOf(op Operation) []string {
	if op.Plan == nil {
		return []string{op.Target}
	}
	return op.Plan.Targets()
}

// Every operation is authorized before it runs: denied by the policy, it
// is exit 4, its denial is recorded with the action asked, and the
// executor never starts (no other commit).
func TestRunAuthorizesEveryOperation(t *testing.T) {
	for _, op := range everyOperation() {
		t.Run(fmt.Sprintf("%s %v", op.Action, op.AllowDestroy), func(t *testing.T) {
			h := newHarness(t)
			_, err := h.runner(onlyBlogPolicy).Run(context.Background(), op)
			var oe *Error
			if !errors.As(err, &oe) || oe.Code != ExitDenied || !errors.Is(err, policy.ErrDenied) {
				t.Fatalf("err %v, want a denial, exit 4", err)
			}
			key := targetsOf(op)[0]
			recs := h.records(key)
			if len(recs) != 1 || len(recs["denied"]) != 1 {
				t.Fatalf("records of %s: %v, want one denial", key, recs)
			}
			want := op.Action
			if op.Plan != nil && op.Plan.Changes[0].Action == plan.Delete {
				want = policy.ActionDestroy
			}
			d := recs["denied"][0]
			if ev, _ := d.Evidence.(state.PolicyEvidence); ev.Action != want || ev.Decision != "denied" || d.Outcome != "denied" {
				t.Errorf("denial evidence %v outcome %s, want action %s", d.Evidence, d.Outcome, want)
			}
			if !strings.HasPrefix(d.Actor, "local") {
				t.Errorf("denial actor %q, want the local identity", d.Actor)
			}
		})
	}
}

// Authorized, the operation reaches the executor with a grant of its own
// action: the executor's refusals (nothing to release, a plan without
// config) are not ErrNotAuthorized, and a grant of another operation is.
func TestExecuteChecksTheGrantOfTheOperation(t *testing.T) {
	h := newHarness(t)
	r := h.runner("")
	release := Operation{Action: policy.ActionRelease, Target: "shop/prod", Reason: "fixed"}
	a, err := r.Authorize(context.Background(), release)
	if err != nil {
		t.Fatal(err)
	}
	if a.Evidence.Action != policy.ActionRelease || a.Evidence.Reason != "no policy in the state repository" || a.Actor != "env-actor" {
		t.Fatalf("authorized %+v", a)
	}
	if _, err := r.Execute(context.Background(), a, release); err == nil || errors.Is(err, policy.ErrNotAuthorized) {
		t.Fatalf("release with its grant: %v, want the executor's own refusal", err)
	}
	for _, op := range everyOperation() {
		if op.Action == policy.ActionRelease {
			continue
		}
		_, err := r.Execute(context.Background(), a, op)
		var oe *Error
		if !errors.Is(err, policy.ErrNotAuthorized) || !errors.As(err, &oe) || oe.Code != ExitDenied {
			t.Errorf("%s with release's grant: %v, want refused, exit 4", op.Action, err)
		}
	}
	for _, bad := range []*Authorized{{}, {Grant: nil, Evidence: &state.PolicyEvidence{Action: "release", Decision: "allowed"}}} {
		if _, err := r.Execute(context.Background(), bad, release); !errors.Is(err, policy.ErrNotAuthorized) {
			t.Errorf("release without a grant: %v", err)
		}
	}
	if tip := h.snap().Commit(); tip != "" {
		t.Errorf("the state moved to %s", tip)
	}
}

// Without a policy, deleting an app is refused unless --allow-destroy,
// and the refusal is recorded; with it, the grant covers destroy.
func TestApplyDestroyWithoutPolicy(t *testing.T) {
	h := newHarness(t)
	op := Operation{Action: policy.ActionApply, Plan: planOf(true, "shop/prod")}
	_, err := h.runner("").Authorize(context.Background(), op)
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != ExitDenied || !strings.Contains(err.Error(), "apply --allow-destroy") {
		t.Fatalf("err %v", err)
	}
	if recs := h.records("shop/prod")["denied"]; len(recs) != 1 || recs[0].Evidence.(state.PolicyEvidence).Action != policy.ActionDestroy {
		t.Fatalf("denial records %v", recs)
	}
	op.AllowDestroy = true
	op.Plan = planOf(true, "shop/prod")
	op.Plan.Changes = append(op.Plan.Changes, planOf(false, "shop/testing").Changes...)
	a, err := h.runner("").Authorize(context.Background(), op)
	if err != nil {
		t.Fatal(err)
	}
	if dev := a.Evidence.Destroy; a.Evidence.Action != policy.ActionApply || dev == nil || dev.Reason != "no policy in the state repository; apply --allow-destroy" {
		t.Fatalf("evidence %v", a.Evidence)
	}
	snap := h.snap()
	if err := a.Grant.Require(snap, policy.ActionDestroy, []string{"shop/prod"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Grant.Require(snap, policy.ActionDestroy, []string{"shop/testing"}); err == nil {
		t.Fatal("destroy granted on a target the plan only updates")
	}
}

// An operation the runner does not know is refused before anything.
func TestUnknownOperationIsRefused(t *testing.T) {
	h := newHarness(t)
	for _, op := range []Operation{{Action: "deploy", Plan: planOf(false, "shop/prod")}, {Action: policy.ActionApply}, {Action: policy.ActionPromote, Plan: planOf(false, "shop/prod")}} {
		if _, err := h.runner("").Run(context.Background(), op); err == nil {
			t.Errorf("%+v ran", op)
		}
	}
	if tip := h.snap().Commit(); tip != "" {
		t.Errorf("the state moved to %s", tip)
	}
}

// A policy that does not load is exit 1 and allows nothing.
func TestInvalidPolicyIsAnError(t *testing.T) {
	h := newHarness(t)
	_, err := h.runner("kind: Policy\nspec: {rules: 7}\n").Run(context.Background(), everyOperation()[0])
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != ExitError || !errors.Is(err, policy.ErrInvalid) {
		t.Fatalf("err %v", err)
	}
	if tip := h.snap().Commit(); tip != "" {
		t.Errorf("the state moved to %s", tip)
	}
}

// The executor's errors get their exit codes, redacted.
func TestCodeMapsErrors(t *testing.T) {
	red := redact.New()
	red.Add("hunter2-secret-value")
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("x: %w", errors.New("boom hunter2-secret-value")), ExitError},
		{fmt.Errorf("x: %w", state.ErrConflict), ExitConflict},
		{fmt.Errorf("x hunter2-secret-value: %w", policy.ErrNotAuthorized), ExitDenied},
		{fmt.Errorf("x: %w", policy.ErrDenied), ExitDenied},
	} {
		err := Code(red, tc.err)
		var oe *Error
		if !errors.As(err, &oe) || oe.Code != tc.code {
			t.Errorf("%v: %v, want exit %d", tc.err, err, tc.code)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("not redacted: %v", err)
		}
	}
}

func TestOwnerName(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/shop.git": "acme/shop",
		"git@github.com:acme/shop.git":     "acme/shop",
		"ssh://git@host:22/acme/shop":      "acme/shop",
		"shop":                             "",
		"":                                 "",
	} {
		if got := OwnerName(in); got != want {
			t.Errorf("OwnerName(%q) = %q, want %q", in, got, want)
		}
	}
}
