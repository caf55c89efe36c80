package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/launchplane/launchplane/policy/oidctest"
	"github.com/launchplane/launchplane/providers/caddy/caddytest"
	"github.com/launchplane/launchplane/providers/dokploy/dokploytest"
	"github.com/launchplane/launchplane/providers/github/githubtest"
	"github.com/launchplane/launchplane/render"
)

func TestMain(m *testing.M) {
	testscript.Main(stopEngine{m}, map[string]func(){
		"launchplane": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the golden CLI tests in testdata/script. Set
// LAUNCHPLANE_UPDATE=1 to rewrite their expected output.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testdata", "script"),
		UpdateScripts:       os.Getenv("LAUNCHPLANE_UPDATE") == "1",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Condition: func(cond string) (bool, error) {
			if cond == "caddy" {
				_, err := caddytest.Binary()
				return err == nil || caddytest.Required(), nil
			}
			if cond == "docker" {
				return engineCond(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: withCmds(reviewedCmds, withCmds(requestCmds, withCmds(gitlabCmds, map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkfile":          cmdMkfile,
			"concurrently":    cmdConcurrently,
			"exits":           cmdExits,
			"jsonset":         cmdJSONSet,
			"jsonq":           cmdJSONQ,
			"oidc-issuer":     cmdOIDCIssuer,
			"oidc-grant":      cmdOIDCGrant,
			"github-api":      cmdGitHubAPI,
			"github-comments": cmdGitHubComments,
			"caddy-start":     cmdCaddyStart,
			"http-backend":    cmdHTTPBackend,
			"httpget":         cmdHTTPGet,
			"subst":           cmdSubst,
			"dokploy-api":     cmdDokployAPI,
			"dokploy-fault":   cmdDokployFault,
			"dokploy-show":    cmdDokployShow,
			"dokploy-env":     cmdDokployEnv,
			"jsondel":         cmdJSONDel,
			"plan-rehash":     cmdPlanRehash,
			"http-status":     cmdHTTPStatus,
			"bg":              cmdBackground,
			"await":           cmdAwait,
			"bg-stop":         cmdBackgroundStop,
			"runhint":         cmdRunHint,
			"jsonlines":       cmdJSONLines,
			"github-statuses": cmdGitHubStatuses,
			"engine-start":    cmdEngineStart,
			"engine-caddy":    cmdEngineCaddy,
		}))),
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("EXAMPLES", filepath.Join(root, "examples"))
			e.Setenv("LAUNCHPLANE_NOW", "2026-11-23T12:00:00Z")
			e.Setenv("NO_COLOR", "1")
			e.Setenv("GITHUB_ACTIONS", "")
			e.Values[issuerKey{}] = &issuerHolder{}
			e.Values[foreignKey{}] = &issuerHolder{}
			e.Values[githubKey{}] = &githubHolder{}
			e.Values[gitlabKey{}] = &gitlabHolder{}
			e.Values[dokployKey{}] = &dokployHolder{}
			e.Values[backendKey{}] = &backendHolder{}
			e.Values[bgKey{}] = map[string]*bgProc{}
			return nil
		},
	})
}

// cmdMkfile writes a file of SIZE bytes made of LINE repeated:
// mkfile PATH SIZE LINE. It builds fixtures too large to keep in a txtar.
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: mkfile PATH SIZE LINE")
	}
	size, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("mkfile: size: %v", err)
	}
	line := []byte(args[2] + "\n")
	data := bytes.Repeat(line, size/len(line)+1)[:size]
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o644))
}

// launchplaneCmd is the launchplane binary of the script with the
// script's environment.
func launchplaneCmd(ts *testscript.TestScript, args []string) *exec.Cmd {
	bin := ""
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "launchplane")); err == nil {
			bin = filepath.Join(dir, "launchplane")
			break
		}
	}
	if bin == "" {
		ts.Fatalf("launchplane is not on the script's PATH")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = ts.MkAbs(".")
	env := hostEnv(os.Environ())
	// testscript cannot list a script's environment: pass the harness's
	// variables and those the script names in PASSENV (comma-separated).
	keys := []string{"HOME", "PATH", "WORK", "LAUNCHPLANE_NOW", "LAUNCHPLANE_STATE", "NO_COLOR", "GITHUB_ACTIONS", "SHOP_DB_URL"}
	if extra := ts.Getenv("PASSENV"); extra != "" {
		keys = append(keys, strings.Split(extra, ",")...)
	}
	for _, k := range keys {
		env = append(env, k+"="+ts.Getenv(k))
	}
	cmd.Env = env
	return cmd
}

