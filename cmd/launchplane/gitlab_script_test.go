package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/launchplane/launchplane/providers/gitlab/gitlabtest"
)

// The GitLab stand-in's script commands. Only tests name gitlab in cmd:
// the binary reaches it through the provider registry.
var gitlabCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"gitlab-api":      cmdGitLabAPI,
	"gitlab-notes":    cmdGitLabNotes,
	"gitlab-statuses": cmdGitLabStatuses,
}

type gitlabKey struct{}

// gitlabHolder keeps a script's GitLab API stand-in.
type gitlabHolder struct{ srv *gitlabtest.Server }

// gitlabVars are the GitLab CI variables gitlab-api sets; scripts pass
// them to `exits` with PASSENV.
const gitlabVars = "GITLAB_CI,GITLAB_TOKEN,CI_JOB_TOKEN,CI_API_V4_URL,CI_SERVER_URL,CI_PROJECT_ID,CI_PROJECT_PATH,CI_PROJECT_URL,CI_MERGE_REQUEST_IID,CI_PIPELINE_SOURCE,CI_COMMIT_SHA,CI_MERGE_REQUEST_SOURCE_BRANCH_SHA,CI_MERGE_REQUEST_SOURCE_BRANCH_NAME,CI_PIPELINE_URL"

// cmdGitLabAPI makes the script a GitLab CI merge request pipeline of
// acme/platform!IID (project 42) talking to a local GitLab API stand-in:
// gitlab-api IID [seed=N] [marker-at=I] [foreign-marker]. seed adds N
// notes by another member; marker-at makes note I (1-based) an earlier
// plan note of the config dir cfg by the token's user; foreign-marker
// adds, first, another member's note that carries that marker.
func cmdGitLabAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: gitlab-api IID [seed=N] [marker-at=I] [foreign-marker]")
	}
	iid, err := strconv.Atoi(args[0])
	ts.Check(err)
	h := ts.Value(gitlabKey{}).(*gitlabHolder)
	if h.srv == nil {
		h.srv = gitlabtest.New("glpat-canary-7713")
		ts.Defer(h.srv.Close)
	}
	seed, markerAt, foreign := 0, 0, false
	for _, a := range args[1:] {
		if a == "foreign-marker" {
			foreign = true
			continue
		}
		k, v, _ := strings.Cut(a, "=")
		n, err := strconv.Atoi(v)
		ts.Check(err)
		switch k {
		case "seed":
			seed = n
		case "marker-at":
			markerAt = n
		default:
			ts.Fatalf("gitlab-api: unknown option %q", a)
		}
	}
	if foreign {
		h.srv.Seed(iid, false, "<!-- launchplane:plan cfg -->\nalice: LGTM, nothing to deploy")
	}
	for i := 1; i <= seed; i++ {
		if i == markerAt {
			h.srv.Seed(iid, true, "<!-- launchplane:plan cfg -->\nold plan")
			continue
		}
		h.srv.Seed(iid, false, fmt.Sprintf("note %d", i))
	}
	for k, v := range map[string]string{
		"GITLAB_CI": "true", "GITLAB_TOKEN": "glpat-canary-7713", "CI_JOB_TOKEN": "job-token-canary-3390",
		"CI_API_V4_URL": h.srv.APIURL, "CI_SERVER_URL": h.srv.URL,
		"CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "acme/platform", "CI_PROJECT_URL": "https://gitlab.example.com/acme/platform",
		"CI_MERGE_REQUEST_IID": strconv.Itoa(iid), "CI_PIPELINE_SOURCE": "merge_request_event",
		"CI_COMMIT_SHA": strings.Repeat("d", 40), "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": strings.Repeat("c", 40),
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_PIPELINE_URL": "https://gitlab.example.com/acme/platform/-/pipelines/9",
		"PASSENV": gitlabVars,
	} {
		ts.Setenv(k, v)
	}
}

// cmdGitLabNotes prints the merge request's notes on the stand-in as
// JSON lines, and the API calls made so far: gitlab-notes IID.
func cmdGitLabNotes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gitlab-notes IID")
	}
	iid, err := strconv.Atoi(args[0])
	ts.Check(err)
	h := ts.Value(gitlabKey{}).(*gitlabHolder)
	if h.srv == nil {
		ts.Fatalf("gitlab-notes: no gitlab-api in this script")
	}
	for _, n := range h.srv.Notes(iid) {
		b, err := json.Marshal(n)
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%s\n", b)
	}
	for _, ep := range gitlabtest.Endpoints {
		fmt.Fprintf(ts.Stdout(), "calls %s: %d\n", ep, h.srv.Calls(ep))
	}
}

// cmdGitLabStatuses prints "state name: description" of the commit
// statuses on SHA: gitlab-statuses SHA.
func cmdGitLabStatuses(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gitlab-statuses SHA")
	}
	h := ts.Value(gitlabKey{}).(*gitlabHolder)
	if h.srv == nil {
		ts.Fatalf("gitlab-statuses: no gitlab-api in this script")
	}
	for _, st := range h.srv.Statuses(args[0]) {
		fmt.Fprintln(ts.Stdout(), st)
	}
}
