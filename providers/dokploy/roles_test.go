package dokploy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/dokploy/dokploytest"
)

func postDeployJob(env map[string]string, secret ...string) providers.Job {
	return providers.Job{Target: target, Name: "post-deploy",
		Command: []string{"odoo", "-d", "shop", "-u", "sale,stock", "--stop-after-init"}, Env: env, SecretKeys: secret}
}

func TestRunJob(t *testing.T) {
	p, srv := open(t, nil)
	a := shopApp(image1, "k")
	a.Env["ODOO_ADMIN_TOKEN"] = canary
	a.SecretKeys = []string{"DATABASE_URL", "ODOO_ADMIN_TOKEN"}
	deployOK(t, p, a)

	res, err := p.RunJob(t.Context(), postDeployJob(map[string]string{"ODOO_ADMIN_TOKEN": canary, "LOG_LEVEL": "info"}, "ODOO_ADMIN_TOKEN"))
	if err != nil {
		t.Fatalf("run job: %v", err)
	}
	scs := srv.Schedules(name)
	if len(scs) != 1 {
		t.Fatalf("schedules %+v", scs)
	}
	sc := scs[0]
	if sc.Name != "launchplane-post-deploy" || sc.Command != "odoo -d shop -u sale,stock --stop-after-init" || sc.ShellType != "sh" ||
		sc.Enabled || sc.CronExpression != neverCron || sc.ScheduleType != "application" {
		t.Errorf("schedule %+v", sc)
	}
	runs := srv.ScheduleRuns(name, sc.Name)
	if len(runs) != 1 || res.ID != runs[0].ID || res.ExitCode != 0 || !strings.Contains(res.Output, "ok") {
		t.Errorf("result %+v, runs %+v", res, runs)
	}
	for _, c := range srv.Calls() {
		if strings.Contains(c, canary) {
			t.Errorf("a secret reached a call: %s", c)
		}
	}

	// The same job again reuses its schedule; another command updates it.
	j := postDeployJob(nil)
	j.Command = []string{"sh", "-c", "echo it's done; exit 0"}
	if _, err := p.RunJob(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	scs = srv.Schedules(name)
	if len(scs) != 1 || scs[0].Command != `sh -c 'echo it'\''s done; exit 0'` {
		t.Errorf("schedules after a second run %+v", scs)
	}
}

func TestRunJobFails(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	srv.FailNextRun(name, "odoo: cannot connect with "+secretURL)
	res, err := p.RunJob(t.Context(), postDeployJob(nil))
	run := srv.ScheduleRuns(name, "launchplane-post-deploy")[0]
	wantError(t, err, fmt.Sprintf(`job shop/prod via dokploy-conf: job failed: run %s of schedule "launchplane-post-deploy" ended with status error: docker exec <container> sh -c odoo -d shop -u sale,stock --stop-after-init | odoo: cannot connect with [REDACTED]`, run.ID))
	if !errors.Is(err, providers.ErrJobFailed) {
		t.Errorf("%v does not wrap ErrJobFailed", err)
	}
	if res.ExitCode != 1 || res.ID != run.ID || !strings.Contains(res.Output, "[REDACTED]") {
		t.Errorf("result %+v", res)
	}
	noSecret(t, "job output", res.Output)
}

func TestRunJobEnvMustBeDeployed(t *testing.T) {
	p, _ := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	_, err := p.RunJob(t.Context(), postDeployJob(map[string]string{"LP_MODE": "update", "LP_SETTING_TOKEN": canary, "LOG_LEVEL": "debug", "DATABASE_URL": secretURL}, "LP_SETTING_TOKEN"))
	wantError(t, err, `job shop/prod via dokploy-conf: job env not in the environment of "shop-prod" (missing LP_MODE, LP_SETTING_TOKEN; different LOG_LEVEL): a Dokploy schedule runs with the app's environment only, so deploy these keys with the app`)
}

func TestRunJobWithoutApp(t *testing.T) {
	p, _ := open(t, nil)
	_, err := p.RunJob(t.Context(), postDeployJob(nil))
	wantError(t, err, `job shop/prod via dokploy-conf: no application named "shop-prod" in environment env-test: deploy the app before running jobs in it`)
}

func TestRunningJobs(t *testing.T) {
	p, srv := open(t, nil)
	if jobs, err := p.RunningJobs(t.Context(), target); err != nil || len(jobs) != 0 {
		t.Fatalf("running jobs without an app: %v, %v", jobs, err)
	}
	deployOK(t, p, shopApp(image1, "k"))
	if _, err := p.RunJob(t.Context(), postDeployJob(nil)); err != nil {
		t.Fatal(err)
	}
	if jobs, err := p.RunningJobs(t.Context(), target); err != nil || len(jobs) != 0 {
		t.Fatalf("running jobs after a finished run: %v, %v", jobs, err)
	}
	srv.AddScheduleRun(name, "launchplane-post-deploy", "running")
	if jobs, err := p.RunningJobs(t.Context(), target); err != nil || fmt.Sprint(jobs) != "[post-deploy]" {
		t.Fatalf("running jobs: %v, %v", jobs, err)
	}
}

func TestTakeBackup(t *testing.T) {
	p, srv := open(t, map[string]any{"backup": map[string]any{"destinationId": dokploytest.DestinationID,
		"databaseId": dokploytest.PostgresID, "prefix": "lp/", "keepLatestCount": 7}})
	b, err := p.TakeBackup(t.Context(), target, "shop")
	if err != nil {
		t.Fatal(err)
	}
	files := srv.Files(dokploytest.DestinationID)
	if len(files) != 1 {
		t.Fatalf("files %+v", files)
	}
	f := files[0]
	if !strings.HasPrefix(f.Path, dokploytest.PostgresApp+"/lp/shop-prod/shop/") || b.ID != f.Path || b.Size != f.Size ||
		b.Location != "dokploy-destination://dest-test/"+f.Path || b.Checksum != NoChecksum || b.Taken.IsZero() {
		t.Errorf("backup %+v of file %+v", b, f)
	}
	cfgs := srv.BackupConfigs()
	if len(cfgs) != 1 || cfgs[0].Enabled || cfgs[0].Schedule != neverCron || cfgs[0].Database != "shop" || cfgs[0].Prefix != "lp/shop-prod/shop" ||
		cfgs[0].DatabaseType != "postgres" || cfgs[0].DatabaseID != dokploytest.PostgresID || cfgs[0].KeepLatestCount != 7 {
		t.Errorf("backup configs %+v", cfgs)
	}
	b2, err := p.TakeBackup(t.Context(), target, "shop")
	if err != nil || b2.ID == b.ID || len(srv.BackupConfigs()) != 1 {
		t.Fatalf("second backup %+v (%v), configs %+v", b2, err, srv.BackupConfigs())
	}
	if _, ok := any(p).(providers.Restorer); ok {
		t.Error("the adapter claims restores, which Dokploy does not document")
	}
}

func TestTakeBackupErrors(t *testing.T) {
	p, _ := open(t, map[string]any{"backup": nil})
	_, err := p.TakeBackup(t.Context(), target, "shop")
	wantError(t, err, "backup shop/prod via dokploy-conf: backups need backup.destinationId (and backup.databaseId) in the provider config")

	p, srv := open(t, nil)
	srv.FailNext("backup.manualBackupPostgres", http.StatusBadRequest, "pg_dump: connection to "+secretURL+" refused")
	_, err = p.TakeBackup(t.Context(), target, "shop")
	// The URL was never handed to this adapter: its password goes by shape.
	wantError(t, err, "backup shop/prod via dokploy-conf: backup.manualBackupPostgres: dokploy answered 400 BAD_REQUEST: pg_dump: connection to postgres://shop:[REDACTED]@db/shop refused")
}

func TestRoutes(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	ev, err := p.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080, IdempotencyKey: "rk"})
	if err != nil {
		t.Fatal(err)
	}
	ds := srv.Domains(name)
	if len(ds) != 1 || !ds[0].HTTPS || ds[0].CertificateType != "letsencrypt" || ds[0].Path != "/" || ds[0].Port != 8080 ||
		ds[0].DomainType != "application" || ev.DomainID != ds[0].ID || !providers.Is(ev.Changed, true) {
		t.Fatalf("domains %+v, evidence %v", ds, ev)
	}
	rs, err := p.ListRoutes(t.Context(), target)
	if err != nil || len(rs) != 1 || rs[0] != (providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080}) {
		t.Fatalf("routes %+v, %v", rs, err)
	}
	// Applications apply domains at once: no deploy for a route.
	if rows := srv.Deployments(name); len(rows) != 1 {
		t.Errorf("a route deployed the application: %+v", rows)
	}

	p2 := openAt(t, srv, map[string]string{keyEnv: "lp-credential-4e8a2c6f1d9b"}, map[string]any{"https": false})
	if _, err := p2.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if ds := srv.Domains(name); len(ds) != 1 || ds[0].HTTPS || ds[0].CertificateType != "none" {
		t.Fatalf("domains with https false %+v", ds)
	}

	_, err = p.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name})
	wantError(t, err, "route shop/prod via dokploy-conf: route shop.example.com has no port")
}

func TestLogTail(t *testing.T) {
	got := logTail("first\n\n  second  \n"+strings.Repeat("é", 400)+"\nlast\n", 2, 101)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, "…é") || !strings.HasSuffix(got, "é | last") || len(got) > 101+len("…") {
		t.Errorf("tail %q", got)
	}
	if got := logTail("a\nb\nc\n", 2, 100); got != "b | c" {
		t.Errorf("tail %q", got)
	}
}
