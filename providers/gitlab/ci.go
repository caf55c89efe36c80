package gitlab

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/launchplane/launchplane/providers"
)

// need is what a GitLab CI job must give Launchplane to post.
const need = "set GITLAB_TOKEN, a masked CI/CD variable, to a project access token with the api scope and the Developer role"

// readCI is the gitlab provider's CI reader: a GitLab CI job
// (GITLAB_CI=true), read from GitLab's predefined variables
// (doc/ci/variables/predefined_variables.md): CI_PROJECT_ID and
// CI_PROJECT_PATH name the project, CI_MERGE_REQUEST_IID the merge
// request (set only in merge request pipelines), CI_PIPELINE_SOURCE what
// started it, CI_MERGE_REQUEST_SOURCE_BRANCH_SHA the head commit in
// merged results pipelines (where CI_COMMIT_SHA is the merge commit),
// else CI_COMMIT_SHA; CI_API_V4_URL or CI_SERVER_URL the self-managed
// instance, CI_PROJECT_URL and CI_PIPELINE_URL the links.
//
// The token is GITLAB_TOKEN. CI_JOB_TOKEN is never used: it may not call
// the Notes API nor set commit statuses.
func readCI(env providers.CIEnv) (providers.CIJob, providers.CIMatch) {
	getenv := env.Getenv
	if getenv("GITLAB_CI") != "true" {
		return providers.CIJob{}, providers.CINone
	}
	project := firstOf(getenv("CI_PROJECT_PATH"), getenv("CI_PROJECT_ID"))
	job := providers.CIJob{
		System:     "GitLab CI",
		Repository: project,
		ChangeKind: "merge request",
		Event:      getenv("CI_PIPELINE_SOURCE"),
		SHA:        firstOf(getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"), getenv("CI_COMMIT_SHA")),
		Web:        web{project: strings.TrimSuffix(getenv("CI_PROJECT_URL"), "/"), run: getenv("CI_PIPELINE_URL")},
		Need:       need,
		Required:   true,
	}
	token := getenv(TokenEnv)
	if token == "" {
		job.Unavailable = TokenEnv + " is not set"
		if getenv("CI_JOB_TOKEN") != "" {
			job.Unavailable += " (CI_JOB_TOKEN may not post merge request notes or commit statuses)"
		}
		return job, providers.CIThis
	}
	env.Redactor.Add(token)
	if s := getenv("CI_MERGE_REQUEST_IID"); s != "" {
		iid, err := strconv.Atoi(s)
		if err != nil || iid <= 0 {
			job.Problem = fmt.Sprintf("CI_MERGE_REQUEST_IID %q is not a merge request iid", s)
			return job, providers.CIThis
		}
		job.Change = iid
		job.ChangeRef = fmt.Sprintf("%s!%d", project, iid)
	}
	// A pipeline about no merge request (the default branch's, after a
	// merge) still gets the provider: it can find the merge request that
	// merged its commit (providers.PlanLookup); nothing posts on Change 0.
	p, err := New(Options{
		Project:  firstOf(getenv("CI_PROJECT_ID"), project),
		APIURL:   apiURLFromEnv(getenv),
		Token:    token,
		Ref:      getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
		Redactor: env.Redactor,
	})
	if err != nil {
		job.Problem = env.Redactor.String(err.Error())
		return job, providers.CIThis
	}
	p.path = getenv("CI_PROJECT_PATH")
	job.Feedback = p
	return job, providers.CIThis
}

// web builds links into the project's pages (CI_PROJECT_URL, which holds
// a self-managed instance's host and any relative URL root).
type web struct{ project, run string }

func (w web) FileURL(sha, file string, line int) string {
	if sha == "" || w.project == "" || file == "" {
		return ""
	}
	var segs []string
	for _, s := range strings.Split(file, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	u := fmt.Sprintf("%s/-/blob/%s/%s", w.project, sha, strings.Join(segs, "/"))
	if line > 0 {
		u += fmt.Sprintf("#L%d", line)
	}
	return u
}

func (w web) CommitURL(sha string) string { return w.project + "/-/commit/" + sha }

func (w web) RunURL() string { return w.run }
