package dokploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/dokploy/dokploytest"
	"github.com/launchplane/launchplane/providers/providertest"
)

const (
	canary = providertest.Canary
	target = "shop/prod"
	name   = "shop-prod"
	image1 = "ghcr.io/acme/shop@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	image2 = "ghcr.io/acme/shop@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var secretURL = "postgres://shop:" + canary + "@db/shop"

func shopApp(image, key string) providers.App {
	return providers.App{AppRef: providers.AppRef{Target: target, Name: name}, Image: image, Port: 8080,
		Env:            map[string]string{"LOG_LEVEL": "info", "DATABASE_URL": secretURL},
		SecretKeys:     []string{"DATABASE_URL"},
		IdempotencyKey: key, Title: "deployment-20260101T000000Z-shop-prod-a1b2c3"}
}

// noSecret fails when s holds a canary.
func noSecret(t *testing.T, what, s string) {
	t.Helper()
	providertest.CheckNoSecret(t, what, s)
}

// wantError checks err's exact message, that it is an OpError and holds
// no secret.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
	var oe *providers.OpError
	if !errors.As(err, &oe) {
		t.Errorf("%v is not a *providers.OpError", err)
	}
	noSecret(t, "error", err.Error())
}

func deployOK(t *testing.T, p *Provider, a providers.App) (string, providers.DeployFacts) {
	t.Helper()
	id, ev, err := p.Deploy(t.Context(), a)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return id, ev
}

