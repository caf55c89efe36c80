package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/redact"
	"github.com/launchplane/launchplane/request"
)

func newRequestCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Ask the config repository for a preview, its removal, or a testing bump (product repositories)",
		Long: `request is for a product repository's workflow. It sends facts, never
infrastructure: the product, the pull request, the image digest, the source
commit and check results, with the job's GitHub Actions OIDC token (audience
launchplane), as one repository_dispatch of type launchplane-request to the
config repository. There 'launchplane serve-request' verifies the token,
checks the facts against it and the policy, derives the host, names and
providers from the config, runs the operation with the operator's
credentials and reports back on the pull request.

The job needs permissions: id-token: write, and a token that may dispatch
to the config repository in LAUNCHPLANE_DISPATCH_TOKEN (else GITHUB_TOKEN).
It holds no state token, provider credential or other secret.`,
	}
	cmd.AddCommand(newRequestRunCmd(e, request.ActionPreview), newRequestRunCmd(e, request.ActionDestroy), newRequestRunCmd(e, request.ActionPublish))
	return cmd
}

func newRequestRunCmd(e *env, action string) *cobra.Command {
	var product, image, sourceCommit, to, audience string
	var pr int
	var checks []string
	use := map[string]string{
		request.ActionPreview: "preview --product P --pr N --image REF",
		request.ActionDestroy: "destroy --product P --pr N",
		request.ActionPublish: "publish --product P --image REF [--source-commit SHA]",
	}[action]
	short := map[string]string{
		request.ActionPreview: "Ask for the pull request's preview of an image",
		request.ActionDestroy: "Ask for the pull request's preview to be removed",
		request.ActionPublish: "Ask for the testing Target to move to an image (the config repository opens or updates a pull request)",
	}[action]
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				to = e.getenv("LAUNCHPLANE_CONFIG_REPO")
			}
			if to == "" {
				return &exitErr{code: exitError, err: fmt.Errorf("request: name the config repository with --to OWNER/NAME (or LAUNCHPLANE_CONFIG_REPO)")}
			}
			r := request.New(action, product)
			r.PullRequest, r.Image, r.SourceCommit = pr, image, sourceCommit
			for _, c := range checks {
				name, result, ok := strings.Cut(c, "=")
				if !ok {
					return &exitErr{code: exitError, err: fmt.Errorf("--check %q: want NAME=pass|fail|skipped", c)}
				}
				if r.Checks == nil {
					r.Checks = map[string]string{}
				}
				r.Checks[name] = result
			}
			if err := sendRequest(cmd.Context(), e, r, to, audience); err != nil {
				return err
			}
			sentRequest(e, r, to)
			return nil
		},
	}
	cmd.Flags().StringVar(&product, "product", "", "product the request is for (required)")
	_ = cmd.MarkFlagRequired("product")
	if action != request.ActionPublish {
		cmd.Flags().IntVar(&pr, "pr", 0, "pull request number (required)")
		_ = cmd.MarkFlagRequired("pr")
	}
	if action != request.ActionDestroy {
		cmd.Flags().StringVar(&image, "image", "", "image pinned by digest: repo@sha256:<64 hex> (required)")
		_ = cmd.MarkFlagRequired("image")
	}
	cmd.Flags().StringVar(&sourceCommit, "source-commit", "", "commit the image was built from (40 hex)")
	cmd.Flags().StringArrayVar(&checks, "check", nil, "result of a check of yours, NAME=pass|fail|skipped (repeatable)")
	cmd.Flags().StringVar(&to, "to", "", "config repository OWNER/NAME (env LAUNCHPLANE_CONFIG_REPO)")
	cmd.Flags().StringVar(&audience, "audience", policy.Audience, "audience of the OIDC token (the policy's spec.oidc.audience)")
	return cmd
}

// sendRequest signs r with the job's OIDC token and sends it to the
// config repository to as a repository_dispatch.
func sendRequest(ctx context.Context, e *env, r *request.Request, to, audience string) error {
	tok, err := policy.MintActionsToken(ctx, e.getenv, audience, nil)
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("request: %w", err)}
	}
	red := redact.New()
	red.Add(tok)
	r.Token = tok
	payload, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	// The config repository checks it again; checking here says what is
	// wrong before anything is sent.
	if ds := requestProblems(payload); ds != "" {
		return &exitErr{code: exitError, err: fmt.Errorf("request: %s", red.String(ds))}
	}
	tokenEnv := firstSet(e, "LAUNCHPLANE_DISPATCH_TOKEN", "GITHUB_TOKEN")
	if tokenEnv == "" {
		return &exitErr{code: exitError, err: fmt.Errorf("request: no token to dispatch to %s: set LAUNCHPLANE_DISPATCH_TOKEN (contents: write on %s, e.g. a GitHub App token)", to, to)}
	}
	d, err := forgeRepo(e, to, tokenEnv, red).Dispatcher()
	if err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	if err := d.Dispatch(ctx, request.EventType, payload); err != nil {
		return &exitErr{code: exitError, err: red.Error(err)}
	}
	return nil
}

// sentRequest says what was sent, without the token.
func sentRequest(e *env, r *request.Request, to string) {
	what := fmt.Sprintf("%s of %s", r.Action, r.Product)
	if r.PullRequest > 0 {
		what += fmt.Sprintf(" for pull request #%d", r.PullRequest)
	}
	if r.Image != "" {
		what += " at " + r.Image
	}
	fmt.Fprintf(e.stdout, "Sent the request (%s) to %s; its workflow reports the outcome on the pull request.\n", what, to)
	if len(r.Checks) > 0 {
		var names []string
		for k, v := range r.Checks {
			names = append(names, k+"="+v)
		}
		sort.Strings(names)
		fmt.Fprintf(e.stdout, "Checks: %s\n", strings.Join(names, ", "))
	}
}
