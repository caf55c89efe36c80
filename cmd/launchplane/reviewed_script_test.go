package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/launchplane/launchplane/providers/github/githubtest"
	"github.com/launchplane/launchplane/providers/gitlab/gitlabtest"
)

// The script commands of apply --expect-reviewed-plan: merged changes,
// their comments and a job on the default branch, on the GitHub and
// GitLab stand-ins that github-api and gitlab-api started. Only tests
// name the forges in cmd.
var reviewedCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"gitlab-merged":  cmdGitLabMerged,
	"gitlab-note":    cmdGitLabNote,
	"gitlab-push":    cmdGitLabPush,
	"gitlab-fail":    cmdGitLabFail,
	"github-merged":  cmdGitHubMerged,
	"github-comment": cmdGitHubComment,
	"github-push":    cmdGitHubPush,
}

func gitlabSrv(ts *testscript.TestScript, cmd string) *gitlabtest.Server {
	h := ts.Value(gitlabKey{}).(*gitlabHolder)
	if h.srv == nil {
		ts.Fatalf("%s: no gitlab-api in this script", cmd)
	}
	return h.srv
}

func githubSrv(ts *testscript.TestScript, cmd string) *githubtest.Server {
	h := ts.Value(githubKey{}).(*githubHolder)
	if h.srv == nil {
		ts.Fatalf("%s: no github-api in this script", cmd)
	}
	return h.srv
}

// cmdGitLabMerged records merge request IID as merged by commit SHA:
// gitlab-merged IID SHA [squash|ff|open] [commit=C]. The default is a
// merge commit SHA; squash makes SHA its squash commit, ff its head (a
// fast-forward); open leaves it open with SHA among its commits; commit=C
// adds C to its commits.
func cmdGitLabMerged(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: gitlab-merged IID SHA [squash|ff|open] [commit=C]")
	}
	iid, err := strconv.Atoi(args[0])
	ts.Check(err)
	mr := gitlabtest.MergeRequest{IID: iid, State: "merged", SHA: strings.Repeat("e", 40), MergeCommitSHA: args[1]}
	for _, a := range args[2:] {
		switch {
		case a == "squash":
			mr.MergeCommitSHA, mr.SquashCommitSHA = "", args[1]
		case a == "ff":
			mr.MergeCommitSHA, mr.SHA = "", args[1]
		case a == "open":
			mr.State, mr.MergeCommitSHA, mr.SHA = "opened", "", args[1]
		case strings.HasPrefix(a, "commit="):
			mr.Commits = append(mr.Commits, strings.TrimPrefix(a, "commit="))
		default:
			ts.Fatalf("gitlab-merged: unknown option %q", a)
		}
	}
	gitlabSrv(ts, "gitlab-merged").SeedMergeRequest(mr)
}

// cmdGitLabNote adds a note to merge request IID, by the token's user
// (mine) or another member (other), its lines the remaining arguments:
// gitlab-note IID mine|other LINE...
func cmdGitLabNote(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || (args[1] != "mine" && args[1] != "other") {
		ts.Fatalf("usage: gitlab-note IID mine|other LINE...")
	}
	iid, err := strconv.Atoi(args[0])
	ts.Check(err)
	gitlabSrv(ts, "gitlab-note").Seed(iid, args[1] == "mine", strings.Join(args[2:], "\n"))
}

// cmdGitLabPush makes the script's GitLab CI job a branch pipeline of
// the default branch at commit SHA, which the repository holds:
// gitlab-push SHA.
func cmdGitLabPush(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gitlab-push SHA")
	}
	gitlabSrv(ts, "gitlab-push").SeedCommit(args[0])
	for k, v := range map[string]string{
		"CI_MERGE_REQUEST_IID": "", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "",
		"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": args[0],
	} {
		ts.Setenv(k, v)
	}
}

// cmdGitLabFail makes the next call of ENDPOINT (one of
// gitlabtest.Endpoints, "METHOD /path") answer STATUS with MESSAGE:
// gitlab-fail STATUS 'METHOD /path' MESSAGE.
func cmdGitLabFail(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: gitlab-fail STATUS ENDPOINT MESSAGE")
	}
	status, err := strconv.Atoi(args[0])
	ts.Check(err)
	gitlabSrv(ts, "gitlab-fail").FailNext(args[1], status, args[2])
}

// cmdGitHubMerged records pull request PR of acme/platform as merged,
// GitHub's merge_commit_sha being SHA: github-merged PR SHA [open]. open
// leaves it open, SHA its test merge commit and one of its commits.
func cmdGitHubMerged(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != "open") {
		ts.Fatalf("usage: github-merged PR SHA [open]")
	}
	pr, err := strconv.Atoi(args[0])
	ts.Check(err)
	p := githubtest.Pull{Number: pr, Repo: "acme/platform", Merged: len(args) == 2, MergeCommitSHA: args[1], Commits: []string{strings.Repeat("c", 40)}}
	if !p.Merged {
		p.Commits = append(p.Commits, args[1])
	}
	githubSrv(ts, "github-merged").SeedPull(p)
}

// cmdGitHubComment adds a comment to PR by the GITHUB_TOKEN's bot (mine)
// or octocat (other), its lines the remaining arguments:
// github-comment PR mine|other LINE...
func cmdGitHubComment(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || (args[1] != "mine" && args[1] != "other") {
		ts.Fatalf("usage: github-comment PR mine|other LINE...")
	}
	pr, err := strconv.Atoi(args[0])
	ts.Check(err)
	author := "octocat"
	if args[1] == "mine" {
		author = githubtest.DefaultLogin
	}
	githubSrv(ts, "github-comment").Seed("acme/platform", pr, author, strings.Join(args[2:], "\n"))
}

// cmdGitHubPush makes the script's GitHub Actions job a push to main at
// commit SHA, which the repository holds: github-push SHA.
func cmdGitHubPush(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: github-push SHA")
	}
	githubSrv(ts, "github-push").SeedCommit("acme/platform", args[0])
	event := fmt.Sprintf(`{"ref": "refs/heads/main", "after": %q, "repository": {"full_name": "acme/platform", "default_branch": "main"}}`, args[0])
	ts.Check(os.WriteFile(ts.MkAbs("event.json"), []byte(event), 0o644))
	ts.Setenv("GITHUB_EVENT_NAME", "push")
	ts.Setenv("GITHUB_SHA", args[0])
}