func TestDeploySavesImageEnvAndWaits(t *testing.T) {
	p, srv := open(t, nil)
	id, ev := deployOK(t, p, shopApp(image1, "key-one-0123456789"))
	svc, ok := srv.Service(name)
	if !ok || svc.ID != id || svc.Kind != "application" || svc.EnvironmentID != dokploytest.EnvironmentID {
		t.Fatalf("service %+v (found %v), deploy returned %q", svc, ok, id)
	}
	if svc.DockerImage != image1 || svc.SourceType != "docker" || svc.RegistryUsername != "" {
		t.Errorf("docker provider: %+v", svc)
	}
	env := srv.Env(name)
	if env["LOG_LEVEL"] != "info" || env["DATABASE_URL"] != secretURL || env[SecretKeysVar] != "DATABASE_URL" || len(env) != 3 {
		t.Errorf("saved env keys %v", keys(env))
	}
	rows := srv.Deployments(name)
	if len(rows) != 1 || rows[0].Status != "done" || rows[0].ID != ev.DeploymentID || rows[0].Title != ev.DeploymentTitle {
		t.Fatalf("deployments %+v, evidence %v", rows, ev)
	}
	if !strings.HasPrefix(rows[0].Title, "deployment-20260101T000000Z-shop-prod-a1b2c3 key-one-0123") {
		t.Errorf("title %q does not start with the app title and the short key", rows[0].Title)
	}
	if rows[0].Description != "launchplane idempotency-key=key-one-0123456789" {
		t.Errorf("description %q", rows[0].Description)
	}
	// deploy answered nothing: the adapter read the list until the row
	// was done (created running on the first read, done on the second).
	if n := srv.Count("deployment.all"); n < 2 {
		t.Errorf("deployment.all read %d time(s), want at least 2", n)
	}
	st, err := p.Observe(t.Context(), providers.AppRef{Target: target, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if st.IdempotencyKey != "key-one-0123456789" || st.Image != image1 || st.ID != id {
		t.Errorf("observe: %+v", st)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The deploy waits for the row it started, found by its title: older done
// rows, newer by nothing but their place in the list, do not count.
func TestDeployWaitsForItsOwnDeployment(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "first"))
	srv.AddDeployment(name, "a manual redeploy", "", "done")

	srv.HoldDeploys()
	polled := srv.Polled(name, 3)
	type result struct {
		ev  providers.DeployFacts
		err error
	}
	res := make(chan result, 1)
	go func() {
		_, ev, err := p.Deploy(context.Background(), shopApp(image2, "second"))
		res <- result{ev, err}
	}()
	select {
	case r := <-res:
		t.Fatalf("deploy returned before its deployment ran: evidence %v, error %v", r.ev, r.err)
	case <-polled:
	}
	if q := srv.Queued(); q != 1 {
		t.Fatalf("%d deploys queued, want 1", q)
	}
	srv.ReleaseDeploys()
	r := <-res
	if r.err != nil {
		t.Fatalf("deploy: %v", r.err)
	}
	rows := srv.Deployments(name)
	if len(rows) != 3 || rows[0].Status != "done" || rows[0].ID != r.ev.DeploymentID || rows[0].Description != descriptionPrefix+"second" {
		t.Fatalf("deployments %+v, evidence %v", rows, r.ev)
	}
}

func TestDeployStatusErrorShowsRedactedLogTail(t *testing.T) {
	p, srv := open(t, nil)
	srv.FailNextDeploy(name, "error", "connecting to "+secretURL+" failed")
	id, ev, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	rows := srv.Deployments(name)
	if len(rows) != 1 {
		t.Fatalf("deployments %+v", rows)
	}
	wantError(t, err, fmt.Sprintf(`deploy shop/prod via dokploy-conf: deployment %q ended with status error: Error building: log: Deploying %s | connecting to [REDACTED] failed | Error occurred ❌, check the logs for details.`,
		rows[0].Title, image1))
	if svc, _ := srv.Service(name); id != svc.ID || ev.DeploymentStatus != "error" {
		t.Errorf("a failed deploy returned id %q, evidence %v", id, ev)
	}
	noSecret(t, "evidence", fmt.Sprint(ev))
}

func TestDeployCancelled(t *testing.T) {
	p, srv := open(t, nil)
	srv.FailNextDeploy(name, "cancelled", "cancelled by an operator")
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, fmt.Sprintf(`deploy shop/prod via dokploy-conf: deployment %q ended with status cancelled: log: Deploying %s | cancelled by an operator | Deployment cancelled`,
		srv.Deployments(name)[0].Title, image1))
}

// An empty (or any unknown) status is not success: the deploy waits until
// the timeout and names the last status it saw.
func TestDeployEmptyStatusFailsAtTimeout(t *testing.T) {
	for _, status := range []string{"", "running"} {
		t.Run(fmt.Sprintf("%q", status), func(t *testing.T) {
			p, srv := open(t, map[string]any{"timeout": "20ms"})
			srv.FailNextDeploy(name, status, "")
			_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
			rows := srv.Deployments(name)
			if len(rows) != 1 || rows[0].Status != status {
				t.Fatalf("deployments %+v", rows)
			}
			wantError(t, err, fmt.Sprintf(`deploy shop/prod via dokploy-conf: deployment %q has status %q after 20ms: not done; "shop-prod" holds the new image and env while its deployment has not finished: the next apply compares them`, rows[0].Title, status))
		})
	}
}

func TestDeployWhoseRowNeverAppears(t *testing.T) {
	p, srv := open(t, map[string]any{"timeout": "20ms"})
	srv.HoldDeploys()
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "0123456789abcdef"))
	if err == nil {
		t.Fatal("no error")
	}
	re := regexp.MustCompile(`^deploy shop/prod via dokploy-conf: no deployment titled "deployment-20260101T000000Z-shop-prod-a1b2c3 0123456789ab-[0-9a-f]{6}" appeared after 20ms: check Dokploy's deployment queue; "shop-prod" holds the new image and env while its deployment has not finished: the next apply compares them$`)
	if !re.MatchString(err.Error()) {
		t.Errorf("error %q does not match %s", err, re)
	}
}

