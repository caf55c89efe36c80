package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/apply"
	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/render"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

func newPreviewCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Per-pull-request previews of a product",
		Long: `A preview deploys a pull request's image of a product next to its lanes, as
the product's spec.preview policy says: the target of its 'from' lane
supplies providers and env, the host comes from spec.preview.host with
{slug}, {number} and {product} filled, and the provider objects are named
<product>-pr-<N>. Previews are recorded in the state repository under
previews/<product>/pr-<N>.json.`,
	}
	cmd.AddCommand(newPreviewRunCmd(e, "plan"), newPreviewRunCmd(e, "apply"), newPreviewRunCmd(e, "destroy"), newPreviewGCCmd(e))
	return cmd
}

func newPreviewRunCmd(e *env, verb string) *cobra.Command {
	var dir, stateLocFlag, product, image string
	var pr int
	doc := map[string]string{
		"plan":    "Show what a preview apply would change",
		"apply":   "Deploy or update a pull request's preview; a failed first apply removes what it created",
		"destroy": "Remove a pull request's preview",
	}[verb]
	cmd := &cobra.Command{
		Use:   verb + " PRODUCT PR" + map[bool]string{true: " --image REF", false: ""}[verb != "destroy"],
		Short: doc,
		Args:  previewArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := previewAddress(e, cmd, args, &product, &pr); err != nil {
				return err
			}
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			pv, err := planner.PreviewOf(cfg, product, pr)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			want := cfg // destroy: the preview is not in the config, so its resources are deleted
			if verb != "destroy" {
				if image == "" {
					return &exitErr{code: exitError, err: fmt.Errorf("preview %s needs --image REF (repo@sha256:<digest>)", verb)}
				}
				if want, err = planner.WithPreview(cfg, pv, image); err != nil {
					return &exitErr{code: exitError, err: err}
				}
			}
			p, states, err := planner.Plan(want, snap, map[string]bool{pv.Key: true})
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if verb == "destroy" && states[pv.Key] == nil {
				fmt.Fprintf(e.stdout, "No preview %s in the state repository: nothing to destroy.\n", pv.Key)
				return nil
			}
			render.Human(e.stdout, p, colour(e))
			if verb == "plan" || !p.HasChanges() {
				if verb != "plan" {
					return nil
				}
				fmt.Fprintf(e.stdout, "\nPreview %s: https://%s\n", pv.Key, pv.Host)
				return nil
			}
			authz, err := authorize(ctx, e, dir, ws.store, snap, "preview", []string{pv.Key})
			if err != nil {
				return err
			}
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Config, o.Kind, o.Authorization = want, state.KindPreview, authz
			res, err := apply.Run(ctx, o)
			if err != nil {
				return applyErr(red, err)
			}
			fmt.Fprintf(e.stdout, "\nPreview %s %s: record %s, state commit %s.\n", pv.Key, map[string]string{"apply": "applied", "destroy": "destroyed"}[verb], res.Records[pv.Key], short(res.Commit))
			if len(res.Failed) == 0 {
				if verb == "apply" {
					fmt.Fprintf(e.stdout, "Preview %s: https://%s\n", pv.Key, pv.Host)
				}
				return nil
			}
			if verb == "apply" && states[pv.Key] == nil {
				if err := removeFailedPreview(ctx, e, cfg, ws.store, o, pv); err != nil {
					return &exitErr{code: exitError, err: fmt.Errorf("preview %s failed, and removing what it created failed too: %w", pv.Key, red.Error(err))}
				}
			}
			return &exitErr{code: exitError, err: fmt.Errorf("preview %s %s failed; see record %s", verb, pv.Key, res.Records[pv.Key])}
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&product, "product", "", "product of the preview (the older form of the PRODUCT argument, kept as an alias)")
	cmd.Flags().IntVar(&pr, "pr", 0, "pull request number (the older form of the PR argument, kept as an alias)")
	if verb != "destroy" {
		cmd.Flags().StringVar(&image, "image", "", "image to preview, pinned by digest: repo@sha256:<64 hex> (required)")
	}
	return cmd
}