// hostEnv is the host's environment without what would tell launchplane
// it runs in a CI job or give it configuration: a script run by `exec`
// never sees those (testscript builds its environment from scratch), and
// the commands that start launchplane themselves must not either, or a
// GitLab runner's GITLAB_CI would make the GitHub scripts ambiguous.
func hostEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if k == "CI" || k == "GITLAB_CI" || k == "GITHUB_ACTIONS" {
			continue
		}
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "GITLAB_") || strings.HasPrefix(k, "CI_") ||
			strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "LAUNCHPLANE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func exitCode(err error) int {
	var xe *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &xe):
		return xe.ExitCode()
	}
	return -1
}

// cmdExits runs launchplane and fails unless it exits with code N:
// exits 3 apply plan.json. Its output is what stdout and stderr then check.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	// ts.Exec runs with the script's whole environment and saves stdout
	// and stderr for the checks that follow.
	got := exitCode(ts.Exec("launchplane", args[1:]...))
	if got != want {
		ts.Fatalf("launchplane %s: exit code %d, want %d\n%s", strings.Join(args[1:], " "), got, want, ts.ReadFile("stderr"))
	}
}

// cmdConcurrently runs launchplane commands at the same time, separated by
// "--": concurrently apply a.json -- apply b.json. Each one's output goes
// to run<N>.out in the work dir; stdout gets the sorted exit codes
// ("exit codes: 0 3"), so a script can assert who won without timing.
func cmdConcurrently(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("concurrently does not fail")
	}
	var cmds [][]string
	cur := []string{}
	for _, a := range append(args, "--") {
		if a == "--" {
			if len(cur) > 0 {
				cmds = append(cmds, cur)
			}
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	codes := make([]int, len(cmds))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range cmds {
		cmd := launchplaneCmd(ts, c)
		out, err := os.Create(ts.MkAbs(fmt.Sprintf("run%d.out", i+1)))
		ts.Check(err)
		cmd.Stdout, cmd.Stderr = out, out
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer out.Close()
			<-start
			codes[i] = exitCode(cmd.Run())
		}(i)
	}
	close(start)
	wg.Wait()
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, strconv.Itoa(c))
	}
	fmt.Fprintf(ts.Stdout(), "exit codes: %s\n", strings.Join(parts, " "))
}

// cmdJSONSet sets the value at a dot-separated object PATH of a JSON file,
// creating objects on the way: jsonset w.json unhealthy '["shop/prod"]',
// jsonset w.json apps.shop/prod.image '"…"'. Scripts inject faults into
// a live fake world, or change it behind Launchplane's back, with it.
func cmdJSONSet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonset FILE PATH JSON")
	}
	path := ts.MkAbs(args[0])
	var root any = map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		ts.Check(json.Unmarshal(b, &root))
	}
	var val any
	if err := json.Unmarshal([]byte(args[2]), &val); err != nil {
		ts.Fatalf("jsonset: %s is not JSON", args[2])
	}
	root = jsonEdit(ts, root, strings.Split(args[1], "."), func(c any, last string) any {
		switch x := c.(type) {
		case map[string]any:
			x[last] = val
			return x
		case []any:
			i, err := strconv.Atoi(last)
			if err != nil || i < 0 || i > len(x) {
				ts.Fatalf("jsonset: %s: no index %q", args[1], last)
			}
			if i == len(x) {
				return append(x, val) // one past the end appends
			}
			x[i] = val
			return x
		}
		ts.Fatalf("jsonset: %s: not an object or array", args[1])
		return nil
	})
	b, err := json.MarshalIndent(root, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(path, b, 0o644))
}

// jsonEdit returns v with the value at keys (object keys, created on
// the way, and array indices) edited by op, which gets the container of
// the last key and returns the container's new value (an array may grow
// or shrink).
func jsonEdit(ts *testscript.TestScript, v any, keys []string, op func(container any, last string) any) any {
	if len(keys) == 1 {
		return op(v, keys[0])
	}
	switch x := v.(type) {
	case map[string]any:
		next, ok := x[keys[0]]
		if !ok {
			next = map[string]any{}
		}
		x[keys[0]] = jsonEdit(ts, next, keys[1:], op)
		return x
	case []any:
		i, err := strconv.Atoi(keys[0])
		if err != nil || i < 0 || i >= len(x) {
			ts.Fatalf("json: no index %q", keys[0])
		}
		x[i] = jsonEdit(ts, x[i], keys[1:], op)
		return x
	}
	ts.Fatalf("json: %q: not an object or array", keys[0])
	return nil
}

