package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/compose/composetest"
	"github.com/launchplane/launchplane/providers/compose/enginetest"
	"github.com/launchplane/launchplane/providers/providertest"
	"github.com/launchplane/launchplane/redact"
)

func TestMain(m *testing.M) {
	composetest.MainIfStub()
	code := m.Run()
	if err := enginetest.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

const providerName = "compose-conf"

// open builds the provider as apply does, over a fresh stub docker whose
// engine is up or down. cfg adds config fields.
func open(t *testing.T, engineUp bool, cfg map[string]any) (*Provider, *composetest.Stub, string) {
	t.Helper()
	dir := t.TempDir()
	stub := composetest.Install(t, filepath.Join(dir, "stub"))
	stub.SetEngine(t, engineUp)
	c := map[string]any{"dir": "projects", "docker": stub.Path}
	for k, v := range cfg {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := providers.Open("compose", providers.Config{Name: providerName, Raw: raw, ConfigDir: dir,
		Redactor: redact.New(providertest.CredentialCanary)})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Provider), stub, dir
}

func ctx(t *testing.T) context.Context { return t.Context() }

func TestConformance(t *testing.T) {
	t.Run("deployer", func(t *testing.T) {
		providertest.RunDeployer(t, providertest.Setup[providers.Deployer]{Provider: providerName,
			New: func(t *testing.T) (providers.Deployer, providertest.Backend) {
				p, stub, _ := open(t, true, map[string]any{"network": "edge"})
				return p, stub.Backend()
			}})
	})
	t.Run("jobs", func(t *testing.T) {
		providertest.RunJobs(t, providertest.Setup[providers.Jobs]{Provider: providerName,
			New: func(t *testing.T) (providers.Jobs, providertest.Backend) {
				p, stub, _ := open(t, true, nil)
				return p, stub.Backend()
			},
			Prepare: func(t *testing.T, j providers.Jobs, target string) {
				ref := providers.AppRef{Target: target, Name: providers.ObjectName(target)}
				if _, _, err := j.(*Provider).Deploy(ctx(t), testApp(ref, providertest.Image1)); err != nil {
					t.Fatal(err)
				}
			}})
	})
}

const (
	targetA = "shop/testing"
	nameA   = "shop-testing"
	imageA  = "ghcr.io/acme/shop@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	imageB  = "ghcr.io/acme/shop@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func testApp(ref providers.AppRef, image string) providers.App {
	return providers.App{AppRef: ref, Image: image, Port: 8080,
		Env: map[string]string{
			"DATABASE_URL":  "postgres://shop:" + providertest.Canary + "@db/shop",
			"SMTP_PASSWORD": "it's " + providertest.Canary + ` \ "$HOME"`,
			"LOG_LEVEL":     "info",
			"GREETING":      "hello $USER, it's me",
		},
		SecretKeys:     []string{"DATABASE_URL", "SMTP_PASSWORD"},
		IdempotencyKey: "0123456789abcdef0123456789abcdef",
		Title:          "deployment-20261123T120000Z-shop-testing-abc123"}
}

func appA() providers.App { return testApp(providers.AppRef{Target: targetA, Name: nameA}, imageA) }

func checkNoCanary(t *testing.T, what string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	providertest.CheckNoSecret(t, what, string(raw))
	// JSON escapes quotes; check the plain form too.
	if s, ok := v.(string); ok {
		providertest.CheckNoSecret(t, what, s)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// golden compares got with testdata/name; LAUNCHPLANE_UPDATE=1 rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("LAUNCHPLANE_UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, path); got != want {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderOnly(t *testing.T) {
	t.Parallel()
	// The engine answers: render-only is what the Provider declares, not
	// what the engine's absence decides.
	p, stub, dir := open(t, true, map[string]any{"network": "edge", "mode": "render-only"})
	a := appA()

	why := p.Limitation(ctx(t))
	for _, want := range []string{"compose " + providerName, "mode render-only", "nothing runs", "health is skipped"} {
		if !strings.Contains(why, want) {
			t.Errorf("limitation %q lacks %q", why, want)
		}
	}

	id, ev, err := p.Deploy(ctx(t), a)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if id != nameA {
		t.Errorf("id %q, want %q", id, nameA)
	}
	if ev.Mode != "render-only" {
		t.Errorf("evidence %v: want mode render-only", ev)
	}
	if ev.ComposeFile != "projects/shop-testing/compose.yaml" {
		t.Errorf("evidence compose_file %v", ev.ComposeFile)
	}
	checkNoCanary(t, "evidence", ev)

	projDir := filepath.Join(dir, "projects", nameA)
	composeYAML := readFile(t, filepath.Join(projDir, "compose.yaml"))
	golden(t, "render-only.compose.yaml", composeYAML)
	checkNoCanary(t, "compose.yaml", composeYAML)

	envPath := filepath.Join(projDir, ".env")
	fi, err := os.Stat(envPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode %v, want 0600", fi.Mode().Perm())
	}
	dotenv := readFile(t, envPath)
	if !strings.Contains(dotenv, "postgres://shop:"+providertest.Canary+"@db/shop") {
		t.Errorf(".env lacks the secret value:\n%s", dotenv)
	}
	golden(t, "render-only.env", strings.ReplaceAll(dotenv, providertest.Canary, "<canary>"))
	entries, err := os.ReadDir(projDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{".env", "compose.yaml"}) {
		t.Errorf("project dir holds %v, want .env and compose.yaml only (no temporary file left)", names)
	}

	// Observe reads the rendered files back.
	st, err := p.Observe(ctx(t), a.AppRef)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	want := providers.AppStatus{Exists: true, ID: nameA, Image: imageA,
		Env:            map[string]string{"LOG_LEVEL": "info", "GREETING": "hello $USER, it's me"},
		SecretKeys:     []string{"DATABASE_URL", "SMTP_PASSWORD"},
		IdempotencyKey: a.IdempotencyKey}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("observe:\n got %+v\nwant %+v", st, want)
	}

	// Jobs cannot run.
	_, err = p.RunJob(ctx(t), providers.Job{Target: targetA, AppName: nameA, Name: "post-deploy", Command: []string{"true"}})
	providertest.CheckError(t, err, providerName, "job", targetA)
	if err == nil || !strings.Contains(err.Error(), "mode render-only: jobs cannot run") {
		t.Errorf("job of a render-only provider: %v", err)
	}
	if jobs, err := p.RunningJobs(ctx(t), targetA); err != nil || len(jobs) != 0 {
		t.Errorf("running jobs of a render-only provider: %v, %v", jobs, err)
	}

	if err := p.Destroy(ctx(t), a.AppRef); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := os.Stat(projDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("project dir after destroy: %v", err)
	}

	// docker was never run.
	if calls := stub.Calls(t); len(calls) != 0 {
		t.Errorf("calls of a render-only provider: %q", calls)
	}
}

func TestDockerArgv(t *testing.T) {
	t.Parallel()
	p, stub, dir := open(t, true, map[string]any{"network": "edge", "waitTimeout": "90s"})
	a := appA()
	file := filepath.Join(dir, "projects", nameA, "compose.yaml")

	if why := p.Limitation(ctx(t)); why != "" {
		t.Errorf("limitation with an engine: %q", why)
	}
	id, ev, err := p.Deploy(ctx(t), a)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if id != nameA || ev.Mode != "deploy" || ev.Engine != composetest.ServerVersion {
		t.Errorf("deploy: id %q evidence %v", id, ev)
	}
	if ev.Up == nil || !slices.Contains(*ev.Up, "Container shop-testing-app-1 Healthy") {
		t.Errorf("evidence of up: %v", ev.Up)
	}
	checkNoCanary(t, "evidence", ev)
	prj := stub.State(t).Projects[nameA]
	if prj == nil || prj.Image != imageA || prj.Labels[labelTarget] != targetA || prj.Labels[labelIdempotencyKey] != a.IdempotencyKey ||
		!reflect.DeepEqual(prj.Networks, []string{"edge"}) {
		t.Fatalf("engine after up: %+v", prj)
	}

	st, err := p.Observe(ctx(t), a.AppRef)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if !st.Exists || st.Image != imageA || st.IdempotencyKey != a.IdempotencyKey || st.ID != nameA ||
		!reflect.DeepEqual(st.SecretKeys, []string{"DATABASE_URL", "SMTP_PASSWORD"}) || st.Env["LOG_LEVEL"] != "info" {
		t.Errorf("observe: %+v", st)
	}

	job := providers.Job{Target: targetA, AppName: nameA, Name: "post-deploy",
		Command:    []string{"odoo", "-d", "shop", "-u", "base", "--stop-after-init"},
		Env:        map[string]string{"LP_SETTING_TOKEN": providertest.Canary, "LP_MODE": "update"},
		SecretKeys: []string{"LP_SETTING_TOKEN"}}
	res, err := p.RunJob(ctx(t), job)
	if err != nil {
		t.Fatalf("run job: %v", err)
	}
	// The stub prints the values its environment gave each -e KEY.
	if !strings.Contains(res.Output, "LP_MODE=update") || !strings.Contains(res.Output, "LP_SETTING_TOKEN="+redact.Mask) {
		t.Errorf("job output %q: want LP_MODE's value and LP_SETTING_TOKEN's redacted", res.Output)
	}
	checkNoCanary(t, "job output", res.Output)

	stub.SetRunningJobs(t, composetest.RunningJob{Project: nameA, Job: "post-deploy", Container: "shop-testing-app-run-1a2b3c"},
		composetest.RunningJob{Project: "other-testing", Job: "sanitize", Container: "other-testing-app-run-4d5e6f"})
	jobs, err := p.RunningJobs(ctx(t), targetA)
	if err != nil || !reflect.DeepEqual(jobs, []string{"post-deploy (shop-testing-app-run-1a2b3c)"}) {
		t.Errorf("running jobs: %q, %v", jobs, err)
	}

	if err := p.Destroy(ctx(t), a.AppRef); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if len(stub.State(t).Projects) != 0 {
		t.Errorf("engine after down: %+v", stub.State(t).Projects)
	}
	if err := p.Destroy(ctx(t), a.AppRef); err != nil {
		t.Fatalf("second destroy: %v", err)
	}

	want := []string{
		"docker version --format {{.Server.Version}}",
		"docker compose -p shop-testing -f " + file + " up -d --wait --remove-orphans --wait-timeout 90",
		"docker compose -p shop-testing ps -a --format json",
		"docker inspect --type container " + prj.ContainerID[:12],
		"docker compose -p shop-testing -f " + file + " run --rm -T -l launchplane.job=post-deploy -e LP_MODE -e LP_SETTING_TOKEN app odoo -d shop -u base --stop-after-init",
		"docker ps --filter label=com.docker.compose.project=shop-testing --filter label=com.docker.compose.oneoff=True --format json",
		"docker compose -p shop-testing -f " + file + " down --remove-orphans",
		"docker compose -p shop-testing down --remove-orphans",
	}
	calls := stub.Calls(t)
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	// No secret value ever reaches docker's command line.
	for _, c := range calls {
		providertest.CheckNoSecret(t, "argv", c)
		if strings.Contains(c, "update") {
			t.Errorf("a job env value is on the command line: %s", c)
		}
	}
}

func TestRedeployUnchangedKeepsContainer(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	a := appA()
	if _, _, err := p.Deploy(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	first := stub.State(t).Projects[nameA].ContainerID
	_, ev, err := p.Deploy(ctx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	if got := stub.State(t).Projects[nameA].ContainerID; got != first {
		t.Errorf("the same deploy twice recreated the container: rendering is not deterministic")
	}
	if ev.Up == nil || !reflect.DeepEqual(*ev.Up, []string{"Container shop-testing-app-1 Healthy"}) {
		t.Errorf("evidence of an unchanged up: %v", ev.Up)
	}
	a.Image = providertest.Image2
	if _, _, err := p.Deploy(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	if got := stub.State(t).Projects[nameA]; got.ContainerID == first || got.Image != providertest.Image2 {
		t.Errorf("a new image did not recreate the container: %+v", got)
	}
}

func TestObservePSArray(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	stub.PSArray(t, true)
	st, err := p.Observe(ctx(t), appA().AppRef)
	if err != nil || st.Exists {
		t.Fatalf("observe of a missing app (array form): %+v, %v", st, err)
	}
	if _, _, err := p.Deploy(ctx(t), appA()); err != nil {
		t.Fatal(err)
	}
	st, err = p.Observe(ctx(t), appA().AppRef)
	if err != nil || !st.Exists || st.Image != imageA {
		t.Fatalf("observe (array form): %+v, %v", st, err)
	}
}

func TestJobFailure(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	a := appA()
	secret := "hunter2-" + providertest.Canary
	a.Env["SMTP_PASSWORD"] = secret
	if _, _, err := p.Deploy(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	// Another run (another process): the app's secret values were never
	// handed to this instance; it learns them from the rendered .env.
	q := &Provider{name: p.name, dir: p.dir, configDir: p.configDir, docker: p.docker, probeTimeout: p.probeTimeout,
		red: redact.New(providertest.CredentialCanary)}
	stub.FailExit(t, "run", 3, "odoo: module acme_shop failed to update\nsmtp login refused for "+secret)
	res, err := q.RunJob(ctx(t), providers.Job{Target: targetA, Name: "post-deploy", Command: []string{"odoo", "-u", "acme_shop"}})
	providertest.CheckError(t, err, providerName, "job", targetA)
	if !errors.Is(err, providers.ErrJobFailed) {
		t.Errorf("error %v does not wrap ErrJobFailed", err)
	}
	if res.ExitCode != 3 || !strings.Contains(err.Error(), "exit code 3") {
		t.Errorf("exit code %d, error %v: want 3", res.ExitCode, err)
	}
	if !strings.Contains(err.Error(), "module acme_shop failed") || !strings.Contains(res.Output, "smtp login refused for "+redact.Mask) {
		t.Errorf("error %v / output %q lack the output's redacted tail", err, res.Output)
	}
	checkNoCanary(t, "job output", res.Output)
}

func TestObserveIgnoresOneOffs(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	stub.SetRunningJobs(t, composetest.RunningJob{Project: nameA, Job: "post-deploy", Container: "shop-testing-app-run-1a2b3c"})
	st, err := p.Observe(ctx(t), appA().AppRef)
	if err != nil || st.Exists {
		t.Fatalf("observe with only a job running: %+v, %v", st, err)
	}
	if _, _, err := p.Deploy(ctx(t), appA()); err != nil {
		t.Fatal(err)
	}
	st, err = p.Observe(ctx(t), appA().AppRef)
	if err != nil || !st.Exists || st.Image != imageA {
		t.Fatalf("observe with a job running: %+v, %v", st, err)
	}
}

// TestCanceledProbeIsNoAnswer: a probe cut short by the caller's context
// says nothing about the engine, so it is not remembered.
func TestCanceledProbeIsNoAnswer(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	hung := stub.Hang(t, "version")
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := p.Observe(c, appA().AppRef); done <- err }()
	select {
	case <-hung:
		cancel()
	case err := <-done:
		t.Fatalf("observe returned before docker version was called: %v", err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("observe with a canceled context: %v", err)
	}
	if _, err := p.requireEngine(ctx(t)); err != nil {
		t.Errorf("after the canceled probe: %v, want the engine found", err)
	}
}

// TestDeployModeWithoutEngine: in mode deploy (the default) an engine that
// does not answer fails every operation that needs it, naming the
// provider, the operation and the target, and nothing is written; the
// plan's Limitation does not ask docker at all.
func TestDeployModeWithoutEngine(t *testing.T) {
	t.Parallel()
	p, stub, dir := open(t, false, nil)
	a := appA()
	if why := p.Limitation(ctx(t)); why != "" {
		t.Errorf("limitation in mode deploy: %q", why)
	}
	if calls := stub.Calls(t); len(calls) != 0 {
		t.Errorf("limitation ran docker: %q", calls)
	}
	_, ev, err := p.Deploy(ctx(t), a)
	providertest.CheckError(t, err, providerName, "deploy", targetA)
	if err == nil || !strings.Contains(err.Error(), "no docker engine answers") || !strings.Contains(err.Error(), "Cannot connect to the Docker daemon") ||
		!strings.Contains(err.Error(), "nothing was deployed") {
		t.Errorf("deploy without an engine: %v", err)
	}
	checkNoCanary(t, "evidence", ev)
	if _, err := os.Stat(filepath.Join(dir, "projects")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deploy without an engine wrote files: %v", err)
	}
	_, err = p.Observe(ctx(t), a.AppRef)
	providertest.CheckError(t, err, providerName, "observe", targetA)
	providertest.CheckError(t, p.Destroy(ctx(t), a.AppRef), providerName, "destroy", targetA)
	_, err = p.RunJob(ctx(t), providers.Job{Target: targetA, AppName: nameA, Command: []string{"true"}})
	providertest.CheckError(t, err, providerName, "job", targetA)
	_, err = p.RunningJobs(ctx(t), targetA)
	providertest.CheckError(t, err, providerName, "job", targetA)
	// Every docker call was the one probe.
	for _, c := range stub.Calls(t) {
		if c != "docker version --format {{.Server.Version}}" {
			t.Errorf("call without an engine: %s", c)
		}
	}
}

// TestFailedUpPutsPreviousBack: an up whose new container never turns
// healthy leaves it running in place of the old one; the provider puts
// the previous project back, files and container, and says so. A first
// deploy that fails is taken down.
func TestFailedUpPutsPreviousBack(t *testing.T) {
	t.Parallel()
	p, stub, dir := open(t, true, map[string]any{"network": "edge"})
	a := appA()
	if _, _, err := p.Deploy(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	projDir := filepath.Join(dir, "projects", nameA)
	oldCompose, oldEnv := readFile(t, filepath.Join(projDir, composeFile)), readFile(t, filepath.Join(projDir, envFile))
	b := a
	b.Image = imageB
	b.IdempotencyKey = "fedcba9876543210fedcba9876543210"
	b.Env = map[string]string{"LOG_LEVEL": "debug", "DATABASE_URL": a.Env["DATABASE_URL"], "SMTP_PASSWORD": a.Env["SMTP_PASSWORD"]}
	stub.Fail(t, "up", "dependency failed to start: container shop-testing-app-1 is unhealthy")
	_, ev, err := p.Deploy(ctx(t), b)
	providertest.CheckError(t, err, providerName, "deploy", targetA)
	if err == nil || !strings.Contains(err.Error(), "is unhealthy") || !strings.Contains(err.Error(), "the previous project ("+imageA+") runs again") {
		t.Errorf("failed deploy: %v", err)
	}
	if r := ev.Restore; r == nil || r.Outcome != "done" || r.Image != imageA {
		t.Errorf("evidence of the restore: %v", ev.Restore)
	}
	checkNoCanary(t, "evidence", ev)
	prj := stub.State(t).Projects[nameA]
	if prj == nil || prj.Image != imageA || prj.Health != "healthy" || prj.Labels[labelIdempotencyKey] != a.IdempotencyKey {
		t.Errorf("engine after the failed deploy: %+v", prj)
	}
	if got := readFile(t, filepath.Join(projDir, composeFile)); got != oldCompose {
		t.Errorf("compose.yaml not put back:\n%s", got)
	}
	if got := readFile(t, filepath.Join(projDir, envFile)); got != oldEnv {
		t.Errorf(".env not put back:\n%s", got)
	}
	st, err := p.Observe(ctx(t), a.AppRef)
	if err != nil || st.Image != imageA || st.IdempotencyKey != a.IdempotencyKey || st.Env["LOG_LEVEL"] != "info" {
		t.Errorf("observe after the restore: %+v, %v", st, err)
	}

	// A first deploy that fails leaves nothing running.
	c := testApp(providers.AppRef{Target: "shop/prod", Name: "shop-prod"}, imageA)
	stub.Fail(t, "up", "dependency failed to start: container shop-prod-app-1 is unhealthy")
	_, ev, err = p.Deploy(ctx(t), c)
	if err == nil || !strings.Contains(err.Error(), "the new project was taken down") {
		t.Errorf("failed first deploy: %v", err)
	}
	if prj := stub.State(t).Projects["shop-prod"]; prj != nil {
		t.Errorf("engine after a failed first deploy: %+v", prj)
	}
	if _, err := os.Stat(filepath.Join(dir, "projects", "shop-prod")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("project dir after a failed first deploy: %v", err)
	}
	if st, err := p.Observe(ctx(t), c.AppRef); err != nil || st.Exists {
		t.Errorf("observe after a failed first deploy: %+v, %v", st, err)
	}
}

// TestObserveUnsettledIsNotDone: a container left unhealthy (an up
// killed while it waited) reports no idempotency key, so apply does not
// take its deploy as done.
func TestObserveUnsettledIsNotDone(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	a := appA()
	stub.Fail(t, "up", "killed") // the container is replaced, then up fails
	stub.Fail(t, "down", "no restore in this test")
	if _, _, err := p.Deploy(ctx(t), a); err == nil {
		t.Fatal("deploy succeeded")
	}
	st, err := p.Observe(ctx(t), a.AppRef)
	if err != nil || !st.Exists || st.Image != imageA || st.IdempotencyKey != "" {
		t.Errorf("observe of an unhealthy container: %+v, %v", st, err)
	}
}

func TestJobOfAMissingProject(t *testing.T) {
	t.Parallel()
	p, _, _ := open(t, true, nil)
	_, err := p.RunJob(ctx(t), providers.Job{Target: targetA, Name: "post-deploy", Command: []string{"true"}})
	providertest.CheckError(t, err, providerName, "job", targetA)
	if !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("job of a project never deployed: %v, want ErrNotFound", err)
	}
}

func TestCancelWhileRunning(t *testing.T) {
	t.Parallel()
	p, stub, _ := open(t, true, nil)
	if p.Limitation(ctx(t)) != "" {
		t.Fatal("no engine")
	}
	hung := stub.Hang(t, "up")
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := p.Deploy(c, appA())
		done <- err
	}()
	select {
	case <-hung:
		cancel()
	case err := <-done:
		t.Fatalf("deploy returned before docker compose up was called: %v", err)
	}
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("deploy canceled while docker runs: %v, want context.Canceled", err)
	}
	providertest.CheckError(t, err, providerName, "deploy", targetA)
}

func TestProjectNameValidation(t *testing.T) {
	t.Parallel()
	p, stub, dir := open(t, true, nil)
	for _, name := range []string{"Shop-Testing", "../evil", "-shop", "shop.testing", "shop testing", "_shop"} {
		a := appA()
		a.Name = name
		_, _, err := p.Deploy(ctx(t), a)
		providertest.CheckError(t, err, providerName, "deploy", targetA)
		if err == nil || !strings.Contains(err.Error(), "invalid compose project name") {
			t.Errorf("deploy as %q: %v", name, err)
		}
		_, err = p.Observe(ctx(t), a.AppRef)
		providertest.CheckError(t, err, providerName, "observe", targetA)
		providertest.CheckError(t, p.Destroy(ctx(t), a.AppRef), providerName, "destroy", targetA)
		_, err = p.RunJob(ctx(t), providers.Job{Target: targetA, AppName: name})
		providertest.CheckError(t, err, providerName, "job", targetA)
	}
	if _, err := os.Stat(filepath.Join(dir, "projects")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("invalid names rendered something: %v", err)
	}
	if calls := stub.Calls(t); len(calls) != 0 {
		t.Errorf("invalid names ran docker: %q", calls)
	}
	// Valid names: digits first, underscores.
	for _, name := range []string{"0shop", "shop_testing", "shop-pr-12"} {
		if err := validateProjectName(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEnvKeyValidation(t *testing.T) {
	t.Parallel()
	p, _, _ := open(t, true, nil)
	for _, k := range []string{"BAD-KEY", "1ST", "A=B", "COMPOSE_FILE", "X\nY"} {
		a := appA()
		a.Env = map[string]string{k: "v"}
		a.SecretKeys = nil
		_, _, err := p.Deploy(ctx(t), a)
		providertest.CheckError(t, err, providerName, "deploy", targetA)
	}
	if _, _, err := p.Deploy(ctx(t), appA()); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"A=B", "PATH", "DOCKER_HOST", "COMPOSE_PROJECT_NAME", "-e"} {
		_, err := p.RunJob(ctx(t), providers.Job{Target: targetA, Env: map[string]string{k: "v"}})
		providertest.CheckError(t, err, providerName, "job", targetA)
	}
}

func TestDockerHost(t *testing.T) {
	t.Parallel()
	const host = "tcp://engine.example.test:2376"
	p, stub, _ := open(t, true, map[string]any{"dockerHost": host})
	stub.RequireDockerHost(t, host)
	if _, err := p.requireEngine(ctx(t)); err != nil {
		t.Errorf("with dockerHost %s: %v", host, err)
	}
	q, _, _ := open(t, true, nil)
	q.docker = stub.Path // the engine that wants DOCKER_HOST
	if _, err := q.requireEngine(ctx(t)); err == nil {
		t.Errorf("without dockerHost the engine answered")
	}
}

func TestNoDockerBinary(t *testing.T) {
	t.Parallel()
	p, _, dir := open(t, true, map[string]any{"docker": "bin/no-such-docker"})
	if p.docker != filepath.Join(dir, "bin", "no-such-docker") {
		t.Errorf("relative docker path %q", p.docker)
	}
	_, _, err := p.Deploy(ctx(t), appA())
	providertest.CheckError(t, err, providerName, "deploy", targetA)
	if err == nil || !strings.Contains(err.Error(), "no docker binary") {
		t.Errorf("deploy without docker: %v", err)
	}
}

// TestDockerFromPATH runs "docker" found on PATH, as configured by
// default; it changes the process environment, so it is not parallel.
func TestDockerFromPATH(t *testing.T) {
	p, stub, _ := open(t, true, map[string]any{"docker": nil})
	if p.docker != "docker" {
		t.Fatalf("default docker binary %q", p.docker)
	}
	t.Setenv("PATH", stub.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, err := p.requireEngine(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if calls := stub.Calls(t); len(calls) != 1 {
		t.Errorf("calls: %q", calls)
	}
}

// TestRunnerEnvDoesNotLeak checks docker's environment: the app's keys
// are removed from the inherited environment, so the runner's own
// variables cannot stand in for them, so are the COMPOSE_* variables
// that select another model, and DOCKER_HOST is the configured one. It changes the process environment: not parallel.
func TestRunnerEnvDoesNotLeak(t *testing.T) {
	t.Setenv("LOG_LEVEL", "from-the-runner")
	t.Setenv("DOCKER_HOST", "unix:///runner.sock")
	t.Setenv("COMPOSE_FILE", "/elsewhere/compose.yaml")
	t.Setenv("COMPOSE_PROJECT_NAME", "elsewhere")
	p := &Provider{dockerHost: "tcp://engine:2376"}
	env := p.environ(map[string]bool{"LOG_LEVEL": true}, map[string]string{"LP_MODE": "update"})
	var got []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "LOG_LEVEL" || k == "DOCKER_HOST" || k == "LP_MODE" || strings.HasPrefix(k, "COMPOSE_") {
			got = append(got, kv)
		}
	}
	want := []string{"DOCKER_HOST=tcp://engine:2376", "LP_MODE=update"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("environment %q, want %q", got, want)
	}
}

// TestRunnerEnvIsNotTheApps deploys and runs a job while the runner's
// environment holds one of the app's env keys: docker must not see it
// (the stub refuses, as older Compose let it win). It changes the
// process environment: not parallel.
func TestRunnerEnvIsNotTheApps(t *testing.T) {
	p, _, _ := open(t, true, nil)
	t.Setenv("LOG_LEVEL", "from-the-runner")
	if _, _, err := p.Deploy(ctx(t), appA()); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	// A job may set one of the app's keys itself.
	res, err := p.RunJob(ctx(t), providers.Job{Target: targetA, Name: "sanitize", Command: []string{"true"},
		Env: map[string]string{"GREETING": "from the job"}})
	if err != nil {
		t.Fatalf("job: %v", err)
	}
	if !strings.Contains(res.Output, "GREETING=from the job") {
		t.Errorf("job output %q", res.Output)
	}
}