// removeFailedPreview deletes what a failed first apply of a preview
// created, so a broken pull request leaves nothing behind.
func removeFailedPreview(ctx context.Context, e *env, cfg *config.Config, store *gitstore.Store, o apply.Options, pv *planner.Preview) error {
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return err
	}
	p, _, err := planner.Plan(cfg, snap, map[string]bool{pv.Key: true})
	if err != nil {
		return err
	}
	if !p.HasChanges() {
		return nil
	}
	fmt.Fprintf(e.stderr, "%s: the first apply failed: removing what it created\n", pv.Key)
	o.Config, o.Snapshot, o.Plan, o.Reason = cfg, snap, p, "the preview's first apply failed: removing what it created"
	res, err := apply.Run(ctx, o)
	if err != nil {
		return err
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("see record %s", res.Records[pv.Key])
	}
	return nil
}

// parseOpenPRs reads gc's --open: pull request numbers separated by
// commas, or "none". An empty value is an error, never "no pull request
// is open": an unset shell variable must not destroy every preview.
func parseOpenPRs(open string) (map[int]bool, error) {
	out := map[int]bool{}
	if strings.TrimSpace(open) == "none" {
		return out, nil
	}
	fields := strings.FieldsFunc(open, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("--open %q is empty: list the open pull requests (e.g. --open 7,12), or say --open none when none is open", open)
	}
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--open %q: want pull request numbers separated by commas, or none", open)
		}
		out[n] = true
	}
	return out, nil
}

func newPreviewGCCmd(e *env) *cobra.Command {
	var dir, stateLocFlag, open string
	var doApply bool
	cmd := &cobra.Command{
		Use:   "gc --open N,N... [--apply]",
		Short: "Destroy previews of closed pull requests and previews past their TTL",
		Long: `gc lists the previews in the state repository and marks for destruction
those whose pull request is not in --open (the open pull requests, as the
caller knows them: e.g. gh pr list --json number; --open none when none
is open, an empty value is an error) and those older than their
product's spec.preview.ttl. It only reports, unless --apply is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if !cmd.Flags().Changed("open") {
				return &exitErr{code: exitError, err: fmt.Errorf("gc needs --open: the open pull requests, or --open none when none is open")}
			}
			openPRs, err := parseOpenPRs(open)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			ws, err := openWorkspace(ctx, e, dir, stateLocFlag)
			if err != nil {
				return err
			}
			defer ws.Close()
			cfg, snap := ws.cfg, ws.snap
			previews, err := planner.RecordedPreviews(snap)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			t := now(e)()
			doomed := map[string]bool{}
			var keys []string
			for k := range previews {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ts := previews[k]
				product, _ := state.SplitKey(k)
				why := ""
				switch p := cfg.Product(product); {
				case !openPRs[planner.PRNumber(k)]:
					why = "pull request closed"
				case p == nil:
					why = "product no longer in the config"
				case p.Spec.Preview != nil && p.Spec.Preview.TTL != nil && t.Sub(ts.UpdatedAt) > p.Spec.Preview.TTL.Duration:
					why = fmt.Sprintf("older than its ttl %s (last applied %s)", p.Spec.Preview.TTL.Duration, ts.UpdatedAt.Format("2006-01-02 15:04Z"))
				}
				if why == "" {
					fmt.Fprintf(e.stdout, "keep     %s\n", k)
					continue
				}
				doomed[k] = true
				fmt.Fprintf(e.stdout, "destroy  %s  (%s)\n", k, why)
			}
			if len(doomed) == 0 {
				fmt.Fprintln(e.stdout, "No previews to destroy.")
				return nil
			}
			if !doApply {
				fmt.Fprintf(e.stdout, "\n%d preview(s) to destroy; run again with --apply to destroy them.\n", len(doomed))
				return nil
			}
			var ks []string
			for k := range doomed {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			authz, err := authorize(ctx, e, dir, ws.store, snap, "preview", ks)
			if err != nil {
				return err
			}
			p, _, err := planner.Plan(cfg, snap, doomed)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			red := redact.New()
			o := ws.options(e, p, red)
			o.Actor = actorOf(e, authz)
			o.Kind = state.KindPreview
			o.Reason = "preview gc"
			o.Authorization = authz
			res, err := apply.Run(ctx, o)
			if err != nil {
				return applyErr(red, err)
			}
			fmt.Fprintf(e.stdout, "\nDestroyed %d preview(s), %d failed. State commit %s.\n", len(res.Records)-len(res.Failed), len(res.Failed), short(res.Commit))
			if len(res.Failed) > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("destroying %s failed; see the records", strings.Join(res.Failed, ", "))}
			}
			return nil
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().StringVar(&open, "open", "", "open pull requests, comma-separated, or none")
	cmd.Flags().BoolVar(&doApply, "apply", false, "destroy; without it gc only reports")
	return cmd
}