// cmdJSONDel removes the value at PATH (object keys and array indices)
// of a JSON file: jsondel plan.json changes.1.
func cmdJSONDel(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsondel FILE PATH")
	}
	path := ts.MkAbs(args[0])
	var root any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &root))
	root = jsonEdit(ts, root, strings.Split(args[1], "."), func(c any, last string) any {
		switch x := c.(type) {
		case map[string]any:
			if _, ok := x[last]; !ok {
				ts.Fatalf("jsondel: no key %q", last)
			}
			delete(x, last)
			return x
		case []any:
			i, err := strconv.Atoi(last)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("jsondel: no index %q", last)
			}
			return append(x[:i:i], x[i+1:]...)
		}
		ts.Fatalf("jsondel: %s: not an object or array", args[1])
		return nil
	})
	b, err := json.MarshalIndent(root, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(path, b, 0o644))
}

// cmdPlanRehash sets a saved plan's plan_hash to the hash of its content,
// as someone forging a self-consistent edit would: plan-rehash FILE.
func cmdPlanRehash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: plan-rehash FILE")
	}
	p, err := render.FromJSON([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	var root map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &root))
	root["plan_hash"] = p.Hash()
	b, err := json.MarshalIndent(root, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// cmdJSONQ prints, as compact JSON on stdout, the value at PATH in a JSON
// file: jsonq FILE PATH, PATH dot-separated object keys and array
// indices ("jobs.0.command"; "." alone is the whole file). With -env NAME
// it sets the script's variable NAME to the value, a string, instead.
func cmdJSONQ(ts *testscript.TestScript, neg bool, args []string) {
	setenv := ""
	if len(args) > 2 && args[0] == "-env" {
		setenv, args = args[1], args[2:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonq [-env NAME] FILE PATH")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &v))
	if args[1] != "." {
		for _, k := range strings.Split(args[1], ".") {
			switch x := v.(type) {
			case map[string]any:
				var ok bool
				if v, ok = x[k]; !ok {
					ts.Fatalf("jsonq: no key %q in %s", k, args[0])
				}
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= len(x) {
					ts.Fatalf("jsonq: no index %q in %s", k, args[0])
				}
				v = x[i]
			default:
				ts.Fatalf("jsonq: %q: not an object or array in %s", k, args[0])
			}
		}
	}
	if setenv != "" {
		str, ok := v.(string)
		if !ok {
			ts.Fatalf("jsonq -env: %s is not a string", args[1])
		}
		ts.Setenv(setenv, str)
		return
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	ts.Check(enc.Encode(v))
	ts.Stdout().Write([]byte(b.String()))
}

// cmdOIDCIssuer starts the script's test issuer (once) and sets
// OIDC_ISSUER to its URL, for the policy's spec.oidc.issuer (subst):
// oidc-issuer.
func cmdOIDCIssuer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: oidc-issuer")
	}
	scriptIssuer(ts)
}

func scriptIssuer(ts *testscript.TestScript) *oidctest.Issuer {
	h := ts.Value(issuerKey{}).(*issuerHolder)
	if h.iss == nil {
		h.iss = oidctest.NewIssuer()
		ts.Defer(h.iss.Close)
		ts.Setenv("OIDC_ISSUER", h.iss.URL())
	}
	return h.iss
}

// cmdOIDCGrant makes the script a GitHub Actions job holding an OIDC
// token grant from the script's test issuer (see oidc-issuer):
// oidc-grant REPOSITORY REF EVENT [audience=AUD] [unknown-key] [expired]
// [issuer=forged]. It sets GITHUB_ACTIONS and ACTIONS_ID_TOKEN_REQUEST_URL
// and _TOKEN; the issuer trusted is the policy's. issuer=forged grants
// from a second issuer anyone could run instead, and sets
// LAUNCHPLANE_OIDC_ISSUER to it, as an attacker would.
func cmdOIDCGrant(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: oidc-grant REPOSITORY REF EVENT [audience=AUD] [unknown-key] [expired] [issuer=forged]")
	}
	iss := scriptIssuer(ts)
	tok := oidctest.Token{Claims: oidctest.Claims(args[0], args[1], args[2])}
	for _, opt := range args[3:] {
		switch {
		case strings.HasPrefix(opt, "audience="):
			tok.Audience = []string{strings.TrimPrefix(opt, "audience=")}
		case opt == "unknown-key":
			tok.UnknownKey, tok.ForgeKeyID = true, true
		case opt == "expired":
			tok.IssuedAt = time.Now().Add(-time.Hour)
			tok.Expiry = time.Now().Add(-50 * time.Minute)
		case opt == "issuer=forged":
			forged := oidctest.NewIssuer()
			ts.Defer(forged.Close)
			iss = forged
			ts.Setenv("LAUNCHPLANE_OIDC_ISSUER", forged.URL())
		default:
			ts.Fatalf("oidc-grant: unknown option %q", opt)
		}
	}
	for _, kv := range iss.Grant(tok).Env() {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
}

type issuerKey struct{}

// issuerHolder keeps a script's test issuer; Setup puts one in every
// script's values.
type issuerHolder struct{ iss *oidctest.Issuer }

type githubKey struct{}

// githubHolder keeps a script's GitHub API stand-in.
type githubHolder struct{ srv *githubtest.Server }

// cmdGitHubAPI makes the script a GitHub Actions job of a pull_request
// event on acme/platform#PR, talking to a local GitHub API stand-in:
// github-api PR [seed=N] [marker-at=I]. seed adds N comments by other
// people to the PR; marker-at makes comment I (1-based) an earlier plan
// comment of the config dir cfg.
func cmdGitHubAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: github-api PR [seed=N] [marker-at=I]")
	}
	pr, err := strconv.Atoi(args[0])
	ts.Check(err)
	h := ts.Value(githubKey{}).(*githubHolder)
	if h.srv == nil {
		h.srv = githubtest.New("gh-token-canary-5521")
		ts.Defer(h.srv.Close)
	}
	seed, markerAt := 0, 0
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, "=")
		n, err := strconv.Atoi(v)
		ts.Check(err)
		switch k {
		case "seed":
			seed = n
		case "marker-at":
			markerAt = n
		default:
			ts.Fatalf("github-api: unknown option %q", a)
		}
	}
	for i := 1; i <= seed; i++ {
		body := fmt.Sprintf("comment %d", i)
		author := "octocat"
		if i == markerAt {
			body, author = "<!-- launchplane:plan cfg -->\nold plan", githubtest.DefaultLogin
		}
		h.srv.Seed("acme/platform", pr, author, body)
	}
	event := fmt.Sprintf(`{"pull_request": {"number": %d, "head": {"sha": "%s"}}, "number": %d}`, pr, strings.Repeat("c", 40), pr)
	ts.Check(os.WriteFile(ts.MkAbs("event.json"), []byte(event), 0o644))
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_API_URL": h.srv.URL, "GITHUB_TOKEN": "gh-token-canary-5521",
		"GITHUB_REPOSITORY": "acme/platform", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": ts.MkAbs("event.json"),
		"GITHUB_SHA": strings.Repeat("d", 40), "GITHUB_STEP_SUMMARY": ts.MkAbs("summary.md"),
	} {
		ts.Setenv(k, v)
	}
}

