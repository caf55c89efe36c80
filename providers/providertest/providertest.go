// Package providertest is the conformance suite every implementation of a
// provider role runs, like rclone's fstests: one Run function per role,
// called from the adapter's own tests with a Setup that builds the adapter
// over its backend (the fake's file, an httptest server that follows the
// platform's documented API, or a real Caddy).
//
// Each suite checks the same promises: idempotent create, update, observe
// after update, delete of a missing object, errors that name the provider,
// the operation and the target, context cancellation honoured, and no
// secret value in any error or evidence.
package providertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
)

// Canary is the secret value the suites hand to adapters (as a secret env
// value, and for the backend to echo in its failures). It must never
// appear in an error, a result or evidence. Configure the adapter's own
// credential (API key, token, password) to CredentialCanary.
const (
	Canary           = "lp-canary-7c1e5f3a9b2d"
	CredentialCanary = "lp-credential-4e8a2c6f1d9b"
)

// Op names an operation a backend can be told to fail.
type Op string

const (
	OpObserve     Op = "observe"
	OpDeploy      Op = "deploy"
	OpDestroy     Op = "destroy"
	OpListRoutes  Op = "list-routes"
	OpEnsureRoute Op = "ensure-route"
	OpDeleteRoute Op = "delete-route"
	OpRunJob      Op = "job"
	OpBackup      Op = "backup"
	OpRestore     Op = "restore"
	OpComment     Op = "comment"
	OpStatus      Op = "status"
)

// Backend is the system behind an adapter under test.
type Backend interface {
	// Fail makes the next call of op fail the way the platform fails
	// (an HTTP error status, a failed deployment…), with message in the
	// platform's error body or log, so the suite can check what reaches
	// the error. The suite puts Canary and CredentialCanary in message.
	Fail(t *testing.T, op Op, message string)
}

// Setup builds a fresh adapter over a fresh, empty backend.
//
// Build the adapter as apply does: providers.Config.Redactor a fresh
// redact.New(), and Resolve registering each value it returns with that
// Redactor. Nothing else may be pre-registered: the adapter itself must
// keep the secret env values it is handed (App.SecretKeys,
// Job.SecretKeys) out of its errors. An adapter without a credential of
// its own (the fake) registers CredentialCanary as apply would have.
type Setup[R any] struct {
	// Provider is the provider name the adapter was configured with;
	// every error must contain it.
	Provider string
	New      func(t *testing.T) (R, Backend)
	// Prepare, if set, makes target's runtime exist before jobs or
	// backups run (deploys an app, seeds a database).
	Prepare func(t *testing.T, r R, target string)
}

const (
	targetA = "conf/testing"
	targetB = "conf/prod"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// failure is what the suite asks a backend to fail with: it holds both
// canaries and a Bearer token, which the adapter must not pass on.
const failure = "conformance failure: env SECRET=" + Canary + " key " + CredentialCanary + " Authorization: Bearer " + Canary

// CheckError asserts err names the provider, the operation and the target
// and holds no secret value.
func CheckError(t *testing.T, err error, provider, op, target string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want a failure", op)
	}
	msg := err.Error()
	for _, want := range []string{provider, op, target} {
		if want != "" && !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	CheckNoSecret(t, "error", msg)
	var oe *providers.OpError
	if !errors.As(err, &oe) {
		t.Errorf("error %q is not a *providers.OpError", msg)
	}
}

// CheckNoSecret fails when s holds a canary.
func CheckNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, c := range []string{Canary, CredentialCanary} {
		if strings.Contains(s, c) {
			t.Errorf("%s holds a secret value: %s", what, s)
		}
	}
}

func checkEvidence(t *testing.T, ev any) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("evidence is not JSON: %v", err)
	}
	CheckNoSecret(t, "evidence", string(b))
}

func checkCanceled(t *testing.T, op string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s with a canceled context: no error", op)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a canceled context: %v does not wrap context.Canceled", op, err)
	}
}

