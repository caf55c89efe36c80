// Package action holds the tests of the composite action's scripts
// (action.yml at the repository root runs them).
package action

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers/github/githubtest"
)

const (
	token  = "gh-token-canary-7731"
	repo   = "acme/platform"
	marker = "<!-- launchplane:plan cfg -->"
)

func hashOf(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// planBody is a plan comment as plan --comment writes it.
func planBody(hash string) string {
	return marker + "\n## Plan: 1 to create\n\n<!-- launchplane:plan-hash " + hash + " -->"
}

// run runs the script against srv for pr, with env added, and returns
// its stdout, stderr and exit code.
func run(t *testing.T, srv *githubtest.Server, pr string, env ...string) (string, string, int) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed (.ci/run installs it): %v", tool, err)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	// Read here, so that go test's cache knows the script.
	script, err := os.ReadFile("plan-comment-hash.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", string(script), "plan-comment-hash.sh", pr, marker)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"GITHUB_API_URL=" + srv.URL, "GITHUB_REPOSITORY=" + repo, "GITHUB_TOKEN=" + token,
		"GITHUB_ACTIONS=true",
	}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String()+stderr.String(), token) {
		t.Errorf("the token reached the output: %q %q", stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String()), stderr.String(), code
}

func server(t *testing.T) *githubtest.Server {
	srv := githubtest.New(token)
	t.Cleanup(srv.Close)
	return srv
}

// An earlier comment by another user carrying the marker and a hash does
// not choose the hash the apply is bound to: the plan comment written by
// the token's identity does.
func TestForgedEarlierCommentIgnored(t *testing.T) {
	for _, tt := range []struct {
		name, login string
		env         []string
	}{
		{"actions-token", githubtest.DefaultLogin, nil},
		{"user-token", "octo-ci", nil},
		{"app-token", "deployer[bot]", []string{"LAUNCHPLANE_GITHUB_AUTHOR=deployer[bot]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t)
			srv.Login = tt.login
			for _, who := range []string{"mallory", "github-actions", "mallory[bot]"} {
				srv.Seed(repo, 12, who, planBody(hashOf('e')))
			}
			srv.Seed(repo, 12, "octocat", strings.Repeat("review\n", 3))
			srv.Seed(repo, 12, tt.login, planBody(hashOf('a')))
			srv.Seed(repo, 12, "mallory", planBody(hashOf('f')))
			out, errOut, code := run(t, srv, "12", tt.env...)
			if code != 0 || out != hashOf('a') {
				t.Fatalf("exit %d, stdout %q, stderr %q; want the hash of %s's comment", code, out, errOut, tt.login)
			}
			h := srv.Header(githubtest.ListComments)
			if h.Get("Authorization") != "Bearer "+token || h.Get("X-GitHub-Api-Version") != "2022-11-28" {
				t.Errorf("headers %v", h)
			}
		})
	}
}

// Only others' comments carry the marker: no hash, exit 3, and the
// message says whose comments count and that the others were ignored.
func TestOnlyForgedComments(t *testing.T) {
	srv := server(t)
	srv.Seed(repo, 12, "mallory", planBody(hashOf('e')))
	srv.Seed(repo, 12, "github-actions", planBody(hashOf('e')))
	out, errOut, code := run(t, srv, "12")
	if code != 3 || out != "" {
		t.Fatalf("exit %d, stdout %q, want 3 and no hash", code, out)
	}
	for _, want := range []string{"#12", "written by github-actions[bot]", "2 comment(s) by others carrying the marker were ignored"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
}

// The plan comment on page 3 (230 comments, 100 a page) is found.
func TestPlanCommentOnPage3(t *testing.T) {
	srv := server(t)
	for i := 0; i < 229; i++ {
		who := "octocat"
		if i == 5 {
			who = "mallory"
		}
		body := "review"
		if who == "mallory" {
			body = planBody(hashOf('e'))
		}
		srv.Seed(repo, 12, who, body)
	}
	srv.Seed(repo, 12, githubtest.DefaultLogin, planBody(hashOf('b')))
	out, errOut, code := run(t, srv, "12")
	if code != 0 || out != hashOf('b') {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := srv.Calls(githubtest.ListComments); n != 3 {
		t.Errorf("%d pages read, want 3", n)
	}
}

// The identity cannot be known: an installation token outside Actions
// without LAUNCHPLANE_GITHUB_AUTHOR fails, and no comment is read; GET
// /user refused otherwise fails too.
func TestUnknownIdentity(t *testing.T) {
	srv := server(t)
	srv.Seed(repo, 12, "mallory", planBody(hashOf('e')))
	out, errOut, code := run(t, srv, "12", "GITHUB_ACTIONS=")
	if code != 1 || out != "" || !strings.Contains(errOut, "LAUNCHPLANE_GITHUB_AUTHOR") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := srv.Calls(githubtest.ListComments); n != 0 {
		t.Errorf("%d comment pages read without an identity", n)
	}
	srv.Login = "octo-ci"
	srv.Fail(githubtest.GetUser, 500, "Server Error")
	if out, errOut, code := run(t, srv, "12"); code != 1 || out != "" || !strings.Contains(errOut, "GET /user: 500") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if out, _, code := run(t, srv, "12", "GITHUB_TOKEN=wrong"); code != 1 || out != "" {
		t.Fatalf("wrong token: exit %d, stdout %q", code, out)
	}
}

// The plan comment of a failed plan holds no hash: exit 3, as there is
// nothing reviewed to bind to.
func TestPlanCommentWithoutHash(t *testing.T) {
	srv := server(t)
	srv.Seed(repo, 12, githubtest.DefaultLogin, marker+"\nThe config is invalid (1 error): no plan was made")
	srv.Seed(repo, 12, "mallory", planBody(hashOf('e')))
	out, errOut, code := run(t, srv, "12")
	if code != 3 || out != "" || !strings.Contains(errOut, "holds no plan hash") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// action.yml binds the apply through the script, and passes the
// github-author input to both plan and the script.
func TestActionUsesScript(t *testing.T) {
	b, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	yml := string(b)
	for _, want := range []string{
		`"$GITHUB_ACTION_PATH/action/plan-comment-hash.sh" "$pr" "$marker"`,
		`LAUNCHPLANE_GITHUB_AUTHOR: ${{ inputs.github-author || env.LAUNCHPLANE_GITHUB_AUTHOR }}`,
	} {
		if !strings.Contains(yml, want) {
			t.Errorf("action.yml lacks %s", want)
		}
	}
	// No other reading of the comments: that one would take anyone's.
	if n := strings.Count(yml, "/comments"); n != 0 {
		t.Errorf("action.yml reads comments itself %d times", n)
	}
}
