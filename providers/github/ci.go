package github

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/launchplane/launchplane/providers"
)

// readCI is the github provider's CI reader: a GitHub Actions job (sure
// under GITHUB_ACTIONS=true), else a run whose GITHUB_* variables were
// set by hand. The token is GITHUB_TOKEN; the pull request and its head
// commit come from the event file (ActionsEvent).
func readCI(env providers.CIEnv) (providers.CIJob, providers.CIMatch) {
	getenv := env.Getenv
	actions := getenv("GITHUB_ACTIONS") == "true"
	match := providers.CIMaybe
	if actions {
		match = providers.CIThis
	}
	server := strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	job := providers.CIJob{
		System:     "GitHub Actions",
		ChangeKind: "pull request",
		Need:       "give the job permissions: pull-requests: write and statuses: write, and pass GITHUB_TOKEN",
		Required:   actions,
	}
	w := web{server: server, runServer: strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/"), runRepo: getenv("GITHUB_REPOSITORY"), runID: getenv("GITHUB_RUN_ID")}
	job.Web = w
	token := getenv("GITHUB_TOKEN")
	if token == "" {
		job.Unavailable = "GITHUB_TOKEN is not set"
		return job, match
	}
	env.Redactor.Add(token)
	ev, err := ActionsEvent(getenv)
	if err != nil {
		job.Problem = err.Error()
		return job, match
	}
	w.repo = ev.Repository
	job.Web = w
	job.Repository, job.Change, job.Event, job.SHA = ev.Repository, ev.PullRequest, ev.Name, ev.SHA
	job.ChangeRef = fmt.Sprintf("%s#%d", ev.Repository, ev.PullRequest)
	// An event about no pull request (a push to the default branch after
	// a merge) still gets the provider: it can find the pull request that
	// merged its commit (providers.PlanLookup); nothing posts on Change 0.
	gh, err := New(Options{Repository: ev.Repository, Token: token, APIURL: getenv("GITHUB_API_URL"), Redactor: env.Redactor})
	if err != nil {
		job.Problem = env.Redactor.String(err.Error())
		return job, match
	}
	job.Feedback = gh
	return job, match
}

// web builds links into github.com or a GitHub Enterprise Server.
type web struct {
	server, repo              string
	runServer, runRepo, runID string // from the job's own variables only
}

func (w web) FileURL(sha, file string, line int) string {
	if sha == "" || w.repo == "" || file == "" {
		return ""
	}
	var segs []string
	for _, s := range strings.Split(file, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	u := fmt.Sprintf("%s/%s/blob/%s/%s", w.server, w.repo, sha, strings.Join(segs, "/"))
	if line > 0 {
		u += fmt.Sprintf("#L%d", line)
	}
	return u
}

func (w web) CommitURL(sha string) string {
	return fmt.Sprintf("%s/%s/commit/%s", w.server, w.repo, sha)
}

// RunURL links the workflow run, when known.
func (w web) RunURL() string {
	if w.runServer == "" || w.runRepo == "" || w.runID == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", w.runServer, w.runRepo, w.runID)
}
