package dokploy

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/dokploy/dokploytest"
)

// Tests of behaviour read from Dokploy's own source (v0.30.2-51), which
// the stand-in follows; each names the case of issue 13 it covers.

// A compose backup's dump command comes only from backup.metadata: the
// adapter sends it on create and repairs a configuration without it.
func TestComposeBackupSendsMetadata(t *testing.T) {
	cfg := map[string]any{"serviceType": "compose",
		"backup": map[string]any{"destinationId": dokploytest.DestinationID, "serviceName": "db", "databaseUser": "odoo"}}
	p, srv := open(t, cfg)
	deployOK(t, p, shopApp(image1, "k"))
	if _, err := p.TakeBackup(t.Context(), target, "shop"); err != nil {
		t.Fatal(err)
	}
	cfgs := srv.BackupConfigs()
	if len(cfgs) != 1 {
		t.Fatalf("backup configs %+v", cfgs)
	}
	pg, _ := cfgs[0].Metadata["postgres"].(map[string]any)
	if pg["databaseUser"] != "odoo" || cfgs[0].ServiceName != "db" || cfgs[0].BackupType != "compose" {
		t.Errorf("backup config %+v", cfgs[0])
	}

	// A configuration an older Launchplane made, without metadata, is
	// repaired with backup.update and the backup is taken.
	p2, srv2 := open(t, cfg)
	deployOK(t, p2, shopApp(image1, "k"))
	if _, err := p2.TakeBackup(t.Context(), target, "shop"); err != nil {
		t.Fatal(err)
	}
	id := srv2.BackupConfigs()[0].ID
	srv2.ClearBackupMetadata(id)
	if _, err := p2.TakeBackup(t.Context(), target, "shop"); err != nil {
		t.Fatalf("backup of a configuration without metadata: %v", err)
	}
	if n := srv2.Count("backup.update"); n != 1 {
		t.Errorf("backup.update called %d times", n)
	}
	if cfgs := srv2.BackupConfigs(); len(cfgs) != 1 || cfgs[0].Metadata == nil {
		t.Errorf("after the repair: %+v", cfgs)
	}
}

func TestComposeBackupNeedsDatabaseUser(t *testing.T) {
	p, srv := open(t, map[string]any{"serviceType": "compose",
		"backup": map[string]any{"destinationId": dokploytest.DestinationID, "serviceName": "db"}})
	deployOK(t, p, shopApp(image1, "k"))
	_, err := p.TakeBackup(t.Context(), target, "shop")
	wantError(t, err, "backup shop/prod via dokploy-conf: compose backups need backup.databaseUser in the provider config: Dokploy builds the dump command of a compose service from it")
	if n := len(srv.BackupConfigs()); n != 0 {
		t.Errorf("%d backup configs created", n)
	}
}

// listBackupFiles runs rclone lsjson without --hash: the backup says it
// has no checksum instead of leaving the field empty.
func TestBackupChecksumIsHonest(t *testing.T) {
	p, _ := open(t, nil)
	b, err := p.TakeBackup(t.Context(), target, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if b.Checksum != NoChecksum {
		t.Errorf("checksum %q, want %q", b.Checksum, NoChecksum)
	}
}

// The version is probed when the provider opens; older releases are
// refused before anything is written.
func TestVersionFloor(t *testing.T) {
	for _, v := range []string{"v0.29.13", "v0.28.0", "v0.24.9"} {
		p, srv := open(t, nil)
		srv.SetVersion(v)
		_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
		wantError(t, err, "deploy shop/prod via dokploy-conf: dokploy "+v+" is older than "+MinVersion+", the oldest release Launchplane supports: upgrade Dokploy")
		if n := len(srv.Services()); n != 0 {
			t.Errorf("%s: %d services created", v, n)
		}
	}
	p, srv := open(t, nil)
	srv.SetVersion("v0.29.14")
	deployOK(t, p, shopApp(image1, "k"))
	if n := srv.Count("settings.getDokployVersion"); n != 1 {
		t.Errorf("version probed %d times", n)
	}
	deployOK(t, p, shopApp(image2, "k2"))
	if n := srv.Count("settings.getDokployVersion"); n != 1 {
		t.Errorf("version probed %d times after two deploys", n)
	}
}

// A 404 from an unknown procedure (trpc-openapi's "Not found") is not a
// missing object: destroy and route delete fail instead of succeeding.
func TestUnknownProcedureIsNotNotFound(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	if _, err := p.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080}); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("domain.delete", http.StatusNotFound, "Not found")
	err := p.DeleteRoute(t.Context(), target, "shop.example.com")
	wantError(t, err, "delete route shop/prod via dokploy-conf: domain.delete: dokploy has no such procedure (404 Not found): is url a Dokploy "+MinVersion+" or newer?")
	if errorsIsNotFound(err) {
		t.Error("an unknown procedure reads as a missing object")
	}
	srv.FailNext("application.delete", http.StatusNotFound, "Not found")
	err = p.Destroy(t.Context(), providers.AppRef{Target: target, Name: name})
	wantError(t, err, "destroy shop/prod via dokploy-conf: application.delete: dokploy has no such procedure (404 Not found): is url a Dokploy "+MinVersion+" or newer?")
	if _, ok := srv.Service(name); !ok {
		t.Error("service gone")
	}
	// A missing object is still not an error for destroy.
	srv.FailNext("application.delete", http.StatusNotFound, "Application not found")
	if err := p.Destroy(t.Context(), providers.AppRef{Target: target, Name: name}); err != nil {
		t.Errorf("destroy of a missing application: %v", err)
	}
}

