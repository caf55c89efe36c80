package providers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/launchplane/launchplane/redact"
)

// CIEnv is what a Feedback provider reads to recognise the CI job that
// runs Launchplane: its environment and the redactor every token it
// finds is registered with.
type CIEnv struct {
	Getenv   func(string) string
	Redactor *redact.Redactor
}

// CIMatch says how sure a provider is that the job runs in its CI system.
type CIMatch int

const (
	// CINone: not this provider's CI system.
	CINone CIMatch = iota
	// CIMaybe: none of the system's own markers is set, but its variables
	// may have been set by hand (a local run); used when nothing is sure.
	CIMaybe
	// CIThis: the job runs in this provider's CI system.
	CIThis
)

// CIWeb builds links into the platform's web pages, for comments that
// point at a commit's files and at the CI run.
type CIWeb interface {
	// FileURL links line (0: the whole file) of path, relative to the
	// repository's root, at commit sha.
	FileURL(sha, path string, line int) string
	// CommitURL links commit sha.
	CommitURL(sha string) string
	// RunURL links the CI run, "" when unknown.
	RunURL() string
}

// CIJob is what a CI system's environment says about the running job,
// as the Feedback provider of that system reads it.
type CIJob struct {
	Provider string // the provider type that read it: "github", "gitlab"
	System   string // "GitHub Actions", "GitLab CI"
	// Repository is the repository or project the job runs for
	// (owner/name, group/project).
	Repository string
	// Change is the pull or merge request the job is about (its number,
	// GitLab's iid); 0 when it is about none.
	Change     int
	ChangeKind string // "pull request", "merge request"
	ChangeRef  string // "acme/platform#12", "group/project!12"
	Event      string // what started the job, named when Change is 0
	SHA        string // the change's head commit, "" when unknown
	Web        CIWeb  // never nil

	// Feedback is the CI system's provider with the job's token: it
	// posts on Change, and on a job about no change (the default
	// branch's after a merge) it still reads, e.g. the merged change's
	// plan comment (PlanLookup). It is nil when the job has no token that
	// may post: Unavailable says why ("GITHUB_TOKEN is not set") and Need
	// what token would do. Required means the job runs in the CI system
	// itself, where a missing token is an error rather than a skip.
	Feedback    Feedback
	Unavailable string
	Need        string
	Required    bool
	// Problem, when set, is why the job's environment could not be read
	// (an unreadable event file): nothing can be posted.
	Problem string
}

// DetectCI asks every registered provider with a CI reader which CI
// system the job runs in and returns the surest answer. ok is false when
// none recognises it; two equally sure answers are an error.
func DetectCI(env CIEnv) (job CIJob, ok bool, err error) {
	if env.Redactor == nil {
		env.Redactor = redact.New()
	}
	best, tied := CINone, []string(nil)
	for _, info := range All() {
		if info.CI == nil || !info.Has(RoleFeedback) {
			continue
		}
		j, m := info.CI(env)
		switch {
		case m == CINone || m < best:
		case m > best:
			best, job, tied = m, j, []string{info.Type}
			job.Provider = info.Type
		default:
			tied = append(tied, info.Type)
		}
	}
	if best == CINone {
		return CIJob{}, false, nil
	}
	if len(tied) > 1 {
		sort.Strings(tied)
		return CIJob{}, false, fmt.Errorf("the CI environment matches several feedback providers (%s): unset the variables of the one not in use", strings.Join(tied, ", "))
	}
	return job, true, nil
}