func TestDeployCanceledWhileWaiting(t *testing.T) {
	p, srv := open(t, nil)
	srv.HoldDeploys()
	polled := srv.Polled(name, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, _, err := p.Deploy(ctx, shopApp(image1, "k"))
		errc <- err
	}()
	<-polled
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "deploy shop/prod via dokploy-conf: ") {
		t.Fatalf("deploy canceled while waiting: %v", err)
	}
}

func TestDeployEnvKeyNotPersisted(t *testing.T) {
	p, srv := open(t, nil)
	srv.DropNextEnvKey(name, "DATABASE_URL")
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, `deploy shop/prod via dokploy-conf: dokploy did not persist env key(s) DATABASE_URL of "shop-prod" after application.saveEnvironment`)
	if n := srv.Count("application.deploy"); n != 0 {
		t.Errorf("deployed %d time(s) with a lost env key", n)
	}
}

func TestUnauthorized(t *testing.T) {
	srv := dokploytest.New("the-right-key")
	t.Cleanup(srv.Close)
	p := openAt(t, srv, map[string]string{keyEnv: providertest.CredentialCanary}, nil)
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, "deploy shop/prod via dokploy-conf: dokploy refused the API key (401 Unauthorized): check apiKey")
	if !errors.Is(err, providers.ErrUnauthorized) {
		t.Errorf("%v does not wrap ErrUnauthorized", err)
	}
	_, err = p.Observe(t.Context(), providers.AppRef{Target: target, Name: name})
	wantError(t, err, "observe shop/prod via dokploy-conf: dokploy refused the API key (401 Unauthorized): check apiKey")

	// An organization mismatch is a 401 with another message.
	srv.SetAPIKey(providertest.CredentialCanary)
	id, _ := deployOK(t, p, shopApp(image1, "k"))
	srv.FailNext("application.one", http.StatusUnauthorized, "You are not authorized to access this application")
	_, err = p.Observe(t.Context(), providers.AppRef{Target: target, Name: name, ID: id})
	wantError(t, err, "observe shop/prod via dokploy-conf: application.one: dokploy denied access (401 Unauthorized): You are not authorized to access this application: check that apiKey belongs to the organization of environment env-test")
}

func TestAPIKeyReadOnFirstUse(t *testing.T) {
	srv := dokploytest.New(providertest.CredentialCanary)
	t.Cleanup(srv.Close)
	// No secret can be read (plan without --refresh): building works, a
	// call fails naming the reference.
	p := openAt(t, srv, map[string]string{}, nil)
	_, err := p.Observe(t.Context(), providers.AppRef{Target: target, Name: name})
	wantError(t, err, "observe shop/prod via dokploy-conf: cannot read the API key (apiKey, env DOKPLOY_API_KEY): environment variable DOKPLOY_API_KEY is not set")
	if calls := srv.Calls(); len(calls) != 0 {
		t.Errorf("calls without a key: %v", calls)
	}
}

func TestAPIErrorsAreRedactedAndExplained(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	srv.FailNext("application.saveEnvironment", http.StatusBadRequest, "invalid env DATABASE_URL="+secretURL)
	_, _, err := p.Deploy(t.Context(), shopApp(image2, "k2"))
	wantError(t, err, "deploy shop/prod via dokploy-conf: application.saveEnvironment: dokploy answered 400 BAD_REQUEST: invalid env DATABASE_URL=[REDACTED]; restored the previous image and env of \"shop-prod\"")
	var ae *providers.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Path != "/application.saveEnvironment" {
		t.Errorf("%v does not wrap the APIError: %+v", err, ae)
	}
}