// Dokploy renames a git compose service's deployment rows to the commit,
// so the adapter could never find its own: it refuses such a service at
// once instead of timing out.
func TestComposeFromGitRefused(t *testing.T) {
	p, srv := open(t, map[string]any{"serviceType": "compose", "timeout": "1s"})
	srv.AddService("compose", dokploytest.EnvironmentID, name) // sourceType github
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, `deploy shop/prod via dokploy-conf: compose service "shop-prod" takes its file from github: Dokploy renames the deployments of such a service to the commit message, so Launchplane cannot follow them; use a raw compose service (its file in Dokploy) or another name`)
	if n := srv.Count("compose.deploy") + srv.Count("compose.saveEnvironment"); n != 0 {
		t.Errorf("%d writes to a refused service", n)
	}
	// A service Launchplane creates is raw from its creation.
	p2, srv2 := open(t, map[string]any{"serviceType": "compose"})
	srv2.FailNext("compose.update", http.StatusInternalServerError, "boom")
	deployOK(t, p2, shopApp(image1, "k"))
	if svc, _ := srv2.Service(name); svc.SourceType != "raw" {
		t.Errorf("created with source %q", svc.SourceType)
	}
}

// saveEnvironment writes buildArgs, buildSecrets and createEnvFile too:
// the adapter sends back what the application holds.
func TestSaveEnvKeepsBuildFields(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	srv.SetBuildArgs(name, "NODE_ENV=production", "NPM_TOKEN=x", true)
	deployOK(t, p, shopApp(image2, "k2"))
	svc, _ := srv.Service(name)
	if svc.BuildArgs != "NODE_ENV=production" || svc.BuildSecrets != "NPM_TOKEN=x" || !svc.CreateEnvFile {
		t.Errorf("build fields after a deploy: %q %q %v", svc.BuildArgs, svc.BuildSecrets, svc.CreateEnvFile)
	}
}

// Dokploy expands ${{…}} in env values at deploy and throws on unknown
// references; the adapter refuses such values before writing anything.
func TestEnvReferencesRefused(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	a := shopApp(image2, "k2")
	a.Env["GREETING"] = "hello ${{project.NAME}}"
	a.Env["DATABASE_URL"] = "postgres://shop:" + canary + "${{x}}@db/shop"
	_, _, err := p.Deploy(t.Context(), a)
	wantError(t, err, "deploy shop/prod via dokploy-conf: env DATABASE_URL, GREETING hold ${{…}}, which Dokploy expands at deploy (and fails on unknown names); it has no escape for it: change these values")
	if svc, _ := srv.Service(name); svc.DockerImage != image1 {
		t.Errorf("image changed to %s", svc.DockerImage)
	}
}

