package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/launchplane/launchplane/policy/oidctest"
	"github.com/launchplane/launchplane/providers/github/githubtest"
)

// Script commands of the request tests: a GitHub stand-in shared by the
// tenant and the config repository, the dispatch it received as the
// config repository's event, and tokens minted for hand-made events.
var requestCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"gh-serve":          cmdGHServe,
	"gh-seed":           cmdGHSeed,
	"gh-dispatch-event": cmdGHDispatchEvent,
	"gh-comments":       cmdGHComments,
	"gh-pulls":          cmdGHPulls,
	"gh-file":           cmdGHFile,
	"gh-statuses":       cmdGHStatuses,
	"oidc-token":        cmdOIDCToken,
}

func ghSrv(ts *testscript.TestScript) *githubtest.Server {
	h := ts.Value(githubKey{}).(*githubHolder)
	if h.srv == nil {
		h.srv = githubtest.New("gh-token-canary-5521")
		ts.Defer(h.srv.Close)
	}
	return h.srv
}

// cmdGHServe starts the GitHub stand-in (once per script; it accepts the
// token gh-token-canary-5521) and sets GITHUB_API_URL: gh-serve.
func cmdGHServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: gh-serve")
	}
	ts.Setenv("GITHUB_API_URL", ghSrv(ts).URL)
}

// cmdGHSeed commits local files to a branch of a repository on the
// stand-in and sets GITHUB_SHA to the commit: gh-seed REPO BRANCH
// PATH=LOCALFILE...
func cmdGHSeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: gh-seed REPO BRANCH PATH=LOCALFILE...")
	}
	files := map[string]string{}
	for _, a := range args[2:] {
		p, local, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("gh-seed: %q: want PATH=LOCALFILE", a)
		}
		files[p] = ts.ReadFile(local)
	}
	ts.Setenv("GITHUB_SHA", ghSrv(ts).SeedBranch(args[0], args[1], files))
}

// cmdGHDispatchEvent writes the last repository_dispatch REPO received as
// the webhook event a workflow of REPO gets (GITHUB_EVENT_PATH):
// gh-dispatch-event REPO FILE.
func cmdGHDispatchEvent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gh-dispatch-event REPO FILE")
	}
	ds := ghSrv(ts).Dispatches(args[0])
	if len(ds) == 0 {
		ts.Fatalf("gh-dispatch-event: %s received no dispatch", args[0])
	}
	d := ds[len(ds)-1]
	ev := map[string]any{
		"action":         d.EventType,
		"branch":         "main",
		"client_payload": d.ClientPayload,
		"repository":     map[string]any{"full_name": args[0], "default_branch": "main"},
		"sender":         map[string]any{"login": d.Sender},
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
}

// cmdGHComments prints the comments on REPO#PR as "author: body" blocks:
// gh-comments REPO PR.
func cmdGHComments(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gh-comments REPO PR")
	}
	var pr int
	_, err := fmt.Sscan(args[1], &pr)
	ts.Check(err)
	for _, c := range ghSrv(ts).Comments(args[0], pr) {
		fmt.Fprintf(ts.Stdout(), "comment %d by %s:\n%s\n", c.ID, c.Author, c.Body)
	}
}

// cmdGHPulls prints REPO's pull requests: gh-pulls REPO.
func cmdGHPulls(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gh-pulls REPO")
	}
	for _, p := range ghSrv(ts).Pulls(args[0]) {
		fmt.Fprintf(ts.Stdout(), "pull %d %s %s -> %s: %s\n%s\n", p.Number, p.State, p.Head, p.Base, p.Title, p.Body)
		fmt.Fprintf(ts.Stdout(), "commits on %s: %s\n", p.Head, strings.Join(ghSrv(ts).BranchLog(args[0], p.Head), " | "))
	}
}

// cmdGHFile prints a file of a branch: gh-file REPO BRANCH PATH.
func cmdGHFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: gh-file REPO BRANCH PATH")
	}
	s, ok := ghSrv(ts).File(args[0], args[1], args[2])
	if !ok {
		ts.Fatalf("gh-file: no %s on %s of %s", args[2], args[1], args[0])
	}
	fmt.Fprint(ts.Stdout(), s)
}

// cmdGHStatuses prints the commit statuses of REPO@SHA: gh-statuses REPO SHA.
func cmdGHStatuses(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gh-statuses REPO SHA")
	}
	for _, st := range ghSrv(ts).Statuses(args[0], args[1]) {
		fmt.Fprintf(ts.Stdout(), "status %s %s: %s %s\n", st.Context, st.State, st.Description, st.TargetURL)
	}
}

type foreignKey struct{}

// cmdOIDCToken mints a token and puts it in an event file's
// client_payload.token: oidc-token FILE REPOSITORY REF EVENT [expired]
// [foreign] [long-lived]. foreign signs with another issuer (its own
// keys and URL), which it names in FOREIGN_ISSUER.
func cmdOIDCToken(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 {
		ts.Fatalf("usage: oidc-token FILE REPOSITORY REF EVENT [expired] [foreign] [long-lived]")
	}
	h := ts.Value(issuerKey{}).(*issuerHolder)
	if h.iss == nil {
		h.iss = oidctest.NewIssuer()
		ts.Defer(h.iss.Close)
	}
	iss := h.iss
	tok := oidctest.Token{Claims: oidctest.Claims(args[1], args[2], args[3])}
	for _, opt := range args[4:] {
		switch opt {
		case "expired":
			tok.IssuedAt, tok.Expiry = time.Now().Add(-time.Hour), time.Now().Add(-55*time.Minute)
		case "long-lived":
			tok.IssuedAt, tok.Expiry = time.Now(), time.Now().Add(24*time.Hour)
		case "foreign":
			f, _ := ts.Value(foreignKey{}).(*issuerHolder)
			if f.iss == nil {
				f.iss = oidctest.NewIssuer()
				ts.Defer(f.iss.Close)
			}
			iss = f.iss
			ts.Setenv("FOREIGN_ISSUER", iss.URL())
		default:
			ts.Fatalf("oidc-token: unknown option %q", opt)
		}
	}
	var ev map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &ev))
	payload, ok := ev["client_payload"].(map[string]any)
	if !ok {
		ts.Fatalf("oidc-token: %s has no client_payload", args[0])
	}
	payload["token"] = iss.Mint(tok)
	b, err := json.MarshalIndent(ev, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// withCmds adds extra script commands to cmds; a name in both is a
// mistake.
func withCmds(extra, cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	for k, v := range extra {
		if _, dup := cmds[k]; dup {
			panic("script command " + k + " defined twice")
		}
		cmds[k] = v
	}
	return cmds
}