func TestStaleRecordedIDFallsBackToName(t *testing.T) {
	p, srv := open(t, nil)
	id, _ := deployOK(t, p, shopApp(image1, "k"))
	a := shopApp(image2, "k2")
	a.ID = "app-404"
	id2, _ := deployOK(t, p, a)
	if id2 != id || len(srv.Services()) != 1 {
		t.Fatalf("deploy with a stale id: id %q (first %q), services %+v", id2, id, srv.Services())
	}
	st, err := p.Observe(t.Context(), a.AppRef)
	if err != nil || st.ID != id || st.Image != image2 {
		t.Fatalf("observe with a stale id: %+v, %v", st, err)
	}

	// A recorded id that exists is used without a look-up by name.
	before := srv.Count("environment.one")
	a.ID = id
	deployOK(t, p, a)
	if n := srv.Count("environment.one"); n != before {
		t.Errorf("environment.one read %d more time(s) with a valid recorded id", n-before)
	}
}

func TestDuplicateNamesAreAnError(t *testing.T) {
	p, srv := open(t, nil)
	one := srv.AddService("application", dokploytest.EnvironmentID, name)
	two := srv.AddService("application", dokploytest.EnvironmentID, name)
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, fmt.Sprintf(`deploy shop/prod via dokploy-conf: 2 application services named "shop-prod" in environment env-test (%s, %s): remove the extra ones`, one, two))
}