func app(target, image string, env map[string]string) providers.App {
	name := strings.ReplaceAll(target, "/", "-")
	e := map[string]string{"DATABASE_URL": "postgres://app:" + Canary + "@db/app"}
	for k, v := range env {
		e[k] = v
	}
	return providers.App{
		AppRef:         providers.AppRef{Target: target, Name: name},
		Image:          image,
		Port:           8080,
		Env:            e,
		SecretKeys:     []string{"DATABASE_URL"},
		IdempotencyKey: fmt.Sprintf("%x", image+fmt.Sprint(env))[:32],
		Title:          "launchplane conformance " + image[len(image)-6:],
	}
}

// Images the deployer suite deploys.
const (
	Image1 = "ghcr.io/acme/conf@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	Image2 = "ghcr.io/acme/conf@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// RunDeployer is the Deployer conformance suite.
func RunDeployer(t *testing.T, s Setup[providers.Deployer]) {
	runProperties(t, s, []property[providers.Deployer]{
		{"observe-missing", deployerObserveMissing},
		{"create-idempotent-update-observe", deployerCreateIdempotentUpdateObserve},
		{"destroy", deployerDestroy},
		{"errors", deployerErrors},
		{"canceled", deployerCanceled},
	})
}

func deployerObserveMissing(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	st, err := d.Observe(ctxT(t), providers.AppRef{Target: targetA, Name: "conf-testing"})
	if err != nil {
		t.Fatalf("observe of a missing app: %v", err)
	}
	if st.Exists {
		t.Fatalf("observe of a missing app: exists: %+v", st)
	}
}

func deployerCreateIdempotentUpdateObserve(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	ctx := ctxT(t)
	a := app(targetA, Image1, map[string]string{"LOG_LEVEL": "info"})
	id, ev, err := d.Deploy(ctx, a)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if id == "" {
		t.Fatal("deploy returned no id")
	}
	checkEvidence(t, ev)
	st := observe(t, d, a.AppRef, id)
	if st.Image != Image1 || st.Env["LOG_LEVEL"] != "info" {
		t.Errorf("observe after create: image %q env %v", st.Image, st.Env)
	}
	if _, ok := st.Env["DATABASE_URL"]; ok {
		t.Errorf("observe returned a secret env value: %v", st.Env)
	}
	if !contains(st.SecretKeys, "DATABASE_URL") {
		t.Errorf("observe: secret keys %v lack DATABASE_URL", st.SecretKeys)
	}
	if st.IdempotencyKey != "" && st.IdempotencyKey != a.IdempotencyKey {
		t.Errorf("observe: idempotency key %q, deployed %q", st.IdempotencyKey, a.IdempotencyKey)
	}

	// The same deploy again leaves one app (same id).
	id2, _, err := d.Deploy(ctx, a)
	if err != nil {
		t.Fatalf("second deploy: %v", err)
	}
	if id2 != id {
		t.Fatalf("second deploy of the same app: id %q, first was %q (a second app was created)", id2, id)
	}

	// Update image and env: observe shows them. Found by name even
	// without the recorded id.
	b := app(targetA, Image2, map[string]string{"LOG_LEVEL": "debug", "REGION": "eu"})
	id3, ev, err := d.Deploy(ctx, b)
	if err != nil {
		t.Fatalf("update deploy: %v", err)
	}
	if id3 != id {
		t.Fatalf("update: id %q, want %q", id3, id)
	}
	checkEvidence(t, ev)
	st = observe(t, d, b.AppRef, id)
	if st.Image != Image2 || st.Env["LOG_LEVEL"] != "debug" || st.Env["REGION"] != "eu" {
		t.Errorf("observe after update: image %q env %v", st.Image, st.Env)
	}
	// The recorded id is used when given.
	st = observe(t, d, providers.AppRef{Target: targetA, Name: b.Name, ID: id}, id)
	if st.Image != Image2 {
		t.Errorf("observe by id: image %q", st.Image)
	}
	// Another target is another app.
	c := app(targetB, Image1, nil)
	idB, _, err := d.Deploy(ctx, c)
	if err != nil {
		t.Fatalf("deploy of a second target: %v", err)
	}
	if idB == id {
		t.Fatalf("two targets share app id %q", id)
	}
	if st := observe(t, d, b.AppRef, id); st.Image != Image2 {
		t.Errorf("deploying another target changed this one: %q", st.Image)
	}
}

func deployerDestroy(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	ctx := ctxT(t)
	a := app(targetA, Image1, nil)
	if _, _, err := d.Deploy(ctx, a); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if err := d.Destroy(ctx, a.AppRef); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	st, err := d.Observe(ctx, a.AppRef)
	if err != nil || st.Exists {
		t.Fatalf("observe after destroy: %+v, %v", st, err)
	}
	if err := d.Destroy(ctx, a.AppRef); err != nil {
		t.Fatalf("destroy of a missing app: %v", err)
	}
	// A stale recorded id is not an error either.
	if err := d.Destroy(ctx, providers.AppRef{Target: targetA, Name: a.Name, ID: "stale-id-1"}); err != nil {
		t.Fatalf("destroy with a stale id: %v", err)
	}
}

func deployerErrors(t *testing.T, s Setup[providers.Deployer]) {
	d, be := s.New(t)
	ctx := ctxT(t)
	a := app(targetA, Image1, nil)
	be.Fail(t, OpDeploy, failure)
	_, ev, err := d.Deploy(ctx, a)
	CheckError(t, err, s.Provider, "deploy", targetA)
	checkEvidence(t, ev)
	if _, _, err := d.Deploy(ctx, a); err != nil {
		t.Fatalf("deploy after a failure: %v", err)
	}
	be.Fail(t, OpObserve, failure)
	_, err = d.Observe(ctx, a.AppRef)
	CheckError(t, err, s.Provider, "observe", targetA)
	be.Fail(t, OpDestroy, failure)
	CheckError(t, d.Destroy(ctx, a.AppRef), s.Provider, "destroy", targetA)
}

func deployerCanceled(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	_, _, err := d.Deploy(canceled(), app(targetA, Image1, nil))
	checkCanceled(t, "deploy", err)
	_, err = d.Observe(canceled(), providers.AppRef{Target: targetA, Name: "conf-testing"})
	checkCanceled(t, "observe", err)
	checkCanceled(t, "destroy", d.Destroy(canceled(), providers.AppRef{Target: targetA, Name: "conf-testing"}))
}

func observe(t *testing.T, d providers.Deployer, ref providers.AppRef, id string) providers.AppStatus {
	t.Helper()
	st, err := d.Observe(ctxT(t), ref)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if !st.Exists {
		t.Fatalf("observe: app %s does not exist", ref.Name)
	}
	if st.ID != id {
		t.Fatalf("observe: id %q, deploy returned %q", st.ID, id)
	}
	return st
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// RunIngress is the Ingress conformance suite.
func RunIngress(t *testing.T, s Setup[providers.Ingress]) {
	runProperties(t, s, []property[providers.Ingress]{
		{"list-empty", ingressListEmpty},
		{"ensure-idempotent-update", ingressEnsureIdempotentUpdate},
		{"delete", ingressDelete},
		{"errors", ingressErrors},
		{"canceled", ingressCanceled},
	})
}

func ingressListEmpty(t *testing.T, s Setup[providers.Ingress]) {
	in, _ := s.New(t)
	if rs := listRoutes(t, in, targetA); len(rs) != 0 {
		t.Fatalf("routes of a fresh ingress: %+v", rs)
	}
}

func ingressEnsureIdempotentUpdate(t *testing.T, s Setup[providers.Ingress]) {
	in, _ := s.New(t)
	ctx := ctxT(t)
	r := confRoute(targetA, "a.conf.example.com", 8080)
	for i := 0; i < 2; i++ {
		ev, err := in.EnsureRoute(ctx, r)
		if err != nil {
			t.Fatalf("ensure route (%d): %v", i+1, err)
		}
		checkEvidence(t, ev)
	}
	rs := listRoutes(t, in, targetA)
	if len(rs) != 1 || rs[0].Domain != r.Domain || rs[0].Port != 8080 || rs[0].Upstream != r.Upstream || rs[0].Target != targetA {
		t.Fatalf("after ensuring one route twice: %+v", rs)
	}
	// Update the port.
	r2 := confRoute(targetA, "a.conf.example.com", 9090)
	if _, err := in.EnsureRoute(ctx, r2); err != nil {
		t.Fatalf("update route: %v", err)
	}
	rs = listRoutes(t, in, targetA)
	if len(rs) != 1 || rs[0].Port != 9090 {
		t.Fatalf("after update: %+v", rs)
	}
	// A second domain, and a route of another target.
	if _, err := in.EnsureRoute(ctx, confRoute(targetA, "0.conf.example.com", 9090)); err != nil {
		t.Fatal(err)
	}
	if _, err := in.EnsureRoute(ctx, confRoute(targetB, "b.conf.example.com", 8080)); err != nil {
		t.Fatal(err)
	}
	rs = listRoutes(t, in, targetA)
	if len(rs) != 2 || rs[0].Domain != "0.conf.example.com" || rs[1].Domain != "a.conf.example.com" {
		t.Fatalf("routes of %s, sorted by domain: %+v", targetA, rs)
	}
	if rs := listRoutes(t, in, targetB); len(rs) != 1 || rs[0].Domain != "b.conf.example.com" {
		t.Fatalf("routes of %s: %+v", targetB, rs)
	}
}

func ingressDelete(t *testing.T, s Setup[providers.Ingress]) {
	in, _ := s.New(t)
	ctx := ctxT(t)
	r := confRoute(targetA, "a.conf.example.com", 8080)
	keep := confRoute(targetB, "b.conf.example.com", 8080)
	for _, x := range []providers.Route{r, keep} {
		if _, err := in.EnsureRoute(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.DeleteRoute(ctx, targetA, r.Domain); err != nil {
		t.Fatalf("delete route: %v", err)
	}
	if rs := listRoutes(t, in, targetA); len(rs) != 0 {
		t.Fatalf("after delete: %+v", rs)
	}
	if err := in.DeleteRoute(ctx, targetA, r.Domain); err != nil {
		t.Fatalf("delete of a missing route: %v", err)
	}
	if rs := listRoutes(t, in, targetB); len(rs) != 1 {
		t.Fatalf("deleting one target's route touched another's: %+v", rs)
	}
}

func ingressErrors(t *testing.T, s Setup[providers.Ingress]) {
	in, be := s.New(t)
	ctx := ctxT(t)
	r := confRoute(targetA, "a.conf.example.com", 8080)
	be.Fail(t, OpEnsureRoute, failure)
	ev, err := in.EnsureRoute(ctx, r)
	CheckError(t, err, s.Provider, "route", targetA)
	checkEvidence(t, ev)
	if _, err := in.EnsureRoute(ctx, r); err != nil {
		t.Fatalf("ensure after a failure: %v", err)
	}
	be.Fail(t, OpListRoutes, failure)
	_, err = in.ListRoutes(ctx, targetA)
	CheckError(t, err, s.Provider, "list routes", targetA)
	be.Fail(t, OpDeleteRoute, failure)
	CheckError(t, in.DeleteRoute(ctx, targetA, r.Domain), s.Provider, "delete route", targetA)
}

func ingressCanceled(t *testing.T, s Setup[providers.Ingress]) {
	in, _ := s.New(t)
	_, err := in.EnsureRoute(canceled(), confRoute(targetA, "a.conf.example.com", 8080))
	checkCanceled(t, "ensure route", err)
	_, err = in.ListRoutes(canceled(), targetA)
	checkCanceled(t, "list routes", err)
	checkCanceled(t, "delete route", in.DeleteRoute(canceled(), targetA, "a.conf.example.com"))
}

// confRoute is the route the Ingress suite ensures for target.
func confRoute(target, domain string, port int) providers.Route {
	return providers.Route{Target: target, Domain: domain, Upstream: strings.ReplaceAll(target, "/", "-"), Port: port,
		IdempotencyKey: fmt.Sprintf("key-%s-%d", domain, port)}
}

// listRoutes lists target's routes, failing the test on an error.
func listRoutes(t *testing.T, in providers.Ingress, target string) []providers.Route {
	t.Helper()
	rs, err := in.ListRoutes(ctxT(t), target)
	if err != nil {
		t.Fatalf("list routes: %v", err)
	}
	return rs
}

// RunJobs is the Jobs conformance suite. Prepare must make the target's
// runtime exist.
func RunJobs(t *testing.T, s Setup[providers.Jobs]) {
	runProperties(t, s, []property[providers.Jobs]{
		{"run", jobsRun},
		{"errors", jobsErrors},
		{"canceled", jobsCanceled},
	})
}

func jobsRun(t *testing.T, s Setup[providers.Jobs]) {
	j, _ := s.prepared(t)
	res, err := j.RunJob(ctxT(t), confJob())
	if err != nil {
		t.Fatalf("run job: %v", err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("run job: exit code %d", res.ExitCode)
	}
	CheckNoSecret(t, "job output", res.Output)
}

func jobsErrors(t *testing.T, s Setup[providers.Jobs]) {
	j, be := s.prepared(t)
	be.Fail(t, OpRunJob, failure)
	res, err := j.RunJob(ctxT(t), confJob())
	CheckError(t, err, s.Provider, "job", targetA)
	CheckNoSecret(t, "job output", res.Output)
}

func jobsCanceled(t *testing.T, s Setup[providers.Jobs]) {
	j, _ := s.New(t)
	_, err := j.RunJob(canceled(), confJob())
	checkCanceled(t, "run job", err)
}

// confJob is the job the Jobs suite runs: one secret env value (Canary).
func confJob() providers.Job {
	return providers.Job{Target: targetA, AppName: "conf-testing", Name: "post-deploy",
		Command:    []string{"odoo", "-d", "conf", "-u", "base", "--stop-after-init"},
		Env:        map[string]string{"LP_SETTING_TOKEN": Canary, "LP_MODE": "update"},
		SecretKeys: []string{"LP_SETTING_TOKEN"}}
}

// RunBackups is the Backups conformance suite; restores are checked when
// the implementation is a providers.Restorer.
func RunBackups(t *testing.T, s Setup[providers.Backups]) {
	runProperties(t, s, []property[providers.Backups]{
		{"take-restore", backupsTakeRestore},
		{"errors", backupsErrors},
		{"canceled", backupsCanceled},
	})
}

func backupsTakeRestore(t *testing.T, s Setup[providers.Backups]) {
	b, _ := s.prepared(t)
	ctx := ctxT(t)
	one, err := b.TakeBackup(ctx, targetA, confDB)
	if err != nil {
		t.Fatalf("take backup: %v", err)
	}
	if one.ID == "" || one.Location == "" {
		t.Fatalf("backup without id or location: %+v", one)
	}
	two, err := b.TakeBackup(ctx, targetA, confDB)
	if err != nil {
		t.Fatalf("second backup: %v", err)
	}
	if two.ID == one.ID {
		t.Fatalf("two backups share id %q", one.ID)
	}
	r, ok := b.(providers.Restorer)
	if !ok {
		return
	}
	if err := r.RestoreBackup(ctx, targetA, confDB, one); err != nil {
		t.Fatalf("restore: %v", err)
	}
	err = r.RestoreBackup(ctx, targetA, confDB, providers.Backup{ID: "no-such-backup", Location: "nowhere"})
	if !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("restore of an unknown backup: %v, want ErrNotFound", err)
	}
}

func backupsErrors(t *testing.T, s Setup[providers.Backups]) {
	b, be := s.prepared(t)
	be.Fail(t, OpBackup, failure)
	_, err := b.TakeBackup(ctxT(t), targetA, confDB)
	CheckError(t, err, s.Provider, "backup", targetA)
}

func backupsCanceled(t *testing.T, s Setup[providers.Backups]) {
	b, _ := s.New(t)
	_, err := b.TakeBackup(canceled(), targetA, confDB)
	checkCanceled(t, "backup", err)
}

// confDB is the database the Backups suite backs up.
const confDB = "conf"

// FeedbackBackend is a Backend that can show what was posted.
type FeedbackBackend interface {
	Backend
	// Comments returns the bodies of the comments on pr, in order.
	Comments(t *testing.T, pr int) []string
	// Status returns the state of a commit status, "" when unset.
	Status(t *testing.T, sha, context string) string
}

// FeedbackSeeder is a FeedbackBackend that can put comments on a pull
// request before the adapter runs: written by the adapter's own
// identity (mine) or by someone else.
type FeedbackSeeder interface {
	FeedbackBackend
	Seed(t *testing.T, pr int, mine bool, bodies ...string)
}

// SlowBackend is a Backend that can stop answering: every request waits
// until its client gives up, or until release is called.
type SlowBackend interface {
	Backend
	Hold(t *testing.T) (release func())
}

// FeedbackSetup is Setup for the Feedback role.
type FeedbackSetup struct {
	Setup[providers.Feedback]
	// FailedState is the backend's state for a status set to "failure"
	// ("failure" on GitHub, "failed" on GitLab).
	FailedState string
}

// RunFeedback is the Feedback conformance suite.
func RunFeedback(t *testing.T, s FeedbackSetup) {
	runProperties(t, s.Setup, []property[providers.Feedback]{
		{"upsert", feedbackUpsert},
		{"status", func(t *testing.T, st Setup[providers.Feedback]) { feedbackStatus(t, st, s.FailedState) }},
		{"errors", feedbackErrors},
		{"canceled", feedbackCanceled},
		{"redacted-body", feedbackRedactedBody},
		{"slow", feedbackSlow},
	})
	runFeedbackSeeded(t, s)
}

func feedbackUpsert(t *testing.T, s Setup[providers.Feedback]) {
	f, be := s.New(t)
	fb := feedbackBackend(t, be)
	ctx := ctxT(t)
	if err := f.UpsertComment(ctx, 7, feedbackMarker, feedbackMarker+"\nfirst"); err != nil {
		t.Fatalf("create comment: %v", err)
	}
	if err := f.UpsertComment(ctx, 7, feedbackMarker, feedbackMarker+"\nsecond"); err != nil {
		t.Fatalf("update comment: %v", err)
	}
	checkOneMarked(t, fb.Comments(t, 7), "second")
	if cs := fb.Comments(t, 8); len(cs) != 0 {
		t.Fatalf("comments on another PR: %q", cs)
	}
}

func feedbackStatus(t *testing.T, s Setup[providers.Feedback], failedState string) {
	f, be := s.New(t)
	fb := feedbackBackend(t, be)
	sha := strings.Repeat("a", 40)
	if err := f.SetStatus(ctxT(t), sha, "success", "launchplane/plan", "no changes", ""); err != nil {
		t.Fatalf("set status: %v", err)
	}
	if got := fb.Status(t, sha, "launchplane/plan"); got != "success" {
		t.Fatalf("status %q, want success", got)
	}
	if err := f.SetStatus(ctxT(t), sha, "failure", "launchplane/plan", "plan failed", ""); err != nil {
		t.Fatalf("set status: %v", err)
	}
	if got := fb.Status(t, sha, "launchplane/plan"); got != failedState {
		t.Fatalf("status %q after failure, want %q", got, failedState)
	}
	if err := f.SetStatus(ctxT(t), sha, "bogus", "launchplane/plan", "", ""); err == nil {
		t.Fatalf("state bogus accepted")
	}
}

func feedbackErrors(t *testing.T, s Setup[providers.Feedback]) {
	f, be := s.New(t)
	be.Fail(t, OpComment, failure)
	CheckError(t, f.UpsertComment(ctxT(t), 7, feedbackMarker, feedbackMarker+"\nbody"), s.Provider, "comment", "")
	be.Fail(t, OpStatus, failure)
	CheckError(t, f.SetStatus(ctxT(t), strings.Repeat("b", 40), "failure", "launchplane/plan", "x", ""), s.Provider, "status", "")
}

func feedbackCanceled(t *testing.T, s Setup[providers.Feedback]) {
	f, _ := s.New(t)
	checkCanceled(t, "comment", f.UpsertComment(canceled(), 7, feedbackMarker, feedbackMarker))
}

func feedbackRedactedBody(t *testing.T, s Setup[providers.Feedback]) {
	f, be := s.New(t)
	fb := feedbackBackend(t, be)
	if err := f.UpsertComment(ctxT(t), 7, feedbackMarker, feedbackMarker+"\ntoken "+CredentialCanary+" and Authorization: Bearer "+Canary); err != nil {
		t.Fatalf("comment: %v", err)
	}
	for _, c := range fb.Comments(t, 7) {
		CheckNoSecret(t, "comment", c)
	}
}

func feedbackSlow(t *testing.T, s Setup[providers.Feedback]) {
	f, be := s.New(t)
	sb, ok := be.(SlowBackend)
	if !ok {
		t.Skipf("backend %T cannot be slow", be)
	}
	release := sb.Hold(t)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := f.UpsertComment(ctx, 7, feedbackMarker, feedbackMarker+"\nbody")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a server that does not answer: %v, want the context's deadline", err)
	}
	CheckError(t, err, s.Provider, "comment", "")
}

// feedbackMarker is the hidden marker of the Feedback suite's comment.
const feedbackMarker = "<!-- launchplane:conformance -->"

// feedbackBackend is be as a FeedbackBackend, failing the test if it is not.
func feedbackBackend(t *testing.T, be Backend) FeedbackBackend {
	fb, ok := be.(FeedbackBackend)
	if !ok {
		t.Fatalf("backend %T does not implement FeedbackBackend", be)
	}
	return fb
}

// checkOneMarked asserts exactly one comment holds the marker, with want.
func checkOneMarked(t *testing.T, cs []string, want string) {
	t.Helper()
	n := 0
	for _, c := range cs {
		if providers.HoldsMarker(c, feedbackMarker) {
			n++
			if !strings.Contains(c, want) {
				t.Errorf("comment not updated: %q", c)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d comments with the marker, want 1: %q", n, cs)
	}
}

// runFeedbackSeeded runs the cases that need comments already there: the
// marker past the first pages, and markers an adapter must not take for
// its own.
func runFeedbackSeeded(t *testing.T, s FeedbackSetup) {
	seeded := func(t *testing.T) (providers.Feedback, FeedbackSeeder) {
		f, be := s.New(t)
		fs, ok := be.(FeedbackSeeder)
		if !ok {
			t.Skipf("backend %T cannot seed comments", be)
		}
		return f, fs
	}
	t.Run("marker-on-page-3", func(t *testing.T) {
		// 230 comments; the adapter's own marked one is the 230th: page 3
		// at 100 a page (the most GitHub and GitLab give).
		f, fs := seeded(t)
		others := make([]string, 229)
		for i := range others {
			others[i] = fmt.Sprintf("review %d", i+1)
		}
		fs.Seed(t, 7, false, others...)
		fs.Seed(t, 7, true, feedbackMarker+"\nold plan")
		if err := f.UpsertComment(ctxT(t), 7, feedbackMarker, feedbackMarker+"\nnew plan"); err != nil {
			t.Fatalf("upsert: %v", err)
		}
		cs := fs.Comments(t, 7)
		if len(cs) != 230 {
			t.Fatalf("%d comments, want 230 (the old one updated, none added)", len(cs))
		}
		checkOneMarked(t, cs, "new plan")
	})
	t.Run("forged-marker-in-code", func(t *testing.T) {
		f, fs := seeded(t)
		forged := []string{"see:\n```\n" + feedbackMarker + "\n```", "> " + feedbackMarker + "\n> quoted plan", "    " + feedbackMarker}
		fs.Seed(t, 7, true, forged...)
		if err := f.UpsertComment(ctxT(t), 7, feedbackMarker, feedbackMarker+"\nplan"); err != nil {
			t.Fatalf("upsert: %v", err)
		}
		cs := fs.Comments(t, 7)
		for i, want := range forged {
			if cs[i] != want {
				t.Errorf("comment %d changed: %q", i, cs[i])
			}
		}
		if len(cs) != len(forged)+1 || cs[len(forged)] != feedbackMarker+"\nplan" {
			t.Fatalf("comments %q, want the forged ones and a new plan", cs)
		}
	})
	t.Run("marker-by-another-user", func(t *testing.T) {
		f, fs := seeded(t)
		fs.Seed(t, 7, false, feedbackMarker+"\nplan written by someone else")
		if err := f.UpsertComment(ctxT(t), 7, feedbackMarker, feedbackMarker+"\nplan"); err != nil {
			t.Fatalf("upsert: %v", err)
		}
		cs := fs.Comments(t, 7)
		if len(cs) != 2 || cs[0] != feedbackMarker+"\nplan written by someone else" || cs[1] != feedbackMarker+"\nplan" {
			t.Fatalf("comments %q: another user's comment must stay and the plan get its own", cs)
		}
	})
}

// RunStopper is the conformance suite of the optional Stopper role of a
// Deployer. Prepare must deploy target's app (named after the target,
// conf-testing); without Prepare the suite deploys one itself. Stopping
// a missing or stopped app is not an error, starting a missing one is an
// error wrapping ErrNotFound, and an app stopped then started is the app
// that was deployed: same id, image and idempotency key.
func RunStopper(t *testing.T, s Setup[providers.Deployer]) {
	runProperties(t, s, []property[providers.Deployer]{
		{"missing", stopperMissing},
		{"stop-start", stopperStopStart},
		{"canceled", stopperCanceled},
	})
}

func stopperMissing(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	st := asStopper(t, d)
	if err := st.Stop(ctxT(t), stopperRef); err != nil {
		t.Fatalf("stop of a missing app: %v", err)
	}
	if err := st.Start(ctxT(t), stopperRef); !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("start of a missing app: %v, want ErrNotFound", err)
	}
}

func stopperStopStart(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	st := asStopper(t, d)
	ctx := ctxT(t)
	if s.Prepare != nil {
		s.Prepare(t, d, targetA)
	} else if _, _, err := d.Deploy(ctx, app(targetA, Image1, nil)); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	before, err := d.Observe(ctx, stopperRef)
	if err != nil || !before.Exists {
		t.Fatalf("observe after deploy: %+v, %v", before, err)
	}
	for i := 0; i < 2; i++ {
		if err := st.Stop(ctx, stopperRef); err != nil {
			t.Fatalf("stop (%d): %v", i+1, err)
		}
	}
	if after, err := d.Observe(ctx, stopperRef); err != nil || !after.Exists || after.ID != before.ID {
		t.Fatalf("observe of the stopped app: %+v, %v (it must still exist, as %s)", after, err, before.ID)
	}
	for i := 0; i < 2; i++ {
		if err := st.Start(ctx, stopperRef); err != nil {
			t.Fatalf("start (%d): %v", i+1, err)
		}
	}
	after, err := d.Observe(ctx, stopperRef)
	if err != nil {
		t.Fatalf("observe after start: %v", err)
	}
	if after.ID != before.ID || after.Image != before.Image || after.IdempotencyKey != before.IdempotencyKey {
		t.Fatalf("after stop and start: %+v, deployed %+v", after, before)
	}
}

func stopperCanceled(t *testing.T, s Setup[providers.Deployer]) {
	d, _ := s.New(t)
	st := asStopper(t, d)
	checkCanceled(t, "stop", st.Stop(canceled(), stopperRef))
	checkCanceled(t, "start", st.Start(canceled(), stopperRef))
}

// stopperRef is the app the Stopper suite stops and starts.
var stopperRef = providers.AppRef{Target: targetA, Name: "conf-testing"}

// asStopper is d as a providers.Stopper, failing the test if it is not.
func asStopper(t *testing.T, d providers.Deployer) providers.Stopper {
	st, ok := d.(providers.Stopper)
	if !ok {
		t.Fatalf("%T is not a providers.Stopper", d)
	}
	return st
}

// prepared is a fresh adapter and backend, with targetA's runtime made to
// exist when the Setup has Prepare.
func (s Setup[R]) prepared(t *testing.T) (R, Backend) {
	r, be := s.New(t)
	if s.Prepare != nil {
		s.Prepare(t, r, targetA)
	}
	return r, be
}

// property is one promise of a role's suite, run as its own subtest.
type property[R any] struct {
	name string
	run  func(t *testing.T, s Setup[R])
}

// runProperties runs each property as a subtest named after it.
func runProperties[R any](t *testing.T, s Setup[R], props []property[R]) {
	for _, p := range props {
		t.Run(p.name, func(t *testing.T) { p.run(t, s) })
	}
}