// cmdGitHubComments prints the PR's comments on the stand-in as JSON
// lines {"id", "author", "body"}, and the API calls made so far:
// github-comments PR.
func cmdGitHubComments(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: github-comments PR")
	}
	pr, err := strconv.Atoi(args[0])
	ts.Check(err)
	h := ts.Value(githubKey{}).(*githubHolder)
	if h.srv == nil {
		ts.Fatalf("github-comments: no github-api in this script")
	}
	for _, c := range h.srv.Comments("acme/platform", pr) {
		b, err := json.Marshal(c)
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%s\n", b)
	}
	for _, ep := range githubtest.Endpoints {
		fmt.Fprintf(ts.Stdout(), "calls %s: %d\n", ep, h.srv.Calls(ep))
	}
}

// cmdCaddyStart starts a real Caddy for the script (stopped at its end)
// and sets CADDY_ADMIN (admin API URL) and CADDY_HTTP (host:port of its
// plain-HTTP server, whose catch-all answers 404). Scripts guard it with
// [!caddy] skip: the condition is false only when caddy is missing and CI
// is not set, so CI never skips.
func cmdCaddyStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: caddy-start")
	}
	c, err := caddytest.Launch(context.Background(), caddytest.Options{})
	ts.Check(err)
	ts.Defer(func() { c.Stop() })
	ts.Setenv("CADDY_ADMIN", c.AdminURL)
	ts.Setenv("CADDY_HTTP", c.HTTPAddr)
}