func TestObserveHidesSecretValues(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	// Someone adds a secret-shaped key by hand and redeploys from the UI.
	srv.AddDeployment(name, "Manual deployment", "", "done")
	st, err := p.Observe(t.Context(), providers.AppRef{Target: target, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Env) != 1 || st.Env["LOG_LEVEL"] != "info" || fmt.Sprint(st.SecretKeys) != "[DATABASE_URL]" {
		t.Errorf("observe: env %v secret keys %v", st.Env, st.SecretKeys)
	}
	if st.IdempotencyKey != "" {
		t.Errorf("the newest done deployment is not Launchplane's, yet observe reports key %q", st.IdempotencyKey)
	}
	noSecret(t, "observed status", fmt.Sprintf("%+v", st))
}

func TestDestroy(t *testing.T) {
	p, srv := open(t, nil)
	id, _ := deployOK(t, p, shopApp(image1, "k"))
	if err := p.Destroy(t.Context(), providers.AppRef{Target: target, Name: name, ID: id}); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Service(name); ok {
		t.Fatal("service still there")
	}
	if err := p.Destroy(t.Context(), providers.AppRef{Target: target, Name: name, ID: id}); err != nil {
		t.Fatalf("destroy of a destroyed app: %v", err)
	}
}

func TestRegistryCredentials(t *testing.T) {
	srv := dokploytest.New(providertest.CredentialCanary)
	t.Cleanup(srv.Close)
	const pw = "registry-pw-5f3e"
	p := openAt(t, srv, map[string]string{keyEnv: providertest.CredentialCanary, "REGISTRY_PASSWORD": pw},
		map[string]any{"registry": map[string]any{"url": "ghcr.io", "username": "bot", "password": map[string]string{"fromEnv": "REGISTRY_PASSWORD"}}})
	deployOK(t, p, shopApp(image1, "k"))
	svc, _ := srv.Service(name)
	if svc.RegistryUsername != "bot" || svc.RegistryURL != "ghcr.io" {
		t.Errorf("registry: %+v", svc)
	}
	srv.FailNext("application.saveDockerProvider", http.StatusBadRequest, "cannot log in with "+pw)
	_, _, err := p.Deploy(t.Context(), shopApp(image2, "k"))
	wantError(t, err, "deploy shop/prod via dokploy-conf: application.saveDockerProvider: dokploy answered 400 BAD_REQUEST: cannot log in with [REDACTED]; restored the previous image and env of \"shop-prod\"")
}

func TestCompose(t *testing.T) {
	p, srv := open(t, map[string]any{"serviceType": "compose"})
	id, _ := deployOK(t, p, shopApp(image1, "k"))
	svc, _ := srv.Service(name)
	if svc.Kind != "compose" || svc.ID != id || svc.SourceType != "raw" || !strings.Contains(svc.ComposeFile, "image: ${LAUNCHPLANE_IMAGE") ||
		!strings.Contains(svc.ComposeFile, "  app:\n") {
		t.Fatalf("compose service %+v", svc)
	}
	env := srv.Env(name)
	if env[ImageVar] != image1 || env["DATABASE_URL"] != secretURL || env[SecretKeysVar] != "DATABASE_URL" {
		t.Errorf("compose env keys %v", keys(env))
	}
	if rows := srv.Deployments(name); len(rows) != 1 || rows[0].Status != "done" {
		t.Fatalf("deployments %+v", rows)
	}
	deployOK(t, p, shopApp(image2, "k2"))
	st, err := p.Observe(t.Context(), providers.AppRef{Target: target, Name: name})
	if err != nil || st.Image != image2 || st.IdempotencyKey != "k2" || len(st.Env) != 1 {
		t.Fatalf("observe: %+v, %v", st, err)
	}

	// Compose domains apply on the next deploy: a route change redeploys.
	ev, err := p.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	ds := srv.Domains(name)
	if len(ds) != 1 || ds[0].ServiceName != "app" || ds[0].DomainType != "compose" || ds[0].Port != 8080 || ev.Redeployed != true {
		t.Fatalf("domains %+v, evidence %v", ds, ev)
	}
	if rows := srv.Deployments(name); len(rows) != 3 || rows[0].Status != "done" || rows[0].Description != descriptionPrefix+"k2" {
		t.Fatalf("deployments after a route change: %+v", rows)
	}
	if st, err := p.Observe(t.Context(), providers.AppRef{Target: target, Name: name}); err != nil || st.IdempotencyKey != "k2" {
		t.Fatalf("observe after a route change: %+v, %v", st, err)
	}
	if ev, err := p.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080}); err != nil || !providers.Is(ev.Changed, false) {
		t.Fatalf("unchanged route: %v, %v", ev, err)
	}
	if rows := srv.Deployments(name); len(rows) != 3 {
		t.Errorf("an unchanged route redeployed: %d deployments", len(rows))
	}

	// Jobs run in the compose service's container.
	if _, err := p.RunJob(t.Context(), providers.Job{Target: target, Name: "migrate", Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if scs := srv.Schedules(name); len(scs) != 1 || scs[0].ScheduleType != "compose" || scs[0].ServiceName != "app" {
		t.Fatalf("schedules %+v", scs)
	}
}

func TestComposeFileWithoutImageVariable(t *testing.T) {
	p, srv := open(t, map[string]any{"serviceType": "compose"})
	srv.AddService("compose", dokploytest.EnvironmentID, name)
	srv.SetComposeFile(name, "services:\n  app:\n    image: nginx\n")
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, `deploy shop/prod via dokploy-conf: the compose file of "shop-prod" does not use ${LAUNCHPLANE_IMAGE}: the image Launchplane deploys would not reach it`)
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		raw, want string
	}{
		{`{"url":"https://d.example.com","apiKey":{"fromEnv":"K"},"environmentId":"e","timeout":"soon"}`, `config: timeout "soon" is not a positive duration`},
		{`{"url":"https://d.example.com","apiKey":{"fromEnv":"K"},"environmentId":"e","bogus":1}`, `config: json: unknown field "bogus"`},
		{`{"url":"https://d.example.com","environmentId":"e"}`, `config: url, apiKey and environmentId are required`},
		{`{"url":"ftp://d.example.com","apiKey":{"fromEnv":"K"},"environmentId":"e"}`, `config: url "ftp://d.example.com" is not an http(s) URL`},
	} {
		_, err := New(providers.Config{Name: "d", Raw: []byte(c.raw)})
		if err == nil || err.Error() != c.want {
			t.Errorf("config %s: error %v, want %q", c.raw, err, c.want)
		}
	}
	info, ok := providers.Lookup("dokploy")
	if !ok || info.New == nil || !info.Has(providers.RoleBackups) {
		t.Fatalf("registration: %+v", info)
	}
}
