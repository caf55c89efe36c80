package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
)

// policyFile is the policy's path in the state repository (SPEC §7).
const policyFile = "policy.yaml"

// authorize checks, before any mutation, that the caller may do action on
// every target key (<product>/<lane>, or <product>/preview/pr-<N>) by the
// state repository's policy.yaml. It returns the decision as evidence for
// the records. A denial is exit 4; a policy that does not load is exit 1
// (it never counts as no policy).
func authorize(ctx context.Context, e *env, cfgDir string, store state.Store, snap state.Snapshot, action string, keys []string) (map[string]any, error) {
	raw, err := snap.ReadFile(policyFile)
	if errors.Is(err, state.ErrNotFound) {
		return map[string]any{"action": action, "decision": "allowed", "reason": "no policy in the state repository"}, nil
	}
	if err != nil {
		return nil, &exitErr{code: exitError, err: fmt.Errorf("read %s from the state repository: %w", policyFile, err)}
	}
	pol, ds := schema.LoadPolicy(policyFile, raw)
	printDiagnostics(e, ds, ".")
	if pol == nil || ds.HasErrors() {
		return nil, &exitErr{code: exitError, err: fmt.Errorf("%s in the state repository is invalid: nothing is allowed until it is fixed", policyFile)}
	}
	repo, ref := localCheckout(cfgDir)
	var v policy.Verifier // the issuer trusted is the policy's, never the environment's
	if o := pol.Spec.OIDC; o != nil {
		v.Issuer, v.Audience = o.Issuer, o.Audience
	}
	id, err := policy.Resolve(ctx, e.getenv, policy.Options{Repository: repo, Ref: ref, Verifier: v})
	if err != nil {
		err = fmt.Errorf("policy: cannot establish who is applying: %w", err)
		denied(ctx, e, store, snap, keys, err.Error(), map[string]any{"action": action, "decision": "denied", "identity": "unverified", "policy_blob": policyBlob(raw)})
		return nil, &exitErr{code: exitDenied, err: err}
	}
	ev := map[string]any{"action": action, "identity": id.String(), "source": id.Source, "policy_blob": policyBlob(raw)}
	var decisions []any
	for _, key := range keys {
		product, lane := state.SplitKey(key)
		if strings.HasPrefix(lane, "preview/") {
			lane = policy.LanePreview
		}
		d := policy.Evaluate(pol, id, policy.Request{Action: action, Product: product, Lane: lane})
		dec := map[string]any{"target": key, "allowed": d.Allowed, "reason": d.Reason}
		if d.Allowed {
			dec["rule"] = d.Rule + 1 // as the reasons count them
		}
		decisions = append(decisions, dec)
		if !d.Allowed {
			ev["decision"] = "denied"
			ev["decisions"] = decisions
			denied(ctx, e, store, snap, []string{key}, d.Reason, ev)
			return nil, &exitErr{code: exitDenied, err: fmt.Errorf("policy: %w", d.Err())}
		}
	}
	ev["decision"] = "allowed"
	ev["decisions"] = decisions
	return ev, nil
}

// localCheckout finds the owner/name of the config repository's origin
// and its current ref, for a local identity; "" when unknown.
func localCheckout(dir string) (repository, ref string) {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", ""
	}
	if head, err := r.Head(); err == nil {
		ref = head.Name().String()
	}
	if rem, err := r.Remote("origin"); err == nil && len(rem.Config().URLs) > 0 {
		repository = ownerName(rem.Config().URLs[0])
	}
	return repository, ref
}

// ownerName turns a git remote URL into owner/name:
// https://github.com/acme/shop.git and git@github.com:acme/shop.git are
// both acme/shop.
func ownerName(remote string) string {
	p := remote
	if u, err := url.Parse(remote); err == nil && u.Host != "" {
		p = u.Path
	} else if _, after, ok := strings.Cut(remote, ":"); ok {
		p = after
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	parts := strings.Split(p, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// denied records a refusal in the state repository, so every decision is
// on record; failing to write it is a warning, the refusal stands.
func denied(ctx context.Context, e *env, store state.Store, snap state.Snapshot, keys []string, reason string, ev map[string]any) {
	red := redact.New()
	if err := apply.RecordDenial(ctx, store, snap, keys, actorOf(e, ev), now(e)(), red, reason, ev); err != nil {
		fmt.Fprintf(e.stderr, "warning: the denial could not be recorded: %v\n", red.Error(err))
	}
}

// actorOf names who applies in records: the verified identity when the
// policy established one, else the environment's actor.
func actorOf(e *env, authz map[string]any) string {
	if id, ok := authz["identity"].(string); ok && id != "" && id != "unverified" {
		return id
	}
	return actor(e)
}

// authorizeApply authorizes an apply: the policy action apply for every
// target the plan changes, except those whose app it deletes, which need
// the action destroy (granted apart from apply). Without a policy a
// destroy needs --allow-destroy; the refusal is exit 4 like a policy's.
func authorizeApply(ctx context.Context, e *env, cfgDir string, store state.Store, snap state.Snapshot, p *plan.Plan, allowDestroy bool) (map[string]any, error) {
	destroyed := map[string]bool{}
	for _, c := range p.Changes {
		if c.Kind == plan.KindApp && c.Action == plan.Delete {
			destroyed[c.Target] = true
		}
	}
	var applyKeys, destroyKeys []string
	for _, t := range p.Targets() {
		if destroyed[t] {
			destroyKeys = append(destroyKeys, t)
		} else {
			applyKeys = append(applyKeys, t)
		}
	}
	if len(destroyKeys) > 0 {
		if _, err := snap.ReadFile(policyFile); errors.Is(err, state.ErrNotFound) && !allowDestroy {
			reason := fmt.Sprintf("denied: the plan destroys the app of %s, and there is no policy in the state repository: run apply --allow-destroy to destroy it", strings.Join(destroyKeys, ", "))
			denied(ctx, e, store, snap, destroyKeys, reason, map[string]any{"action": policy.ActionDestroy, "decision": "denied", "reason": "no policy and no --allow-destroy"})
			return nil, &exitErr{code: exitDenied, err: errors.New(reason)}
		}
	}
	var ev map[string]any
	if len(applyKeys) > 0 {
		var err error
		if ev, err = authorize(ctx, e, cfgDir, store, snap, policy.ActionApply, applyKeys); err != nil {
			return nil, err
		}
	}
	if len(destroyKeys) > 0 {
		dev, err := authorize(ctx, e, cfgDir, store, snap, policy.ActionDestroy, destroyKeys)
		if err != nil {
			return nil, err
		}
		if dev["reason"] == "no policy in the state repository" {
			dev["reason"] = "no policy in the state repository; apply --allow-destroy"
		}
		if ev == nil {
			return dev, nil
		}
		ev["destroy"] = dev
	}
	return ev, nil
}