// cmdHTTPBackend starts an HTTP server in the test process standing in
// for an app: every request gets "hello from NAME" with status 200, or
// what http-status set. It sets BACKEND_PORT: http-backend NAME.
func cmdHTTPBackend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: http-backend NAME")
	}
	name := args[0]
	h := ts.Value(backendKey{}).(*backendHolder)
	h.status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(h.status.Load()))
		if b, _ := h.body.Load().(string); b != "" {
			io.WriteString(w, b)
			return
		}
		fmt.Fprintf(w, "hello from %s\n", name)
	}))
	ts.Defer(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ts.Setenv("BACKEND_PORT", port)
}

// cmdHTTPGet requests URL with an optional Host header and prints the
// status and body: httpget [-host H] [-await STATUS] URL. With -await it
// retries, for at most 10s, until the status is STATUS: Caddy serves a
// changed config a moment after its admin API answered.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	host, await := "", 0
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-host":
			host = args[1]
		case "-await":
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			await = n
		default:
			ts.Fatalf("httpget: unknown flag %s", args[0])
		}
		args = args[2:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpget [-host H] [-await STATUS] URL")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequest(http.MethodGet, args[0], nil)
		ts.Check(err)
		if host != "" {
			req.Host = host
		}
		status, body := 0, ""
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, body = resp.StatusCode, string(b)
		} else {
			body = err.Error()
		}
		if await == 0 || status == await || time.Now().After(deadline) {
			fmt.Fprintf(ts.Stdout(), "%d\n%s", status, body)
			if await != 0 && status != await {
				ts.Fatalf("httpget: status %d, want %d: %s", status, await, body)
			}
			return
		}
		time.Sleep(50 * time.Millisecond) // polling an external server, not synchronising the test
	}
}

// cmdSubst replaces $NAME and ${NAME} in files with the script's
// variables: subst FILE... (for config files that need ports known only
// at run time).
func cmdSubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: subst FILE...")
	}
	for _, f := range args {
		out := os.Expand(ts.ReadFile(f), ts.Getenv)
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(out), 0o644))
	}
}

type backendKey struct{}

// backendHolder is the status and body the script's http-backend answers
// with.
type backendHolder struct {
	status atomic.Int32
	body   atomic.Value // string; "" means "hello from NAME"
}

// cmdHTTPStatus sets the status http-backend answers with, and the body
// when given: http-status CODE [BODY].
func cmdHTTPStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: http-status CODE [BODY]")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	h := ts.Value(backendKey{}).(*backendHolder)
	h.status.Store(int32(n))
	body := ""
	if len(args) == 2 {
		body = args[1]
	}
	h.body.Store(body)
}

type dokployKey struct{}

// dokployHolder keeps a script's Dokploy API stand-in.
type dokployHolder struct{ srv *dokploytest.Server }

func dokploySrv(ts *testscript.TestScript) *dokploytest.Server {
	h := ts.Value(dokployKey{}).(*dokployHolder)
	if h.srv == nil {
		ts.Fatalf("no dokploy-api in this script")
	}
	return h.srv
}

// cmdDokployAPI starts the Dokploy API stand-in accepting API key KEY and
// sets DOKPLOY_URL and DOKPLOY_ENVIRONMENT: dokploy-api KEY.
func cmdDokployAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: dokploy-api KEY")
	}
	h := ts.Value(dokployKey{}).(*dokployHolder)
	h.srv = dokploytest.New(args[0])
	ts.Defer(h.srv.Close)
	ts.Setenv("DOKPLOY_URL", h.srv.URL)
	ts.Setenv("DOKPLOY_ENVIRONMENT", dokploytest.EnvironmentID)
}

// cmdDokployFault makes the stand-in fail the next matching call:
// dokploy-fault deploy SERVICE STATUS LOGLINE (the deployment ends with
// STATUS: error, cancelled, or "" for a status that never comes) or
// dokploy-fault drop-env SERVICE KEY (saveEnvironment drops KEY),
// dokploy-fault version VERSION (the server answers as that release) or
// dokploy-fault role ROLE (the API key's role: owner, admin, member).
func cmdDokployFault(ts *testscript.TestScript, neg bool, args []string) {
	srv := dokploySrv(ts)
	switch {
	case !neg && len(args) == 4 && args[0] == "deploy":
		srv.FailNextDeploy(args[1], args[2], args[3])
	case !neg && len(args) == 3 && args[0] == "drop-env":
		srv.DropNextEnvKey(args[1], args[2])
	case !neg && len(args) == 2 && args[0] == "version":
		srv.SetVersion(args[1])
	case !neg && len(args) == 2 && args[0] == "role":
		srv.SetMember(args[1])
	default:
		ts.Fatalf("usage: dokploy-fault deploy SERVICE STATUS LOGLINE | drop-env SERVICE KEY | version VERSION | role ROLE")
	}
}