// Dokploy allows only [a-zA-Z0-9._-] in appName (and appends a suffix):
// any name gets a valid one.
func TestAppNameIsValid(t *testing.T) {
	p, srv := open(t, nil)
	a := shopApp(image1, "k")
	a.Name = "Shop Prod/EU: " + strings.Repeat("x", 80)
	deployOK(t, p, a)
	svc, ok := srv.Service(a.Name)
	if !ok || !strings.HasPrefix(svc.AppName, "shop-prod-eu-") || len(svc.AppName) > 70 {
		t.Errorf("service %+v", svc)
	}
}

// A member's key sees only its services: the name lookup could miss one
// and create a duplicate, so such a key is refused.
func TestMemberKeyRefused(t *testing.T) {
	p, srv := open(t, nil)
	srv.AddService("application", dokploytest.EnvironmentID, name)
	srv.SetMember("member")
	_, _, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	wantError(t, err, "deploy shop/prod via dokploy-conf: the API key belongs to a member (role member) of the organization, who sees only the services granted to it: Launchplane would not find the others and create duplicates; use the key of an owner or admin")
	if n := len(srv.Services()); n != 1 {
		t.Errorf("%d services: a duplicate was created", n)
	}
}

// Issue 11: a deploy that fails after changing the application puts back
// the previous image and env, so the provider agrees with the state.
func TestFailedEnvCheckRestores(t *testing.T) {
	p, srv := open(t, nil)
	deployOK(t, p, shopApp(image1, "k"))
	before := srv.Env(name)
	srv.DropNextEnvKey(name, "LOG_LEVEL")
	a := shopApp(image2, "k2")
	a.Env["NEW_KEY"] = "1"
	_, ev, err := p.Deploy(t.Context(), a)
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") || !strings.Contains(err.Error(), "restored the previous image and env") {
		t.Fatalf("deploy: %v", err)
	}
	noSecret(t, "error", err.Error())
	svc, _ := srv.Service(name)
	if svc.DockerImage != image1 {
		t.Errorf("image %s after a failed deploy, want %s", svc.DockerImage, image1)
	}
	if got := srv.Env(name); strings.Join(keys(got), ",") != strings.Join(keys(before), ",") || got["LOG_LEVEL"] != "info" {
		t.Errorf("env keys %v after a failed deploy, want %v", keys(got), keys(before))
	}
	if !providers.Is(ev.Restored, true) {
		t.Errorf("evidence %v", ev)
	}
	// A deployment ending in error restores too.
	srv.FailNextDeploy(name, "error", "pull failed")
	if _, _, err := p.Deploy(t.Context(), shopApp(image2, "k3")); err == nil {
		t.Fatal("deploy succeeded")
	}
	if svc, _ := srv.Service(name); svc.DockerImage != image1 {
		t.Errorf("image %s after a failed deployment", svc.DockerImage)
	}
	// When the restore fails too, the error says provider and state differ.
	srv.DropNextEnvKey(name, "LOG_LEVEL")
	srv.FailNextAfter("application.saveDockerProvider", 1, http.StatusInternalServerError, "boom")
	_, _, err = p.Deploy(t.Context(), shopApp(image2, "k4"))
	if err == nil || !strings.Contains(err.Error(), "could not restore") || !strings.Contains(err.Error(), "holds the new image") {
		t.Fatalf("deploy with a failed restore: %v", err)
	}
}

func errorsIsNotFound(err error) bool {
	return errors.Is(err, providers.ErrNotFound)
}

// A service that had no image yet (made by a route) gets none back.
func TestFailedDeployRestoresNoImage(t *testing.T) {
	p, srv := open(t, nil)
	if _, err := p.EnsureRoute(t.Context(), providers.Route{Target: target, Domain: "shop.example.com", Upstream: name, Port: 8080}); err != nil {
		t.Fatal(err)
	}
	srv.DropNextEnvKey(name, "LOG_LEVEL")
	_, ev, err := p.Deploy(t.Context(), shopApp(image1, "k"))
	if err == nil || !strings.Contains(err.Error(), "restored the previous image and env") || !providers.Is(ev.Restored, true) {
		t.Fatalf("deploy: %v (evidence %v)", err, ev)
	}
	if svc, _ := srv.Service(name); svc.DockerImage != "" || len(srv.Env(name)) != 0 {
		t.Errorf("service after the failed deploy: image %q, env %v", svc.DockerImage, keys(srv.Env(name)))
	}
}
