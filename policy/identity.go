package policy

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Identity sources.
const (
	// SourceGitHubOIDC is an identity read from a verified GitHub Actions
	// OIDC token.
	SourceGitHubOIDC = "github-oidc"
	// SourceLocal is an identity outside GitHub Actions: nothing verifies
	// it, so only a policy with allowLocal accepts it.
	SourceLocal = "local"
)

// Identity is who runs Launchplane. It never holds a token.
//
// For SourceGitHubOIDC every field comes from the verified token's claims;
// for SourceLocal Actor is $USER@hostname and Repository and Ref are what
// the caller knows of the local checkout, if anything.
type Identity struct {
	Source string // SourceGitHubOIDC or SourceLocal

	Repository     string // owner/repo (claim repository)
	RepositoryID   string // claim repository_id
	Ref            string // refs/heads/main, refs/pull/7/merge (claim ref)
	Event          string // push, pull_request, workflow_dispatch… (claim event_name)
	Environment    string // deployment environment, when the job has one
	Workflow       string // workflow name (claim workflow); informational only
	WorkflowRef    string // owner/repo/.github/workflows/x.yml@ref (claim workflow_ref)
	JobWorkflowRef string // the reusable workflow running the job (claim job_workflow_ref)
	Actor          string // claim actor; $USER@hostname when local
	SHA            string // claim sha
	RunID          string // claim run_id
	RunAttempt     string // claim run_attempt
	Subject        string // claim sub
	// Issuer is the token's issuer; set only when it is not GitHub's
	// (GHES, or a test issuer), so records show where trust came from.
	Issuer string
}

// String describes the identity for records and commit trailers, e.g.
// "github-oidc acme/platform@refs/heads/main event=push actor=alice
// run=42 sha=…"; it holds no token.
func (id Identity) String() string {
	var b strings.Builder
	b.WriteString(orNone(id.Source))
	if id.Source == SourceLocal {
		b.WriteString(" " + orNone(id.Actor))
		if id.Repository != "" {
			b.WriteString(" " + id.repoRef())
		}
		return b.String()
	}
	b.WriteString(" " + id.repoRef())
	for _, kv := range [][2]string{
		{"event", id.Event}, {"environment", id.Environment}, {"workflow", id.WorkflowRef},
		{"job_workflow", id.jobWorkflow()}, {"actor", id.Actor}, {"run", id.RunID},
		{"attempt", id.RunAttempt}, {"sha", id.SHA}, {"issuer", id.Issuer},
	} {
		if kv[1] != "" {
			b.WriteString(" " + kv[0] + "=" + kv[1])
		}
	}
	return b.String()
}

// jobWorkflow is job_workflow_ref when it says more than workflow_ref.
func (id Identity) jobWorkflow() string {
	if id.JobWorkflowRef == id.WorkflowRef {
		return ""
	}
	return id.JobWorkflowRef
}

func (id Identity) repoRef() string {
	s := orNone(id.Repository)
	if id.Ref != "" {
		s += "@" + id.Ref
	}
	return s
}

// describe is the short form denial reasons use:
// "acme/platform@refs/heads/main (event push)".
func (id Identity) describe() string {
	if id.Source == SourceLocal {
		s := "local user " + orNone(id.Actor)
		if id.Repository != "" {
			s += " in " + id.repoRef()
		}
		return s
	}
	var extra []string
	if id.Event != "" {
		extra = append(extra, "event "+id.Event)
	}
	if id.Environment != "" {
		extra = append(extra, "environment "+id.Environment)
	}
	s := id.repoRef()
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// matchesWorkflow reports whether a rule's workflow names the caller's
// workflow_ref or job_workflow_ref, in full or, without "@ref", by path.
func (id Identity) matchesWorkflow(want string) bool {
	for _, ref := range []string{id.WorkflowRef, id.JobWorkflowRef} {
		if ref == "" {
			continue
		}
		if want == ref {
			return true
		}
		if path, _, ok := strings.Cut(ref, "@"); ok && !strings.Contains(want, "@") && want == path {
			return true
		}
	}
	return false
}

func (id Identity) workflowText() string {
	switch {
	case id.WorkflowRef == "" && id.JobWorkflowRef == "":
		return ""
	case id.jobWorkflow() == "":
		return id.WorkflowRef
	default:
		return orNone(id.WorkflowRef) + " / job workflow " + id.JobWorkflowRef
	}
}

// Options configures Resolve.
type Options struct {
	// Verifier obtains and verifies the OIDC token inside GitHub Actions.
	Verifier Verifier
	// Repository and Ref describe the local checkout, when the caller
	// knows them; they are used only outside GitHub Actions.
	Repository, Ref string
	// Hostname names this machine for a local identity; nil means
	// os.Hostname.
	Hostname func() (string, error)
}

// Resolve returns the caller's identity. Under GitHub Actions
// (GITHUB_ACTIONS=true) it comes only from the OIDC token, verified by
// FromActions: never from GITHUB_* variables, which anything running in
// the job can set, and with no fallback to a local identity when the
// token cannot be had. Elsewhere it is a local identity, which only a
// policy with spec.allowLocal accepts.
func Resolve(ctx context.Context, getenv func(string) string, opts Options) (Identity, error) {
	if getenv("GITHUB_ACTIONS") == "true" {
		return FromActions(ctx, getenv, opts.Verifier)
	}
	return Local(getenv, opts)
}

// Local is the identity of a user outside GitHub Actions: Actor is
// $USER@hostname ($USERNAME or $LOGNAME when USER is unset), Repository
// and Ref are taken from opts.
func Local(getenv func(string) string, opts Options) (Identity, error) {
	user := ""
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if user = getenv(k); user != "" {
			break
		}
	}
	if user == "" {
		user = "unknown"
	}
	hostname := opts.Hostname
	if hostname == nil {
		hostname = os.Hostname
	}
	host, err := hostname()
	if err != nil {
		return Identity{}, fmt.Errorf("local identity: hostname: %w", err)
	}
	return Identity{
		Source:     SourceLocal,
		Actor:      user + "@" + host,
		Repository: opts.Repository,
		Ref:        opts.Ref,
	}, nil
}