// cmdDokployShow prints a service as the stand-in holds it: its image,
// env keys and deployments (title, status), newest first:
// dokploy-show SERVICE.
func cmdDokployShow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: dokploy-show SERVICE")
	}
	srv := dokploySrv(ts)
	svc, ok := srv.Service(args[0])
	if !ok {
		fmt.Fprintf(ts.Stdout(), "no service %s\n", args[0])
		return
	}
	fmt.Fprintf(ts.Stdout(), "image %s\n", svc.DockerImage)
	var keys []string
	for k := range srv.Env(args[0]) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(ts.Stdout(), "env %s\n", strings.Join(keys, ","))
	for _, d := range srv.Deployments(args[0]) {
		fmt.Fprintf(ts.Stdout(), "deployment %q %s\n", d.Title, d.Status)
	}
}

// cmdDokployEnv prints the value the stand-in holds for a service's env
// key (test values only): dokploy-env SERVICE KEY.
func cmdDokployEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: dokploy-env SERVICE KEY")
	}
	fmt.Fprintln(ts.Stdout(), dokploySrv(ts).Env(args[0])[args[1]])
}

type bgKey struct{}

// bgProc is a launchplane process a script runs in the background, its
// output going to NAME.out as it comes.
type bgProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	code int
}

// cmdBackground starts launchplane ARGS in the background with the
// script's environment, writing stdout and stderr to NAME.out as they
// come: bg NAME ARGS... (for long-running commands such as watch).
func cmdBackground(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: bg NAME ARGS...")
	}
	procs := ts.Value(bgKey{}).(map[string]*bgProc)
	out, err := os.Create(ts.MkAbs(args[0] + ".out"))
	ts.Check(err)
	cmd := launchplaneCmd(ts, args[1:])
	cmd.Stdout, cmd.Stderr = out, out
	ts.Check(cmd.Start())
	p := &bgProc{cmd: cmd, done: make(chan struct{})}
	procs[args[0]] = p
	go func() {
		p.code = exitCode(cmd.Wait())
		out.Close()
		close(p.done)
	}()
	ts.Defer(func() {
		cmd.Process.Kill()
		<-p.done
	})
}

// cmdAwait waits until FILE matches REGEXP, or fails after 20s: await
// FILE REGEXP. The timeout only bounds a failure; a match is seen as soon
// as the file holds it.
func cmdAwait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: await FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("await: %s does not match %q after 20s; it holds:\n%s", args[0], args[1], b)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's output file
	}
}

// cmdBackgroundStop sends SIGNAL (INT, TERM or KILL) to background process
// NAME, waits for it to end and prints its exit code: bg-stop NAME SIGNAL.
func cmdBackgroundStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bg-stop NAME INT|TERM|KILL")
	}
	p := ts.Value(bgKey{}).(map[string]*bgProc)[args[0]]
	if p == nil {
		ts.Fatalf("bg-stop: no background process %s", args[0])
	}
	sig := map[string]os.Signal{"INT": os.Interrupt, "TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}[args[1]]
	if sig == nil {
		ts.Fatalf("bg-stop: signal %s: want INT, TERM or KILL", args[1])
	}
	ts.Check(p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		ts.Fatalf("bg-stop: %s did not stop within 20s of SIG%s", args[0], args[1])
	}
	fmt.Fprintf(ts.Stdout(), "exit code %d\n", p.code)
}

// TestHostEnvDropsCIVariables: a host's CI variables (a GitLab runner's
// GITLAB_CI, GitHub's tokens, a developer's LAUNCHPLANE_STATE) never
// reach the launchplane a script command starts.
func TestHostEnvDropsCIVariables(t *testing.T) {
	got := hostEnv([]string{"PATH=/bin", "GITLAB_CI=true", "CI=true", "CI_JOB_TOKEN=x", "GITHUB_TOKEN=y",
		"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=z", "RUNNER_TEMP=/t", "LAUNCHPLANE_STATE=/s", "TMPDIR=/tmp", "CIRCLE=1"})
	want := []string{"PATH=/bin", "TMPDIR=/tmp", "CIRCLE=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("hostEnv = %q, want %q", got, want)
	}
}
